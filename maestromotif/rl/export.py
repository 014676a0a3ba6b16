"""Export a skill-training run: one checkpoint and relocatable configs, ready to ship or resume elsewhere.

    python -m scripts.export_run --run /scratch/runs/default --out train_dir/skill_policy/default

A run directory written by ``python -m scripts.main`` holds several checkpoints, TensorBoard events,
logs, and configs that record the absolute paths of the machine it ran on (its ``--train_dir``, the
checkout it ran from). The export (``--out``, an experiment directory) receives:

- ``checkpoint_p0/<the newest checkpoint_*.pth>`` only (``--checkpoint`` picks another); older
  checkpoints already in ``--out`` are removed, so rerunning the export after more training replaces
  the shipped checkpoint instead of piling them up;
- ``config.json`` and ``maestromotif_config.json`` with recorded paths rewritten (:func:`path_rewrites`):
  the run's train_dir becomes the export's parent, the checkout it ran from becomes the current
  directory (written relative to it: ``train_dir/skill_rewards/...``), plus any ``--replace OLD=NEW``;
- ``metrics.csv``, ``training_summary.json``, ``curves.png`` (redrawn from the metrics).

Anything else already in ``--out`` (``NOTES.md``, a shipped policy over skills, a skill report) is left
as it is. Since sample-factory resumes from ``<train_dir>/<experiment>/checkpoint_p0``, the training
command with ``--train_dir`` = the export's parent and ``--experiment`` = its name resumes from the
exported checkpoint and continues its ``metrics.csv`` (a run split over machines whose scratch disks
do not survive: export at the end of each session, commit, resume from the export next time).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from maestromotif.rl.actor import CHECKPOINT_GLOB, checkpoint_env_steps
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_write_bytes, atomic_write_text

CONFIGS = ("config.json", "maestromotif_config.json")
COPIED = ("metrics.csv", "training_summary.json")


@dataclass
class ExportResult:
    out: Path
    checkpoint: Path
    env_steps: int
    rewrites: list[tuple[str, str]] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def _checkpoints(run: Path) -> list[Path]:
    return sorted((run / "checkpoint_p0").glob(CHECKPOINT_GLOB))


def _env_steps(ckpt: Path) -> int:
    try:
        return checkpoint_env_steps(ckpt)
    except (IndexError, ValueError):
        return -1


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when it lies inside it (with a trailing slash), else absolute."""
    path = path.resolve()
    try:
        rel = path.relative_to(base.resolve()).as_posix()
        return "" if rel == "." else rel + "/"
    except ValueError:
        return path.as_posix() + "/"


def run_checkout(mm_cfg: dict) -> str | None:
    """The checkout a run ran from: the directory holding ``scripts/main.py`` in its recorded argv."""
    argv = mm_cfg.get("argv") or []
    if argv and str(argv[0]).endswith("scripts/main.py"):
        return str(Path(argv[0]).parent.parent) + "/"
    return None


def path_rewrites(run: Path, out: Path, sf_cfg: dict, mm_cfg: dict, base: Path,
                  extra: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(old, new) text replacements for the recorded paths, longest old first.

    The run's ``train_dir`` -> the export's parent; the checkout the run ran from -> ``base``
    (paths under ``base`` are written relative to it). ``extra`` comes first, as given.
    """
    pairs = list(extra)
    train_dir = sf_cfg.get("train_dir")
    if train_dir:
        old = str(train_dir).rstrip("/") + "/"
        pairs.append((old, _rel(out.parent, base)))
    checkout = run_checkout(mm_cfg)
    if checkout and Path(checkout).resolve() != base.resolve():
        pairs.append((checkout, _rel(base, base)))
    # A replacement inside a longer one must not break it: apply the longest first.
    seen, ordered = set(), []
    for old, new in sorted(pairs, key=lambda p: -len(p[0])):
        if old and old != new and old not in seen:
            seen.add(old)
            ordered.append((old, new))
    return ordered


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"cannot read the run's config ({e})", path=path,
                        expected="the JSON that `python -m scripts.main` writes in its experiment directory",
                        fix="point --run at a run directory written by scripts.main") from e


def export_run(run: str | Path, out: str | Path, checkpoint: str | None = None,
               replace: list[tuple[str, str]] = (), base: str | Path = ".",
               draw_curves: bool = True) -> ExportResult:
    """Copy ``run``'s chosen checkpoint, metrics and path-rewritten configs to ``out`` (see module doc)."""
    run, out, base = Path(run), Path(out), Path(base)
    if not (run / "config.json").is_file():
        raise UserError("not a skill-training run directory (no config.json)", path=run,
                        expected="<train_dir>/<experiment>/ written by `python -m scripts.main`",
                        fix="pass the experiment directory, e.g. --run /scratch/train_dir/default")
    ckpts = _checkpoints(run)
    if checkpoint:
        chosen = [c for c in ckpts if c.name == checkpoint or str(_env_steps(c)) == checkpoint]
        if not chosen:
            raise UserError(f"no checkpoint named {checkpoint!r}", path=run / "checkpoint_p0",
                            expected="a file name from checkpoint_p0/ or its env step count: "
                                     + ", ".join(c.name for c in ckpts),
                            fix="leave --checkpoint out to take the newest")
        ckpt = chosen[-1]
    elif ckpts:
        ckpt = ckpts[-1]
    else:
        raise UserError("the run has no checkpoint yet", path=run / "checkpoint_p0",
                        expected=f"checkpoint_p0/{CHECKPOINT_GLOB}",
                        fix="train until a checkpoint is saved (stop a run with Ctrl-C: it saves one)")
    if run.resolve() == out.resolve():
        raise UserError("--out is the run directory itself", path=out,
                        fix="export to another experiment directory")

    sf_cfg = _load_json(run / "config.json")
    mm_path = run / "maestromotif_config.json"
    mm_cfg = _load_json(mm_path) if mm_path.is_file() else {}
    rewrites = path_rewrites(run, out, sf_cfg, mm_cfg, base, list(replace))

    (out / "checkpoint_p0").mkdir(parents=True, exist_ok=True)
    dst = out / "checkpoint_p0" / ckpt.name
    if not dst.exists() or dst.stat().st_size != ckpt.stat().st_size:
        tmp = dst.with_name(dst.name + ".tmp")
        shutil.copyfile(ckpt, tmp)
        os.replace(tmp, dst)
    # Only the exported checkpoint stays: sample-factory resumes from the newest file in checkpoint_p0.
    removed = [p for p in (out / "checkpoint_p0").iterdir() if p.is_file() and p.name != ckpt.name]
    for p in removed:
        p.unlink()

    for name in CONFIGS:
        src = run / name
        if src.is_file():
            text = src.read_text()
            for old, new in rewrites:
                text = text.replace(old, new)
            atomic_write_text(out / name, text)
    for name in COPIED:
        if (run / name).is_file():
            atomic_write_bytes(out / name, (run / name).read_bytes())
    if draw_curves and (out / "metrics.csv").is_file():
        from maestromotif.rl.curves import plot_curves

        plot_curves(out / "metrics.csv", out / "curves.png")
    return ExportResult(out=out, checkpoint=dst, env_steps=_env_steps(ckpt), rewrites=rewrites, removed=removed)
