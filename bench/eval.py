"""Evaluation speed: agent steps per second and episodes per minute per core, measured in one run.

    python bench/eval.py [--steps 3000] [--repeats 3] [--task gnomish] [--checkpoint fresh|<dir>]

Each row plays ``--steps`` agent steps of the real game in this process (one core), ``--repeats``
times, and reports the median. Rows: the bare environment (random actions, no detector); the same
with the task's detectors watching (``#overview`` typed on level changes); with the HTML frame
recorder; the random-skills and MaestroMotif agents (skill policy + options framework + detectors),
one episode at a time and ``--envs_per_worker`` episodes at once (one batched forward pass per step,
as the evaluator runs them), and the cost of the report's causes-of-death and own-job columns: the
evaluator's episodes with and without them (``--new_columns``; interleaved repeats, median ratio).
"episodes/min/core" is for 10,000-step episodes (the evaluation's default
limit) - episodes that end earlier (death, success) are proportionally cheaper. Ratios are against the
bare environment.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from maestromotif.eval import evaluator  # noqa: E402
from maestromotif.eval.agents import AGENTS, AgentContext, RandomActionAgent  # noqa: E402
from maestromotif.eval.detectors import Monitor  # noqa: E402
from maestromotif.eval.overview import read_overview  # noqa: E402
from maestromotif.eval.recording import FrameRecorder  # noqa: E402
from maestromotif.eval.tasks import TASKS  # noqa: E402
from maestromotif.nethack.env import make_env  # noqa: E402

EPISODE = 10_000


def run_steps(agent_factory, task: str, steps: int, watch: bool, frames: bool) -> float:
    """Agent steps per second over ``steps`` steps (new episodes as needed)."""
    env = make_env(max_episode_steps=steps + 1)
    done_steps, seed = 0, 0
    t0 = time.perf_counter()
    while done_steps < steps:
        agent = agent_factory(seed)
        obs, info = env.reset(seed=seed)
        mon = Monitor(env, TASKS[task].detector()) if watch else None
        rec = FrameRecorder() if frames else None
        if mon:
            mon.reset(obs, info)
        agent.reset(obs, info)
        while done_steps < steps:
            action = agent.act(obs, info)
            obs, _, done, trunc, info = env.step(action)
            done_steps += 1
            if mon:
                mon.update(obs, info, action, done)
            if rec:
                rec.add(obs, "bench")
            if done or trunc:
                break
        seed += 1
    dt = time.perf_counter() - t0
    env.close()
    return done_steps / dt


def overview_cost(calls: int = 200) -> float:
    env = make_env()
    env.reset(seed=0)
    t = []
    for _ in range(calls):
        t0 = time.perf_counter()
        read_overview(env)
        t.append(time.perf_counter() - t0)
    env.close()
    return statistics.median(t)


def run_batched(runner: evaluator.EpisodeRunner, agent: str, task: str, steps: int, clock=time.perf_counter) -> float:
    """Agent steps per second (of ``clock``) with ``runner.slots`` episodes stepped together."""
    done_steps, episode = 0, 0
    t0 = clock()
    while done_steps < steps:
        while runner.free():
            runner.start((task, agent, episode))
            episode += 1
        done_steps += len(runner.running)
        runner.step()
    dt = clock() - t0
    for _, ep, _ in runner.running:  # unfinished episodes: give their environments back
        runner._envs.append(ep.env)
    runner.running = []
    return done_steps / dt


class _NoDeathWatch:
    """Stand-in for :class:`maestromotif.eval.deaths.DeathWatch` that keeps nothing (the 'without' runs)."""

    def __init__(self, *args):
        pass

    def update(self, messages):
        pass

    def classify(self, end):
        from maestromotif.eval.deaths import Death

        return Death("unknown")

    def last_messages(self, n=8):
        return []


def new_columns_overhead(cfg: evaluator.EvalConfig, task: str, agents: list[str], steps: int, repeats: int) -> None:
    """Evaluator steps/s with the causes of death and own-job counting, and with both replaced by no-ops."""
    from maestromotif.skills import options

    real_watch, real_own = evaluator.DeathWatch, options.did_own_job
    for agent in agents:
        rates = {"with": [], "without": []}
        runner = evaluator.EpisodeRunner(cfg, {}, cfg.envs_per_worker)
        for _ in range(repeats):
            for mode in ("with", "without"):
                evaluator.DeathWatch, options.did_own_job = (real_watch, real_own) if mode == "with" else (
                    _NoDeathWatch, lambda skill, events: False)
                try:
                    # CPU time of this process: the machine is shared, wall time would mostly measure the others
                    rates[mode].append(run_batched(runner, agent, task, steps, clock=time.process_time))
                finally:
                    evaluator.DeathWatch, options.did_own_job = real_watch, real_own
        runner.close()
        ratios = [w / wo for w, wo in zip(rates["with"], rates["without"])]
        print(f"{agent:16s} with causes+own job {statistics.median(rates['with']):7.0f} steps/CPU-s, without "
              f"{statistics.median(rates['without']):7.0f}; ratio with/without {statistics.median(ratios):.3f} "
              f"(median of {repeats} interleaved pairs: {', '.join(f'{r:.3f}' for r in ratios)})")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=3000, help="agent steps per measurement")
    p.add_argument("--repeats", type=int, default=3, help="measurements per row (median reported)")
    p.add_argument("--task", default="gnomish", help="task whose detectors and policy over skills are used")
    p.add_argument("--checkpoint", default=evaluator.FRESH, help="skill policy for the skill agents ('fresh': untrained)")
    p.add_argument("--meta_policies", default="rl_baseline/meta_policies", help="root of the policies over skills")
    p.add_argument("--envs_per_worker", type=int, default=16, help="episodes stepped together in the batched rows")
    p.add_argument("--new_columns", action="store_true",
                   help="only measure the overhead of the causes-of-death and own-job columns")
    a = p.parse_args(argv)

    cfg = evaluator.EvalConfig(tasks=[a.task], checkpoint=a.checkpoint, meta_policies=a.meta_policies,
                       envs_per_worker=a.envs_per_worker)
    if a.new_columns:
        print(f"task {a.task}, {a.steps} steps per run, {a.envs_per_worker} episodes batched, one process")
        new_columns_overhead(cfg, a.task, ["random_actions", "random_skills"], a.steps, a.repeats)
        return 0
    rows: list[tuple[str, object, bool, bool]] = [
        ("environment only (random actions)", lambda s: RandomActionAgent(random.Random(s)), False, False),
        ("+ task detectors", lambda s: RandomActionAgent(random.Random(s)), True, False),
        ("+ detectors + HTML frames", lambda s: RandomActionAgent(random.Random(s)), True, True),
    ]
    skills_ok = True
    try:
        runner = evaluator.EpisodeRunner(cfg, {})
        runner.actor()
        runner.policy_cls(a.task)
    except Exception as e:  # no skill policy / policy over skills here: measure what exists
        skills_ok = False
        print(f"(skill agents skipped: {type(e).__name__}: {e})")
    if skills_ok:
        for name in ("random_skills", "maestromotif"):
            def factory(s, name=name):
                return AGENTS[name].build(AgentContext(rng=random.Random(s), policy_cls=lambda: runner.policy_cls(a.task),
                                                       actor=runner.actor))
            rows.append((f"{name}, one episode at a time ({a.checkpoint} policy)", factory, True, False))

    print(f"task {a.task}, {a.steps} steps x {a.repeats} repeats per row, one process")
    print(f"{'configuration':62s} {'steps/s':>9s} {'ratio':>7s} {'episodes/min/core @10k steps':>29s}")
    base = None

    def show(label, rate):
        nonlocal base
        base = base or rate
        print(f"{label:62s} {rate:9.0f} {rate / base:7.2f} {60 * rate / EPISODE:29.2f}")

    for label, factory, watch, frames in rows:
        show(label, statistics.median(run_steps(factory, a.task, a.steps, watch, frames) for _ in range(a.repeats)))
    if skills_ok:
        batched = evaluator.EpisodeRunner(cfg, {}, a.envs_per_worker)
        batched._actor, batched._policies = runner._actor, runner._policies
        for name in ("random_skills", "maestromotif"):
            show(f"{name}, {a.envs_per_worker} episodes batched",
                 statistics.median(run_batched(batched, name, a.task, a.steps) for _ in range(a.repeats)))
        batched.close()
    print(f"#overview read (open, read every page, close): {1e6 * overview_cost():.0f} us median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
