"""Collect captioned-pair datasets (og_dataset/<skill>.pkl) from real NetHack play or ttyrec files.

Examples:
  python -m scripts.collect_dataset --policy explore --num_pairs 1000 --out og_dataset --num_workers 2
  python -m scripts.collect_dataset --policy scripted_skills --meta_policy travel --out og_dataset
  python -m scripts.collect_dataset --from_ttyrec nle_data/*.ttyrec3.bz2 --num_pairs 500 --out my_dataset
"""

from __future__ import annotations

import argparse
import sys

from maestromotif.data.collect import CollectConfig, build_datasets, collect, pool_summary
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError, run_cli


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = CollectConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.collect_dataset", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", default=d.policy,
                   help="behaviour policy: 'random', 'explore' (map-reading heuristic), 'scripted_skills' "
                        "(hand-written skill controllers under a policy over skills) or the path of a "
                        "trained skill-policy checkpoint/experiment dir (default: %(default)s)")
    p.add_argument("--meta_policy", default=d.meta_policy,
                   help="policy over skills for --policy scripted_skills or a checkpoint: a task of "
                        "rl_baseline/meta_policies (e.g. exploration, the training one; levelupsell), an "
                        "execution.py path, or for scripted_skills 'travel' (exploration with shorter "
                        "discoverer runs, 2-5 levels deep) (default: scripted_skills: travel; a checkpoint: "
                        "the one recorded with it)")
    p.add_argument("--num_pairs", "--num-pairs", type=int, default=d.num_pairs,
                   help="preference pairs per skill dataset, i.e. 2x this many transitions each (default: %(default)s)")
    p.add_argument("--out", default=d.out, help="output directory for <skill>.pkl files (default: %(default)s)")
    p.add_argument("--num_workers", "--num-workers", type=int, default=d.num_workers,
                   help="parallel game processes (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of episodes and pairings (default: %(default)s)")
    p.add_argument("--max_episode_steps", type=int, default=d.max_episode_steps,
                   help="agent steps before an episode is cut (default: %(default)s)")
    p.add_argument("--keep_boring", type=float, default=d.keep_boring,
                   help="fraction kept of transitions with no message and no stat change (default: %(default)s)")
    p.add_argument("--pool_factor", type=float, default=d.pool_factor,
                   help="transitions collected = pool_factor x 2 x num_pairs; skills draw their pairs from "
                        "this shared pool (default: %(default)s)")
    p.add_argument("--sampling", default=d.sampling, choices=("informative", "uniform"),
                   help="how each skill draws its samples from the pool: 'informative' weights rare captions "
                        "and level/gold/XP changes up, 'uniform' is the original's (default: %(default)s)")
    p.add_argument("--skills", nargs="+", default=list(d.skills), metavar="SKILL",
                   help=f"skills to write a dataset for (default: all: {' '.join(SKILL_NAMES)})")
    p.add_argument("--from_ttyrec", "--from-ttyrec", nargs="+", metavar="PATH",
                   help="build the pool from ttyrec recordings (NLE savedir output or Dungeons-and-Data "
                        "games) instead of playing")
    p.add_argument("--top", type=int, default=15, help="most common messages shown in the summary (default: %(default)s)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    cfg = CollectConfig(out=a.out, num_pairs=a.num_pairs, skills=tuple(a.skills), policy=a.policy, meta_policy=a.meta_policy,
                        num_workers=a.num_workers, seed=a.seed, max_episode_steps=a.max_episode_steps,
                        keep_boring=a.keep_boring, pool_factor=a.pool_factor,
                        sampling=a.sampling)
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
