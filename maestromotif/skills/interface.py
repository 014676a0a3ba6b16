"""The policy-over-skills interface: what LLM-written code receives and must return.

A policy over skills is a Python file ``rl_baseline/meta_policies/<task>/seed<N>/execution.py``
defining ``class NetHackPlayer``. The method signatures are the original MaestroMotif ones (the
paper's prompts and unit tests ask the LLM for exactly these), so code generated for the original
toolkit runs here unchanged.

How the options framework (call-and-return) uses it, per episode::

    player = NetHackPlayer(max_depth, branch_depth)   # branch_depth: DoD level of the Mines branch, -2 until seen
    player.set_initial_values()                       # task constants (random draws allowed)
    skill = player.skill                              # first skill (set by set_initial_values)
    every step:
        worshipper_ok, merchant_ok = player.skill_precondition(chars7x7, colors7x7, num_items, COLOR_MAP)
        if player.skill_termination(skill, skill_time, depth, previous_depth, [worshipper_ok, merchant_ok]):
            skill = player.perform_task(skill, depth, branch_number, merchant_ok, worshipper_ok)
            # skill_time resets to 0, previous_depth becomes the current depth

Arguments
---------
- ``branch_depth``: the Dungeons-of-Doom level of the Gnomish Mines entrance, :data:`UNKNOWN_BRANCH`
  (``-2``, the original's value) while unknown
  (the framework learns it when a level shows two down staircases or when the agent walks into the
  Mines) and then assigned to ``player.branch_depth`` before the next call; ``player.skill`` is kept
  equal to the running skill.
- ``current_skill`` / ``skill``: name of the skill that just ended / is running (see SKILL_NAMES).
- ``dungeon_depth`` / ``current_depth``: ``blstats[NLE_BL_DEPTH]`` now.
- ``branch_number``: ``blstats[NLE_BL_DNUM]`` (0 Dungeons of Doom, 2 Gnomish Mines, ...).
- ``previous_depth``: the depth when the running skill started.
- ``skill_time``: game turns since the running skill started (the original's unit; one ``wait``
  action is 25 turns).
- ``preconditions``: ``[worshipper_precondition, merchant_precondition]`` (the original's order).
- ``merchant_precondition`` / ``worshipper_precondition``: the initiation functions' verdicts.
- ``char_ascii_encodings`` / ``char_ascii_colors``: 7x7 uint8/int8 tty characters and colours
  around the agent (the agent's own cell has colour 0); ``num_items``: items collected this episode
  (droppable: not the starting kit, food or coins); ``color_map``: :data:`COLOR_MAP`.

Returns: ``perform_task`` a skill name; ``skill_termination`` a bool; ``skill_precondition`` a pair
``(worshipper_precondition, merchant_precondition)``.

Extra attributes
----------------
The original's hooks work too: a class with ``update_gold(gold)``, ``update_xp_level(xp_level)``,
``defeat_monster()`` or an ``eaten_food`` attribute gets them called/set from the game (see
:mod:`maestromotif.skills.options`). Our own contract, below, is declarative:

Composite tasks need more state (experience level, gold, kills, ...). A policy declares the names it
reads in a class attribute ``REQUIRED_ATTRIBUTES = ("experience_level", "gold")``; before every call
the framework sets ``player.<name>`` from observations. Only names in :data:`ATTRIBUTES` may be
declared - the table says what each means and its type; the framework computes them.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from maestromotif.skills.budget import IMPORT_BUDGET_S, PolicyTimeout, call_with_budget
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError

# Colours the initiation functions compare against (NetHack default colours).
COLOR_MAP: dict[str, int] = {"@": 15, "_": 7}  # shopkeeper: white @ ; altar: grey _
UNKNOWN_BRANCH = -2  # branch_depth before the Mines entrance is found (the original's value)


@dataclass(frozen=True)
class AttributeSpec:
    type: type
    default: Any
    doc: str


# Attributes a policy may declare in REQUIRED_ATTRIBUTES; the framework supplies them every call.
ATTRIBUTES: dict[str, AttributeSpec] = {
    "experience_level": AttributeSpec(int, 1, "experience level (blstats XP level)"),
    "experience_points": AttributeSpec(int, 0, "experience points"),
    "gold": AttributeSpec(int, 0, "gold carried"),
    "hp": AttributeSpec(int, 14, "hit points"),
    "max_hp": AttributeSpec(int, 14, "maximum hit points"),
    "kills": AttributeSpec(int, 0, "monsters killed this episode ('You kill ...' / '... is killed')"),
    "hunger": AttributeSpec(int, 1, "hunger status: 0 Satiated, 1 Normal, 2 Hungry, 3 Weak, 4 Fainting"),
    "is_hungry": AttributeSpec(bool, False, "hunger status is Hungry or worse"),
    "has_been_hungry": AttributeSpec(bool, False, "the agent has been Hungry or worse this episode"),
    "eaten_food": AttributeSpec(bool, False, "ate something in the Gnomish Mines after having been hungry"),
    "visited_mines": AttributeSpec(bool, False, "has been in the Gnomish Mines this episode"),
    "max_depth_reached": AttributeSpec(int, 1, "deepest level reached this episode"),
    "items_sold": AttributeSpec(int, 0, "items sold to shopkeepers this episode"),
    "num_items": AttributeSpec(int, 0, "droppable items carried (collected this episode)"),
    "steps": AttributeSpec(int, 0, "agent steps taken this episode"),
    "turn": AttributeSpec(int, 1, "game turn counter"),
    "levels_visited": AttributeSpec(set, frozenset(), "set of (branch_number, depth) visited"),
}

REQUIRED_METHODS: dict[str, tuple[str, ...]] = {
    "set_initial_values": (),
    "perform_task": ("current_skill", "dungeon_depth", "branch_number", "merchant_precondition",
                     "worshipper_precondition"),
    "skill_termination": ("skill", "skill_time", "current_depth", "previous_depth", "preconditions"),
    "skill_precondition": ("char_ascii_encodings", "char_ascii_colors", "num_items", "color_map"),
}
CLASS_NAME = "NetHackPlayer"


@runtime_checkable
class PolicyOverSkills(Protocol):
    REQUIRED_ATTRIBUTES: ClassVar[tuple[str, ...]]
    skill: str

    def __init__(self, max_depth: int, branch_depth: int) -> None: ...
    def set_initial_values(self) -> None: ...
    def perform_task(self, current_skill: str, dungeon_depth: int, branch_number: int,
                     merchant_precondition: bool, worshipper_precondition: bool) -> str: ...
    def skill_termination(self, skill: str, skill_time: int, current_depth: int, previous_depth: int,
                          preconditions: list[bool]) -> bool: ...
    def skill_precondition(self, char_ascii_encodings: Any, char_ascii_colors: Any, num_items: int,
                           color_map: dict[str, int]) -> tuple[bool, bool]: ...


def interface_problems(cls: type) -> list[str]:
    """What is wrong with a candidate ``NetHackPlayer`` class (empty list: conforms)."""
    problems = []
    for name, params in REQUIRED_METHODS.items():
        fn = getattr(cls, name, None)
        if not callable(fn):
            problems.append(f"missing method {name}({', '.join(params)})")
            continue
        sig = inspect.signature(fn)
        got = [p for p in sig.parameters.values() if p.name != "self"]
        positional = [p for p in got if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        has_var = any(p.kind == p.VAR_POSITIONAL for p in got)
        required = [p for p in positional if p.default is p.empty]
        if len(required) > len(params) or (len(positional) < len(params) and not has_var):
            problems.append(f"{name} takes ({', '.join(p.name for p in got)}), expected ({', '.join(params)})")
    init = inspect.signature(cls.__init__)
    n_init = [p for p in init.parameters.values() if p.name != "self" and p.default is p.empty
              and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(n_init) > 2:
        problems.append(f"__init__ requires {len(n_init)} arguments, expected (max_depth, branch_depth)")
    for attr in getattr(cls, "REQUIRED_ATTRIBUTES", ()):
        if attr not in ATTRIBUTES:
            problems.append(f"REQUIRED_ATTRIBUTES names unknown attribute '{attr}' "
                            f"(known: {', '.join(sorted(ATTRIBUTES))})")
    return problems


def meta_policy_path(root: str | Path, task: str, seed: int) -> Path:
    return Path(root) / task / f"seed{seed}" / "execution.py"


def screen_policy_file(path: str | Path) -> None:
    """Refuse a policy file that the codegen screen refuses (os, subprocess, open, eval, dunders, ...),
    before a single line of it runs. Every load goes through here: hand-edited or downloaded
    ``execution.py`` files get the same static check as freshly generated ones."""
    from maestromotif.codegen.screen import screen_code

    path = Path(path)
    problems = screen_code(path.read_text(encoding="utf-8", errors="replace"))
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise UserError("policy over skills refused by the code screen, nothing of it was run: "
                        + "; ".join(problems[:5]) + more, path=path,
                        expected="plain decision logic (allowed imports: see maestromotif/codegen/screen.py)",
                        fix="remove those constructs, or regenerate it with `python -m scripts.generate_code`")


def load_policy_class(path: str | Path) -> type:
    """Screen, then import ``NetHackPlayer`` from an ``execution.py`` file (import time-bounded)."""
    path = Path(path)
    if not path.exists():
        raise UserError("policy over skills not found", path=path,
                        expected=f"a Python file defining class {CLASS_NAME}",
                        fix="generate it with `python -m scripts.generate_code --task <task>` or pass the "
                            "right --code_seed / task name")
    screen_policy_file(path)
    mod_name = f"maestromotif_meta_policy_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        sys.modules[mod_name] = module
        call_with_budget(spec.loader.exec_module, IMPORT_BUDGET_S, module)
    except (Exception, PolicyTimeout) as e:
        sys.modules.pop(mod_name, None)
        raise UserError(f"cannot be imported ({type(e).__name__}: {e})", path=path,
                        fix="regenerate or fix the policy file") from None
    cls = getattr(module, CLASS_NAME, None)
    if cls is None:
        raise UserError(f"defines no class {CLASS_NAME}", path=path)
    problems = interface_problems(cls)
    if problems:
        raise UserError("does not follow the policy-over-skills interface: " + "; ".join(problems),
                        path=path, expected="see maestromotif/skills/interface.py")
    return cls


def check_skill(name: Any, source: str = "perform_task") -> str:
    if name not in SKILL_NAMES:
        raise ValueError(f"{source} returned {name!r}, expected one of {SKILL_NAMES}")
    return name
