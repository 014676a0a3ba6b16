"""Training curves (PNG) from ``metrics.csv`` (see :mod:`maestromotif.rl.observers`): what is learned,
not only the reward.

``curves.png`` has two parts, so that reward hacking shows while it happens:

- **skills**, a row per skill: the intrinsic reward the skill earns per step, next to its own job
  (:mod:`maestromotif.skills.own_job`, the measure of the scripted ceiling and of the evaluation):
  the fraction of activations that did the job (descender: a descent, ascender: an ascent,
  worshipper: an altar drop, merchant: a sale) and the job's events per 1,000 of the skill's steps;
  for the discoverer, new cells seen and kills per 1,000 of its steps. Then how much the skill runs
  (steps and activations per episode). A reward that rises while the job falls is the model paying
  for something else;
- **episodes**: mean episode length, the causes of the ends (shares of ``episode/death_<cause>``,
  :data:`maestromotif.nethack.deaths.CAUSES`), the return and depth reached.

Each row of ``metrics.csv`` averages the last ``--stats_avg`` episodes, so a rate here is a ratio of
those averages (= of their sums). Columns missing from an older ``metrics.csv`` are drawn as gaps.

``python -m maestromotif.rl.curves train_dir/skill_policy/default`` redraws
``train_dir/skill_policy/default/curves.png``.

**Several runs at equal env steps** (an ablation, a speed-up that must show it learns the same):
``python -m maestromotif.rl.curves --compare llm=train_dir/skill_policy/default
rules=train_dir/skill_policy/rules --out compare.png [--every 1e6]`` draws the headline series of
each run over env steps in one figure (:data:`COMPARE_SERIES`) and prints a markdown table of them
per ``--every`` env steps (ratios of sums of the rows in each bucket, so a bucket weighs its episodes
alike in every run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from maestromotif.nethack.deaths import CAUSES
from maestromotif.skills.own_job import DISCOVERER_RATES, OWN_JOB, SKILL_BEHAVIOUR  # noqa: F401  (re-exported)
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_open


def column(rows: list[dict[str, str]], key: str) -> np.ndarray:
    """One ``metrics.csv`` column as floats; NaN where a row has no value (or the column is missing)."""
    return np.array([float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows])


def _ratio(num: np.ndarray, den: np.ndarray, scale: float = 1.0) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)


def skill_series(rows: list[dict[str, str]]) -> dict[str, dict[str, np.ndarray]]:
    """Per skill, the series of the skills figure (one value per ``metrics.csv`` row):

    ``intrinsic`` (reward per step of the skill), ``steps`` and ``activations`` per episode, and its job:
    ``own_job_rate`` (own_job / activations) and ``<event>_per_1000`` (per 1,000 of its steps) for the
    skills of :data:`~maestromotif.skills.own_job.OWN_JOB`; ``<rate>_per_1000`` of
    :data:`~maestromotif.skills.own_job.DISCOVERER_RATES` for the discoverer."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for s in SKILL_NAMES:
        steps, acts = column(rows, f"skills/{s}_steps"), column(rows, f"skills/{s}_activations")
        series = {"intrinsic": column(rows, f"skills/{s}_intrinsic_mean"), "steps": steps, "activations": acts}
        if s in OWN_JOB:
            series["own_job_rate"] = _ratio(column(rows, f"skills/{s}_own_job"), acts)
            series[f"{OWN_JOB[s]}_per_1000"] = _ratio(column(rows, f"skills/{s}_{OWN_JOB[s]}"), steps, 1000.0)
        else:
            for beh in DISCOVERER_RATES:
                series[f"{beh}_per_1000"] = _ratio(column(rows, f"skills/{s}_{beh}"), steps, 1000.0)
        out[s] = series
    return out


def death_shares(rows: list[dict[str, str]]) -> dict[str, np.ndarray]:
    """Share of the averaged episodes that ended by each cause (``episode/death_<cause>``), in
    :data:`CAUSES` order; causes that never occur in ``rows`` are left out (older CSVs: empty)."""
    out = {}
    for cause in CAUSES:
        v = column(rows, f"episode/death_{cause}")
        if np.nan_to_num(v).any():
            out[cause] = v
    return out


def _twin(ax, x, left: tuple[str, np.ndarray], right: tuple[str, np.ndarray] | None) -> None:
    """``left`` on ``ax``, ``right`` on a second y axis (different units), one legend."""
    lines = ax.plot(x, left[1], color="tab:orange", marker=".", label=left[0])
    ax.set_ylabel(left[0], color="tab:orange", fontsize=8)
    if right is not None:
        ax2 = ax.twinx()
        lines += ax2.plot(x, right[1], color="tab:green", linestyle="--", label=right[0])
        ax2.set_ylabel(right[0], color="tab:green", fontsize=8)
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=7, loc="upper left")


def _skill_row(axes, x, skill: str, series: dict[str, np.ndarray]) -> None:
    ax = axes[0]
    ax.plot(x, series["intrinsic"], color="tab:blue", marker=".")
    ax.set_title(f"{skill}: intrinsic reward per step (what it is paid)", fontsize=10)
    ax = axes[1]
    if skill in OWN_JOB:
        event = OWN_JOB[skill]
        _twin(ax, x, ("own-job rate (of activations)", series["own_job_rate"]),
              (f"{event} per 1k skill steps", series[f"{event}_per_1000"]))
        ax.set_title(f"{skill}: its own job ({event})", fontsize=10)
    else:
        first, *rest = DISCOVERER_RATES
        _twin(ax, x, (f"{first} per 1k skill steps", series[f"{first}_per_1000"]),
              (f"{rest[0]} per 1k skill steps", series[f"{rest[0]}_per_1000"]) if rest else None)
        ax.set_title(f"{skill}: its own job ({', '.join(DISCOVERER_RATES)})", fontsize=10)
    ax = axes[2]
    _twin(ax, x, ("steps per episode", series["steps"]), ("activations per episode", series["activations"]))
    ax.set_title(f"{skill}: how much it runs", fontsize=10)


def _episode_row(axes, x, rows: list[dict[str, str]]) -> None:
    import matplotlib

    ax = axes[0]
    ax.plot(x, column(rows, "len"), marker=".")
    ax.set_title("mean episode length (steps)", fontsize=10)
    ax = axes[1]
    shares = death_shares(rows)
    if shares:
        ys = [np.nan_to_num(v) for v in shares.values()]
        palette = matplotlib.colormaps["tab20"]  # one colour per cause, the same in every run's figure
        ax.stackplot(x, *ys, labels=list(shares), colors=[palette(list(CAUSES).index(c) % 20) for c in shares])
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no episode/death_<cause> columns\n(metrics.csv from an older run)",
                ha="center", va="center", transform=ax.transAxes)
    ax.set_title("how episodes ended (share of the averaged episodes)", fontsize=10)
    ax = axes[2]
    _twin(ax, x, ("episode return", column(rows, "reward")), ("max depth", column(rows, "episode/max_depth")))
    ax.set_title("return and depth reached", fontsize=10)


# The headline of a run, one series each (compare figure and table): own jobs, exploration, episodes.
# name -> (numerator column, denominator column or None, scale); a rate is a ratio of sums of rows.
COMPARE_SERIES: dict[str, tuple[str, str | None, float]] = {
    **{f"{s} own-job rate": (f"skills/{s}_own_job", f"skills/{s}_activations", 1.0) for s in OWN_JOB},
    **{f"discoverer {b} per 1k steps": (f"skills/discoverer_{b}", "skills/discoverer_steps", 1000.0)
       for b in DISCOVERER_RATES},
    "episode length (agent steps)": ("len", None, 1.0),
    "episode length (game turns)": ("episode/turns", None, 1.0),
    "max depth reached": ("episode/max_depth", None, 1.0),
    "died to monsters (share)": ("episode/death_monster", None, 1.0),
    "died praying (share)": ("episode/death_prayer", None, 1.0),
    "prayers per episode": ("episode/prayers", None, 1.0),
}


def _metrics_rows(path: str | Path) -> list[dict[str, str]]:
    from maestromotif.rl.observers import read_metrics

    path = Path(path)
    csv_path = path / "metrics.csv" if path.is_dir() else path
    if not csv_path.is_file():
        raise UserError("training metrics not found", path=csv_path,
                        expected="the metrics.csv that scripts.main writes in the experiment directory")
    rows = read_metrics(csv_path)
    if not rows:
        raise UserError("no metrics rows yet", path=csv_path, fix="train longer (episodes must finish)")
    return rows


def compare_series(rows: list[dict[str, str]], every: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Bucket ends (env steps, multiples of ``every``) and each :data:`COMPARE_SERIES` entry per bucket:
    the ratio of the sums of the rows whose ``env_steps`` fall in (end - every, end]. Empty buckets and
    missing columns are NaN."""
    steps = column(rows, "env_steps")
    ends = np.arange(1, int(np.ceil(np.nanmax(steps) / every)) + 1) * every
    idx = np.clip(np.ceil(steps / every).astype(int) - 1, 0, len(ends) - 1)
    out = {}
    for name, (num, den, scale) in COMPARE_SERIES.items():
        n = column(rows, num)
        d = column(rows, den) if den else np.ones_like(n)
        ok = ~(np.isnan(n) | np.isnan(d))
        sn = np.bincount(idx[ok], weights=n[ok], minlength=len(ends))
        sd = np.bincount(idx[ok], weights=d[ok], minlength=len(ends))
        out[name] = _ratio(sn, sd, scale)
    return ends, out


def compare_runs(runs: dict[str, str | Path], png_path: str | Path | None = None,
                 every: float = 1e6) -> str:
    """Several training runs over env steps: a PNG of :data:`COMPARE_SERIES` (one line per run) when
    ``png_path`` is given, and the markdown table (returned) of each series per ``every`` env steps."""
    data = {label: compare_series(_metrics_rows(path), every) for label, path in runs.items()}
    longest = max((ends for ends, _ in data.values()), key=len)
    head = [f"{e / 1e6:g}M" for e in longest]
    lines = ["| series | run | " + " | ".join(head) + " |", "|---|---|" + "---:|" * len(head)]
    for name in COMPARE_SERIES:
        for label, (_ends, series) in data.items():
            cells = [f"{v:.3g}" if not np.isnan(v) else "" for v in series[name]]
            lines.append(f"| {name} | {label} | " + " | ".join(cells + [""] * (len(head) - len(cells))) + " |")
    if png_path is not None:
        _plot_compare(data, every, Path(png_path))
    return "\n".join(lines)


def _plot_compare(data: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]], every: float, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(COMPARE_SERIES)
    fig, axes = plt.subplots((n + 2) // 3, 3, figsize=(16, 3.2 * ((n + 2) // 3)), layout="constrained",
                             squeeze=False)
    for ax, name in zip(axes.ravel(), COMPARE_SERIES):
        for label, (ends, series) in data.items():
            ax.plot(ends / 1e6, series[name], marker=".", label=label)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"env steps (millions; each point: the episodes of {every / 1e6:g}M steps)", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    with atomic_open(png_path, "wb") as f:
        fig.savefig(f, format="png", dpi=72)
    plt.close(fig)


def plot_curves(csv_path: str | Path, png_path: str | Path) -> Path:
    """Draw ``png_path`` from ``metrics.csv`` (``csv_path`` may also be the experiment directory)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _metrics_rows(csv_path)
    x = column(rows, "env_steps") / 1e6
    n = len(SKILL_NAMES)
    fig = plt.figure(figsize=(16, 3.1 * (n + 1) + 0.8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[n, 1.15])
    top.suptitle("Skills: intrinsic reward (left) next to the skill's own job (middle) - reward hacking is "
                 "the left rising while the middle falls", fontsize=12)
    skill_axes = top.subplots(n, 3, squeeze=False)
    for row_axes, (skill, series) in zip(skill_axes, skill_series(rows).items(), strict=True):
        _skill_row(row_axes, x, skill, series)
    bottom.suptitle("Episodes: length and causes of the ends", fontsize=12)
    ep_axes = bottom.subplots(1, 3, squeeze=False)[0]
    _episode_row(ep_axes, x, rows)
    lo, hi = np.nanmin(x), np.nanmax(x)
    for a in [*skill_axes.ravel(), *ep_axes]:
        a.grid(alpha=0.3)
        if hi > lo:  # the same x range everywhere, also where a skill ran only late
            a.set_xlim(lo, hi)
        a.tick_params(labelsize=8)
    for a in [*skill_axes[-1], *ep_axes]:
        a.set_xlabel("env steps (millions)", fontsize=8)
    png_path = Path(png_path)
    with atomic_open(png_path, "wb") as f:
        fig.savefig(f, format="png", dpi=72)
    plt.close(fig)
    return png_path


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="python -m maestromotif.rl.curves", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", nargs="?", help="experiment directory: redraw its curves.png from metrics.csv")
    p.add_argument("--compare", nargs="+", metavar="LABEL=DIR", help="runs to compare at equal env steps")
    p.add_argument("--out", default=None, help="PNG of the comparison (default: none, only the table)")
    p.add_argument("--every", type=float, default=1e6, help="env steps per table column / point (default: 1e6)")
    a = p.parse_args(argv)
    if a.compare:
        bad = [r for r in a.compare if "=" not in r]
        if bad:
            p.error(f"--compare takes LABEL=DIR, got {bad}")
        print(compare_runs(dict(r.split("=", 1) for r in a.compare), a.out, a.every))
    elif a.experiment:
        exp = Path(a.experiment)
        print(plot_curves(exp, exp / "curves.png"))
    else:
        p.error("give an experiment directory or --compare LABEL=DIR ...")


if __name__ == "__main__":
    main(sys.argv[1:])
