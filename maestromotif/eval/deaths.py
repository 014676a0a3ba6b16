"""Causes of death now live in :mod:`maestromotif.nethack.deaths` (skill training counts them too, and
``rl`` must not import ``eval``); this name stays importable for existing code."""

from maestromotif.nethack.deaths import (  # noqa: F401  re-exported
    CAUSES,
    END_CAUSES,
    MESSAGE_RULES,
    MINION,
    MONSTER_ATTACK,
    Death,
    DeathWatch,
    classify,
    game_end,
    killers,
    summary,
    tally,
)
