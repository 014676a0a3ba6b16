"""Chunked label store, answer cache and merging (pure logic, no LLM)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maestromotif.annotation.cache import AnswerCache, pair_key
from maestromotif.annotation.store import LabelStore, chunk_range
from maestromotif.data.dataset import FIRST, SECOND, TIE, UNKNOWN, load_labels
from maestromotif.utils.io import atomic_save_npy
from maestromotif.utils.jsonl import AppendLog, read_jsonl


def test_chunk_ranges_cover_every_pair_once():
    for n in (0, 1, 7, 1000, 1001):
        for k in (1, 3, 8):
            covered = [i for c in range(k) for i in range(*chunk_range(n, k, c))]
            assert covered == list(range(n))


def test_torn_last_line_is_ignored_and_next_write_starts_clean(tmp_path):
    p = tmp_path / "x.jsonl"
    log = AppendLog(p)
    log.write([{"i": 0, "l": 1}, {"i": 1, "l": 2}])
    log.close()
    with open(p, "ab") as f:
        f.write(b'{"i": 2, "l"')  # what kill -9 leaves behind
    assert [r["i"] for r in read_jsonl(p)] == [0, 1]
    log = AppendLog(p)
    log.write([{"i": 3, "l": 0}])
    log.close()
    assert [r["i"] for r in read_jsonl(p)] == [0, 1, 3]


def test_parts_of_concurrent_chunks_merge_without_loss(tmp_path):
    store = LabelStore(tmp_path, "ann_skill_default", 10)
    a = AppendLog(store.part_path(0, 2))
    b = AppendLog(store.part_path(1, 2))
    a.write([{"i": i, "l": FIRST, "s": "llm"} for i in range(0, 5)])
    b.write([{"i": i, "l": SECOND, "s": "llm"} for i in range(5, 9)])
    a.sync()
    b.sync()
    first = store.merge()  # e.g. chunk 0 finished while chunk 1 still runs
    assert list(first) == [0] * 5 + [1] * 4 + [UNKNOWN]
    b.write([{"i": 9, "l": TIE, "s": "same"}])
    b.close()
    a.close()
    labels = store.merge()
    assert list(labels) == [0] * 5 + [1] * 4 + [TIE]
    assert load_labels(store.npy_path, num_pairs=10).tolist() == labels.tolist()


def test_labels_of_an_original_file_count_as_done(tmp_path):
    store = LabelStore(tmp_path, "llama3_descender_default", 4)
    atomic_save_npy(store.npy_path, np.array([0, 3, 2, 3], dtype=np.int32))  # original's int32 file
    assert store.done() == {0: 0, 2: 2}
    log = AppendLog(store.part_path(0, 1))
    log.write([{"i": 1, "l": UNKNOWN, "s": "llm", "u": 1}])
    log.close()
    assert store.done() == {0: 0, 1: UNKNOWN, 2: 2}  # unparseable is computed: not asked again...
    assert store.done(retry_unparseable=True) == {0: 0, 2: 2}  # ...unless the user asks for it
    assert store.merge().tolist() == [0, 3, 2, 3]


def test_reset_forgets_only_the_chunk(tmp_path):
    store = LabelStore(tmp_path, "e", 6)
    log = AppendLog(store.part_path(0, 1))
    log.write([{"i": i, "l": FIRST} for i in range(6)])
    log.close()
    store.merge()
    store.reset(2, 4, 0, 1)
    assert sorted(store.done()) == [0, 1, 4, 5]
    assert store.load_npy().tolist() == [0, 0, 3, 3, 0, 0]


def test_reset_of_one_chunk_leaves_a_running_chunks_part_alone(tmp_path):
    # Two chunk jobs started together with --ignore-existing: chunk 1's reset ran after chunk 0 had
    # opened its part file; replacing that file lost every label chunk 0 wrote afterwards (found when
    # a 2-chunk relabel ended with 2,500 of 5,000 labels unknown).
    store = LabelStore(tmp_path, "e", 10)
    old = AppendLog(store.part_path(0, 1))  # an earlier 1-chunk run labelled everything
    old.write([{"i": i, "l": TIE} for i in range(10)])
    old.close()
    store.reset(0, 5, 0, 2)
    a = AppendLog(store.part_path(0, 2))
    a.write([{"i": i, "l": FIRST} for i in range(0, 3)])
    a.sync()
    store.reset(5, 10, 1, 2)  # chunk 1 starts while chunk 0 runs
    a.write([{"i": i, "l": FIRST} for i in range(3, 5)])
    a.close()
    b = AppendLog(store.part_path(1, 2))
    b.write([{"i": i, "l": SECOND} for i in range(5, 10)])
    b.close()
    assert store.merge().tolist() == [FIRST] * 5 + [SECOND] * 5


def test_cache_is_order_free_and_flips_swapped_pairs(tmp_path):
    fp = {"model": "m", "prompt": "p"}
    c = AnswerCache(tmp_path, fp)
    c.put("A", "B", FIRST, d=0.5)
    c.put("D", "C", TIE)
    c.close()
    c2 = AnswerCache(tmp_path, fp)  # a rerun / another chunk reads what the first wrote
    assert c2.get("A", "B")["l"] == FIRST and c2.get("A", "B")["d"] == 0.5
    assert c2.get("B", "A")["l"] == SECOND and c2.get("B", "A")["d"] == -0.5
    assert c2.get("C", "D")["l"] == TIE
    assert c2.get("A", "C") is None
    assert pair_key("A", "B")[0] == pair_key("B", "A")[0]
    other = AnswerCache(tmp_path, {"model": "m", "prompt": "other prompt"})
    assert other.get("A", "B") is None  # a different question is never answered from the cache


def test_cache_writers_never_share_a_file(tmp_path):
    fp = {"k": 1}
    w1, w2 = AnswerCache(tmp_path, fp), AnswerCache(tmp_path, fp)
    w1.put("a", "b", FIRST)
    w2.put("c", "d", SECOND)
    w1.close()
    w2.close()
    files = sorted((tmp_path / w1.key).glob("*.jsonl"))
    assert len(files) == 2
    assert len(AnswerCache(tmp_path, fp)) == 2
    assert json.loads((tmp_path / w1.key / "meta.json").read_text()) == fp


@pytest.mark.parametrize("bad", [[0, 5], [[0, 1]]])
def test_merge_refuses_a_corrupt_label_file(tmp_path, bad):
    store = LabelStore(tmp_path, "e", 2)
    atomic_save_npy(store.npy_path, np.array(bad))
    with pytest.raises(Exception, match="e.npy"):
        store.merge()
