"""What each trained skill does vs baselines (random skill conditioning, random actions).

    python -m scripts.skill_report --policy train_dir/skill_policy/default --steps 24000

Writes skill_report.json and skill_report.md to --out (default: skill_reports/<experiment>/, so the
report shipped beside a checkpoint is never overwritten by a trial run; pass --out <experiment dir>
to replace it on purpose). See maestromotif/rl/skill_report.py.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from maestromotif.utils.cli import arg, parse, ws_arg
from maestromotif.utils.errors import run_cli


@dataclass
class SkillReportArgs:
    policy: str = ws_arg("skill_policy/default", "experiment directory or checkpoint file of the skill policy")
    meta_policy: str | None = arg(None, "policy over skills (execution.py); default: the one the policy was "
                                        "trained with")
    steps: int = arg(24_000, "agent steps per mode (all games together)")
    envs: int = arg(8, "games run side by side (batched inference)")
    max_episode_steps: int = arg(2_000, "episode length cap")
    seed: int = arg(0, "game and sampling seed (same for every mode)")
    deterministic: bool = arg(False, "argmax actions instead of sampling")
    out: str | None = arg(None, "output directory (default: skill_reports/<experiment>/; the report shipped "
                                "beside the checkpoint is replaced only when you name its directory)")


def default_out(policy: str) -> Path:
    p = Path(policy)
    name = p.parent.name if p.is_file() or p.suffix else p.name
    return Path("skill_reports") / (name or "default")


def main(argv=None):
    from maestromotif.rl.skill_report import ReportConfig, report

    a = parse(SkillReportArgs, argv, prog="python -m scripts.skill_report", description=__doc__)
    cfg = ReportConfig(policy=a.policy, meta_policy=a.meta_policy, steps=a.steps, envs=a.envs,
                       max_episode_steps=a.max_episode_steps, seed=a.seed, deterministic=a.deterministic)
    out = Path(a.out) if a.out else default_out(a.policy)
    report(cfg, out)
    print(f"wrote {out}/skill_report.md and .json")


if __name__ == "__main__":
    sys.exit(run_cli(main))
