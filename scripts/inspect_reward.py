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

import sys
from dataclasses import dataclass
from pathlib import Path

from maestromotif.utils.cli import arg, parse, ws_arg
from maestromotif.utils.errors import UserError, run_cli


@dataclass
class InspectArgs:
    experiment: str | None = arg(None, "reward model to inspect: <train_dir>/<experiment>/")
    train_dir: str = ws_arg("skill_rewards", "directory holding the experiment")
    reward_dir: str | None = arg(None, "the reward directory itself (instead of --train_dir/--experiment)")
    dataset: str | None = arg(None, "dataset to rank (default: the one the model was trained on, as recorded in "
                                    "its config)")
    top: int = arg(15, "captions shown at each end of the ranking; 0 skips the ranking")
    csv: str | None = arg(None, "also write the full ranking (rank,r_norm,count,message,deltas) to this CSV")
    message: list[str] = arg([], "a caption to score (repeatable: --message A --message B, or --message A B); "
                                 "may end with [dlvl,gold,hp,xl,hunger] (five integers)")
    deltas: str = arg("0,0,0,0,0", "stat deltas for --message/--stdin captions without brackets")
    stdin: bool = arg(False, "read captions to score from stdin, one per line")
    eps_quantile: float = arg(0.5, "quantile whose value is the threshold eps shown (0: none)")
    device: str = arg("cpu", "torch device")


def parse_args(argv: list[str] | None = None) -> InspectArgs:
    a = parse(InspectArgs, argv, prog="python -m scripts.inspect_reward", description=__doc__)
    if not a.reward_dir and not a.experiment:
        raise UserError("no reward model named", fix="give --experiment (with --train_dir) or --reward_dir")
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

    try:
        captions = [parse_caption(m, default_deltas) for m in a.message]
    except ValueError as e:
        raise UserError(str(e), fix="write --message \"text [dlvl,gold,hp,xl,hunger]\" or use --deltas") from None
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
                try:
                    _score(sr, *parse_caption(line, default_deltas))
                except ValueError as e:  # one bad line is reported, the others still scored
                    print(f"  error: {e}", file=sys.stderr)
    return 0


def _score(sr, message: str, deltas) -> None:
    from maestromotif.reward.data import describe_input

    r = sr.raw(message, deltas)
    mark = ">= eps" if r >= sr.eps else "<  eps (no reward)"
    print(f"  {r:+8.3f}  {mark:18s} {describe_input(message, deltas * (sr.model.delta_mask.numpy()))}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
