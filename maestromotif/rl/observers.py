"""sample-factory runner observers (its public ``AlgoObserver`` API) that add what 2.1.1 lacks.

- :class:`TrainForSeconds`: sample-factory 2.1.1 never updates ``runner.total_train_seconds``, so
  ``--train_for_seconds`` is ignored. After every training iteration this observer sets it to the
  seconds elapsed since this run started; the runner's own end-of-training check then stops the run
  the normal way (final checkpoint included). The limit counts per run: a resumed run gets the full
  budget again. (A side effect: averaged episode stats reach TensorBoard after 300 s even when fewer
  than ``--stats_avg`` episodes finished, as sample-factory intends.)
- :class:`SaveEverySteps`: the original's ``--save_every_steps`` (a checkpoint every N env steps, on
  top of the time-based ones).
- :class:`MetricsCSV`: ``<experiment>/metrics.csv`` - one row per summary interval with the episode
  statistics averaged over the last ``--stats_avg`` episodes (columns: :func:`csv_columns`), and
  ``<experiment>/curves.png`` drawn from it when training stops, with ``training_summary.json``
  (env steps so far, this run's seconds, the last metrics row). The CSV is rewritten atomically and
  continued on resume (rows newer than the checkpoint the run resumes from are dropped).
"""

from __future__ import annotations

import csv
import io
import math
import time
from pathlib import Path

import numpy as np
from sample_factory.algo.runners.runner import AlgoObserver
from sample_factory.utils.utils import experiment_dir, log

from maestromotif.rl.actor import checkpoint_env_steps
from maestromotif.rl.env import episode_stat_keys
from maestromotif.utils.io import atomic_save_json, atomic_write_text

BASE_COLUMNS = ("env_steps", "run_seconds", "fps", "episodes", "reward", "len")


def csv_columns() -> list[str]:
    return list(BASE_COLUMNS) + episode_stat_keys()


class TrainForSeconds(AlgoObserver):
    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.start = time.time()

    def on_start(self, runner) -> None:
        self.start = time.time()

    def on_training_step(self, runner, training_iteration_since_resume: int) -> None:
        runner.total_train_seconds = time.time() - self.start
        if runner.total_train_seconds > self.seconds and not getattr(self, "_logged", False):
            self._logged = True
            log.info("--train_for_seconds %.0f reached: stopping (a final checkpoint is saved)", self.seconds)


class SaveEverySteps(AlgoObserver):
    def __init__(self, every: int):
        self.every = int(every)
        self.next_save: int | None = None

    def on_training_step(self, runner, training_iteration_since_resume: int) -> None:
        steps = runner.env_steps.get(0)
        if steps is None or self.every <= 0:
            return
        if self.next_save is None:  # first call (also after a resume): next multiple of `every`
            self.next_save = (steps // self.every + 1) * self.every
        if steps >= self.next_save:
            runner.save_periodic.emit()
            self.next_save = (steps // self.every + 1) * self.every


class MetricsCSV(AlgoObserver):
    def __init__(self):
        self.path: Path | None = None
        self.rows: list[dict[str, str]] = []
        self.columns = csv_columns()
        self.start = time.time()
        self._last: tuple[float, int] | None = None

    def on_init(self, runner) -> None:
        self.path = Path(experiment_dir(cfg=runner.cfg)) / "metrics.csv"
        self.rows = read_metrics(self.path) if self.path.exists() else []
        # Training resumes from the latest checkpoint: rows written after it (a run killed with -9)
        # describe lost progress, and a run without checkpoint starts from zero.
        ckpts = sorted((self.path.parent / "checkpoint_p0").glob("checkpoint_*.pth"))
        resumed = checkpoint_env_steps(ckpts[-1]) if ckpts else 0
        self.rows = [r for r in self.rows if int(float(r["env_steps"])) <= resumed]

    def on_start(self, runner) -> None:
        self.start = time.time()

    # sample-factory 2.1.1 calls extra_summaries(runner, policy_id, writer, env_steps) although the
    # base class declares (runner, policy_id, env_steps, writer): accept both orders.
    def extra_summaries(self, runner, policy_id, a, b) -> None:
        if policy_id != 0:
            return
        env_steps = a if isinstance(a, int | np.integer) else b
        self.record(runner, int(env_steps))

    def record(self, runner, env_steps: int) -> None:
        stats = runner.policy_avg_stats
        episodes = stats.get("len", [[]])[0]
        if not episodes or self.path is None:
            return
        now = time.time()
        fps = math.nan
        if self._last is not None and now > self._last[0]:
            fps = (env_steps - self._last[1]) / (now - self._last[0])
        self._last = (now, env_steps)
        row = {"env_steps": env_steps, "run_seconds": round(now - self.start, 1), "fps": _fmt(fps),
               "episodes": len(episodes)}
        for key in self.columns[len(BASE_COLUMNS) - 2:]:
            vals = stats.get(key)
            row[key] = _fmt(float(np.mean(vals[0]))) if vals and len(vals[0]) else ""
        # A row at or below earlier ones means training went on from an older checkpoint than the
        # newest rows describe (progress lost to kill -9): those rows are replaced, the CSV stays monotone.
        self.rows = [r for r in self.rows if int(float(r["env_steps"])) < env_steps]
        self.rows.append({k: str(v) for k, v in row.items()})
        self.flush()

    def flush(self) -> None:
        if self.path is None:
            return
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(self.rows)
        atomic_write_text(self.path, buf.getvalue())

    def on_stop(self, runner) -> None:
        self.flush()
        if self.path is not None:
            atomic_save_json(self.path.with_name("training_summary.json"), {
                "env_steps": int(runner.env_steps.get(0, 0)),
                "run_seconds": round(time.time() - self.start, 1),
                "metrics_rows": len(self.rows),
                "last_metrics": self.rows[-1] if self.rows else {},
            })
        if self.path is not None and self.rows:
            from maestromotif.rl.curves import plot_curves

            try:
                plot_curves(self.path, self.path.with_name("curves.png"))
            except Exception as e:  # a plot must never lose a finished run
                log.warning(f"could not draw curves: {e}")


def _fmt(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.6g}"


def read_metrics(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return [dict(r) for r in csv.DictReader(f)]
