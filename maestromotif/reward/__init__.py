"""Phase 1b: per-skill Bradley-Terry reward models and the runtime intrinsic reward.

- :mod:`~maestromotif.reward.model`      r_phi(message, stat deltas): Motif's char-level 1-D CNN.
- :mod:`~maestromotif.reward.config`     :class:`RewardConfig` (flags of ``scripts.train_reward``).
- :mod:`~maestromotif.reward.data`       labelled pairs -> distinct inputs, targets, held-out split.
- :mod:`~maestromotif.reward.train`      :func:`train_reward_model` (resumable, atomic outputs).
- :mod:`~maestromotif.reward.checkpoint` / :mod:`~maestromotif.reward.reports`  the files it writes.
- :mod:`~maestromotif.reward.runtime`    :class:`SkillReward` / :class:`SkillRewardSet` for RL.
- :mod:`~maestromotif.reward.inspection` top/bottom captions by reward, scoring typed captions.
- :mod:`~maestromotif.reward.synthetic`  small real reward dirs for other phases' tests.

Importing this package does not import torch; the names below are loaded on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "RewardConfig": "maestromotif.reward.config",
    "train_reward_model": "maestromotif.reward.train",
    "SkillReward": "maestromotif.reward.runtime",
    "SkillRewardSet": "maestromotif.reward.runtime",
    "make_test_reward_dirs": "maestromotif.reward.synthetic",
    "write_synthetic_preferences": "maestromotif.reward.synthetic",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
