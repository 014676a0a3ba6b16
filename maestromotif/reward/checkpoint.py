"""The reward-model checkpoint file ``<train_dir>/<experiment>/checkpoint.pt``.

Schema (a ``torch.save`` dict, loadable with ``torch.load(..., weights_only=True)``):

- ``format``          ``"maestromotif.reward/1"``
- ``config``          the :class:`~maestromotif.reward.config.RewardConfig` as a dict
- ``model``           ``RewardModel`` state dict (includes the ``delta_mask`` buffer)
- ``optimizer``       Adam state dict (for resuming)
- ``epoch``           completed epochs (0 = untrained)
- ``batch_in_epoch``  batches of epoch ``epoch + 1`` already trained (0 at an epoch boundary; > 0 for
                      a mid-epoch save, whose normalisation is still the one of epoch ``epoch``)
- ``step``            optimiser steps so far
- ``finished``        ``epoch == config.num_epochs`` and at an epoch boundary
- ``reward_mean`` / ``reward_std``  normalisation: mean and (population) std of r_phi over the
                      dataset's distinct inputs, computed with the weights of epoch ``epoch``
- ``quantiles``       {q: quantile of normalised rewards} for q = 0.05 ... 0.95 (unrounded)
- ``history``         one dict per evaluated epoch (the rows of ``metrics.csv``)
- ``fingerprint``     hash of the dataset arrays and labels it was trained on
- ``label_counts``    labels per class in the label file (``unknown`` ones were dropped)
- ``num_distinct``    distinct (message, masked deltas) inputs of the dataset
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_torch_save

FORMAT = "maestromotif.reward/1"
CHECKPOINT_NAME = "checkpoint.pt"
REQUIRED_KEYS = ("format", "config", "model", "epoch", "reward_mean", "reward_std")


def checkpoint_path(reward_dir: str | Path) -> Path:
    return Path(reward_dir) / CHECKPOINT_NAME


def save_checkpoint(path: str | Path, ckpt: dict[str, Any]) -> None:
    atomic_torch_save(path, {"format": FORMAT, **ckpt})


def load_checkpoint(path: str | Path, device: str = "cpu") -> dict[str, Any]:
    """Load a checkpoint; a missing, truncated or foreign file is a :class:`UserError`."""
    import torch

    path = Path(path)
    if not path.exists():
        hint = ("train it with `python -m scripts.train_reward --experiment <annotator>_<skill>_<prompt> "
                "--train_dir <dir>`")
        raise UserError("reward checkpoint not found", path=path,
                        expected=f"a directory made by scripts.train_reward holding {CHECKPOINT_NAME}",
                        fix=hint if path.parent.exists() else f"check the reward directory ({hint})")
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:
        raise UserError(f"cannot be loaded ({type(e).__name__}: {str(e)[:200]})", path=path,
                        expected=f"a {FORMAT} checkpoint written by scripts.train_reward",
                        fix="the file is corrupt or truncated: delete it and rerun the training command "
                            "(it restarts from scratch)") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT or any(k not in ckpt for k in REQUIRED_KEYS):
        got = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise UserError(f"is not a maestromotif reward checkpoint (format {got!r})", path=path,
                        expected=f"format {FORMAT!r} with keys {', '.join(REQUIRED_KEYS)}",
                        fix="point to a directory written by `python -m scripts.train_reward`")
    return ckpt
