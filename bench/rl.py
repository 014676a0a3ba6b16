"""Speed of skill training, as ratios measured in one run (medians; the machine may be shared).

    python bench/rl.py [--seconds 150] [--workers 2] [--envs 16] [--reward_dir "['d0', ..., 'd4']"]

1. raw NLE: ``NetHackScore-v0`` with random actions in ``--workers`` processes at once (the cores
   training uses) -> total steps/s; measured at the start, middle and end, median (shared machine);
2. APPO training (``scripts.main``, real sample-factory, ``--llm_reward 0``) with the fast encoder and
   with the CDGPT5-style encoder, and with the fast encoder plus the five intrinsic rewards
   (``--llm_reward 0.1``), ``--seconds`` each -> env steps/s from the first training batch (workers
   started) to the end of the run;
3. intrinsic rewards on vs off at env level (after a warm-up that fills the reward cache): 16
   training envs (:class:`maestromotif.rl.env.SkillEnv`, like one rollout worker) stepped with the
   five reward models and without, in alternating blocks in one process -> median steps/s.
   (The reward is the only difference between the two training configurations, so the env-level
   ratio isolates it from the noise of whole training runs.) Reward dirs: ``--reward_dir``, else the
   shipped ``train_dir/skill_rewards/gemma270m_*_default``, else small real models trained on the
   spot with :func:`maestromotif.reward.make_test_reward_dirs`.

Prints the ratios: training / raw NLE (goal >= 0.25), rewards on / off (goal >= 0.95; training runs
and env level), fast / CDGPT5.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BENCH_POLICY = textwrap.dedent('''
    import random

    class NetHackPlayer:
        def __init__(self, max_depth, branch_depth):
            self.max_depth, self.branch_depth = max_depth, branch_depth
        def set_initial_values(self):
            self.skill = "discoverer"
        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False
        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            return skill_time >= 50 or current_depth != previous_depth
        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return random.choice(["discoverer", "descender", "ascender", "worshipper", "merchant"])
''')


def _raw_nle_worker(seconds: float, q) -> None:
    import gymnasium as gym
    import nle  # noqa: F401  (registers the envs)

    env = gym.make("NetHackScore-v0")
    env.reset(seed=0)
    n, t0 = 0, time.time()
    while time.time() - t0 < seconds:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        n += 1
        if term or trunc:
            env.reset()
    q.put(n / (time.time() - t0))


def raw_nle(workers: int, seconds: float) -> float:
    q = mp.Queue()
    procs = [mp.Process(target=_raw_nle_worker, args=(seconds, q)) for _ in range(workers)]
    for p in procs:
        p.start()
    rates = [q.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(rates)


def train_fps(encoder: str, seconds: float, workers: int, envs: int, policy: Path, tmp: Path,
              extra: list[str] | None = None) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "scripts.main", "--encoder", encoder, "--llm_reward", "0", "--meta_policy",
           str(policy), "--train_dir", str(tmp / "train"), "--experiment", f"bench_{encoder}",
           "--num_workers", str(workers), "--num_envs_per_worker", str(envs), "--obs_scale", "255.0",
           "--train_for_seconds", str(int(seconds)), "--train_for_env_steps", "1_000_000_000",
           "--restart_behavior", "overwrite", "--save_every_sec", "100000", *(extra or [])]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 600)
    log = out.stdout + out.stderr
    if out.returncode != 0:
        raise SystemExit(f"training run failed:\n{log[-3000:]}")
    # sample-factory reports "Total num frames: N" every 5 s; measure from the first report after the
    # first training batch (workers started, envs decorrelated) to the last one.
    pts = [(datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f").timestamp(), int(n)) for t, n in
           re.findall(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+)\]\[\d+\] Fps is .*?Total num frames: (\d+)", log)]
    steps = int(re.findall(r"Collected \{0: (\d+)\}", log)[-1])
    warm = [p for p in pts if p[1] > 0]
    if len(warm) < 2 or warm[-1][0] <= warm[0][0]:
        return 0.0, steps
    return (warm[-1][1] - warm[0][1]) / (warm[-1][0] - warm[0][0]), steps


def reward_dirs(arg: str | None, tmp: Path) -> list[str]:
    from maestromotif.rl.config import DEFAULT_REWARD_DIRS

    if arg:
        from types import SimpleNamespace

        from maestromotif.rl.config import reward_dirs as parse

        return parse(SimpleNamespace(reward_dir=arg))
    if all((ROOT / d).is_dir() for d in DEFAULT_REWARD_DIRS):
        return [str(ROOT / d) for d in DEFAULT_REWARD_DIRS]
    from maestromotif.reward import make_test_reward_dirs

    print("(no shipped reward models: training small real ones for the benchmark)")
    return [str(d) for d in make_test_reward_dirs(tmp / "rewards")]


def rewards_on_off(dirs: list[str], policy: Path, envs: int = 16, blocks: int = 16, steps: int = 3000,
                   warmup: int = 4) -> tuple[float, float]:
    """Like one rollout worker: ``envs`` environments per mode stepped round-robin (sharing the
    process's reward models and cache), modes alternating in blocks of ``steps`` steps. The first
    ``warmup`` blocks per mode are not counted: they fill the reward cache with the common messages,
    which a training run does in its first minutes; after that only novel messages cost a model call."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from maestromotif.rl.env import SkillEnv, SkillEnvConfig

    cfg_on = SkillEnvConfig(meta_policy=str(policy), llm_reward=0.1, reward_dirs=tuple(dirs),
                            eps_threshold_quantile=0.5, max_episode_steps=2000)
    cfg_off = SkillEnvConfig(meta_policy=str(policy), llm_reward=0.0, max_episode_steps=2000)
    pools = {"on": [SkillEnv(cfg_on, env_index=i) for i in range(envs)],
             "off": [SkillEnv(cfg_off, env_index=i) for i in range(envs)]}
    for pool in pools.values():
        for i, env in enumerate(pool):
            env.reset(seed=i)
    rates: dict[str, list[float]] = {"on": [], "off": []}
    moves = [1, 2, 3, 4, 5, 6, 7, 8, 22]  # moves and search: long episodes, many distinct messages
    for b in range(blocks):
        for name in (("on", "off") if b % 2 == 0 else ("off", "on")):
            rng = np.random.default_rng(b)
            t0 = time.perf_counter()
            for k in range(steps):
                env = pools[name][k % envs]
                _, _, term, trunc, _ = env.step(int(rng.choice(moves)))
                if term or trunc:
                    env.reset()
            if b >= warmup:
                rates[name].append(steps / (time.perf_counter() - t0))
    return statistics.median(rates["on"]), statistics.median(rates["off"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=150, help="length of each training run (startup included)")
    p.add_argument("--workers", type=int, default=2, help="env worker processes (and raw NLE processes)")
    p.add_argument("--envs", type=int, default=16, help="environments per worker")
    p.add_argument("--reward_dir", default=None, help="five reward dirs (list literal); default: shipped or synthetic")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        policy = tmp / "execution.py"
        policy.write_text(BENCH_POLICY)
        try:
            dirs = reward_dirs(args.reward_dir, tmp)
        except ImportError as e:
            print(f"intrinsic rewards: n/a ({e})")
            dirs = None
        raws = [raw_nle(args.workers, 15)]
        print(f"raw NLE, {args.workers} processes: {raws[-1]:.0f} steps/s")
        fast, n_fast = train_fps("fast", args.seconds, args.workers, args.envs, policy, tmp)
        print(f"APPO training, fast encoder: {fast:.0f} env steps/s ({n_fast} steps)")
        cdg, n_cdg = train_fps("cdgpt5", args.seconds, args.workers, args.envs, policy, tmp)
        print(f"APPO training, cdgpt5 encoder: {cdg:.0f} env steps/s ({n_cdg} steps)")
        raws.append(raw_nle(args.workers, 15))
        print(f"raw NLE, {args.workers} processes: {raws[-1]:.0f} steps/s")
        on = off = train_on = float("nan")
        if dirs is not None:
            train_on, n_on = train_fps("fast", args.seconds, args.workers, args.envs, policy, tmp,
                                       ["--llm_reward", "0.1", "--reward_dir", str(dirs),
                                        "--eps_threshold_quantile", "0.5"])
            print(f"APPO training, fast encoder, five intrinsic rewards: {train_on:.0f} env steps/s ({n_on} steps)")
            on, off = rewards_on_off(dirs, policy)
            print(f"16 training envs with the five intrinsic rewards: {on:.0f} steps/s, without: {off:.0f} steps/s")
        raws.append(raw_nle(args.workers, 15))
        print(f"raw NLE, {args.workers} processes: {raws[-1]:.0f} steps/s")
    raw = statistics.median(raws)
    print("\nratios (one run; raw NLE = median of 3 measurements spread over the run):")
    print(f"  training (fast) / raw NLE on {args.workers} cores: {fast / raw:.3f}   (goal >= 0.25)")
    print(f"  training (cdgpt5) / raw NLE:                {cdg / raw:.3f}")
    print(f"  intrinsic rewards on / off, training runs:  {train_on / fast:.3f}   (goal >= 0.95)")
    print(f"  intrinsic rewards on / off, env level:      {on / off:.3f}")
    print(f"  fast / cdgpt5 encoder (training):           {fast / max(cdg, 1e-9):.2f}x")


if __name__ == "__main__":
    main()
