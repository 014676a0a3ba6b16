"""What each trained skill does vs baselines (random skill conditioning, random actions).

    python -m scripts.skill_report --policy train_dir/skill_policy/default --steps 24000

Writes skill_report.json and skill_report.md beside the checkpoint (see maestromotif/rl/skill_report.py).
"""

import argparse
import sys

from maestromotif.utils.errors import run_cli


def main(argv=None):
    from maestromotif.rl.skill_report import ReportConfig, report

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", default="train_dir/skill_policy/default",
                   help="experiment directory or checkpoint file of the skill policy")
    p.add_argument("--meta_policy", default=None,
                   help="policy over skills (execution.py); default: the one the policy was trained with")
    p.add_argument("--steps", type=int, default=24_000, help="agent steps per mode (all games together)")
    p.add_argument("--envs", type=int, default=8, help="games run side by side (batched inference)")
    p.add_argument("--max_episode_steps", type=int, default=2_000, help="episode length cap")
    p.add_argument("--seed", type=int, default=0, help="game and sampling seed (same for every mode)")
    p.add_argument("--deterministic", action="store_true", help="argmax actions instead of sampling")
    p.add_argument("--out", default=None, help="output directory (default: the experiment directory)")
    a = p.parse_args(argv)
    cfg = ReportConfig(policy=a.policy, meta_policy=a.meta_policy, steps=a.steps, envs=a.envs,
                       max_episode_steps=a.max_episode_steps, seed=a.seed, deterministic=a.deterministic)
    report(cfg, a.out)


if __name__ == "__main__":
    sys.exit(run_cli(main))
