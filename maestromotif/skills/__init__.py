"""The skill table and the options framework that runs skills (``options``: options in the RL sense,
call-and-return skills; NetHack's own game options are ``maestromotif.nethack.game_options``)."""

from maestromotif.skills.table import SKILL_NAMES, SKILLS, Skill, get_skill

__all__ = ["SKILLS", "SKILL_NAMES", "Skill", "get_skill"]
