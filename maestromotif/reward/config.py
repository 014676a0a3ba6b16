"""Hyperparameters and file locations of one reward-model training run (:class:`RewardConfig`).

The experiment name ``<annotator>_<skill>_<prompt>`` (e.g. ``gemma270m_descender_default``) selects
the label file ``<preference_dir>/<experiment>.npy`` and the dataset ``<dataset_dir>/<skill>.pkl``;
``labels`` / ``dataset`` override either. Outputs go to ``<train_dir>/<experiment>/``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestromotif.data.captions import DELTA_NAMES
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError


@dataclass
class RewardConfig:
    experiment: str = "gemma270m_descender_default"
    train_dir: str = "train_dir/skill_rewards"
    dataset_dir: str = "og_dataset"
    preference_dir: str = "preference"
    dataset: str | None = None  # override: path of the dataset pickle
    labels: str | None = None  # override: path of the label .npy
    # optimisation (the original's defaults: batch 1000, Adam lr 1e-5, 20 epochs, seed 777)
    batch_size: int = 1000
    reward_lr: float = 1e-5
    num_epochs: int = 20
    seed: int = 777
    val_fraction: float = 0.1  # held-out pairs (seeded split); 0 trains on everything
    # model (the original's reward encoder defaults)
    encoder_embedding_dim: int = 128
    encoder_hidden_dim: int = 512
    # Stat deltas the model sees. The original zeroes every delta but dungeon level, both when training
    # (rlaif/data.py: diffstats[1:] = 0) and when rewarding the RL agent (obs_wrappers.BlstatsWrapper);
    # at RL time the deltas are taken against the stats at the start of the skill, not over one step
    # as in the dataset, so only the depth change means the same thing in both places.
    keep_deltas: tuple[str, ...] = ("dlvl",)
    # execution (do not change results; not compared on resume)
    device: str = "auto"  # auto | cpu | gpu | cuda | cuda:N
    num_threads: int = 0  # torch intra-op threads; 0 = torch's default
    num_workers: int = 0  # accepted for the original's command line; unused (see docs/phase-reward.md)
    save_every_sec: float = 300.0  # mid-epoch checkpoint period (an epoch end always saves)
    eval_batch_size: int = 1024
    progress: bool = True  # tqdm bars
    plot: bool = True  # draw training_curves.png at the end (matplotlib takes ~1 s)

    # fields that may differ between a checkpoint and the run that resumes it
    RESUMABLE_CHANGES = ("num_epochs", "device", "num_threads", "num_workers", "save_every_sec",
                         "eval_batch_size", "progress", "plot", "train_dir", "dataset_dir", "preference_dir",
                         "dataset", "labels")

    def __post_init__(self) -> None:
        self.keep_deltas = tuple(self.keep_deltas)
        unknown = set(self.keep_deltas) - set(DELTA_NAMES)
        if unknown:
            raise UserError(f"unknown stat deltas {sorted(unknown)} in keep_deltas",
                            expected=f"a subset of {', '.join(DELTA_NAMES)} (or 'none')")
        if self.batch_size < 1 or self.num_epochs < 0 or self.reward_lr <= 0:
            raise UserError(f"batch_size={self.batch_size}, num_epochs={self.num_epochs}, "
                            f"reward_lr={self.reward_lr}", expected="batch_size >= 1, num_epochs >= 0, lr > 0")
        if not 0.0 <= self.val_fraction < 1.0:
            raise UserError(f"val_fraction={self.val_fraction}", expected="0 <= val_fraction < 1")

    # -- paths ---------------------------------------------------------------------------------------
    @property
    def skill(self) -> str:
        """The skill named by the experiment (``<annotator>_<skill>_<prompt>``)."""
        parts = self.experiment.split("_")
        known = [p for p in parts if p in SKILL_NAMES]
        if known:
            return known[0]
        if len(parts) >= 3:  # a user-defined skill: the original takes the second field
            return parts[1]
        raise UserError(f"cannot tell the skill from experiment name '{self.experiment}'",
                        expected="<annotator>_<skill>_<prompt>, e.g. gemma270m_descender_default",
                        fix="rename the experiment or pass --dataset and --labels explicitly")

    @property
    def dataset_path(self) -> Path:
        return Path(self.dataset) if self.dataset else Path(self.dataset_dir) / f"{self.skill}.pkl"

    @property
    def labels_path(self) -> Path:
        return Path(self.labels) if self.labels else Path(self.preference_dir) / f"{self.experiment}.npy"

    @property
    def out_dir(self) -> Path:
        return Path(self.train_dir) / self.experiment

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RewardConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def quick(cls, dataset: str | Path, labels: str | Path, train_dir: str | Path,
              experiment: str = "test_descender_default", **overrides: Any) -> RewardConfig:
        """A config for tests and trials: small batches, a high learning rate, one epoch, one CPU
        thread, no tqdm, no plot."""
        kw: dict[str, Any] = dict(experiment=experiment, train_dir=str(train_dir), dataset=str(dataset),
                                  labels=str(labels), batch_size=16, reward_lr=1e-3, num_epochs=1,
                                  val_fraction=0.2, num_threads=1, device="cpu", progress=False, plot=False)
        kw.update(overrides)
        return cls(**kw)

    def diff(self, other: RewardConfig) -> dict[str, tuple[Any, Any]]:
        """Fields that differ and matter for results (excluding :attr:`RESUMABLE_CHANGES`)."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b.get(k)) for k in a if k not in self.RESUMABLE_CHANGES and a[k] != b.get(k)}

