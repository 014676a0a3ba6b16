"""The nine zero-shot evaluation tasks of MaestroMotif, built from the one task table
(:mod:`maestromotif.tasks`; a new task is an entry there) with their detectors resolved.

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

from maestromotif import tasks as registry
from maestromotif.eval import detectors
from maestromotif.utils.errors import UserError


@dataclass(frozen=True)
class Task:
    name: str
    title: str                       # the paper's name for it
    kind: str                        # navigation | interaction | composite
    prompt: str
    detector: Callable[[], detectors.Detector]
    paper: float                     # MaestroMotif, Table 1 (a fraction for success rates)
    paper_pm: float
    meta_policy: str = ""            # defaults to the task name

    @property
    def metric(self) -> str:
        return self.detector.metric

    @property
    def policy_dir(self) -> str:
        return self.meta_policy or self.name


TASKS: dict[str, Task] = {
    spec.name: Task(spec.name, spec.title, spec.kind, spec.prompt, getattr(detectors, spec.detector), spec.paper,
                    spec.paper_pm, spec.meta_policy)
    for spec in registry.TASKS.values()}
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
