"""Train one skill's reward model from LLM preference labels (Bradley-Terry, ties as 0.5/0.5).

The experiment name <annotator>_<skill>_<prompt> selects the labels <preference_dir>/<experiment>.npy
and the dataset <dataset_dir>/<skill>.pkl; outputs go to <train_dir>/<experiment>/ (checkpoint.pt,
checkpoint.json, config.json, metrics.csv, reward_metrics/train_norm_quantiles.csv, tb/,
training_curves.png). Rerunning the same command resumes an interrupted run (also after kill -9).
Labels annotated on another dataset content, all-tie labels and a loss that stops being finite are
refused with the fix (docs/robustness.md).

Example (the original's flags):
  python -m scripts.train_reward --batch_size 1000 --num_workers 40 --reward_lr 1e-5 --num_epochs 20 \\
      --seed 777 --dataset_dir og_dataset --experiment gemma270m_descender_default \\
      --train_dir train_dir/skill_rewards
"""

from __future__ import annotations

import sys

from maestromotif.reward.config import RewardConfig
from maestromotif.utils.cli import parse
from maestromotif.utils.errors import UserError, run_cli


def parse_args(argv: list[str] | None = None) -> RewardConfig:
    return parse(RewardConfig, argv, prog="python -m scripts.train_reward", description=__doc__)


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    from maestromotif.reward.train import train_reward_model  # torch is imported only now

    out = train_reward_model(cfg)
    if not (out / "checkpoint.pt").exists():
        raise UserError("training ended without a checkpoint", path=out)
    print(f"reward model: {out}  (inspect: python -m scripts.inspect_reward --experiment {cfg.experiment} "
          f"--train_dir {cfg.train_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
