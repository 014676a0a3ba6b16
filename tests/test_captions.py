"""Captions against hand-verified cases (the original MaestroMotif wording, byte for byte)."""

import numpy as np

from maestromotif.data.captions import caption, caption_lines, message_array, stat_deltas


def test_caption_all_changes():
    text = caption(("You hit the newt.", "You kill the newt!"), [[1, 0, 14, 14, 1, 1], [2, 5, 12, 14, 2, 2]])
    assert text.splitlines() == [
        'Message: previously seen "You hit the newt.", currently displayed "You kill the newt!"',
        "Dungeon Level: went down from 1 to 2",
        "Gold: went up from 0 to 5",
        "HP: went down from 14/14 to 12/14",
        "XP: went up from 1 to 2",
        "Hunger: changed from Normal to Hungry",
    ]


def test_caption_no_change_and_going_up():
    lines = caption_lines(("", ""), [[3, 10, 9, 14, 1, 1], [2, 10, 9, 14, 1, 1]])
    assert lines[0] == 'Message: previously seen "", currently displayed ""'
    assert lines[1] == "Dungeon Level: went up from 3 to 2"  # shallower is "up"
    assert lines[2:] == ["Gold: did not change", "HP: did not change", "XP: did not change",
                         "Hunger: did not change."]


def test_caption_max_hp_only_change_keeps_original_wording():
    lines = caption_lines(("a", "b"), [[1, 0, 14, 14, 1, 1], [1, 0, 14, 18, 2, 1]])
    assert lines[3] == "HP: did not change 14/14 to 14/18"
    assert lines[4] == "XP: went up from 1 to 2"


def test_arrays():
    m = message_array("You kill the newt!")
    assert m.dtype == np.uint8 and m.shape == (256,)
    assert bytes(m[:18]) == b"You kill the newt!" and m[18:].sum() == 0
    assert message_array("x" * 300).shape == (256,)
    d = stat_deltas([[1, 0, 14, 14, 1, 1], [2, 5, 12, 14, 1, 3]])
    assert d.tolist() == [1.0, 1.0, -1.0, 0.0, 1.0]
