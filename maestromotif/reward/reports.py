"""Files a person (or the RL phase) reads next to a reward checkpoint.

- ``metrics.csv``: one row per evaluated epoch (epoch 0 = untrained model), columns
  :data:`METRIC_COLUMNS`; losses are the Bradley-Terry cross-entropy (ties included), accuracies are
  over non-tie pairs (the reward of the preferred caption is higher), both computed with the weights at
  the end of the epoch on the train and the held-out split.
- ``reward_metrics/train_norm_quantiles.csv``: the original's file. First row: the quantile levels
  ``0.05,0.1,...,0.95``; then one row per evaluated epoch (epoch 0 first) with the quantiles of the
  normalised reward over the dataset's distinct inputs, formatted ``%.2f``. The RL phase takes its
  threshold eps from the LAST row, in the column of ``--eps_threshold_quantile`` (see
  :func:`read_eps`).
- ``tb/``: TensorBoard scalars (rewritten from the checkpoint's history on every start, so they never
  hold an epoch the checkpoint does not).
- ``training_curves.png``: loss and accuracy per epoch, train vs held-out.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_write_bytes, atomic_write_text

QUANTILES: tuple[float, ...] = tuple(i / 100 for i in range(5, 96, 5))
QUANTILE_FILE = Path("reward_metrics") / "train_norm_quantiles.csv"
METRIC_COLUMNS = ("epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "train_pairs",
                  "val_pairs", "train_nontie", "val_nontie", "reward_mean", "reward_std",
                  "train_seconds", "eval_seconds")


def _csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_metrics_csv(out_dir: Path, history: list[dict[str, Any]]) -> None:
    rows = [METRIC_COLUMNS] + [[_fmt(h.get(c)) for c in METRIC_COLUMNS] for h in history]
    atomic_write_text(out_dir / "metrics.csv", _csv_text(rows))


def _fmt(v: Any) -> Any:
    return f"{v:.6g}" if isinstance(v, float) else v


def write_quantile_csv(out_dir: Path, history: list[dict[str, Any]]) -> None:
    rows: list[list[Any]] = [list(QUANTILES)]
    rows += [[f"{q:.2f}" for q in h["quantiles"]] for h in history]
    atomic_write_text(out_dir / QUANTILE_FILE, _csv_text(rows))


def read_eps(reward_dir: str | Path, eps_quantile: float | None) -> float:
    """Threshold eps: the last row's value in the column of ``eps_quantile``.

    As in the original, ``eps_quantile`` 0 (or None) disables the threshold (eps = -inf).
    """
    if not eps_quantile:
        return -math.inf
    path = Path(reward_dir) / QUANTILE_FILE
    if not path.exists():
        raise UserError("reward quantile file not found", path=path,
                        expected="the train_norm_quantiles.csv written by scripts.train_reward",
                        fix="rerun the reward training for this directory, or pass eps_quantile=0 to "
                            "disable the threshold")
    try:
        rows = [r for r in csv.reader(path.read_text().splitlines()) if r]
        levels = np.array(rows[0], dtype=float)
        last = np.array(rows[-1], dtype=float)
        if len(rows) < 2 or len(last) != len(levels):
            raise ValueError("needs a header row and at least one row of the same length")
    except (ValueError, IndexError) as e:
        raise UserError(f"cannot be parsed ({e})", path=path,
                        expected="first row quantile levels 0.05..0.95, then rows of normalised rewards",
                        fix="rerun the reward training for this directory") from None
    col = np.flatnonzero(np.isclose(levels, eps_quantile))
    if len(col) == 0:
        raise UserError(f"has no column for quantile {eps_quantile}", path=path,
                        expected=f"one of {', '.join(str(q) for q in levels)}",
                        fix="pick eps_quantile among those levels (or 0 for no threshold)")
    return float(last[col[0]])


def open_tensorboard(out_dir: Path, history: list[dict[str, Any]]):
    """A fresh ``tb/`` holding ``history`` (old event files dropped); returns the open writer."""
    from torch.utils.tensorboard import SummaryWriter

    tb = out_dir / "tb"
    if tb.exists():
        shutil.rmtree(tb)
    w = SummaryWriter(str(tb))
    for h in history:
        add_tensorboard_epoch(w, h)
    w.flush()
    return w


def add_tensorboard_epoch(w, h: dict[str, Any]) -> None:
    e = int(h["epoch"])
    for split in ("train", "val"):
        for name, tag in (("loss", "loss"), ("acc", "accuracy")):
            v = h.get(f"{split}_{name}")
            if v is not None and not math.isnan(v):
                w.add_scalar(f"{tag}/{split}", v, e)
    w.add_scalar("reward/mean", h["reward_mean"], e)
    w.add_scalar("reward/std", h["reward_std"], e)
    w.add_scalar("reward/norm_q0.5", h["quantiles"][QUANTILES.index(0.5)], e)
    w.add_scalar("reward/norm_q0.95", h["quantiles"][QUANTILES.index(0.95)], e)
    w.flush()


def write_plot(out_dir: Path, history: list[dict[str, Any]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, name, label in ((axes[0], "loss", "Bradley-Terry loss"), (axes[1], "acc", "accuracy (non-tie pairs)")):
        for split, style in (("train", "-o"), ("val", "-s")):
            ys = [h.get(f"{split}_{name}", float("nan")) for h in history]
            if not all(math.isnan(y) for y in ys):
                ax.plot(ep, ys, style, ms=3, label="held-out" if split == "val" else split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write_bytes(out_dir / "training_curves.png", buf.getvalue())
