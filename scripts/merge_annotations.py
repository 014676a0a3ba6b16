"""Merge the per-chunk part files of annotation jobs into preference/<exp>.npy (+ summary JSON).

Every chunk job already merges when it ends; run this after a Slurm array finishes (or any time) to
be sure the .npy holds every label computed so far. Safe to run while jobs are still writing.

Examples:
  python -m scripts.merge_annotations --experiment gemma270m_descender_default --directory og_dataset --goal_key descender
  python -m scripts.merge_annotations --all --directory og_dataset
"""

from __future__ import annotations

import argparse
import json

from maestromotif.annotation.merge import merge_experiments
from maestromotif.utils.errors import run_cli


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.merge_annotations", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experiment", "--custom-annotator-string", "--custom_annotator_string", dest="experiment",
                   action="append", default=[],
                   help="label file stem <annotator>_<goal_key>_<prompt> to merge (repeatable)")
    p.add_argument("--all", type=int, default=0, help="1: merge every experiment with a .parts directory (default: %(default)s)")
    p.add_argument("--preference_dir", "--preference-dir", default="preference",
                   help="directory of the label files (default: %(default)s)")
    p.add_argument("--directory", default=None,
                   help="dataset directory; the dataset is read from the experiment's .config.json when omitted")
    p.add_argument("--goal_key", "--goal-key", default=None,
                   help="dataset/goal of the experiment when it has no .config.json (default: read from it)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    for s in merge_experiments(a.preference_dir, a.experiment, bool(a.all), a.directory, a.goal_key):
        print(json.dumps({k: s[k] for k in ("experiment", "num_pairs", "labels", "complete", "unparseable")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
