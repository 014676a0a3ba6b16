"""Train one skill's reward model from LLM preference labels (Bradley-Terry, ties as 0.5/0.5).

The experiment name <annotator>_<skill>_<prompt> selects the labels <preference_dir>/<experiment>.npy
and the dataset <dataset_dir>/<skill>.pkl; outputs go to <train_dir>/<experiment>/ (checkpoint.pt,
config.json, metrics.csv, reward_metrics/train_norm_quantiles.csv, tb/, training_curves.png).
Rerunning the same command resumes an interrupted run (also after kill -9).

Example (the original's flags):
  python -m scripts.train_reward --batch_size 1000 --num_workers 40 --reward_lr 1e-5 --num_epochs 20 \\
      --seed 777 --dataset_dir og_dataset --experiment gemma270m_descender_default \\
      --train_dir train_dir/skill_rewards
"""

from __future__ import annotations

import argparse
import sys

from maestromotif.data.captions import DELTA_NAMES
from maestromotif.reward.config import RewardConfig
from maestromotif.utils.errors import UserError, run_cli


def _bool(s: str) -> bool:
    if s.lower() in ("1", "true", "yes", "y", "on"):
        return True
    if s.lower() in ("0", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected 0/1/true/false, got {s!r}")


def _deltas(s: str) -> tuple[str, ...]:
    if s.strip().lower() == "none":
        return ()
    if s.strip().lower() == "all":
        return DELTA_NAMES
    names = tuple(x.strip() for x in s.split(",") if x.strip())
    bad = [n for n in names if n not in DELTA_NAMES]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown stat deltas {bad}; use a comma list of "
                                         f"{','.join(DELTA_NAMES)}, or 'all' / 'none'")
    return names


def parse_args(argv: list[str] | None = None) -> RewardConfig:
    d = RewardConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.train_reward", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)

    def flag(name: str, **kw) -> None:  # both spellings, as sample-factory and the original accept
        names = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        g.add_argument(*names, dest=name, **kw)

    g = p.add_argument_group("what to train on")

    flag("experiment", default=d.experiment,
         help="<annotator>_<skill>_<prompt>: names the label file, the dataset (by its skill) and the "
              "output directory (default: %(default)s)")
    flag("dataset_dir", default=d.dataset_dir, help="directory of <skill>.pkl datasets (default: %(default)s)")
    flag("preference_dir", default=d.preference_dir,
         help="directory of <experiment>.npy label files (default: %(default)s)")
    flag("dataset", default=None, help="dataset pickle to use instead of <dataset_dir>/<skill>.pkl")
    flag("labels", default=None, help="label .npy to use instead of <preference_dir>/<experiment>.npy")
    flag("train_dir", default=d.train_dir, help="outputs go to <train_dir>/<experiment>/ (default: %(default)s)")
    g = p.add_argument_group("optimisation")
    flag("batch_size", type=int, default=d.batch_size, help="pairs per Adam step (default: %(default)s)")
    flag("reward_lr", type=float, default=d.reward_lr, help="Adam learning rate (default: %(default)s)")
    flag("num_epochs", type=int, default=d.num_epochs,
         help="passes over the training pairs; raise it and rerun to train a finished model further "
              "(default: %(default)s)")
    flag("seed", type=int, default=d.seed,
         help="seeds the initial weights, the held-out split and the shuffling (default: %(default)s)")
    flag("val_fraction", type=float, default=d.val_fraction,
         help="fraction of labelled pairs held out for validation; identical comparisons stay on one "
              "side (default: %(default)s)")
    g = p.add_argument_group("model")
    flag("encoder_embedding_dim", type=int, default=d.encoder_embedding_dim,
         help="width of the stat-delta MLP (default: %(default)s)")
    flag("encoder_hidden_dim", type=int, default=d.encoder_hidden_dim,
         help="width of the layer before the reward head (default: %(default)s)")
    flag("keep_deltas", type=_deltas, default=",".join(d.keep_deltas),
         help=f"stat deltas the model sees, comma list of {','.join(DELTA_NAMES)}, or all/none; the others "
              "are zeroed. Default dlvl, as the original (which zeroes the rest both in training and in RL, "
              "where deltas are taken since the skill started) (default: %(default)s)")
    g = p.add_argument_group("execution (never changes the result)")
    flag("device", default=d.device, help="auto, cpu, gpu/cuda or cuda:N (default: %(default)s)")
    flag("num_threads", type=int, default=d.num_threads,
         help="torch CPU threads; 0 keeps torch's default (default: %(default)s)")
    flag("num_workers", type=int, default=d.num_workers,
         help="accepted for the original's command line and recorded in the config, otherwise unused: "
              "the pairs are in-memory tensors indexed per batch, so loader processes would only add "
              "copying; use --num_threads for CPU parallelism (default: %(default)s)")
    flag("save_every_sec", type=float, default=d.save_every_sec,
         help="also checkpoint inside an epoch this often, so kill -9 loses at most this much work; "
              "every epoch end is saved anyway (default: %(default)s)")
    flag("eval_batch_size", type=int, default=d.eval_batch_size,
         help="inputs per forward pass when evaluating (default: %(default)s)")
    flag("progress", type=_bool, default=d.progress, help="show tqdm progress bars, 0/1 (default: %(default)s)")
    flag("plot", type=_bool, default=d.plot,
         help="draw training_curves.png when training ends, 0/1 (default: %(default)s)")
    a = vars(p.parse_args(argv))
    if isinstance(a["keep_deltas"], str):
        a["keep_deltas"] = _deltas(a["keep_deltas"])
    return RewardConfig(**a)


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
