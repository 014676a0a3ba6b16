"""Wrapper overhead and collection speed, as ratios measured in one run (one core).

    python -m bench.nethack [--steps 3000] [--rounds 5]

1. Raw NLE (``nle.env.base.NLE`` with the same options file and the same 28 keys, NLE's own prompt
   handling) vs our ``MaestroNLE`` (macro-actions, prompt policy, message preservation): steps/s of
   uniform-random play, rounds interleaved, medians. Goal: overhead under 20 %.
2. Collection: transitions/s and pairs/s of ``scripts.collect_dataset``'s worker loop with the
   ``random`` and ``explore`` policies (single process).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch


def _steps_per_s(env, n: int, seed: int, actions: np.ndarray) -> float:
    rng = np.random.default_rng(seed)
    choice = actions[rng.integers(len(actions), size=n)]
    env.reset(seed=seed) if hasattr(env, "_reset_depth") else (env.seed(seed, seed, False), env.reset())
    t, done_steps = time.perf_counter(), 0
    while done_steps < n:
        _, _, term, trunc, _ = env.step(int(choice[done_steps]))
        done_steps += 1
        if term or trunc:
            env.reset()
    return n / (time.perf_counter() - t)


def bench_wrapper(steps: int, rounds: int) -> dict[str, float]:
    from nle.env.base import NLE

    from maestromotif.nethack.actions import ACTION_KEYS
    from maestromotif.nethack.env import make_env
    from maestromotif.nethack.game_options import CHARACTER, nle_options

    raw = NLE(actions=ACTION_KEYS, options=nle_options(CHARACTER), max_episode_steps=100_000,
              observation_keys=("glyphs", "chars", "colors", "blstats", "message", "inv_glyphs", "inv_strs",
                                "inv_letters", "inv_oclasses", "tty_chars", "tty_colors", "tty_cursor"))
    ours = make_env(max_episode_steps=100_000)
    out = {}
    # "all": uniform over the 28 actions (ours also does the macro-actions' extra game work, e.g. wait =
    # 25 game turns); "moves": the 16 movement actions, where both do the same game work, so the
    # ratio is the wrapper's own overhead.
    for subset, acts in (("all", np.arange(len(ACTION_KEYS))), ("moves", np.arange(1, 17))):
        r_raw, r_ours = [], []
        for k in range(rounds):
            r_raw.append(_steps_per_s(raw, steps, k, acts))
            r_ours.append(_steps_per_s(ours, steps, k, acts))
        m_raw, m_ours = statistics.median(r_raw), statistics.median(r_ours)
        out[subset] = {"raw_nle_steps_per_s": m_raw, "maestro_steps_per_s": m_ours, "ratio": m_ours / m_raw}
    raw.close()
    ours.close()
    return out


def bench_collection(seconds: float) -> dict[str, float]:
    from maestromotif.data.collect import is_boring
    from maestromotif.data.policies import make_policy
    from maestromotif.nethack.env import make_env
    from maestromotif.nethack.obs import caption_stats, message_text

    out = {}
    for name in ("random", "explore"):
        env, pol = make_env(max_episode_steps=2000), make_policy(name, 0)
        kept = steps = 0
        t0 = time.perf_counter()
        seed = 0
        while time.perf_counter() - t0 < seconds:
            obs, info = env.reset(seed=seed)
            pol.reset(obs, info)
            prev = (message_text(obs["message"]), caption_stats(obs["blstats"]))
            done = False
            while not done and time.perf_counter() - t0 < seconds:
                obs, _, term, trunc, info = env.step(pol.act(obs, info))
                done = term or trunc
                cur = (message_text(obs["message"]), caption_stats(obs["blstats"]))
                kept += not is_boring({"msg_strs": (prev[0], cur[0]), "stats_list": [prev[1], cur[1]]})
                steps += 1
                prev = cur
            seed += 1
        dt = time.perf_counter() - t0
        env.close()
        out[f"{name}_steps_per_s"] = steps / dt
        out[f"{name}_informative_transitions_per_s"] = kept / dt
        out[f"{name}_pairs_per_s"] = kept / dt / 2
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=3000, help="random steps per round per env")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median taken)")
    p.add_argument("--collect_seconds", type=float, default=20.0, help="seconds of collection per policy")
    a = p.parse_args()
    torch.set_num_threads(1)
    for subset, w in bench_wrapper(a.steps, a.rounds).items():
        print(f"[{subset:5s} actions] raw NLE {w['raw_nle_steps_per_s']:6.0f} steps/s | MaestroNLE "
              f"{w['maestro_steps_per_s']:6.0f} steps/s | ratio {w['ratio']:.3f} "
              f"(overhead {100 * (1 - w['ratio']):.1f} %, goal < 20 %)  [median of {a.rounds}]")
    c = bench_collection(a.collect_seconds)
    for name in ("random", "explore"):
        print(f"collection [{name:7s}] {c[f'{name}_steps_per_s']:7.0f} steps/s -> "
              f"{c[f'{name}_informative_transitions_per_s']:6.1f} informative transitions/s = "
              f"{c[f'{name}_pairs_per_s']:6.1f} pairs/s per process")


if __name__ == "__main__":
    main()
