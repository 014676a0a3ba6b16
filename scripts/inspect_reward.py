"""Show what a trained reward model prefers.

Prints the top and bottom captions of its dataset by normalised reward (distinct message + kept stat
deltas, with how often each occurs), the threshold eps, and the score of any caption you give with
--message (repeatable) or type on stdin with --stdin, one per line: a message, optionally followed by
deltas in brackets in the order dlvl,gold,hp,xl,hunger, e.g.  You climb down the stairs. [1,0,0,0,0]

Examples:
  python -m scripts.inspect_reward --experiment gemma270m_descender_default
  python -m scripts.inspect_reward --experiment gemma270m_descender_default --top 0 \\
      --message "You climb down the stairs." --deltas 1,0,0,0,0
  echo "There is a staircase down here." | python -m scripts.inspect_reward \\
      --experiment gemma270m_descender_default --top 0 --stdin
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maestromotif.utils.errors import UserError, run_cli


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.inspect_reward", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experiment", help="reward model to inspect: <train_dir>/<experiment>/")
    p.add_argument("--train_dir", "--train-dir", default="train_dir/skill_rewards",
                   help="directory holding the experiment (default: %(default)s)")
    p.add_argument("--reward_dir", "--reward-dir", help="the reward directory itself (instead of "
                   "--train_dir/--experiment)")
    p.add_argument("--dataset", help="dataset to rank (default: the one the model was trained on, as "
                   "recorded in its config)")
    p.add_argument("--top", type=int, default=15,
                   help="captions shown at each end of the ranking; 0 skips the ranking (default: %(default)s)")
    p.add_argument("--csv", help="also write the full ranking (rank,r_norm,count,message,deltas) to this CSV")
    p.add_argument("--message", action="append", default=[],
                   help="a caption to score (repeatable); may end with [dlvl,gold,hp,xl,hunger]")
    p.add_argument("--deltas", default="0,0,0,0,0",
                   help="stat deltas for --message/--stdin captions without brackets (default: %(default)s)")
    p.add_argument("--stdin", action="store_true", help="read captions to score from stdin, one per line")
    p.add_argument("--eps_quantile", "--eps-quantile", type=float, default=0.5,
                   help="quantile whose value is the threshold eps shown (0: none) (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="torch device (default: %(default)s)")
    a = p.parse_args(argv)
    if not a.reward_dir and not a.experiment:
        p.error("give --experiment (with --train_dir) or --reward_dir")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from maestromotif.reward.inspection import parse_caption, parse_deltas, rank_dataset, ranking_csv
    from maestromotif.reward.runtime import SkillReward

    reward_dir = Path(a.reward_dir) if a.reward_dir else Path(a.train_dir) / a.experiment
    sr = SkillReward.load(reward_dir, eps_quantile=a.eps_quantile, device=a.device, allow_unfinished=True)
    try:
        default_deltas = parse_deltas(a.deltas)
    except ValueError as e:
        raise UserError(str(e)) from None
    cfg = sr.config
    state = "finished" if sr.finished else "NOT finished: numbers below are from an unfinished run"
    print(f"{reward_dir}: epoch {sr.epoch}/{cfg.num_epochs} ({state}); reward mean {sr.mean:.4f} std "
          f"{sr.std:.4f}; eps (q={a.eps_quantile}) = {sr.eps:.2f}; sees deltas: {','.join(cfg.keep_deltas) or 'none'}")

    if a.top > 0 or a.csv:
        dataset = Path(a.dataset) if a.dataset else cfg.dataset_path
        rows = rank_dataset(sr, dataset)
        if a.csv:
            ranking_csv(rows, a.csv)
            print(f"wrote the ranking of {len(rows)} distinct inputs to {a.csv}")
        if a.top > 0:
            n = min(a.top, len(rows))
            print(f"\n{len(rows)} distinct inputs in {dataset}. Top {n} (most preferred):")
            for row in rows[:n]:
                print(f"  {row.r_norm:+8.3f}  x{row.count:<6d} {row.text}")
            print(f"Bottom {n}:")
            for row in rows[-n:]:
                print(f"  {row.r_norm:+8.3f}  x{row.count:<6d} {row.text}")

    captions = [parse_caption(m, default_deltas) for m in a.message]
    if captions:
        print()
    for msg, d in captions:
        _score(sr, msg, d)
    if a.stdin:
        tty = sys.stdin.isatty()
        if tty:
            print("type a caption (message [dlvl,gold,hp,xl,hunger]); Ctrl-D to quit")
        for line in sys.stdin:
            if line.strip() or not tty:
                _score(sr, *parse_caption(line, default_deltas))
    return 0


def _score(sr, message: str, deltas) -> None:
    from maestromotif.reward.data import describe_input

    r = sr.raw(message, deltas)
    mark = ">= eps" if r >= sr.eps else "<  eps (no reward)"
    print(f"  {r:+8.3f}  {mark:18s} {describe_input(message, deltas * (sr.model.delta_mask.numpy()))}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
