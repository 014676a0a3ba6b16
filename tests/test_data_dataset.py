"""Dataset schema: round trip, the original format, and clear errors on bad input."""

import pickle

import numpy as np
import pytest

from maestromotif.data.dataset import (
    PairDataset,
    label_counts,
    load_dataset,
    load_labels,
    meta_path,
    save_dataset,
)
from maestromotif.skills.table import get_skill
from maestromotif.utils.errors import UserError

S = [
    {"msg_strs": ("", "You kill the newt!"), "stats_list": [[1, 0, 14, 14, 1, 1], [1, 0, 14, 14, 1, 1]]},
    {"msg_strs": ("", "You descend the stairs."), "stats_list": [[1, 0, 14, 14, 1, 1], [2, 0, 14, 14, 1, 1]]},
    {"msg_strs": ("a", "b"), "stats_list": [[2, 0, 14, 14, 1, 1], [2, 3, 14, 14, 1, 1]]},
    {"msg_strs": ("a", "b"), "stats_list": [[2, 0, 14, 14, 1, 1], [2, 3, 14, 14, 1, 1]]},
]


def test_round_trip_and_arrays(tmp_path):
    path = save_dataset(tmp_path / "descender.pkl", S, {"config": {"x": 1}})
    ds = load_dataset(path)
    assert ds.num_pairs == 2 and ds.samples == S
    assert ds.meta["config"] == {"x": 1} and ds.meta["summary"]["pairs"] == 2
    assert ds.pair_captions(0)[1].splitlines()[1] == "Dungeon Level: went down from 1 to 2"
    assert ds.messages.shape == (4, 256) and ds.deltas.shape == (4, 5)
    assert ds.summary()["identical_caption_pairs"] == 1


def test_original_format_loads(tmp_path):
    # A plain pickle of the original's samples (no meta file, numpy stats) loads unchanged.
    samples = [{"msg_strs": ["x", "y"], "stats_list": np.array([[1, 0, 5, 5, 1, 1], [1, 1, 5, 5, 1, 1]])}] * 2
    p = tmp_path / "merchant.pkl"
    p.write_bytes(pickle.dumps(samples))
    ds = load_dataset(p)
    assert ds.num_pairs == 1 and ds.meta == {} and "Gold: went up from 0 to 1" in ds.captions[0]


@pytest.mark.parametrize("content, words", [
    (b"not a pickle", "cannot be unpickled"),
    (pickle.dumps({"a": 1}), "not a list"),
    (pickle.dumps([{"msg_strs": ("a", "b")}] * 2), "has no 'stats_list'"),
    (pickle.dumps([{"msg_strs": ("a", "b"), "stats_list": [[1, 2, 3]]}] * 2), "shape"),
    (pickle.dumps(S[:3]), "odd number"),
])
def test_bad_datasets_give_clear_errors(tmp_path, content, words):
    p = tmp_path / "bad.pkl"
    p.write_bytes(content)
    with pytest.raises(UserError) as e:
        load_dataset(p)
    assert words in str(e.value) and str(p) in str(e.value)


def test_missing_dataset_and_unknown_skill(tmp_path):
    with pytest.raises(UserError, match="not found.*\n.*\n.*collect_dataset"):
        load_dataset(tmp_path / "nope.pkl")
    with pytest.raises(UserError, match="unknown skill 'descnder'"):
        get_skill("descnder")


def test_labels(tmp_path):
    p = tmp_path / "x.npy"
    np.save(p, np.array([0, 1, 2, 3]))
    assert label_counts(load_labels(p, num_pairs=4)) == {"first": 1, "second": 1, "tie": 1, "unknown": 1}
    with pytest.raises(UserError, match="has 4 labels but the dataset"):
        load_labels(p, num_pairs=5)
    np.save(p, np.array([0, 7]))
    with pytest.raises(UserError, match="outside 0..3"):
        load_labels(p)


def test_meta_path_and_empty():
    assert meta_path("og_dataset/descender.pkl").name == "descender.meta.json"
    assert PairDataset([]).messages.shape == (0, 256)
