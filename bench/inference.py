"""CPU cost of the skill policy's forward pass per env step, by batch size: ``python -m bench.inference``.

sample-factory's inference worker runs one forward per request of ``num_envs_per_worker /
worker_num_splits`` envs (8 with the shipped command: 16 envs, 2 splits), unless several requests
wait at once. This times ``SkillActor.act`` (the same model, observation normalisation and action
sampling) on batches of 1..64 copies of a real observation with one torch thread, as the worker runs,
and prints the CPU microseconds per env step and the ratio to the shipped batch size. A forward of
this small network is mostly fixed per-call cost, so the ratios say how much inference CPU a larger
request (``--worker_num_splits 1``, or more envs per worker) would save; the end-to-end effect on
training is ``python bench/rl.py --variant "..."``. ``--mkldnn`` also times each batch with oneDNN off
(``torch.backends.mkldnn.enabled = False``), whose convolutions have a lower per-call cost.

Rounds interleave the batch sizes (the machine may be shared); medians over rounds, CPU time of this
process (``time.process_time``), so other load inflates the figures less than wall clock would.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from maestromotif.utils.cli import arg, parse, ws_arg


@dataclass
class BenchArgs:
    policy: str = ws_arg("skill_policy/default", "experiment directory or checkpoint of the skill policy")
    batches: str = arg("1,8,16,32,64", "comma-separated batch sizes (envs per forward)")
    reference: int = arg(8, "batch size the ratios are taken against (the shipped command's split)")
    calls: int = arg(20, "forwards per timing")
    rounds: int = arg(7, "interleaved rounds (medians are printed)")
    mkldnn: bool = arg(False, "also time every batch with oneDNN convolutions off")


def main(argv=None) -> dict:
    import numpy as np
    import torch

    from maestromotif.nethack.env import make_env
    from maestromotif.rl.actor import load_actor

    a = parse(BenchArgs, argv, prog="python -m bench.inference", description=__doc__)
    torch.set_num_threads(1)  # as sample-factory's workers
    actor = load_actor(a.policy)
    env = make_env()
    obs, _ = env.reset(seed=0)
    one = actor.obs_batch(obs, 0)
    env.close()
    sizes = [int(b) for b in a.batches.split(",")]
    if a.reference not in sizes:
        sizes.append(a.reference)
    modes = [True, False] if a.mkldnn else [True]
    times: dict[tuple[bool, int], list[float]] = {(m, n): [] for m in modes for n in sizes}
    inputs = {n: ({k: np.repeat(np.asarray(v), n, 0) for k, v in one.items()}, actor.initial_state(n))
              for n in sizes}
    for _ in range(a.rounds):
        for m in modes:
            torch.backends.mkldnn.enabled = m
            for n in sizes:
                batch, state = inputs[n]
                actor.act(batch, state)  # warm-up (oneDNN builds its primitives per shape)
                t = time.process_time()
                for _ in range(a.calls):
                    actor.act(batch, state)
                times[(m, n)].append((time.process_time() - t) / a.calls)
    torch.backends.mkldnn.enabled = True
    ref = statistics.median(times[(True, a.reference)]) / a.reference
    print(f"policy {a.policy} ({actor.env_steps:,} env steps trained), load {os.getloadavg()[0]:.1f}; "
          f"{a.rounds} rounds x {a.calls} forwards, medians, CPU time")
    print("| batch | oneDNN | ms per forward | us per env step | per env step / batch "
          f"{a.reference} (oneDNN on) |")
    print("|---:|---|---:|---:|---:|")
    out = {}
    for n in sizes:
        for m in modes:
            per = statistics.median(times[(m, n)])
            out[(m, n)] = per
            print(f"| {n} | {'on' if m else 'off'} | {1e3 * per:.2f} | {1e6 * per / n:.0f} | {per / n / ref:.2f} |")
    return out


if __name__ == "__main__":
    main()
