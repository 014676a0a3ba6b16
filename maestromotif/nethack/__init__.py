"""The NetHack layer on the released ``nle`` package: character and options, the 28-action set and its
macro-actions, prompt handling, observation helpers, wizard-mode set-ups for tests."""
