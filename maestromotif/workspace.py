"""One artefact layout: a workspace root -> every path the phases read and write.

    <root>/og_dataset/<skill>.pkl                          collected pairs        (scripts.collect_dataset)
    <root>/preference/<annotator>_<skill>_<prompt>.npy     labels                 (scripts.annotate_pairs)
    <root>/train_dir/skill_rewards/<experiment>/           reward models          (scripts.train_reward)
    <root>/rl_baseline/meta_policies/<task>/seed<N>/       policies over skills   (scripts.generate_code)
    <root>/code_generation/<task>/                         code-generation prompts and unit tests
    <root>/train_dir/skill_policy/<experiment>/            skill policy           (scripts.main)
    <root>/runs/codegen/                                   code-generation logs
    <root>/eval_results/                                   evaluation reports     (scripts.evaluate)

The layout is the repository's own, so the checkout that holds this package is a workspace with the
shipped artefacts in it (:data:`SHIPPED`). Which root a command uses, first match wins:

1. ``--workspace DIR`` on the command line (commands whose path flags default into the workspace);
2. the environment variable ``MAESTROMOTIF_WORKSPACE``;
3. the checkout holding this package, when it has the shipped artefacts (an editable install);
4. the current directory (an installed wheel has no shipped artefacts next to the package).

Defaults therefore do not depend on the directory a command is started from; a path given on the
command line is read as usual (relative to the current directory).

Paths *recorded* in an experiment (the ``reward_dir`` / ``meta_policy`` strings of a skill policy's
``config.json`` and ``maestromotif_config.json``, e.g. ``train_dir/skill_rewards/...``) were relative to
the directory the run started in, usually a workspace root. :func:`resolve_recorded` reads them so that
a checkpoint loaded from another directory still finds its files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "MAESTROMOTIF_WORKSPACE"
# the directory holding the ``maestromotif`` package: the repository checkout in an editable install
CHECKOUT = Path(__file__).resolve().parent.parent

# name -> path relative to the root; one entry per kind of artefact
LAYOUT: dict[str, str] = {
    "og_dataset": "og_dataset",
    "preference": "preference",
    "skill_rewards": "train_dir/skill_rewards",
    "skill_policy": "train_dir/skill_policy",
    "meta_policies": "rl_baseline/meta_policies",
    "code_generation": "code_generation",
    "runs": "runs",
    "codegen_logs": "runs/codegen",
    "prompt_logs": "prompt_logs",
    "eval_results": "eval_results",
}


@dataclass(frozen=True)
class Workspace:
    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def path(self, name: str) -> Path:
        """``<root>/<LAYOUT[name]>``; ``name`` may go on below a layout entry: ``skill_policy/default``."""
        head, _, rest = name.partition("/")
        if head not in LAYOUT:
            raise KeyError(f"unknown workspace path {name!r}; known: {', '.join(LAYOUT)}")
        p = self.root / LAYOUT[head]
        return p / rest if rest else p

    # the common ones, spelled out for readers and editors
    @property
    def og_dataset(self) -> Path:
        return self.path("og_dataset")

    @property
    def preference(self) -> Path:
        return self.path("preference")

    @property
    def skill_rewards(self) -> Path:
        return self.path("skill_rewards")

    @property
    def skill_policy(self) -> Path:
        return self.path("skill_policy")

    @property
    def meta_policies(self) -> Path:
        return self.path("meta_policies")

    @property
    def code_generation(self) -> Path:
        return self.path("code_generation")

    @property
    def runs(self) -> Path:
        return self.path("runs")

    @property
    def eval_results(self) -> Path:
        return self.path("eval_results")


def _has_shipped(root: Path) -> bool:
    return (root / LAYOUT["meta_policies"]).is_dir()


SHIPPED = Workspace(CHECKOUT)  # where the shipped artefacts are (only meaningful when it has them)


def default_root(override: str | os.PathLike[str] | None = None) -> Path:
    """The workspace root by the rules of the module docstring (``override`` = ``--workspace``)."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    if _has_shipped(CHECKOUT):
        return CHECKOUT
    return Path.cwd()


def workspace(override: str | os.PathLike[str] | None = None) -> Workspace:
    return Workspace(default_root(override))


def in_workspace(name: str) -> str:
    """A path default that follows the workspace: ``str(workspace().path(name))`` at the time of the call."""
    return str(workspace().path(name))


def resolve_recorded(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
                     bases: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """A path given on a command line or recorded in an experiment, read from any directory:

    existing (absolute, or relative to the current directory) -> as given; absolute but gone (the
    experiment was trained in another checkout or machine, which records absolute workspace paths) ->
    the same artefact under this workspace when the path runs through a :data:`LAYOUT` folder
    (``.../train_dir/skill_rewards/<exp>`` -> ``<root>/train_dir/skill_rewards/<exp>``), else as given;
    relative -> the first of ``bases`` (e.g. the directories above a checkpoint) under which it
    exists; else under the workspace root (``root`` = ``--workspace``, see :func:`default_root`),
    where an error about a missing file then names the full path that was looked up.
    """
    p = Path(path).expanduser()
    if p.exists():
        return p
    if p.is_absolute():
        return _rerooted(p, default_root(root)) or p
    for base in bases:
        if (Path(base) / p).exists():
            return Path(base) / p
    return default_root(root) / p


def workspace_relative(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """The reverse of :func:`resolve_recorded` for display: an absolute path inside the workspace as
    ``train_dir/...`` (posix), anything else as given."""
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(default_root(root).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def _rerooted(p: Path, root: Path) -> Path | None:
    """``p`` (absolute, missing) moved under ``root`` after its last layout folder, if that exists."""
    parts = p.parts
    for rel in sorted(set(LAYOUT.values()), key=len, reverse=True):  # longest first: skill_rewards before runs
        n = len(Path(rel).parts)
        for i in range(len(parts) - n, 0, -1):
            if parts[i:i + n] == Path(rel).parts:
                cand = root.joinpath(*parts[i:])
                if cand.exists():
                    return cand
    return None
