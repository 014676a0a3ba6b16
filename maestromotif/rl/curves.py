"""Training curves (PNG) from ``metrics.csv`` (see :mod:`maestromotif.rl.observers`).

``python -m maestromotif.rl.curves train_dir/skill_policy/default`` redraws
``train_dir/skill_policy/default/curves.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from maestromotif.skills.own_job import SKILL_BEHAVIOUR  # noqa: F401  what each skill is for (re-exported)
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_open


def _col(rows: list[dict[str, str]], key: str) -> np.ndarray:
    return np.array([float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows])


def plot_curves(csv_path: str | Path, png_path: str | Path) -> Path:
    """Draw ``png_path`` from ``metrics.csv`` (``csv_path`` may also be the experiment directory)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from maestromotif.rl.observers import read_metrics

    csv_path = Path(csv_path)
    if csv_path.is_dir():
        csv_path = csv_path / "metrics.csv"
    if not csv_path.is_file():
        raise UserError("training metrics not found", path=csv_path,
                        expected="the metrics.csv that scripts.main writes in the experiment directory")
    rows = read_metrics(csv_path)
    if not rows:
        raise UserError("no metrics rows yet", path=csv_path, fix="train longer (episodes must finish)")
    x = _col(rows, "env_steps") / 1e6
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    ax = axes[0, 0]
    ax.plot(x, _col(rows, "reward"))
    ax.set_title("episode return (reward_scale not applied)")
    ax = axes[0, 1]
    for s in SKILL_NAMES:
        ax.plot(x, _col(rows, f"skills/{s}_intrinsic_mean"), label=s)
    ax.set_title("intrinsic reward per step of each skill")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    for s in SKILL_NAMES:
        ax.plot(x, _col(rows, f"skills/{s}_steps"), label=s)
    ax.set_title("steps per episode spent in each skill")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    for s, beh in SKILL_BEHAVIOUR.items():
        steps = _col(rows, f"skills/{s}_steps")
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = 1000 * _col(rows, f"skills/{s}_{beh}") / steps
        ax.plot(x, rate, label=f"{s}: {beh}")
    ax.set_yscale("symlog")
    ax.set_title("each skill's target behaviour per 1000 of its steps")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    ax.plot(x, _col(rows, "episode/max_depth"), label="max depth")
    ax.plot(x, _col(rows, "episode/descents"), label="descents")
    ax.plot(x, _col(rows, "episode/ascents"), label="ascents")
    ax.set_title("per episode")
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    ax.plot(x, _col(rows, "len"), label="episode length (steps)")
    ax.set_title("episode length")
    for a in axes.ravel():
        a.set_xlabel("env steps (millions)")
        a.grid(alpha=0.3)
    fig.tight_layout()
    png_path = Path(png_path)
    with atomic_open(png_path, "wb") as f:
        fig.savefig(f, format="png", dpi=80)
    plt.close(fig)
    return png_path


if __name__ == "__main__":
    exp = Path(sys.argv[1])
    print(plot_curves(exp, exp / "curves.png"))
