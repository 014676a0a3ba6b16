"""Hyperparameters and file locations of one reward-model training run (:class:`RewardConfig`).

The experiment name ``<annotator>_<skill>_<prompt>`` (e.g. ``gemma270m_descender_default``) selects
the label file ``<preference_dir>/<experiment>.npy`` and the dataset ``<dataset_dir>/<skill>.pkl``;
``labels`` / ``dataset`` override either. Outputs go to ``<train_dir>/<experiment>/``.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestromotif.data.captions import DELTA_NAMES
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.cli import arg, ws_arg
from maestromotif.utils.errors import UserError


def parse_keep_deltas(s: str | Sequence[str]) -> tuple[str, ...]:
    """``--keep_deltas``: a comma list of :data:`DELTA_NAMES`, or ``all`` / ``none``."""
    if not isinstance(s, str):
        return tuple(s)
    if s.strip().lower() == "none":
        return ()
    if s.strip().lower() == "all":
        return DELTA_NAMES
    names = tuple(x.strip() for x in s.split(",") if x.strip())
    bad = [n for n in names if n not in DELTA_NAMES]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown stat deltas {bad}; use a comma list of "
                                         f"{','.join(DELTA_NAMES)}, or 'all' / 'none'")
    return names


WHAT, OPT, MODEL, EXEC = "what to train on", "optimisation", "model", "execution (never changes the result)"


@dataclass
class RewardConfig:
    experiment: str = arg("gemma270m_descender_default",
                          "<annotator>_<skill>_<prompt>: names the label file, the dataset (by its skill) and the "
                          "output directory", group=WHAT)
    train_dir: str = ws_arg("skill_rewards", "outputs go to <train_dir>/<experiment>/", group=WHAT)
    dataset_dir: str = ws_arg("og_dataset", "directory of <skill>.pkl datasets", aliases=("directory",), group=WHAT)
    preference_dir: str = ws_arg("preference", "directory of <experiment>.npy label files", group=WHAT)
    dataset: str | None = arg(None, "dataset pickle (or .npz) to use instead of <dataset_dir>/<skill>.pkl",
                              group=WHAT)
    labels: str | None = arg(None, "label .npy to use instead of <preference_dir>/<experiment>.npy", group=WHAT)
    # optimisation (the original's defaults: batch 1000, Adam lr 1e-5, 20 epochs, seed 777)
    batch_size: int = arg(1000, "pairs per Adam step", group=OPT)
    reward_lr: float = arg(1e-5, "Adam learning rate; a loss that stops being finite stops the run, keeping "
                                 "the last good checkpoint", group=OPT)
    num_epochs: int = arg(20, "passes over the training pairs; raise it and rerun to train a finished model "
                              "further", group=OPT)
    seed: int = arg(777, "seeds the initial weights, the held-out split and the shuffling", group=OPT)
    val_fraction: float = arg(0.1, "fraction of labelled pairs held out for validation; identical comparisons "
                                   "stay on one side", group=OPT)
    allow_all_ties: bool = arg(False, "train even when every usable label is a tie (warns with the counts): the "
                                      "model then ranks nothing and its rewards are noise around a constant; for "
                                      "smoke runs on a few pairs (the pipeline's tiny preset), never a real run",
                               group=OPT)
    # model (the original's reward encoder defaults)
    encoder_embedding_dim: int = arg(128, "width of the stat-delta MLP", group=MODEL)
    encoder_hidden_dim: int = arg(512, "width of the layer before the reward head", group=MODEL)
    # Stat deltas the model sees. The original zeroes every delta but dungeon level, both when training
    # (rlaif/data.py: diffstats[1:] = 0) and when rewarding the RL agent (obs_wrappers.BlstatsWrapper);
    # at RL time the deltas are taken against the stats at the start of the skill, not over one step
    # as in the dataset, so only the depth change means the same thing in both places.
    keep_deltas: tuple[str, ...] = arg(("dlvl",), f"stat deltas the model sees, comma list of "
                                       f"{','.join(DELTA_NAMES)}, or all/none; the others are zeroed (the "
                                       "original keeps dlvl only, in training and in RL)",
                                       type=parse_keep_deltas, group=MODEL)
    # execution (do not change results; not compared on resume)
    device: str = arg("auto", "auto, cpu, gpu/cuda or cuda:N", group=EXEC)
    num_threads: int = arg(0, "torch CPU threads; 0 keeps torch's default", group=EXEC)
    num_workers: int = arg(0, "the original's DataLoader processes; here the pairs are in-memory tensors, so "
                              "a value > 0 is used as --num_threads when that is 0 (said on the console)",
                           group=EXEC)
    save_every_sec: float = arg(300.0, "also checkpoint inside an epoch this often, so kill -9 loses at most "
                                       "this much work; every epoch end is saved anyway", group=EXEC)
    eval_batch_size: int = arg(1024, "inputs per forward pass when evaluating", group=EXEC)
    progress: bool = arg(True, "show tqdm progress bars", group=EXEC)
    plot: bool = arg(True, "draw training_curves.png when training ends", group=EXEC)

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

