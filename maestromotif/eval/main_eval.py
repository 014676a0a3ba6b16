"""The original command form: ``python -m scripts.main ... --evaluation True --eval_target goldenexit``.

``scripts.main`` (the training entry point) hands its parsed sample-factory config to
:func:`evaluate_from_main_cfg` when ``--evaluation True``. The original evaluated the experiment's
checkpoint with the task's policy over skills; so does this, through :func:`maestromotif.eval.evaluator.evaluate`:

- skill policy: ``<train_dir>/<experiment>`` (default ``<workspace>/train_dir/skill_policy/default``);
- policy over skills: ``<meta_policy_dir>/<eval_target>/seed<code_seed>/execution.py`` (default
  ``<meta_policy_dir>`` = ``<workspace>/rl_baseline/meta_policies``)
  (``code_seed`` -1 means ``seed``, as in the original);
- output: ``<train_dir>/<experiment>/eval/<eval_target>/`` (report.md, report.json, episodes.jsonl, ...);
- episodes ``--eval_episodes`` (100), agents ``--eval_agents`` ("maestromotif"; add the baselines with
  ``maestromotif,random_skills,random_actions``), steps per episode ``--eval_max_episode_steps``
  (10000, the original's ``max_episode_steps`` default; training's own ``--max_episode_steps`` is not
  used), game seeds from ``--seed``, workers ``--num_workers`` capped at the number of CPUs,
  ``--eval_out`` and ``--eval_record`` as ``--out`` / ``--record`` of ``scripts.evaluate``.

:func:`add_eval_args` adds those ``--eval_*`` flags to ``scripts.main``'s parser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from maestromotif.eval.evaluator import EvalConfig, evaluate
from maestromotif.eval.report import markdown
from maestromotif.utils.errors import UserError
from maestromotif.workspace import in_workspace

EVAL_FLAGS = (  # (name, type, default, help) added to scripts.main with --evaluation True
    ("eval_episodes", int, 100, "episodes to evaluate (game seeds seed..seed+episodes-1)"),
    ("eval_agents", str, "maestromotif", "agents: maestromotif, random_skills, random_actions (comma separated)"),
    ("eval_max_episode_steps", int, 10_000, "agent steps per evaluation episode (the original's default)"),
    ("eval_out", str, "", "output folder (default <train_dir>/<experiment>/eval/<eval_target>)"),
    ("eval_record", str, "", "keep ttyrecs and render the first episode to HTML in this folder"),
)


def add_eval_args(parser) -> None:
    """The ``--eval_*`` flags of :func:`evaluate_from_main_cfg` (``scripts.main`` passes this to
    ``maestromotif.rl.config.parse_cfg`` as ``add_args``)."""
    group = parser.add_argument_group("Zero-shot evaluation (--evaluation True)")
    have = {opt for a in parser._actions for opt in a.option_strings}
    for name, kind, default, help_ in EVAL_FLAGS:
        if f"--{name}" not in have:
            group.add_argument(f"--{name}", type=kind, default=default, help=help_)


def _get(cfg: Any, name: str, default: Any) -> Any:
    value = cfg.get(name, default) if isinstance(cfg, dict) else getattr(cfg, name, default)
    return default if value is None else value


def eval_config_from_main_cfg(cfg: Any) -> EvalConfig:
    task = _get(cfg, "eval_target", "none")
    if task in ("none", ""):
        raise UserError("--evaluation True needs a task", expected="--eval_target <task>, e.g. goldenexit",
                        fix="add --eval_target gnomish|delphi|minetown|transactions|price|buc|goldenexit|levelupsell|"
                            "discoveryhunger")
    exp_dir = Path(_get(cfg, "train_dir", in_workspace("skill_policy"))) / _get(cfg, "experiment", "default")
    seed = int(_get(cfg, "seed", 0))
    code_seed = int(_get(cfg, "code_seed", -1))
    agents = _get(cfg, "eval_agents", "maestromotif")
    return EvalConfig(
        tasks=[task], agents=agents.split(",") if isinstance(agents, str) else list(agents),
        episodes=int(_get(cfg, "eval_episodes", 100)),
        num_workers=max(1, min(int(_get(cfg, "num_workers", 1)), os.cpu_count() or 1)),
        checkpoint=str(exp_dir),
        meta_policies=_get(cfg, "meta_policy_dir", _get(cfg, "meta_policies", in_workspace("meta_policies"))),
        code_seed=code_seed if code_seed != -1 else seed, seed=seed,
        max_episode_steps=int(_get(cfg, "eval_max_episode_steps", 10_000)),
        out=_get(cfg, "eval_out", "") or str(exp_dir / "eval" / task),
        record=_get(cfg, "eval_record", "") or None, device="cpu")


def evaluate_from_main_cfg(cfg: Any) -> dict[str, Any]:
    """Evaluate ``<train_dir>/<experiment>`` zero-shot on ``cfg.eval_target``; print and return the report."""
    eval_cfg = eval_config_from_main_cfg(cfg)
    report = evaluate(eval_cfg)
    print(markdown(report))
    print(f"report: {eval_cfg.out}/report.md")
    return report
