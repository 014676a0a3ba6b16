"""Collection from real NetHack episodes, resume after kill -9, and ttyrec import."""

import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from maestromotif.data.collect import CollectConfig, collect, collect_pool, is_boring
from maestromotif.data.dataset import load_dataset
from maestromotif.data.policies import make_policy
from maestromotif.data.ttyrec import parse_bottom_lines, samples_from_ttyrec
from maestromotif.nethack.env import make_env
from maestromotif.utils.errors import UserError


def test_collect_small(tmp_path):
    cfg = CollectConfig(out=str(tmp_path), num_pairs=15, skills=("descender", "merchant"), policy="random",
                        num_workers=1, max_episode_steps=300, keep_boring=0.0, shard_size=10)
    res = collect(cfg, show_progress=False)
    for skill in ("descender", "merchant"):
        ds = load_dataset(res.paths[skill])
        assert ds.num_pairs == 15
        assert not any(is_boring(s) for s in ds.samples)  # keep_boring=0 filters them all
        assert ds.meta["config"]["policy"] == "random" and ds.meta["skill"] == skill
    a, b = (load_dataset(res.paths[s]).samples for s in ("descender", "merchant"))
    assert a != b  # different pairings of one pool


def test_several_meta_policies_take_turns_by_episode(tmp_path):
    # 60-step episodes, every transition kept: a 150-transition pool is episodes travel, buc, travel
    cfg = CollectConfig(out=str(tmp_path), num_pairs=25, pool_factor=3.0, skills=("worshipper",),
                        policy="scripted_skills", meta_policy="travel, buc", num_workers=1, max_episode_steps=60,
                        keep_boring=1.0, shard_size=50)
    pool = collect_pool(cfg, show_progress=False)
    by_episode = {}
    for smp in pool:
        by_episode.setdefault(smp["episode"], set()).add(smp["source"])
    assert all(len(v) == 1 for v in by_episode.values())  # one policy over skills per episode
    firsts = [next(iter(by_episode[e])) for e in dict.fromkeys(smp["episode"] for smp in pool)]
    assert firsts[:3] == ["nle:scripted_skills/travel", "nle:scripted_skills/buc", "nle:scripted_skills/travel"]


@pytest.mark.slow
def test_collect_resumes_after_kill(tmp_path, repo_root):
    out = tmp_path / "ds"
    cmd = [sys.executable, "-m", "scripts.collect_dataset", "--policy", "random", "--num_pairs", "150",
           "--out", str(out), "--num_workers", "1", "--skills", "descender", "--pool_factor", "1",
           "--max_episode_steps", "400"]
    env = dict(os.environ, PYTHONPATH=str(repo_root))
    proc = subprocess.Popen(cmd, cwd=repo_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    shard_dir = out / ".collect"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(shard_dir.glob("shard_*.pkl"))) < 1:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9 the whole job, workers included
    proc.wait()
    shards_before = {p.name for p in shard_dir.glob("shard_*.pkl")}
    assert shards_before, "no shard written before the kill"
    done = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shards_before <= {p.name for p in shard_dir.glob("shard_*.pkl")}  # nothing thrown away
    assert load_dataset(out / "descender.pkl").num_pairs == 150


def test_changed_config_refuses_to_mix_shards(tmp_path):
    base = dict(out=str(tmp_path), num_pairs=3, skills=("descender",), num_workers=1, max_episode_steps=100,
                shard_size=2)
    collect(CollectConfig(policy="random", **base), show_progress=False)
    with pytest.raises(UserError, match="different policy"):
        collect(CollectConfig(policy="random", seed=9, **base), show_progress=False)


def test_ttyrec_import_matches_live_messages(tmp_path):
    env = make_env(savedir=str(tmp_path), save_ttyrec_every=1, max_episode_steps=250)
    policy = make_policy("explore", seed=1)
    obs, info = env.reset(seed=4)
    policy.reset(obs, info)
    live, done = [], False
    while not done:
        obs, _, term, trunc, info = env.step(policy.act(obs, info))
        done = term or trunc
        live.extend(info["messages"])
    env.close()
    (path,) = glob.glob(str(tmp_path / "*.ttyrec*"))
    samples, counts = samples_from_ttyrec(path)
    assert counts["frames"] >= 250 and samples
    from_tty = [s["msg_strs"][1] for s in samples]
    assert len(live) > 5
    assert all(m in from_tty for m in live), [m for m in live if m not in from_tty]
    assert all(len(s["stats_list"]) == 2 and len(s["stats_list"][0]) == 6 for s in samples)


def test_ttyrec_errors_and_status_parsing(tmp_path):
    with pytest.raises(UserError, match="not found"):
        samples_from_ttyrec(tmp_path / "missing.ttyrec")
    bad = tmp_path / "bad.ttyrec"
    bad.write_bytes(b"\x01\x02garbage")
    with pytest.raises(UserError):
        samples_from_ttyrec(bad)
    assert parse_bottom_lines("Agent the Candidate  St:18 Dx:13 Co:12 In:9 Wi:14 Ch:8 Neutral S:0",
                              "Dlvl:3 $:12 HP:10(14) Pw:5(5) AC:4 Xp:2/25 T:812 Hungry") == [3, 12, 10, 14, 2, 2]
    assert parse_bottom_lines("Things that are here:", "a dagger") is None


def test_informative_sampling_favours_rare_events():
    from maestromotif.data.collect import informative_indices, uniform_indices

    common = {"msg_strs": ("", "You can't go up here."), "stats_list": [[1, 0, 14, 14, 1, 1]] * 2}
    descent = {"msg_strs": ("", "You descend the stairs."), "stats_list": [[1, 0, 14, 14, 1, 1], [2, 0, 14, 14, 1, 1]]}
    pool = [common] * 990 + [descent] * 10
    rare = lambda idx: sum(i >= 990 for i in idx)  # noqa: E731
    assert rare(informative_indices(pool, 100, 0)) > 5 * max(1, rare(uniform_indices(pool, 100, 0)))
    assert len(set(informative_indices(pool, 100, 1))) == 100  # without replacement


def test_a_pool_smaller_than_one_shard_finishes(tmp_path, repo_root):
    # Regression: the worker counted only written shards, so a target below --shard_size reset games forever.
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "scripts.collect_dataset", "--policy", "explore", "--num_pairs", "4",
                           "--out", str(tmp_path), "--num_workers", "2", "--skills", "descender"],
                          cwd=repo_root, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert load_dataset(tmp_path / "descender.pkl").num_pairs == 4
