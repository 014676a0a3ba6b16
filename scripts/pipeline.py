"""The whole MaestroMotif method in one resumable command.

    python -m scripts.pipeline --workdir runs/quick --preset tiny        # ~30 min on 2 CPU cores
    python -m scripts.pipeline --workdir runs/paper --preset paper --dry_run   # commands of a cluster run

Stages (each writes the same files its stand-alone command writes, under --workdir):
collect -> annotate -> reward -> code -> train -> eval -> report. A stage whose outputs exist and whose
settings are unchanged is skipped; a killed run continues from the last finished unit (and the unit's
own command resumes from its files); a changed setting reruns only the stages it affects.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from maestromotif.pipeline.config import PRESETS, make_config
from maestromotif.pipeline.runner import Pipeline
from maestromotif.pipeline.stages import STAGE_NAMES
from maestromotif.utils.cli import arg, parse
from maestromotif.utils.errors import run_cli


@dataclass
class PipelineArgs:
    workdir: str = arg(help="folder holding every file of the run (resumable)", required=True)
    preset: str = arg("tiny", "settings: 'tiny' (a laptop, ~30 min) or 'paper' (the paper's hyperparameters)",
                      choices=tuple(sorted(PRESETS)))
    config: str | None = arg(None, "YAML/JSON file of settings overriding the preset (names: see "
                                   "maestromotif/pipeline/config.py PipelineConfig)")
    set: list[str] = arg([], "override one setting, e.g. --set eval_episodes=5 (repeatable; values parsed as JSON)",
                         metavar="KEY=VALUE")
    stages: list[str] = arg(list(STAGE_NAMES), "stages to run", metavar="STAGE")
    force: list[str] = arg([], "redo this stage from scratch even if it is up to date ('all' for every stage); "
                               "repeatable", metavar="STAGE")
    reuse_code: bool | None = arg(None, "reuse the shipped policies over skills instead of generating them with "
                                        "the LLM (default: the preset's: tiny 1, paper 0)")
    dry_run: bool = arg(False, "print the commands of every stage (a Slurm array for chunked annotation) and exit")
    status: bool = arg(False, "print how many units of each stage are done and exit")


def parse_args(argv: list[str] | None = None) -> PipelineArgs:
    return parse(PipelineArgs, argv, prog="python -m scripts.pipeline", description=__doc__)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    overrides = list(a.set)
    if a.reuse_code is not None:
        overrides.append(f"reuse_code={'true' if a.reuse_code else 'false'}")
    cfg = make_config(a.preset, a.config, overrides)
    pipe = Pipeline(cfg, a.workdir)
    if a.status:
        for name, line in pipe.status():
            print(f"{name:9s} {line}")
        return 0
    pipe.run(stages=a.stages, force=a.force, dry_run=a.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
