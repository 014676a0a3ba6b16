"""Training curves from a small metrics.csv: the per-skill series (reward vs own job), the causes of the
ends, and the PNG, also from an older metrics.csv without those columns."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from maestromotif.nethack.deaths import CAUSES
from maestromotif.rl.curves import death_shares, plot_curves, skill_series
from maestromotif.rl.observers import csv_columns, read_metrics
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError


def _row(step: int, **values) -> dict[str, str]:
    row = {"env_steps": str(step), "episodes": "4", "reward": "0.5", "len": str(100 + step // 1000)}
    row.update({k: str(v) for k, v in values.items()})
    return row


def _write(path, rows, columns=None):
    columns = columns or csv_columns()
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


ROWS = [  # averages over the last episodes, as MetricsCSV writes them
    _row(1000, **{"skills/discoverer_steps": 80, "skills/discoverer_activations": 2,
                  "skills/discoverer_cells_explored": 20, "skills/discoverer_kills": 0.4,
                  "skills/discoverer_intrinsic_mean": 0.01,
                  "skills/descender_steps": 40, "skills/descender_activations": 2, "skills/descender_own_job": 1,
                  "skills/descender_descents": 1, "skills/descender_intrinsic_mean": 0.02,
                  "skills/ascender_steps": 0, "skills/ascender_activations": 0,
                  "episode/death_monster": 0.75, "episode/death_timeout": 0.25, "episode/death_prayer": 0}),
    _row(2000, **{"skills/discoverer_steps": 100, "skills/discoverer_activations": 1,
                  "skills/discoverer_cells_explored": 5, "skills/discoverer_kills": 0,
                  "skills/discoverer_intrinsic_mean": 0.05,
                  "skills/descender_steps": 50, "skills/descender_activations": 4, "skills/descender_own_job": 0,
                  "skills/descender_descents": 0, "skills/descender_intrinsic_mean": 0.04,
                  "episode/death_monster": 0.5, "episode/death_timeout": 0, "episode/death_prayer": 0.5}),
]


def test_series_put_each_skills_reward_next_to_its_own_job(tmp_path):
    rows = read_metrics(_write(tmp_path / "metrics.csv", ROWS))
    s = skill_series(rows)
    assert list(s) == list(SKILL_NAMES)
    d, disc = s["descender"], s["discoverer"]
    np.testing.assert_allclose(d["intrinsic"], [0.02, 0.04])
    np.testing.assert_allclose(d["own_job_rate"], [0.5, 0.0])  # own_job / activations
    np.testing.assert_allclose(d["descents_per_1000"], [25.0, 0.0])  # per 1,000 descender steps
    np.testing.assert_allclose(disc["cells_explored_per_1000"], [250.0, 50.0])  # per 1,000 discoverer steps
    np.testing.assert_allclose(disc["kills_per_1000"], [5.0, 0.0])
    np.testing.assert_allclose(disc["intrinsic"], [0.01, 0.05])  # reward up, job down: what the figure shows
    assert "own_job_rate" not in disc
    # never activated (0 steps) or not reported (empty cell): a gap, not a zero rate
    assert np.isnan(s["ascender"]["own_job_rate"]).all() and np.isnan(s["ascender"]["ascents_per_1000"]).all()
    assert np.isnan(s["merchant"]["intrinsic"]).all()


def test_death_shares_keep_the_causes_that_occur_in_table_order(tmp_path):
    rows = read_metrics(_write(tmp_path / "metrics.csv", ROWS))
    shares = death_shares(rows)
    assert list(shares) == [c for c in CAUSES if c in ("monster", "prayer", "timeout")]
    np.testing.assert_allclose(shares["monster"], [0.75, 0.5])
    np.testing.assert_allclose(shares["prayer"], [0.0, 0.5])
    np.testing.assert_allclose(sum(shares.values()), [1.0, 1.0])


def test_png_from_new_and_older_metrics(tmp_path):
    new = plot_curves(_write(tmp_path / "metrics.csv", ROWS), tmp_path / "curves.png")
    assert new.stat().st_size > 10_000
    # an older metrics.csv (no own_job, no death columns): drawn with gaps, no error
    old_cols = [c for c in csv_columns() if not c.endswith("_own_job") and "/death_" not in c]
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    _write(old_dir / "metrics.csv", ROWS, old_cols)
    rows = read_metrics(old_dir / "metrics.csv")
    assert death_shares(rows) == {} and math.isnan(skill_series(rows)["descender"]["own_job_rate"][0])
    assert plot_curves(old_dir, old_dir / "curves.png").stat().st_size > 10_000  # a directory works too


def test_missing_or_empty_metrics_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="training metrics not found"):
        plot_curves(tmp_path, tmp_path / "curves.png")
    _write(tmp_path / "metrics.csv", [])
    with pytest.raises(UserError, match="no metrics rows yet"):
        plot_curves(tmp_path, tmp_path / "curves.png")


def test_csv_has_a_column_per_skill_job_and_cause():
    cols = set(csv_columns())
    for s in SKILL_NAMES:
        assert {f"skills/{s}_own_job", f"skills/{s}_activations", f"skills/{s}_steps",
                f"skills/{s}_intrinsic_mean"} <= cols
    assert {f"episode/death_{c}" for c in CAUSES} <= cols and "len" in cols


def test_compare_buckets_runs_at_equal_env_steps_as_ratios_of_sums(tmp_path):
    from maestromotif.rl.curves import compare_runs, compare_series

    a = _write(tmp_path / "a.csv", ROWS)
    ends, s = compare_series(read_metrics(a), every=1000)
    np.testing.assert_allclose(ends, [1000, 2000])
    np.testing.assert_allclose(s["descender own-job rate"], [0.5, 0.0])
    ends, s = compare_series(read_metrics(a), every=2000)  # both rows in one bucket: (1 + 0) / (2 + 4)
    np.testing.assert_allclose(s["descender own-job rate"], [1 / 6])
    np.testing.assert_allclose(s["discoverer cells_explored per 1k steps"], [1000 * 25 / 180])
    assert np.isnan(s["merchant own-job rate"]).all()  # never ran: no value, not 0
    short = _write(tmp_path / "b.csv", ROWS[:1])
    table = compare_runs({"long": a, "short": short}, tmp_path / "cmp.png", every=1000)
    assert (tmp_path / "cmp.png").stat().st_size > 10_000
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line for line in table.splitlines()}
    assert rows[("descender own-job rate", "long")].endswith("| 0.5 | 0 |")
    assert rows[("descender own-job rate", "short")].endswith("| 0.5 |  |")  # padded to the longer run
    with pytest.raises(UserError, match="training metrics not found"):
        compare_runs({"x": tmp_path / "missing"})
