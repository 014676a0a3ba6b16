"""Merge the per-chunk part files of annotation jobs into preference/<exp>.npy (+ summary JSON).

Every chunk job already merges when it ends; run this after a Slurm array finishes (or any time) to
be sure the .npy holds every label computed so far. Safe to run while jobs are still writing.

Examples:
  python -m scripts.merge_annotations --experiment gemma270m_descender_default --directory og_dataset --goal_key descender
  python -m scripts.merge_annotations --all --directory og_dataset
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from maestromotif.annotation.merge import merge_experiments
from maestromotif.utils.cli import arg, parse, ws_arg
from maestromotif.utils.errors import UserError, run_cli


@dataclass
class MergeArgs:
    experiment: list[str] = arg([], "label file stem(s) <annotator>_<goal_key>_<prompt> to merge",
                                aliases=("custom-annotator-string",))
    all: bool = arg(False, "merge every experiment with a .parts directory (--all, --all 1, --all true)")
    preference_dir: str = ws_arg("preference", "directory of the label files")
    directory: str | None = arg(None, "dataset directory; read from the experiment's .config.json when omitted",
                                aliases=("dataset_dir",))
    goal_key: str | None = arg(None, "dataset/goal of the experiment when it has no .config.json "
                                     "(default: read from it)")


def parse_args(argv: list[str] | None = None) -> MergeArgs:
    a = parse(MergeArgs, argv, prog="python -m scripts.merge_annotations", description=__doc__)
    if not a.experiment and not a.all:
        raise UserError("nothing to merge", fix="pass --experiment NAME (repeatable) or --all")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    for s in merge_experiments(a.preference_dir, a.experiment, bool(a.all), a.directory, a.goal_key):
        print(json.dumps({k: s[k] for k in ("experiment", "num_pairs", "labels", "complete", "unparseable")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
