"""The shared reward table (maestromotif/reward/table.py): file format, sharing between processes and
runs, robustness, and that it returns exactly the rewards a worker computes itself."""

from __future__ import annotations

import logging

import pytest
import torch

from maestromotif.reward.table import (
    HEADER,
    RewardTable,
    dataset_messages,
    decode_records,
    encode_record,
    table_dir,
    table_root,
    warm_table,
)

K1 = (0, (b"You see here a dagger.", (1.0,)))
K2 = (3, (b"", (0.0,)))
K3 = (4, (b"Hello stranger, who are you?", (-1.0, 0.5)))


@pytest.fixture(autouse=True)
def one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_records_roundtrip_and_a_cut_record_is_not_read():
    buf = encode_record(K1, 0.25) + encode_record(K2, -1.5) + encode_record(K3, 2.0)
    cut = buf[:-5]
    records, used = decode_records(cut)
    assert records == [(K1, 0.25), (K2, -1.5)]
    assert used == len(encode_record(K1, 0.25)) + len(encode_record(K2, -1.5))
    assert decode_records(buf)[0][-1] == (K3, 2.0)


def test_processes_and_later_runs_share_through_files(tmp_path):
    a = RewardTable(tmp_path, refresh_sec=0.0)
    b = RewardTable(tmp_path, refresh_sec=0.0)
    a[K1] = 0.75
    a[K3] = -0.125
    assert b.get(K1) == 0.75 and b.get(K3) == -0.125  # b's miss read a's file
    assert b.hits_from_others == 2
    b[K2] = 3.0
    assert a.get(K2) == 3.0
    a.close()
    b.close()
    later = RewardTable(tmp_path)  # a resumed or new run with the same models starts warm
    assert dict(later) == {K1: 0.75, K3: -0.125, K2: 3.0}
    files = sorted(tmp_path.glob("part-*.bin"))
    assert len(files) == 2 and all(f.read_bytes().startswith(HEADER) for f in files)
    assert (tmp_path / "README.txt").is_file()


def test_refresh_is_rate_limited_and_a_plain_cache_has_no_files(tmp_path):
    a = RewardTable(tmp_path, refresh_sec=0.0)
    b = RewardTable(tmp_path, refresh_sec=3600.0)
    a[K1] = 1.0
    assert b.get(K1) is None  # b refreshed at creation, not again within refresh_sec
    assert b.refresh() == 1 and b.get(K1) == 1.0
    mem = RewardTable(None, max_entries=2)
    mem[K1], mem[K2], mem[K3] = 1.0, 2.0, 3.0
    assert list(mem) == [K2, K3]  # bounded, oldest evicted first
    assert table_root("none", "x") == "" and table_root("", "runs") == "runs/reward_tables"


def test_foreign_or_cut_files_never_stop_training(tmp_path, caplog):
    (tmp_path / "part-1-bad.bin").write_bytes(b"not a table at all")
    good = encode_record(K1, 0.5)
    (tmp_path / "part-2-cut.bin").write_bytes(HEADER + good + encode_record(K2, 1.0)[:7])  # kill -9 mid-write
    with caplog.at_level(logging.WARNING):
        t = RewardTable(tmp_path)
    assert dict(t) == {K1: 0.5}
    assert "part-1-bad.bin" in caplog.text and "bad header" in caplog.text


@pytest.fixture(scope="module")
def reward_dirs(tmp_path_factory):
    from maestromotif.reward.synthetic import make_test_reward_dirs

    torch.set_num_threads(1)
    return [str(d) for d in make_test_reward_dirs(tmp_path_factory.mktemp("rewards"))]


def test_warm_table_and_shared_view_give_exactly_the_workers_rewards(reward_dirs, tmp_path):
    from maestromotif.reward import SkillRewardSet
    from maestromotif.rl.env import SkillRewardView

    rs = SkillRewardSet.load(reward_dirs, 0.0, 3.0)
    messages = dataset_messages(reward_dirs)
    assert messages
    root = table_dir(tmp_path, reward_dirs)
    some = messages[:20]
    n = warm_table(RewardTable(root), rs, some)
    assert n == len(some) * 3 * len(reward_dirs)  # every message x dlvl delta in {-1, 0, 1} x skill
    assert warm_table(RewardTable(root), rs, some) == 0  # already there: nothing recomputed
    shared = SkillRewardView(rs, RewardTable(root))
    alone = SkillRewardView(rs, {})
    steps = [(m, (float(d), 0.0, 0.0, 0.0, 0.0), s) for s in range(len(reward_dirs))
             for m in some[::3] + [b"a message no dataset has"] for d in (-1, 0, 1)]
    for m, d, s in steps:
        assert shared.step(m, d, s) == alone.step(m, d, s)  # bit-identical rewards
    assert table_dir(tmp_path, reward_dirs) != table_dir(tmp_path, reward_dirs[::-1])
