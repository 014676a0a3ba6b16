"""The five MaestroMotif skills, as table entries.

The index is the skill id the skill-conditioned policy sees (one-hot) and the position of the
skill's reward directory in ``--reward_dir`` (the original's order). The prompt text that describes
each skill to the annotating LLM lives with the annotation prompts (data files), not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from maestromotif.utils.errors import UserError


@dataclass(frozen=True)
class Skill:
    name: str
    index: int
    summary: str  # how the policy-over-skills prompt describes it


SKILLS: tuple[Skill, ...] = (
    Skill("discoverer", 0, "fully explores the current dungeon level, while fighting off enemies"),
    Skill("descender", 1, "makes its way to a staircase and goes down"),
    Skill("ascender", 2, "makes its way to a staircase and goes up"),
    Skill("worshipper", 3, "interacts with altars by identifying its items"),
    Skill("merchant", 4, "interacts with shopkeepers by selling its items"),
)
SKILL_NAMES: tuple[str, ...] = tuple(s.name for s in SKILLS)
_BY_NAME = {s.name: s for s in SKILLS}


def get_skill(name: str) -> Skill:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UserError(f"unknown skill '{name}'", expected=f"one of {', '.join(SKILL_NAMES)}",
                        fix="check the spelling of --goal_key / the skill name") from None
