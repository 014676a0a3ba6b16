"""Speed of skill training as ratios measured in one run (medians; the machine may be shared).

    python bench/rl.py [--seconds 90] [--rounds 2] [--workers 2] [--envs 16] [--cdgpt5] \
        [--reward_dir "['d0', ..., 'd4']"] [--extra "--flag value ..."]

Each round runs, interleaved so that the load of a shared machine hits both sides alike:

1. raw NLE: ``NetHackScore-v0`` with random actions in ``--workers`` processes at once (the cores
   training uses): steps/s, and steps per CPU-second of those processes;
2. APPO training (``scripts.main`` with its defaults, real sample-factory, ``--seconds`` per run) with
   the five intrinsic rewards off (``--llm_reward 0``) and on (``--llm_reward 0.1``): env steps/s from
   the first report with frames (workers started) to the last, and the CPU seconds every process of
   the run used in that window (psutil), per role (rollout workers, inference worker, learner, main);
3. raw NLE again.

Figures (medians over rounds; the load ``uptime`` reported beside each):

- training / raw NLE on the same cores, wall clock (goal >= 0.25) and CPU-normalised (env steps per
  CPU-second of all training processes / raw NLE steps per CPU-second): on a machine of its own the
  two agree; on a shared one the second is the one to trust (it does not depend on how many other
  processes compete for the cores, which favours the five-process training over the two raw ones);
- intrinsic rewards on / off (goal >= 0.95), both ways;
- the CPU cost of one env step per role (microseconds; see docs/performance.md for the profile);
- an ESTIMATE for a GPU node (``--num_workers 16 --device gpu``; no GPU machine was available): the
  learner's and the inference worker's model maths move to the GPU, the rollout workers' CPU cost per
  step stays as measured, the inference and learner processes keep their Python/queue part (from
  sample-factory's own timing tree: the share outside ``forward`` / ``train``).

``--cdgpt5`` adds one run with the pixel encoder (fast / CDGPT5 speed). Reward dirs: ``--reward_dir``,
else the shipped ``train_dir/skill_rewards/gemma270m_*_default``, else small real models trained on
the spot (:func:`maestromotif.reward.make_test_reward_dirs`). The shared reward table
(``maestromotif/reward/table.py``) lives in the temporary train dir: every "rewards on" run after the
first starts with what earlier runs scored, as a resumed or repeated training run does.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A policy over skills like the shipped training one, without its depth logic (no staircase needed).
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
ROLES = {"LearnerWorker_p0": "learner", "InferenceWorker_p0-w0": "inference"}


def load() -> float:
    return os.getloadavg()[0]


# ----------------------------------------------------------------------------------------- raw NLE
def _raw_nle_worker(seconds: float, q) -> None:
    import gymnasium as gym
    import nle  # noqa: F401  (registers the envs)

    env = gym.make("NetHackScore-v0")
    env.reset(seed=0)
    n, t0, c0 = 0, time.time(), time.process_time()
    while time.time() - t0 < seconds:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        n += 1
        if term or trunc:
            env.reset()
    q.put((n, time.time() - t0, time.process_time() - c0))


def raw_nle(workers: int, seconds: float) -> dict:
    q = mp.Queue()
    procs = [mp.Process(target=_raw_nle_worker, args=(seconds, q)) for _ in range(workers)]
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    for p in procs:
        p.join()
    return {"fps": sum(n / w for n, w, _ in res), "per_cpu_s": sum(n for n, _, _ in res) / sum(c for _, _, c in res),
            "load": load()}


# ----------------------------------------------------------------------------------------- training
def _cpu_by_pid(root) -> dict[int, float]:
    import psutil

    out = {}
    for p in [root] + root.children(recursive=True):
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


def _sf_timing(log: str, component: str, key: str) -> float | None:
    """A value from sample-factory's profile tree printed at the end (e.g. InferenceWorker's forward)."""
    m = re.search(re.escape(component) + r" profile tree view:\n(.*?)(?:\n\[|\Z)", log, re.S)
    if not m:
        return None
    v = re.search(r"\b" + re.escape(key) + r": ([0-9.]+)", m.group(1))
    return float(v.group(1)) if v else None


def train_run(name: str, seconds: float, workers: int, envs: int, policy: Path, tmp: Path,
              extra: list[str]) -> dict:
    """One ``scripts.main`` run; env steps/s and CPU microseconds per env step by role."""
    import psutil

    cmd = [sys.executable, "-m", "scripts.main", "--meta_policy", str(policy), "--train_dir", str(tmp / "train"),
           "--experiment", name, "--num_workers", str(workers), "--num_envs_per_worker", str(envs),
           "--obs_scale", "255.0", "--reward_scale", "0.1", "--train_for_seconds", str(int(seconds)),
           "--train_for_env_steps", "1_000_000_000", "--restart_behavior", "overwrite", "--save_every_sec",
           "100000", *extra]
    logf = tmp / f"{name}.log"
    with open(logf, "w") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
        root = psutil.Process(proc.pid)
        samples: list[tuple[float, dict[int, float]]] = []
        t_end = time.time() + seconds + 900
        while proc.poll() is None:
            if time.time() > t_end:
                proc.kill()
                raise SystemExit(f"training run {name} did not stop; log: {logf}")
            samples.append((time.time(), _cpu_by_pid(root)))
            time.sleep(1.0)
    log = re.sub(r"\x1b\[[0-9;]*m", "", logf.read_text())
    if proc.returncode != 0:
        raise SystemExit(f"training run {name} failed:\n{log[-3000:]}")
    pts = [(datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f").timestamp(), int(n)) for t, n in
           re.findall(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+)\]\[\d+\] Fps is .*?Total num frames: (\d+)", log)]
    warm = [p for p in pts if p[1] > 0]
    if len(warm) < 2 or warm[-1][1] <= warm[0][1] or not samples:
        raise SystemExit(f"training run {name}: too short to measure (raise --seconds); log: {logf}")
    (t0, n0), (t1, n1) = warm[0], warm[-1]
    c0 = min(samples, key=lambda s: abs(s[0] - t0))[1]
    c1 = min(samples, key=lambda s: abs(s[0] - t1))[1]
    roles = {int(pid): ROLES.get(r, "rollout") for r, pid in
             re.findall(r"\]\[\d+\] (LearnerWorker_p0|InferenceWorker_p0-w0|ROLLOUT worker \d+)\s+pid (\d+)", log)}
    steps = n1 - n0
    cpu: dict[str, float] = {}
    for pid, c in c1.items():
        role = roles.get(pid, "main" if pid == proc.pid else "other")
        cpu[role] = cpu.get(role, 0.0) + c - c0.get(pid, c)
    total = sum(cpu.values())
    inf_fwd = _sf_timing(log, "InferenceWorker_p0-w0", "forward")
    inf_all = _sf_timing(log, "InferenceWorker_p0-w0", "handle_policy_step")
    return {"fps": steps / (t1 - t0), "per_cpu_s": steps / total, "steps": steps, "load": load(),
            "us": {k: 1e6 * v / steps for k, v in sorted(cpu.items())},
            "inference_forward_share": inf_fwd / inf_all if inf_fwd and inf_all else None}


def reward_dirs(arg: str | None, tmp: Path) -> list[str]:
    from maestromotif.rl.config import default_reward_dirs

    if arg:
        from types import SimpleNamespace

        from maestromotif.rl.config import reward_dirs as parse

        return parse(SimpleNamespace(reward_dir=arg))
    shipped = default_reward_dirs(ROOT)
    if all(Path(d).is_dir() for d in shipped):
        return shipped
    from maestromotif.reward import make_test_reward_dirs

    print("(no shipped reward models: training small real ones for the benchmark)")
    return [str(d) for d in make_test_reward_dirs(tmp / "rewards")]


def gpu_estimate(run: dict, raw_per_cpu_s: float) -> float:
    """Training / raw NLE on a GPU node, ESTIMATED from a CPU run's profile (see the module docstring)."""
    us = run["us"]
    share = run["inference_forward_share"] or 0.0
    cpu_us = us.get("rollout", 0.0) + us.get("main", 0.0) + us.get("inference", 0.0) * (1.0 - share)
    # The learner's CPU part on a GPU: batching + sending work to the device; without a measurement we
    # keep 10 % of its CPU time (its Python and data movement), not its maths.
    cpu_us += 0.1 * us.get("learner", 0.0)
    return (1e6 / cpu_us) / raw_per_cpu_s


def _fmt_us(run: dict) -> str:
    return ", ".join(f"{k} {v:.0f}" for k, v in run["us"].items() if v >= 0.5)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=90, help="length of each training run (startup included)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of raw / off / on / raw (medians over rounds)")
    p.add_argument("--raw_seconds", type=float, default=15, help="length of each raw NLE measurement")
    p.add_argument("--workers", type=int, default=2, help="env worker processes (and raw NLE processes)")
    p.add_argument("--envs", type=int, default=16, help="environments per worker")
    p.add_argument("--cdgpt5", action="store_true", help="also one run with the CDGPT5-style pixel encoder")
    p.add_argument("--reward_dir", default=None, help="five reward dirs (list literal); default: shipped or synthetic")
    p.add_argument("--extra", default="", help="more scripts.main flags for every training run (one string)")
    p.add_argument("--variant", default="", help="scripts.main flags of a variant run (rewards off) added to every "
                   "round, e.g. \"--num_envs_per_worker 64\": prints variant / default, interleaved like the rest")
    args = p.parse_args()
    extra = shlex.split(args.extra)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        policy = tmp / "execution.py"
        policy.write_text(BENCH_POLICY)
        dirs = reward_dirs(args.reward_dir, tmp)
        on_flags = ["--llm_reward", "0.1", "--reward_dir", str(dirs)]
        raws, offs, ons, variants = [], [], [], []
        raws.append(raw_nle(args.workers, args.raw_seconds))
        print(f"raw NLE, {args.workers} processes: {raws[-1]['fps']:.0f} steps/s, "
              f"{raws[-1]['per_cpu_s']:.0f} steps per CPU-s (load {raws[-1]['load']:.1f})", flush=True)
        for r in range(args.rounds):
            pair = [("off", ["--llm_reward", "0"]), ("on", on_flags)]
            if args.variant:
                pair.append(("variant", ["--llm_reward", "0"] + shlex.split(args.variant)))
            for mode, flags in (pair if r % 2 == 0 else pair[::-1]):
                run = train_run(f"r{r}_{mode}", args.seconds, args.workers, args.envs, policy, tmp, flags + extra)
                {"off": offs, "on": ons, "variant": variants}[mode].append(run)
                print(f"round {r} rewards {mode}: {run['fps']:.0f} env steps/s, {run['per_cpu_s']:.0f} per CPU-s "
                      f"({run['steps']} steps measured, load {run['load']:.1f}); CPU us/step: {_fmt_us(run)}",
                      flush=True)
            raws.append(raw_nle(args.workers, args.raw_seconds))
            print(f"raw NLE, {args.workers} processes: {raws[-1]['fps']:.0f} steps/s, "
                  f"{raws[-1]['per_cpu_s']:.0f} steps per CPU-s (load {raws[-1]['load']:.1f})", flush=True)
        cdg = None
        if args.cdgpt5:
            cdg = train_run("cdgpt5", args.seconds, args.workers, args.envs, policy, tmp,
                            ["--llm_reward", "0", "--encoder", "cdgpt5"] + extra)
            print(f"cdgpt5 encoder, rewards off: {cdg['fps']:.0f} env steps/s, {cdg['per_cpu_s']:.0f} per CPU-s "
                  f"(load {cdg['load']:.1f})", flush=True)
    med = statistics.median
    raw_fps, raw_cpu = med(r["fps"] for r in raws), med(r["per_cpu_s"] for r in raws)
    loads = [x["load"] for x in raws + offs + ons]
    print(f"\nratios (one run, {args.rounds} rounds, medians; load {min(loads):.1f}..{max(loads):.1f} on "
          f"{os.cpu_count()} cores; raw NLE = median of {len(raws)} measurements between the runs):")
    print(f"  training / raw NLE, wall clock:        {med(o['fps'] for o in offs) / raw_fps:.3f}   (goal >= 0.25)")
    print(f"  training / raw NLE, CPU-normalised:    {med(o['per_cpu_s'] for o in offs) / raw_cpu:.3f}")
    print(f"  rewards on / off, wall clock:          {med(n['fps'] for n in ons) / med(o['fps'] for o in offs):.3f}"
          "   (goal >= 0.95)")
    print(f"  rewards on / off, CPU-normalised:      "
          f"{med(n['per_cpu_s'] for n in ons) / med(o['per_cpu_s'] for o in offs):.3f}")
    for r, (o, n) in enumerate(zip(offs, ons)):
        print(f"  round {r}: rewards on / off {n['fps'] / o['fps']:.3f} wall, {n['per_cpu_s'] / o['per_cpu_s']:.3f} "
              "CPU-normalised" + ("  (reward table cold: first run with these models)" if r == 0 else
                                  "  (reward table warm from the earlier rounds, as in a resumed run)"))
    roles = sorted({k for x in offs + ons for k in x["us"]})
    for mode, runs in (("off", offs), ("on", ons)):
        print(f"  CPU us per env step, rewards {mode}:     "
              + ", ".join(f"{k} {med(x['us'].get(k, 0.0) for x in runs):.0f}" for k in roles))
    g_off = med(gpu_estimate(o, raw_cpu) for o in offs)
    g_on = med(gpu_estimate(n, raw_cpu) for n in ons)
    print(f"  ESTIMATE, GPU node (16 workers, --device gpu), training / raw NLE: {g_off:.3f}; "
          f"rewards on / off: {g_on / g_off:.3f}  (from this profile, no GPU measured)")
    if variants:
        print(f"  variant ({args.variant}) / default, rewards off: "
              f"{med(v['fps'] for v in variants) / med(o['fps'] for o in offs):.3f} wall, "
              f"{med(v['per_cpu_s'] for v in variants) / med(o['per_cpu_s'] for o in offs):.3f} CPU-normalised; "
              "CPU us/step: " + ", ".join(f"{k} {med(x['us'].get(k, 0.0) for x in variants):.0f}" for k in roles))
    if cdg is not None:
        print(f"  fast / cdgpt5 encoder, CPU-normalised:  {med(o['per_cpu_s'] for o in offs) / cdg['per_cpu_s']:.2f}x")


if __name__ == "__main__":
    main()
