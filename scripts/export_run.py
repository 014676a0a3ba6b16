"""Export a skill-training run (one checkpoint, relocatable configs, metrics, curves) to ship or resume it.

    python -m scripts.export_run --run /scratch/train_dir/default --out train_dir/skill_policy/default

The training command with ``--train_dir train_dir/skill_policy/ --experiment default`` then resumes
from the export. Files left in --out (NOTES.md, a policy over skills, a skill report) are kept.
See maestromotif/rl/export.py for what is copied and how recorded paths are rewritten.
"""

import sys
from dataclasses import dataclass

from maestromotif.utils.cli import arg, parse
from maestromotif.utils.errors import UserError, run_cli


@dataclass
class ExportArgs:
    run: str = arg("", "the run's experiment directory (<train_dir>/<experiment> of scripts.main)")
    out: str = arg("", "experiment directory to export to, e.g. train_dir/skill_policy/default")
    checkpoint: str | None = arg(None, "checkpoint to export: its file name or env step count "
                                       "(default: the newest)")
    replace: list[str] = arg([], "extra OLD=NEW replacements for paths recorded in the configs")
    base: str = arg(".", "directory the exported configs' paths are written relative to (the checkout "
                         "that will resume or evaluate it)")
    curves: bool = arg(True, "redraw curves.png from the exported metrics.csv")


def main(argv=None):
    from maestromotif.rl.export import export_run

    a = parse(ExportArgs, argv, prog="python -m scripts.export_run", description=__doc__)
    if not a.run or not a.out:
        raise UserError("--run and --out are both required",
                        fix="python -m scripts.export_run --run <train_dir>/<experiment> --out train_dir/skill_policy/<name>")
    pairs = []
    for r in a.replace:
        if "=" not in r:
            raise UserError(f"--replace {r!r} has no '='", expected="OLD=NEW", fix="e.g. --replace /scratch/=/data/")
        pairs.append(tuple(r.split("=", 1)))
    res = export_run(a.run, a.out, checkpoint=a.checkpoint, replace=pairs, base=a.base, draw_curves=a.curves)
    print(f"exported {res.checkpoint} ({res.env_steps:,} env steps) to {res.out}")
    for old, new in res.rewrites:
        print(f"  recorded path {old!r} -> {new!r}")
    for p in res.removed:
        print(f"  removed older {p}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
