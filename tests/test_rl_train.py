"""Real APPO training runs (sample-factory 2.1.1, real NLE): time limit, checkpoint, load, resume, kill -9."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from maestromotif.data.policies import make_policy
from maestromotif.nethack.env import make_env
from maestromotif.rl.actor import find_checkpoint, load_actor
from maestromotif.rl.export import export_run
from maestromotif.rl.observers import read_metrics
from maestromotif.rl.skill_report import ReportConfig, report

ROOT = Path(__file__).resolve().parents[1]

POLICY = textwrap.dedent('''
    import random

    class NetHackPlayer:
        def __init__(self, max_depth, branch_depth):
            self.max_depth, self.branch_depth = max_depth, branch_depth
        def set_initial_values(self):
            self.skill = "discoverer"
            self.max_depth = random.randint(2, 4)
        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False
        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            if skill == "descender":
                return current_depth > previous_depth or skill_time >= 100
            return skill_time >= 50
        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return "descender" if current_skill == "discoverer" else "discoverer"
''')


def _cmd(tmp_path: Path, seconds: float, *extra: str) -> list[str]:
    policy = tmp_path / "execution.py"
    policy.write_text(POLICY)
    return [sys.executable, "-m", "scripts.main", "--train_dir", str(tmp_path / "train"), "--experiment", "run",
            "--meta_policy", str(policy), "--llm_reward", "0", "--extrinsic_reward", "0.01",
            "--num_workers", "2", "--num_envs_per_worker", "2", "--batch_size", "128", "--rollout", "16",
            "--train_for_env_steps", "1_000_000_000", "--train_for_seconds", str(seconds), "--save_every_sec", "5",
            "--experiment_summaries_interval", "3", "--stats_avg", "5", "--obs_scale", "255.0",
            "--max_episode_steps", "300", "--seed", "1", *extra]


def _env_steps(ckpt: Path) -> int:
    return int(re.match(r"checkpoint_\d+_(\d+)\.pth", ckpt.name).group(1))


def _run(cmd, timeout):
    t = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return proc, time.time() - t


@pytest.mark.slow
def test_time_limit_checkpoint_load_resume_and_kill9(tmp_path):
    exp = tmp_path / "train" / "run"
    # 1. --train_for_seconds stops a run whose step budget is huge; the stop saves a checkpoint
    proc, wall = _run(_cmd(tmp_path, 40), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert wall < 180
    ckpt, _ = find_checkpoint(exp)
    steps_a = _env_steps(ckpt)
    assert steps_a >= 128  # at least one training batch (thousands of steps when the machine is idle)
    # the checkpoint loads outside sample-factory and acts in the real game
    actor = load_actor(exp)
    assert actor.env_steps == steps_a
    env = make_env()
    obs, _ = env.reset(seed=0)
    state = actor.initial_state(1)
    for _ in range(20):
        actions, state = actor.act(actor.obs_batch(obs, 1), state)
        obs, _, done, trunc, _ = env.step(int(actions[0]))
        if done or trunc:
            obs, _ = env.reset()
    # ... and as a dataset-collection policy, with the training policy over skills
    policy = make_policy(str(exp), seed=0, checkpoint_loader="maestromotif.rl.collect_policy:CheckpointPolicy")
    obs, info = env.reset(seed=1)
    policy.reset(obs, info)
    for _ in range(60):
        obs, _, done, trunc, info = env.step(policy.act(obs, info))
        if done or trunc:
            break
    assert policy.controller.stats()["discoverer_steps"] >= 1
    env.close()
    # ... and in the skill report (trained skill vs random skill conditioning vs random actions)
    res = report(ReportConfig(policy=str(exp), steps=120, envs=2, max_episode_steps=80), progress=False)
    assert set(res["modes"]) == {"skill", "random_skill", "random"}
    assert res["modes"]["skill"]["per_skill"]["discoverer"]["steps"] > 0
    assert (exp / "skill_report.md").read_text().startswith("Skill policy trained for")
    rows = read_metrics(exp / "metrics.csv")
    assert rows and float(rows[-1]["episodes"]) >= 1 and rows[-1]["skills/discoverer_steps"] != ""
    assert (exp / "curves.png").stat().st_size > 10_000 and (exp / "maestromotif_config.json").exists()
    assert 0 < json.loads((exp / "training_summary.json").read_text())["env_steps"] <= steps_a

    # 2. resume, then kill -9 the whole run once it has saved a newer checkpoint
    p = subprocess.Popen(_cmd(tmp_path, 600), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            time.sleep(2)
            ckpts = sorted((exp / "checkpoint_p0").glob("checkpoint_*.pth"))
            if ckpts and _env_steps(ckpts[-1]) > steps_a:
                break
        else:
            pytest.fail("the resumed run saved no newer checkpoint")
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    steps_b = _env_steps(find_checkpoint(exp)[0])
    assert steps_b > steps_a

    # 3. the same command resumes from the checkpoint written before kill -9 and continues counting
    proc, _ = _run(_cmd(tmp_path, 10), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = [int(m) for m in re.findall(r"Loaded experiment state at .*env_steps=(\d+)", proc.stderr + proc.stdout)]
    assert loaded and loaded[0] == steps_b
    assert _env_steps(find_checkpoint(exp)[0]) > steps_b
    steps = [int(r["env_steps"]) for r in read_metrics(exp / "metrics.csv")]
    # One CSV across the three runs, monotone, with no row from progress lost to kill -9 (rows above
    # steps_b written by the killed run are dropped; a short run 3 may add no row of its own).
    final = _env_steps(find_checkpoint(exp)[0])
    assert steps == sorted(steps) and steps[-1] <= final, (steps, steps_a, steps_b, final)
    assert json.loads((exp / "training_summary.json").read_text())["env_steps"] <= final
    assert np.isfinite(float(read_metrics(exp / "metrics.csv")[-1]["len"]))

    # 4. export it (one checkpoint, relocated configs) and resume from the export with the same command
    res = export_run(exp, tmp_path / "shipped" / "run", base=ROOT)
    assert res.env_steps == final
    cmd = _cmd(tmp_path, 10)
    cmd[cmd.index("--train_dir") + 1] = str(tmp_path / "shipped")
    proc, _ = _run(cmd, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = [int(m) for m in re.findall(r"Loaded experiment state at .*env_steps=(\d+)", proc.stderr + proc.stdout)]
    assert loaded and loaded[0] == final
    shipped_rows = [int(r["env_steps"]) for r in read_metrics(tmp_path / "shipped" / "run" / "metrics.csv")]
    assert shipped_rows[: len(steps)] == steps  # the exported metrics go on


@pytest.fixture(scope="module")
def reward_dirs(tmp_path_factory):
    synthetic = pytest.importorskip("maestromotif.reward.synthetic")  # the reward phase's own trainer
    return [str(d) for d in synthetic.make_test_reward_dirs(tmp_path_factory.mktemp("rewards"))]


def test_env_pays_the_running_skills_real_intrinsic_reward(reward_dirs, tmp_path):
    from maestromotif.data.captions import stat_deltas
    from maestromotif.nethack.obs import caption_stats
    from maestromotif.reward import SkillRewardSet
    from maestromotif.rl.env import SkillEnv, SkillEnvConfig

    policy = tmp_path / "execution.py"
    policy.write_text(POLICY)
    cfg = SkillEnvConfig(meta_policy=str(policy), llm_reward=0.1, reward_dirs=tuple(reward_dirs),
                         eps_threshold_quantile=0.0, beta_count_exponent=3.0, max_episode_steps=200,
                         reward_obs="after", delta_reference="step")  # the twin scores the same observation
    env = SkillEnv(cfg)
    twin = SkillRewardSet.load(reward_dirs, 0.0, 3.0)  # the same reward, recomputed independently
    obs, _ = env.reset(seed=4)
    prev, total = caption_stats(env.last_obs["blstats"]), 0.0
    for i in range(200):
        running = env.controller.skill_index
        obs, reward, term, trunc, info = env.step([1, 2, 3, 4, 22][i % 5])
        if not env.last_obs["blstats"][12]:  # the game-over observation: no game state, no reward
            assert term and reward == 0.0
            break
        cur = caption_stats(env.last_obs["blstats"])
        assert reward == pytest.approx(0.1 * twin.step(env.last_obs["message"], stat_deltas([prev, cur]), running))
        prev, total = cur, total + abs(reward)
        if term or trunc:
            break
    assert total > 0
    # envs of one process share the models and cache, never the episode's message counts
    from maestromotif.rl.env import load_skill_rewards

    a, b = load_skill_rewards(cfg), load_skill_rewards(cfg)
    msg, zero = "You find a hidden passage.", (0.0,) * 5
    ra1, ra2, rb1 = a.step(msg, zero, 0), a.step(msg, zero, 0), b.step(msg, zero, 0)
    assert ra1 != 0 and rb1 == ra1 and ra2 == pytest.approx(ra1 / 2 ** 3)
    stats = info["episode_extra_stats"]
    assert "skills/discoverer_intrinsic_mean" in stats
    env.close()


@pytest.mark.parametrize("eps", [0.5, (0.95, 0.85, 0.85, 0.85, 0.85)])
def test_reward_view_returns_what_the_reward_set_returns(reward_dirs, tmp_path, eps):
    from maestromotif.reward import SkillRewardSet
    from maestromotif.reward.synthetic import skill_scores
    from maestromotif.rl.env import SkillEnvConfig, load_skill_rewards

    cfg = SkillEnvConfig(meta_policy="unused", reward_dirs=tuple(reward_dirs), eps_threshold_quantile=eps)
    view = load_skill_rewards(cfg)
    ref = SkillRewardSet.load(reward_dirs, list(eps) if isinstance(eps, tuple) else eps, 3.0)
    messages = sorted(skill_scores("descender")) + ["You kill the newt!", "Welcome to experience level 2."]
    rng = np.random.default_rng(0)
    for _episode in range(3):
        view.reset()
        ref.reset()
        for _ in range(300):
            msg = messages[rng.integers(len(messages))]
            deltas = tuple(float(x) for x in rng.integers(-1, 2, size=5))
            skill = int(rng.integers(5))
            assert view.step(msg, deltas, skill) == pytest.approx(ref.step(msg, deltas, skill), abs=1e-12)


@pytest.mark.slow
def test_training_with_real_reward_models(reward_dirs, tmp_path):
    cmd = _cmd(tmp_path, 15, "--serial_mode", "True", "--num_workers", "1")
    i = cmd.index("--llm_reward")
    cmd[i + 1] = "0.1"
    cmd += ["--reward_dir", str(reward_dirs), "--eps_threshold_quantile", "0.5"]
    proc, _ = _run(cmd, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    exp = tmp_path / "train" / "run"
    assert _env_steps(find_checkpoint(exp)[0]) > 0
    rows = read_metrics(exp / "metrics.csv")
    assert rows and rows[-1]["skills/discoverer_intrinsic_mean"] != ""
    # what is learned, not only the reward: own-job counts and how the episodes ended, drawn in curves.png
    from maestromotif.nethack.deaths import CAUSES

    last = rows[-1]
    assert all(last[f"skills/{s}_own_job"] != "" for s in ("descender", "ascender", "worshipper", "merchant"))
    assert sum(float(last[f"episode/death_{c}"]) for c in CAUSES) == pytest.approx(1.0)  # shares of the causes
    assert (exp / "curves.png").stat().st_size > 10_000
    # the shared reward table: the dataset's messages scored before the workers, then the workers' own
    parts = sorted((tmp_path / "train" / "reward_tables").glob("*/part-*.bin"))
    assert any("warmup" in p.name for p in parts) and len(parts) >= 2, parts
