"""The NetHack layer on the released ``nle`` package: the character and NetHack's own game options
(``game_options``: the nethackrc), the 28-action set and its macro-actions, prompt handling, observation
helpers, wizard-mode set-ups for tests."""
