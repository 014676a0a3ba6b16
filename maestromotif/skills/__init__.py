"""The skill table and (in later modules) the options framework that runs skills."""

from maestromotif.skills.table import SKILL_NAMES, SKILLS, Skill, get_skill

__all__ = ["SKILLS", "SKILL_NAMES", "Skill", "get_skill"]
