"""Reward-model speed on this machine, measured in ONE run (medians; the machine may be shared).

1. Training: seconds per epoch per 100k pairs (batch 1000, the original's setting), running the
   network once per distinct input of a batch (what the trainer does) vs once per sample (naive),
   and the held-out/normalisation pass per 100k distinct inputs.
2. Runtime: SkillReward.raw and SkillRewardSet.step calls/s with the (message, deltas) cache hit vs
   missed, and the time to create a SkillRewardSet of five skills (what each RL worker does).

    python -m bench.reward                       # og_dataset/descender.pkl if present, else synthetic
    python -m bench.reward --dataset og_dataset/merchant.pkl --num_threads 2

Labels do not change the cost, so random labels are used; the dataset only sets how often messages
repeat inside a batch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def _synthetic_messages(n: int, distinct: int, seed: int = 0) -> np.ndarray:
    from maestromotif.data.captions import message_array

    rng = np.random.default_rng(seed)
    words = "You see here a dagger staircase down up gnome lord hits kills feel hungry climb stairs altar".split()
    pool = [""] + [" ".join(rng.choice(words, rng.integers(3, 12))) + "." for _ in range(distinct - 1)]
    # NetHack-like: about half the transitions show no message
    idx = np.where(rng.random(n) < 0.5, 0, rng.integers(1, distinct, n))
    return np.stack([message_array(pool[i]) for i in idx])


def bench_training(args) -> None:
    import torch

    from maestromotif.reward.data import distinct_inputs
    from maestromotif.reward.model import RewardModel, delta_mask
    from maestromotif.reward.train import bt_loss, predict

    ds_path = Path(args.dataset)
    if ds_path.exists():
        from maestromotif.data.dataset import load_dataset

        ds = load_dataset(ds_path)
        msgs, deltas = ds.messages, ds.deltas * delta_mask(("dlvl",))[None]
        source = f"{ds_path} ({ds.num_pairs} pairs)"
    else:
        n = 2 * args.batch_size * args.batches
        msgs, deltas = _synthetic_messages(n, 2000), np.zeros((n, 5), np.float32)
        source = "synthetic messages (half empty, 2000 distinct)"
    # enough pairs for the timed batches: tile the dataset if it is small
    need = 2 * args.batch_size * args.batches
    reps = -(-need // len(msgs))
    msgs, deltas = np.tile(msgs, (reps, 1))[:need], np.tile(deltas, (reps, 1))[:need]
    first, inverse, _ = distinct_inputs(msgs, deltas)
    um, ud = torch.from_numpy(msgs[first]), torch.from_numpy(deltas[first])
    pairs = torch.from_numpy(inverse.reshape(-1, 2))
    all_m, all_d = torch.from_numpy(msgs), torch.from_numpy(deltas)
    targets = torch.from_numpy(np.random.default_rng(0).integers(0, 3, len(pairs)) / 2).float()
    torch.manual_seed(0)
    model = RewardModel()
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    b = args.batch_size
    batches = [slice(i * b, (i + 1) * b) for i in range(args.batches)]

    def step_distinct(s):
        uniq, inv = torch.unique(pairs[s], return_inverse=True)
        r = model(um[uniq], ud[uniq])[inv]
        loss = bt_loss(r, targets[s])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return len(uniq)

    def step_naive(s):
        rows = torch.arange(2 * s.start, 2 * s.stop)
        r = model(all_m[rows], all_d[rows]).reshape(-1, 2)
        loss = bt_loss(r, targets[s])
        opt.zero_grad()
        loss.backward()
        opt.step()

    step_distinct(batches[0])  # warm-up
    n_uniq = [step_distinct(s) for s in batches]
    t_distinct = statistics.median(_median_time(lambda s=s: step_distinct(s), 1) for s in batches)
    t_naive = statistics.median(_median_time(lambda s=s: step_naive(s), 1) for s in batches[: max(2, args.batches // 2)])
    per_epoch = lambda t: t * 100_000 / b  # noqa: E731  seconds per 100k pairs
    u = min(len(um), 4096)
    t_eval = _median_time(lambda: predict(model, um[:u].numpy(), ud[:u].numpy(), 1024), 2) / u
    print(f"training on {source}, batch {b}, torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  distinct inputs per batch of {b} pairs: median {statistics.median(n_uniq):.0f} of {2 * b} samples")
    print(f"  one step: {t_distinct:.2f} s distinct-input batching vs {t_naive:.2f} s naive "
          f"-> {t_naive / t_distinct:.1f}x faster")
    print(f"  seconds per epoch per 100k pairs: {per_epoch(t_distinct):.0f} s (naive: {per_epoch(t_naive):.0f} s)")
    print(f"  evaluation/normalisation pass: {t_eval * 100_000:.0f} s per 100k distinct inputs")


def bench_runtime(args) -> None:
    import torch

    from maestromotif.reward.runtime import SkillReward, SkillRewardSet
    from maestromotif.reward.synthetic import make_test_reward_dirs

    with tempfile.TemporaryDirectory() as tmp:
        dirs = make_test_reward_dirs(tmp, num_pairs=24, num_epochs=1)  # real models, default size
        t_load = _median_time(lambda: SkillRewardSet.load(dirs), 3)
        sr = SkillReward.load(dirs[1])
        rs = SkillRewardSet.load(dirs)
        msg, d = "You see here a dagger.", np.array([0, 0, 0, 0, 0], np.float32)
        n_hit, n_miss = args.calls, max(50, args.calls // 1000)

        def raw_hits():
            for _ in range(n_hit):
                sr.raw(msg, d)

        def raw_misses():
            for _ in range(n_miss):
                sr.cache_clear()
                sr.raw(msg, d)

        def step_hits():
            for _ in range(n_hit):
                rs.step(msg, d, 1)

        def step_misses():
            for _ in range(n_miss):
                rs._cache.clear()
                rs.step(msg, d, 1)

        raw_hits(), step_hits()  # warm-up (fills the caches)
        r = {name: calls / _median_time(fn, args.repeats) for name, fn, calls in
             (("raw hit", raw_hits, n_hit), ("raw miss", raw_misses, n_miss),
              ("step hit", step_hits, n_hit), ("step miss", step_misses, n_miss))}
    print(f"runtime reward (CPU, torch threads {torch.get_num_threads()}):")
    print(f"  SkillReward.raw: {r['raw hit']:,.0f} calls/s cached vs {r['raw miss']:,.0f} uncached "
          f"-> {r['raw hit'] / r['raw miss']:,.0f}x")
    print(f"  SkillRewardSet.step (5 skills): {r['step hit']:,.0f} calls/s cached vs {r['step miss']:,.0f} "
          f"uncached -> {r['step hit'] / r['step miss']:,.0f}x")
    print(f"  SkillRewardSet.load of 5 reward dirs: {t_load * 1000:.0f} ms")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="og_dataset/descender.pkl",
                   help="dataset whose message repetition to use; a missing path (e.g. none) uses synthetic "
                        "messages (default: %(default)s)")
    p.add_argument("--batch_size", type=int, default=1000, help="pairs per step (default: %(default)s)")
    p.add_argument("--batches", type=int, default=6, help="timed training steps (default: %(default)s)")
    p.add_argument("--calls", type=int, default=100_000, help="cached calls timed (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=5, help="repeats per runtime timing (default: %(default)s)")
    p.add_argument("--num_threads", type=int, default=1,
                   help="torch threads (1 = what an RL worker uses; more threads only help on an idle "
                        "machine) (default: %(default)s)")
    p.add_argument("--skip_training", action="store_true", help="only the runtime part")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.num_threads)
    bench_runtime(args)
    if not args.skip_training:
        bench_training(args)


if __name__ == "__main__":
    main()
