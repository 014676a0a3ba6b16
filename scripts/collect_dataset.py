"""Collect captioned-pair datasets (og_dataset/<skill>.pkl) from real NetHack play or ttyrec files.

Examples:
  python -m scripts.collect_dataset --policy explore --num_pairs 1000 --out og_dataset --num_workers 2
  python -m scripts.collect_dataset --policy scripted_skills --meta_policy travel --out og_dataset
  python -m scripts.collect_dataset --from_ttyrec nle_data/*.ttyrec3.bz2 --num_pairs 500 --out my_dataset
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from maestromotif.data.collect import SAMPLING, CollectConfig, build_datasets, collect, pool_summary
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.cli import arg, parse, ws_arg
from maestromotif.utils.errors import UserError, run_cli

_D = CollectConfig()


@dataclass
class CollectArgs:
    policy: str = arg(_D.policy, "behaviour policy: 'random', 'explore' (map-reading heuristic), 'scripted_skills' "
                                 "(hand-written skill controllers under a policy over skills, docs/scripted_skills.md) "
                                 "or the path of a trained skill-policy checkpoint/experiment dir")
    meta_policy: str = arg(_D.meta_policy, "policy over skills for --policy scripted_skills or a checkpoint: a task of "
                                           "rl_baseline/meta_policies (e.g. exploration, the training one), an "
                                           "execution.py path, or for scripted_skills 'travel' (exploration with "
                                           "50-step discoverer runs, 2-5 levels deep); empty: scripted_skills uses "
                                           "travel, a checkpoint the one recorded with it; several, comma-separated, take turns "
                                           "by episode (e.g. travel,buc: buc's policy walks to altars)")
    num_pairs: int = arg(_D.num_pairs, "preference pairs per skill dataset, i.e. 2x this many transitions each")
    out: str = ws_arg("og_dataset", "output directory for <skill>.pkl files (and <skill>.npz, the same samples "
                                    "without pickle)", aliases=("dataset_dir",))
    num_workers: int = arg(_D.num_workers, "parallel game processes (>= 1)")
    seed: int = arg(_D.seed, "seed of episodes and pairings")
    max_episode_steps: int = arg(_D.max_episode_steps, "agent steps before an episode is cut")
    keep_boring: float = arg(_D.keep_boring, "fraction kept of transitions with no message and no stat change")
    pool_factor: float = arg(_D.pool_factor, "transitions collected = pool_factor x 2 x num_pairs; skills draw their "
                                             "pairs from this shared pool")
    sampling: str = arg(_D.sampling, "how each skill draws its samples from the pool: 'informative' weights rare "
                                     "captions and level/gold/XP changes up, 'uniform' is the original's",
                        choices=tuple(SAMPLING))
    skills: tuple[str, ...] = arg(tuple(_D.skills), f"skills to write a dataset for (all: {' '.join(SKILL_NAMES)})",
                                  metavar="SKILL")
    from_ttyrec: list[str] = arg([], "build the pool from ttyrec recordings (NLE savedir output or "
                                     "Dungeons-and-Data games) instead of playing", metavar="PATH")
    top: int = arg(15, "most common messages shown in the summary")


def parse_args(argv: list[str] | None = None) -> CollectArgs:
    return parse(CollectArgs, argv, prog="python -m scripts.collect_dataset", description=__doc__)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    cfg = CollectConfig(out=a.out, num_pairs=a.num_pairs, skills=a.skills, policy=a.policy, meta_policy=a.meta_policy,
                        num_workers=a.num_workers, seed=a.seed, max_episode_steps=a.max_episode_steps,
                        keep_boring=a.keep_boring, pool_factor=a.pool_factor,
                        sampling=a.sampling,
                        checkpoint_loader="maestromotif.rl.collect_policy:CheckpointPolicy")
    if a.from_ttyrec:
        from maestromotif.data.ttyrec import samples_from_ttyrec

        pool, counts = [], {}
        for path in a.from_ttyrec:
            samples, c = samples_from_ttyrec(path)
            pool.extend(samples)
            counts[path] = c
        if not pool:
            raise UserError("the ttyrecs gave no transitions", fix="check the recordings")
        res = build_datasets(pool, cfg, extra_meta={"ttyrecs": counts})
    else:
        res = collect(cfg)
        pool = None
    print(f"\nwrote {len(res.paths)} datasets to {cfg.out}/ from a pool of {res.pool_size} transitions"
          + (f" in {res.seconds:.0f} s ({res.pool_size / max(res.seconds, 1e-9):.1f} transitions/s)" if res.seconds else ""))
    for name, s in res.summaries.items():
        print(f"  {name:11s} pairs={s['pairs']:6d} unique captions={s['unique_captions']:6d} "
              f"identical-caption pairs={s['identical_caption_pairs']}")
    if pool is None:
        from maestromotif.data.dataset import load_dataset

        pool = load_dataset(res.paths[cfg.skills[0]]).samples
    from maestromotif.data.dataset import skill_events

    ev, n = (res.events, res.pool_size) if res.events else (skill_events(pool), len(pool))
    print(f"skill events in the pool of {n} transitions (per 1,000): "
          + ", ".join(f"{k} {v} ({1000 * v / max(n, 1):.1f})" for k, v in ev.items()))
    summ = pool_summary(pool, a.top)
    print(f"most common messages ({summ['unique_messages']} distinct):")
    for msg, n in summ["most_common_messages"]:
        print(f"  {n:6d}  {msg!r}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
