"""CPU cost of one training-env step by component, as one rollout worker steps its envs.

    python bench/rl_env_profile.py [--steps 20000] [--envs 16] [--llm_reward 0.1] [--meta_policy FILE]
                                   [--reward_dir "['d0', ..., 'd4']"] [--reward_table DIR]

Steps ``--envs`` :class:`maestromotif.rl.env.SkillEnv` round-robin in this process (one torch thread,
as a sample-factory rollout worker) with random actions, after a warm-up of a quarter of the steps,
and charges the process CPU time (``time.process_time_ns``) of each component to it: the game
(``MaestroNLE.step``: NLE's C code + our prompt handling), episode resets, the options controller
(with the generated policy's calls and the attribute tracker inside it), the intrinsic reward
(``SkillRewardView.step``, reward-model forwards on misses included) and the observation build.
Prints microseconds per env step and the reward cache's misses. CPU time, not wall time: the figures
hold on a shared machine (within cache effects). Default policy: the shipped training policy over
skills; default rewards: the shipped reward models.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("USER", "agent")


def _charge(acc: Counter, cls: type, name: str, label: str) -> None:
    f = getattr(cls, name)

    def timed(*a, **k):
        t = time.process_time_ns()
        try:
            return f(*a, **k)
        finally:
            acc[label] += time.process_time_ns() - t

    setattr(cls, name, timed)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--envs", type=int, default=16)
    p.add_argument("--llm_reward", type=float, default=0.1)
    p.add_argument("--meta_policy", default=str(ROOT / "train_dir/skill_policy/default/exploration_policy.py"))
    p.add_argument("--reward_dir", default=None, help="five reward dirs (list literal); default: the shipped ones")
    p.add_argument("--reward_table", default="", help="shared reward table root (default: none, per-process cache)")
    args = p.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(1)
    from maestromotif.nethack.env import MaestroNLE
    from maestromotif.reward.runtime import SkillReward
    from maestromotif.rl import env as rl_env
    from maestromotif.rl.config import default_reward_dirs
    from maestromotif.rl.obs import ObsBuilder
    from maestromotif.skills.options import AttributeTracker, OptionsController

    dirs = default_reward_dirs()
    if args.reward_dir:
        from types import SimpleNamespace

        from maestromotif.rl.config import reward_dirs

        dirs = reward_dirs(SimpleNamespace(reward_dir=args.reward_dir))
    acc: Counter = Counter()
    parts = (
            (MaestroNLE, "step", "game step (MaestroNLE.step)"), (MaestroNLE, "reset", "game reset"),
            (OptionsController, "step", "options controller step"),
            (OptionsController, "_call", "  of which generated policy calls"),
            (AttributeTracker, "update", "  of which attribute tracker"),
            (ObsBuilder, "build", "observation build"), (rl_env.SkillRewardView, "step", "intrinsic reward"),
            (SkillReward, "raw", "  of which reward-model forwards (misses)"),
            (rl_env.SkillEnv, "step", "SkillEnv.step, all of it"))
    for cls, name, label in parts:
        _charge(acc, cls, name, label)
    misses = Counter()
    raw = SkillReward.raw

    def counted(self, *a, **k):
        misses["n"] += 1
        return raw(self, *a, **k)

    SkillReward.raw = counted
    cfg = rl_env.SkillEnvConfig(meta_policy=args.meta_policy, llm_reward=args.llm_reward, reward_dirs=tuple(dirs),
                                reward_table_dir=args.reward_table)
    envs = [rl_env.SkillEnv(cfg, env_index=i) for i in range(args.envs)]
    for i, e in enumerate(envs):
        e.reset(seed=i)
    rng = np.random.default_rng(0)
    warm = args.steps // 4
    for k in range(args.steps):
        if k == warm:
            acc.clear()
            misses.clear()
            t0 = time.process_time_ns()
        e = envs[k % args.envs]
        _, _, term, trunc, _ = e.step(int(rng.integers(0, e.action_space.n)))
        if term or trunc:
            e.reset()
    n = args.steps - warm
    total = time.process_time_ns() - t0
    print(f"{n} env steps measured ({args.envs} envs, random actions, llm_reward {args.llm_reward}); "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"  {'whole loop (env steps + resets + action sampling)':52s} {total / n / 1e3:7.1f} us/step")
    for label in [part[2] for part in parts[-1:] + parts[:-1]]:
        print(f"  {label:52s} {acc[label] / n / 1e3:7.1f} us/step")
    if args.llm_reward:
        print(f"  reward cache misses: {misses['n']} ({100 * misses['n'] / n:.1f} % of steps)")


if __name__ == "__main__":
    main()
