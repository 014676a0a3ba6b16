"""Small, real reward directories for tests of this and later phases.

:func:`write_synthetic_preferences` writes a real dataset pickle (``og_dataset/<skill>.pkl`` schema)
and a label file whose labels follow a known rule (a score per message; the higher score wins, equal
scores tie). :func:`make_test_reward_dirs` trains one quick model per skill on such files and returns
the directories, ready for :class:`~maestromotif.reward.runtime.SkillRewardSet`::

    dirs = make_test_reward_dirs(tmp_path)            # 5 dirs, skill-id order, ~1-2 s each
    rewards = SkillRewardSet.load([str(d) for d in dirs])

These labels are not LLM labels: use them only where the test is about plumbing, not about what an
LLM prefers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.data.dataset import FIRST, SECOND, TIE, save_dataset
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.io import atomic_save_npy
from maestromotif.workspace import Workspace

NEUTRAL = {"": 0.0, "It's solid stone.": 0.0, "You hear some noises in the distance.": 0.0,
           "You see here a dagger.": 0.0, "The grid bug bites!": -1.0, "You are hit by an arrow!": -1.0}
# Messages each skill's synthetic rule prefers (score 2), on top of NEUTRAL.
FAVOURED = {
    "discoverer": ("You find a hidden passage.", "You see here a scroll labeled ELBIB YLOH."),
    "descender": ("There is a staircase down here.", "You climb down the stairs."),
    "ascender": ("There is a staircase up here.", "You climb up the stairs."),
    "worshipper": ("There is an altar to Huan Ti (neutral) here.",
                   "You drop a ring. There is a black flash as it hits the altar."),
    "merchant": ("Hello, Agent!  Welcome to Asidonhopo's general store!",
                 "You sold a dagger for 2 gold pieces."),
}


def skill_scores(skill: str) -> dict[str, float]:
    scores = dict(NEUTRAL)
    for name, msgs in FAVOURED.items():
        for m in msgs:
            scores[m] = 2.0 if name == skill else 0.0
    return scores


def write_synthetic_preferences(directory: str | Path, skill: str = "descender", num_pairs: int = 64,
                                seed: int = 0, scores: Mapping[str, float] | None = None,
                                annotator: str = "synthetic", prompt: str = "default",
                                dlvl_prob: float = 0.0, dlvl_score: float = 0.0) -> tuple[Path, Path]:
    """Write ``<directory>/og_dataset/<skill>.pkl`` and ``<directory>/preference/<annotator>_<skill>_<prompt>.npy``.

    Pair i compares two random messages of ``scores`` (default :func:`skill_scores`); its label is
    0 / 1 for the higher score, 2 for equal scores. A sample goes one level deeper (dlvl 1 -> 2) with
    probability ``dlvl_prob``, which adds ``dlvl_score`` to its score; other stats never change.
    """
    directory = Path(directory)
    scores = dict(scores if scores is not None else skill_scores(skill))
    msgs = sorted(scores)
    rng = np.random.default_rng(seed)
    samples: list[dict[str, Any]] = []
    labels = np.zeros(num_pairs, np.int64)
    for i in range(num_pairs):
        score = []
        for j in rng.integers(0, len(msgs), size=2):
            deeper = bool(rng.random() < dlvl_prob)
            stats = [[1, 0, 14, 14, 1, 1], [2 if deeper else 1, 0, 14, 14, 1, 1]]
            samples.append({"msg_strs": ("", msgs[j]), "stats_list": stats, "source": "synthetic"})
            score.append(scores[msgs[j]] + (dlvl_score if deeper else 0.0))
        labels[i] = FIRST if score[0] > score[1] else SECOND if score[1] > score[0] else TIE
    ds_path = save_dataset(Workspace(directory).og_dataset / f"{skill}.pkl", samples,
                           meta={"source": "maestromotif.reward.synthetic", "seed": seed, "scores": scores})
    lab_path = Workspace(directory).preference / f"{annotator}_{skill}_{prompt}.npy"
    atomic_save_npy(lab_path, labels)
    return ds_path, lab_path


def make_test_reward_dirs(directory: str | Path, skills: Sequence[str] = SKILL_NAMES, num_pairs: int = 64,
                          num_epochs: int = 3, seed: int = 0, **overrides: Any) -> list[Path]:
    """Train one quick reward model per skill under ``<directory>/train_dir`` (skill order kept).

    The defaults (64 pairs, 3 epochs of batches of 8 at lr 2e-3) take ~1-2 s per skill with one CPU
    thread and give models that rank each skill's favoured messages above the others'.
    """
    from maestromotif.reward.config import RewardConfig
    from maestromotif.reward.train import train_reward_model

    directory = Path(directory)
    out = []
    for i, skill in enumerate(skills):
        ds, labels = write_synthetic_preferences(directory, skill, num_pairs, seed + i)
        kw: dict[str, Any] = dict(num_epochs=num_epochs, seed=seed + i, batch_size=8, reward_lr=2e-3)
        cfg = RewardConfig.quick(ds, labels, directory / "train_dir", experiment=f"synthetic_{skill}_default",
                                 **{**kw, **overrides})
        out.append(train_reward_model(cfg, log=lambda *a: None))
    return out
