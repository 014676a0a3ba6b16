"""The nine zero-shot evaluation tasks of MaestroMotif, as a table.

Each :class:`Task` holds the task prompt in the paper's wording (the composite tasks' prompts are
Table 1's; the others are the task statements of the original ``code_generation/<task>/initial.txt``
that the LLM was given), the policy over skills it runs
(``rl_baseline/meta_policies/<meta_policy>/seed<N>/execution.py``), its success detector (proxy and
exact, see :mod:`maestromotif.eval.detectors`), its metric (success rate or count per episode) and
the paper's MaestroMotif result (Table 1, mean and the ± the paper reports). The full prompt the LLM
gets when writing a task's policy over skills is ``code_generation/<task>/initial.txt``
(:mod:`maestromotif.codegen.tasks`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from maestromotif.eval import detectors as D
from maestromotif.utils.errors import UserError


@dataclass(frozen=True)
class Task:
    name: str
    title: str                       # the paper's name for it
    kind: str                        # navigation | interaction | composite
    prompt: str
    detector: Callable[[], D.Detector]
    paper: float                     # MaestroMotif, Table 1 (a fraction for success rates)
    paper_pm: float
    meta_policy: str = ""            # defaults to the task name

    @property
    def metric(self) -> str:
        return self.detector.metric

    @property
    def policy_dir(self) -> str:
        return self.meta_policy or self.name


_PERFORM = 'Write the code for "perform_task" method such that '
TASKS: dict[str, Task] = {t.name: t for t in (
    Task("gnomish", "Gnomish Mines", "navigation",
         "You are now faced with the task of finding the Gnomish Mines. " + _PERFORM
         + "the player reaches the Gnomish Mines.", D.Gnomish, 0.46, 0.017),
    Task("delphi", "Delphi", "navigation",
         "You are now faced with the task of finding the Oracle level. The Oracle level is located in the "
         "Dungeons of Doom (branch number 0) and can appear as low as a depth of 9. The Gnomish Mines form a "
         "secondary branch (branch number 2) starting from branch_depth+1. " + _PERFORM
         + "the player reaches the Oracle level as fast as possible, rather than exploring the first few "
         "levels or venturing into the Gnomish Mines.", D.Delphi, 0.29, 0.012),
    Task("minetown", "Minetown", "navigation",
         "You are now faced with the task of finding Minetown. Minetown is located in the Gnomish Mines "
         "(branch number 2) and can appear as low as a depth of 8. The Gnomish Mines form a secondary branch "
         "(branch number 2) starting from branch_depth+1. " + _PERFORM
         + "the player reaches the Gnomish Mines, and then, heads directly for Minetown, without exploring "
         "further.", D.Minetown, 0.072, 0.005),
    Task("transactions", "Transactions", "interaction",
         "You are now faced with the task of interacting with a shopkeeper by successfully selling items. "
         + _PERFORM + "the player interacts with the shopkeeper, which appears more often in the Dungeons of "
         "Doom.", D.Transactions, 0.66, 0.01),
    Task("price", "Price Identified", "interaction",
         "You are now faced with the task of interacting with a shopkeeper by attempting to sell an item to "
         "identify it. " + _PERFORM + "the player interacts with the shopkeeper, which appears more often in "
         "the Dungeons of Doom.", D.Price, 0.47, 0.01),
    Task("buc", "BUC Identified", "interaction",
         "You are now faced with the task of interacting with an altar by successfully identifying items. "
         + _PERFORM + "the player interacts with the altar, which appears more often in the Dungeons of Doom.",
         D.Buc, 1.60, 0.01),
    Task("goldenexit", "Golden Exit", "composite",
         "Alternate between the first three levels of the Dungeons of Doom (at least once) until you collect "
         "a minimum of 20 gold pieces and defeat 25 monsters; finally try to quit NetHack",
         D.GoldenExit, 0.248, 0.0118),
    Task("levelupsell", "Level Up & Sell", "composite",
         "Do not leave the first dungeon level until you achieve XP level 4, then find a shopkeeper and sell "
         "an item that you have collected; finally survive for another 300 steps.",
         D.LevelUpSell, 0.0709, 0.0099),
    Task("discoveryhunger", "Discovery Hunger", "composite",
         "Reach the oracle level (the Delphi) in the Dungeons of Doom, but not before discovering the Gnomish "
         "Mines and eating some food there after getting hungry.", D.DiscoveryHunger, 0.0791, 0.0147),
)}
TASK_NAMES: tuple[str, ...] = tuple(TASKS)


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"unknown task '{name}'", expected=f"one of {', '.join(TASK_NAMES)}",
                        fix="check the spelling of --task / --eval_target") from None


def parse_tasks(text: str) -> list[str]:
    """``"gnomish,delphi"`` or ``"all"`` -> task names (validated)."""
    names = list(TASK_NAMES) if text.strip() == "all" else [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise UserError("no task given", expected=f"one or more of {', '.join(TASK_NAMES)} (comma separated) or 'all'")
    return [get_task(n).name for n in names]
