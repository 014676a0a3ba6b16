"""Merging chunk part files into label files (``python -m scripts.merge_annotations``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from maestromotif.annotation.annotator import write_summary
from maestromotif.annotation.store import LabelStore
from maestromotif.data.dataset import dataset_path, load_dataset
from maestromotif.utils.errors import UserError


def _dataset_for(pref: Path, exp: str, directory: str | None, goal_key: str | None) -> tuple[Path, str]:
    cfg_path = pref / f"{exp}.config.json"
    rec: dict[str, Any] = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    cfg = rec.get("config", {})
    goal = goal_key or cfg.get("goal_key")
    if goal is None:
        raise UserError(f"experiment '{exp}' has no config record", path=cfg_path,
                        fix="pass --goal_key and --directory of the dataset it annotates")
    if directory is not None:
        return dataset_path(directory, cfg.get("dataset") or goal), goal
    if rec.get("dataset") and Path(rec["dataset"]).exists():
        return Path(rec["dataset"]), goal
    return dataset_path(cfg.get("directory", "og_dataset"), cfg.get("dataset") or goal), goal


def merge_experiments(preference_dir: str, experiments: list[str], all_: bool, directory: str | None = None,
                      goal_key: str | None = None) -> list[dict[str, Any]]:
    pref = Path(preference_dir)
    names = list(experiments)
    if all_:
        names += sorted(p.name.removesuffix(".parts") for p in pref.glob("*.parts") if p.is_dir())
    if not names:
        raise UserError("nothing to merge", expected="--experiment NAME (repeatable) or --all 1",
                        fix=f"list {pref}/*.parts to see what can be merged")
    out = []
    for exp in dict.fromkeys(names):
        ds_path, goal = _dataset_for(pref, exp, directory, goal_key)
        ds = load_dataset(ds_path)
        store = LabelStore(pref, exp, ds.num_pairs)
        if not store.part_files() and not store.npy_path.exists():
            raise UserError(f"no labels or part files for '{exp}'", path=store.parts_dir,
                            fix="check --experiment and --preference_dir")
        labels = store.merge()
        out.append(write_summary(store, ds, goal, labels))
    return out
