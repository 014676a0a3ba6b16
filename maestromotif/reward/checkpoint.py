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
- ``dataset_fingerprint``  content fingerprint of the dataset (``PairDataset.fingerprint``), the one
                      label files record too
- ``skill``           the skill named by the experiment (checked against its ``--reward_dir`` position)

Beside it, ``checkpoint.json`` (the sidecar, rewritten after every save) records the file's sha256,
size, epoch, skill and dataset fingerprint. :func:`load_verified` (used by RL, evaluation and
inspection) refuses a file whose bytes do not match the sidecar (bit flips, truncation, a partial
copy) or whose weights / normalisation are not finite.
- ``label_counts``    labels per class in the label file (``unknown`` ones were dropped)
- ``num_distinct``    distinct (message, masked deltas) inputs of the dataset
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_save_json, atomic_torch_save

FORMAT = "maestromotif.reward/1"
CHECKPOINT_NAME = "checkpoint.pt"
REQUIRED_KEYS = ("format", "config", "model", "epoch", "reward_mean", "reward_std")


def checkpoint_path(reward_dir: str | Path) -> Path:
    return Path(reward_dir) / CHECKPOINT_NAME


SIDECAR_NAME = "checkpoint.json"


def sidecar_path(path: str | Path) -> Path:
    return Path(path).with_name(SIDECAR_NAME)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_checkpoint(path: str | Path, ckpt: dict[str, Any]) -> None:
    atomic_torch_save(path, {"format": FORMAT, **ckpt})
    write_sidecar(path, ckpt)


def write_sidecar(path: str | Path, ckpt: dict[str, Any]) -> None:
    """checkpoint.json: checksum and identity of checkpoint.pt (written after it, atomically)."""
    path = Path(path)
    atomic_save_json(sidecar_path(path), {
        "file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size,
        "epoch": ckpt.get("epoch"), "finished": ckpt.get("finished"), "skill": ckpt.get("skill"),
        "experiment": (ckpt.get("config") or {}).get("experiment"),
        "dataset_fingerprint": ckpt.get("dataset_fingerprint"),
    })


def nonfinite_problems(state_dict: dict[str, Any], stats: dict[str, Any]) -> list[str]:
    """Names of weights / statistics that hold nan or inf (empty: all finite)."""
    import torch

    bad = [k for k, v in state_dict.items() if torch.is_tensor(v) and v.is_floating_point()
           and not bool(torch.isfinite(v).all())]
    for k in ("reward_mean", "reward_std"):
        if k in stats and not math.isfinite(float(stats[k])):
            bad.append(k)
    return bad


def load_verified(path: str | Path, device: str = "cpu") -> dict[str, Any]:
    """:func:`load_checkpoint` plus the checks a consumer needs: bytes match the sidecar checksum,
    weights and normalisation are finite numbers."""
    path = Path(path)
    side = sidecar_path(path)
    if path.exists() and side.exists():
        try:
            want = json.loads(side.read_text()).get("sha256")
        except ValueError:
            want = None
        got = file_sha256(path)
        if want and want != got:
            raise UserError(f"its bytes do not match the checksum in {side.name} (sha256 {got[:12]}... vs "
                            f"{want[:12]}...): the file changed after training wrote it (corruption, a partial "
                            "copy, or an edit)", path=path, expected="the checkpoint exactly as training wrote it",
                            fix="copy it again from where it was trained, or retrain it (rerun the "
                                "scripts.train_reward command: it resumes)")
    ckpt = load_checkpoint(path, device=device)
    bad = nonfinite_problems(ckpt["model"], ckpt)
    if bad:
        raise UserError(f"holds non-finite values (nan/inf) in {', '.join(bad[:5])}", path=path,
                        expected="finite weights, reward_mean and reward_std",
                        fix="retrain it with a lower --reward_lr (delete the directory first)")
    return ckpt


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
