"""Pipeline configuration: one dataclass, two presets, overridable from a YAML/JSON file or ``--set``.

``tiny`` is sized to finish within 30 minutes on 2 CPU cores (the embedded Gemma 3 270M annotates,
skills train for a few minutes, a handful of evaluation episodes per task). ``paper`` holds the
paper's hyperparameters; use it with ``--dry_run`` to print the commands of a cluster run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestromotif.skills.table import SKILL_NAMES
from maestromotif.tasks import TASK_NAMES, TRAINING_POLICY
from maestromotif.utils.errors import UserError

TASKS = TASK_NAMES  # the evaluation tasks, from the one task table (maestromotif/tasks.py)


@dataclass
class PipelineConfig:
    # 1. collection
    collect_policy: str = "explore"
    num_pairs: int = 1000
    seed: int = 0
    num_workers: int = 2
    # 2. annotation
    annotator: str = "gemma270m"
    prompt: str = "default"
    backend: str = "llamacpp"
    model: str | None = None
    annotation_chunks: int = 1
    annotation_batch_size: int = 16
    annotation_extra: list[str] = field(default_factory=list)
    # 3. reward models
    reward_epochs: int = 20
    reward_batch_size: int = 32
    reward_lr: float = 1e-4
    # a skill whose few labels are all ties still gets a (flat) model: only for smoke runs on a few pairs
    reward_allow_all_ties: bool = False
    # 4. policies over skills
    reuse_code: bool = True
    code_seed: int = 42
    code_tasks: tuple[str, ...] = (TRAINING_POLICY,) + TASKS
    max_rewrites: int = 3
    # 5. skill training
    train_for_seconds: int = 0
    train_for_env_steps: int = 4_000_000_000
    rl_workers: int = 2
    envs_per_worker: int = 8
    rl_batch_size: int = 512
    rl_extra: list[str] = field(default_factory=list)
    llm_reward: float = 0.1
    extrinsic_reward: float = 0.0
    # 6. evaluation
    eval_tasks: tuple[str, ...] = TASKS
    eval_episodes: int = 100
    eval_max_episode_steps: int = 10000
    eval_agents: str = "maestromotif,random_skills,random_actions"
    # cluster (paper preset, --dry_run)
    slurm_partition: str = "gpu"
    skills: tuple[str, ...] = SKILL_NAMES

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PRESETS: dict[str, dict[str, Any]] = {
    # Measured to finish within 30 min on 2 cores (see docs/phase-pipeline.md).
    "tiny": dict(num_pairs=40, annotation_batch_size=16, reward_epochs=10, reward_batch_size=16,
                 reward_allow_all_ties=True,
                 train_for_seconds=300, rl_workers=2, envs_per_worker=4, rl_batch_size=256,
                 eval_episodes=2, eval_max_episode_steps=600, reuse_code=True),
    # The paper's settings (the original README's commands).
    "paper": dict(num_pairs=250_000, annotation_chunks=100, annotation_batch_size=2000,
                  annotator="llama3", backend="vllm", model="meta-llama/Llama-3.1-70B-Instruct",
                  annotation_extra=["--tensor_parallel_size", "8", "--mode", "generate"],
                  reward_epochs=20, reward_batch_size=1000, reward_lr=1e-5, reuse_code=False,
                  train_for_seconds=0, train_for_env_steps=4_000_000_000, rl_workers=24, envs_per_worker=20,
                  rl_batch_size=4096, eval_episodes=1000, eval_max_episode_steps=10000, num_workers=40),
}


def make_config(preset: str, config_file: str | None = None, overrides: list[str] | None = None) -> PipelineConfig:
    if preset not in PRESETS:
        raise UserError(f"unknown preset '{preset}'", expected=f"one of {', '.join(PRESETS)}")
    values: dict[str, Any] = dict(PRESETS[preset])
    if config_file:
        values.update(_read_file(Path(config_file)))
    for item in overrides or []:
        if "=" not in item:
            raise UserError(f"--set {item!r} is not key=value", fix="e.g. --set eval_episodes=5")
        key, raw = item.split("=", 1)
        values[key] = _parse_value(raw)
    names = {f.name: f for f in dataclasses.fields(PipelineConfig)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise UserError(f"unknown pipeline setting(s): {', '.join(unknown)}",
                        path=config_file, expected=f"names among: {', '.join(names)}")
    for k, v in list(values.items()):  # lists from JSON/YAML become tuples where the field is a tuple
        if isinstance(v, list) and str(names[k].type).startswith("tuple"):
            values[k] = tuple(v)
        elif isinstance(v, str) and str(names[k].type).startswith("tuple"):
            values[k] = tuple(x for x in v.split(",") if x)
    cfg = PipelineConfig(**values)
    bad_tasks = [t for t in cfg.eval_tasks if t not in TASKS]
    if bad_tasks:
        raise UserError(f"unknown evaluation task(s): {', '.join(bad_tasks)}", expected=", ".join(TASKS))
    return cfg


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise UserError("pipeline config file not found", path=path)
    text = path.read_text()
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as e:
        raise UserError(f"cannot be parsed ({e})", path=path, expected="a YAML or JSON mapping of settings") from None
    if not isinstance(data, dict):
        raise UserError("is not a mapping", path=path, expected="setting: value pairs")
    return data


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
