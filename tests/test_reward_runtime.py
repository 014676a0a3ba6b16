"""Runtime intrinsic reward (SkillReward / SkillRewardSet) on real, quickly trained reward models, and
the inspect CLI."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from maestromotif.data.captions import message_array
from maestromotif.reward.checkpoint import load_checkpoint, save_checkpoint
from maestromotif.reward.reports import QUANTILE_FILE, QUANTILES
from maestromotif.reward.runtime import SkillReward, SkillRewardSet, message_key
from maestromotif.reward.synthetic import FAVOURED, make_test_reward_dirs
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError, run_cli

DOWN = "You climb down the stairs."
STONE = "It's solid stone."


@pytest.fixture(autouse=True)
def one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # what a sample-factory worker does (see maestromotif.reward.runtime)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def reward_dirs(tmp_path_factory):
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return make_test_reward_dirs(tmp_path_factory.mktemp("rewards"))
    finally:
        torch.set_num_threads(n)


def quantile_row(reward_dir) -> list[float]:
    rows = list(csv.reader((reward_dir / QUANTILE_FILE).read_text().splitlines()))
    return [float(x) for x in rows[-1]]


def test_skill_reward_normalises_thresholds_and_decays(reward_dirs):
    d = reward_dirs[1]  # descender
    sr = SkillReward.load(d, eps_quantile=0.5, beta=3.0)
    ck = load_checkpoint(d / "checkpoint.pt")
    assert sr.eps == quantile_row(d)[QUANTILES.index(0.5)]
    # r_norm = (r - mean) / std with the checkpoint's normalisation
    with torch.no_grad():
        r = float(sr.model(torch.from_numpy(message_array(DOWN))[None], torch.zeros(1, 5))[0])
    assert math.isclose(sr.raw(DOWN, [0, 0, 0, 0, 0]), (r - ck["reward_mean"]) / ck["reward_std"], rel_tol=1e-6)
    # the trained model prefers the descender's message
    assert sr.raw(DOWN, None) > sr.eps > sr.raw("The grid bug bites!", None)
    # 1[r >= eps] * r / count**beta
    assert sr.intrinsic(sr.eps - 1e-6, 1) == 0.0
    assert sr.intrinsic(sr.eps, 1) == sr.eps
    assert sr.intrinsic(2.0, 2) == pytest.approx(2.0 / 8)
    assert sr.intrinsic(2.0, 3) == pytest.approx(2.0 / 27)
    with pytest.raises(ValueError):
        sr.intrinsic(1.0, 0)
    # eps_quantile 0 disables the threshold (the original's -1000): negative rewards pass
    free = SkillReward.load(d, eps_quantile=0.0)
    assert free.eps == -math.inf and free.intrinsic(-0.7, 1) == -0.7
    assert SkillReward.load(d, eps_quantile=0.95).eps == quantile_row(d)[-1]


def test_cache_and_input_forms(reward_dirs, monkeypatch):
    sr = SkillReward.load(reward_dirs[1])
    calls = []
    compute = sr._compute
    monkeypatch.setattr(sr, "_compute", lambda keys: calls.append(len(keys)) or compute(keys))
    a = sr.raw(DOWN, np.array([1.0, 0, 0, 0, 0]))
    assert calls == [1]
    # same message as str / bytes / NUL-padded NLE array, masked deltas differing: one cache entry
    b = sr.raw(DOWN.encode(), [1, 5, -3, 0, 1])
    c = sr.raw(message_array(DOWN), (3, 0, 0, 0, 0))  # clipped to +1
    assert a == b == c and calls == [1] and len(sr._cache) == 1
    # the model sees the dungeon-level delta (the original's default mask)
    assert sr.raw(DOWN, [0, 0, 0, 0, 0]) != a and calls == [1, 1]
    assert message_key(message_array("")) == message_key("") == b""
    # cached value == uncached batch value
    assert sr.raw_batch([DOWN], [[1, 0, 0, 0, 0]])[0] == pytest.approx(a, abs=1e-9)
    with pytest.raises(ValueError, match="5 values"):
        sr.raw(DOWN, [1, 0])
    small = SkillReward.load(reward_dirs[1], cache_size=2)
    for m in ("a", "b", "c"):
        small.raw(m, None)
    assert len(small._cache) == 2 and (b"a", (0.0,)) not in small._cache


def test_reward_set_counts_per_episode_and_pays_the_running_skill(reward_dirs):
    rs = SkillRewardSet.load([str(d) for d in reward_dirs], eps_quantile=0.0, beta=3.0)
    assert len(rs) == 5 and rs.names == [f"synthetic_{s}_default" for s in SKILL_NAMES]
    singles = [SkillReward.load(d, eps_quantile=0.0) for d in reward_dirs]
    raw = rs.all_raw(DOWN, None)
    assert raw.shape == (5,) and np.allclose(raw, [s.raw(DOWN, None) for s in singles])
    r1 = raw[1]
    assert rs.step(DOWN, None, 1) == pytest.approx(r1)
    assert rs.step(DOWN, [1, 0, 0, 0, 0], 1) == pytest.approx(rs.all_raw(DOWN, [1, 0, 0, 0, 0])[1] / 8)  # N=2
    assert rs.step(DOWN, None, 3) == pytest.approx(raw[3] / 27)  # N counts the message, whatever skill runs
    assert rs.counts[DOWN.encode()] == 3
    assert rs.step(STONE, None, 1) == pytest.approx(rs.all_raw(STONE, None)[1])  # another message: N=1
    rs.reset()
    assert len(rs.counts) == 0 and rs.step(DOWN, None, 1) == pytest.approx(r1)
    # each skill's model prefers its own favoured message over the others'
    for i, skill in enumerate(SKILL_NAMES):
        mine = rs.all_raw(FAVOURED[skill][1], None)[i]
        others = [rs.all_raw(FAVOURED[o][1], None)[i] for o in SKILL_NAMES if o != skill]
        assert mine > max(others), skill


def test_reward_set_threshold_per_skill(reward_dirs):
    rs = SkillRewardSet.load([str(d) for d in reward_dirs], eps_quantile=[0.95, 0.85, 0.85, 0.85, 0.85])
    eps = [quantile_row(d)[QUANTILES.index(q)] for d, q in zip(reward_dirs, [0.95, 0.85, 0.85, 0.85, 0.85])]
    assert [r.eps for r in rs.rewards] == eps
    below = "The grid bug bites!"
    assert rs.all_raw(below, None)[1] < eps[1] and rs.step(below, None, 1) == 0.0
    with pytest.raises(UserError, match="2 eps quantiles for 5"):
        SkillRewardSet.load([str(d) for d in reward_dirs], eps_quantile=[0.5, 0.5])


def test_load_errors(reward_dirs, tmp_path):
    with pytest.raises(UserError, match="reward checkpoint not found"):
        SkillReward.load(tmp_path / "nothing")
    with pytest.raises(UserError, match="no column for quantile 0.42"):
        SkillReward.load(reward_dirs[0], eps_quantile=0.42)
    # an unfinished run is refused for RL (inspect may still look at it)
    ck = load_checkpoint(reward_dirs[0] / "checkpoint.pt")
    d = tmp_path / "unfinished"
    d.mkdir()
    save_checkpoint(d / "checkpoint.pt", {**{k: v for k, v in ck.items() if k != "format"}, "finished": False})
    with pytest.raises(UserError, match="quantile file not found"):
        SkillReward.load(d, allow_unfinished=True)
    assert SkillReward.load(d, eps_quantile=0, allow_unfinished=True).eps == -math.inf
    with pytest.raises(UserError, match="training is not finished"):
        SkillReward.load(d, eps_quantile=0)
    (d / "checkpoint.pt").write_bytes(b"\x00garbage")
    with pytest.raises(UserError, match="do not match the checksum in checkpoint.json"):
        SkillReward.load(d, eps_quantile=0)
    (d / "checkpoint.json").unlink()  # without the sidecar the load itself fails
    with pytest.raises(UserError, match="cannot be loaded"):
        SkillReward.load(d, eps_quantile=0)


def test_inspect_cli_ranks_the_dataset_and_scores_typed_captions(reward_dirs, capsys, monkeypatch, tmp_path):
    from scripts.inspect_reward import main

    d = reward_dirs[1]
    out_csv = tmp_path / "rank.csv"
    assert run_cli(main, ["--reward_dir", str(d), "--top", "3", "--csv", str(out_csv),
                          "--message", f"{DOWN} [1,0,0,0,0]", "--message", STONE]) == 0
    text = capsys.readouterr().out
    top = text.split("Top 3")[1].split("Bottom 3")[0]
    assert DOWN in top or FAVOURED["descender"][0] in top
    assert f'"{DOWN}" [dlvl+]' in text and f'"{STONE}"' in text
    rows = list(csv.reader(out_csv.read_text().splitlines()))
    assert rows[0][:4] == ["rank", "r_norm", "count", "message"]
    assert [float(r[1]) for r in rows[1:]] == sorted((float(r[1]) for r in rows[1:]), reverse=True)
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("The grid bug bites!\n"))
    assert run_cli(main, ["--reward_dir", str(d), "--top", "0", "--stdin"]) == 0
    assert "The grid bug bites!" in capsys.readouterr().out
    assert run_cli(main, ["--reward_dir", str(tmp_path / "none"), "--top", "0"]) == 2


def test_message_counter_is_an_lru_of_msg_max_keys():
    from maestromotif.reward.runtime import MessageCounter

    c = MessageCounter(3)
    assert [c.count(m) for m in (b"a", b"b", b"a", b"c")] == [1, 1, 2, 1]
    assert c.count(b"d") == 1 and b"b" not in c  # b was the least recently seen: dropped
    assert c.count(b"a") == 3 and c.count(b"b") == 1 and b"c" not in c  # a kept (seen recently)
    unbounded = MessageCounter(0)
    for i in range(100):
        unbounded.count(bytes([i]))
    assert len(unbounded) == 100 and unbounded.count(b"\0") == 2


def test_reward_set_counts_with_the_original_cap(reward_dirs):
    rs = SkillRewardSet.load(reward_dirs, eps_quantile=0.0, msg_max_keys=2)
    assert rs.count(DOWN) == 1 and rs.count(DOWN) == 2
    rs.count("a"), rs.count("b")  # two newer messages push DOWN out of the 2-key counter
    assert rs.count(DOWN) == 1
    r = rs.all_raw(DOWN, None)[0]
    assert rs.score(DOWN, None, 0, 2) == pytest.approx(r / 8)  # eps_quantile 0: no threshold
