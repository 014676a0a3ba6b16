"""The code-generation tasks, as table entries.

Each task is a sequence of *stages* (one LLM conversation each: prompt -> code -> unit test -> check
-> rewrite) and a recipe that *combines* their code into ``execution.py``. The prompt texts and unit
tests are data files in ``code_generation/<task>/[<stage dir>/]``:

- ``initial.txt``    the first prompt; ``{previous_code}`` is filled with earlier code, ``{attributes}``
                     with the attribute table of :mod:`maestromotif.skills.interface`;
- ``code_check.txt`` the check prompt; ``{output}`` is filled with what the unit test printed;
- ``unit_test.py``   the prompt's unit test with its blanks filled in, appended to an answer whose
                     code has no unit test of its own (the original did this for ``delphi``);
- ``initial_values.txt`` / ``perform_task.txt``: method snippets used when combining;
- ``code_generation/common/``: the system prompt, the rewrite prompt (``simulate_rewrite.txt``) and
  the messages that report a failed run or a failed validation.

``exploration`` (the training-time policy over skills) has five stages as in the original:
``termination`` and ``precondition`` (phase 2, the initiation/termination functions), then
``select_skill``, and ``reach_dungeons_of_doom`` / ``reach_gnomish_mines`` built on it. The nine
evaluation tasks (from the table :mod:`maestromotif.tasks`) have one stage (``perform_task``) whose
previous code is the exploration policy up to ``perform_task``; they reuse its initiation/termination
functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from maestromotif import tasks as registry
from maestromotif.utils.errors import UserError


@dataclass(frozen=True)
class Stage:
    name: str
    method: str  # the NetHackPlayer method the answer must define
    dir: str = ""  # sub-directory of code_generation/<task>/ with this stage's files
    previous: str | None = None  # fills {previous_code}: "stage:<name>" or "exploration"


@dataclass(frozen=True)
class Piece:
    source: str  # "stage:<name>", "exploration" (the shipped/generated training policy) or "file:<name>"
    members: tuple[str, ...] | None = None  # None: every member of the piece


@dataclass(frozen=True)
class CodegenTask:
    name: str
    summary: str  # the task in the paper's words
    stages: tuple[Stage, ...]
    combine: tuple[Piece, ...]  # the first piece is the base class, later pieces override its members
    attributes: bool = False  # the prompt lists the attributes the framework supplies
    success_message: str = ""  # what the task's unit_test.py prints when the task is done

    @property
    def needs_exploration(self) -> bool:
        return any(p.source == "exploration" for p in self.combine) or any(
            s.previous == "exploration" for s in self.stages)


_INIT_TERM = ("skill_termination", "skill_precondition")


def _task(name: str, summary: str, done: str, attributes: bool = False) -> CodegenTask:
    return CodegenTask(
        name, summary, (Stage("perform_task", "perform_task", previous="exploration"),),
        (Piece("exploration"), Piece("stage:perform_task"), Piece("exploration", _INIT_TERM),
         Piece("file:initial_values.txt")),
        attributes, done)


TASKS: dict[str, CodegenTask] = {t.name: t for t in (
    CodegenTask(
        registry.TRAINING_POLICY,
        "Training-time policy over skills: explore each of the first few levels, alternating between going "
        "down to a maximum depth and back up, in the Dungeons of Doom or the Gnomish Mines; sell and "
        "identify items when a shopkeeper or an altar is near.",
        (Stage("termination", "skill_termination", "termination"),
         Stage("precondition", "skill_precondition", "precondition"),
         Stage("select_skill", "select_skill", "select_skill"),
         Stage("select_skill_dungeons", "reach_dungeons_of_doom", "select_skill_dungeons", "stage:select_skill"),
         Stage("select_skill_mines", "reach_gnomish_mines", "select_skill_mines", "stage:select_skill")),
        (Piece("stage:select_skill_mines"),
         Piece("stage:select_skill_dungeons", ("reach_dungeons_of_doom",)),
         Piece("file:perform_task.txt"),
         Piece("stage:termination", ("skill_termination",)),
         Piece("stage:precondition", ("skill_precondition",)),
         Piece("file:initial_values.txt"))),
    *(_task(spec.name, spec.summary, spec.success_message, spec.attributes) for spec in registry.TASKS.values()),
)}


def get_task(name: str) -> CodegenTask:
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"unknown code-generation task '{name}'", expected=f"one of {', '.join(TASKS)} or 'all'",
                        fix="check --task") from None


def task_names(spec: str) -> list[str]:
    """``all`` -> every task, exploration first (the others build on it); else a comma-separated list."""
    names = list(TASKS) if spec == "all" else [s.strip() for s in spec.split(",") if s.strip()]
    for n in names:
        get_task(n)
    return sorted(names, key=lambda n: n != "exploration")
