"""Caption rules and probe pairs used to measure label sanity (maestromotif.annotation.sanity)."""

from __future__ import annotations

from maestromotif.annotation.sanity import RULES, agreement, probe_samples
from maestromotif.data.captions import caption
from maestromotif.data.dataset import FIRST, SECOND, TIE, PairDataset


def s(msg, dlvl=(1, 1), gold=(0, 0)):
    return {"msg_strs": ("", msg), "stats_list": [[dlvl[0], gold[0], 9, 9, 1, 1], [dlvl[1], gold[1], 9, 9, 1, 1]]}


def cap(smp):
    return caption(smp["msg_strs"], smp["stats_list"])


NEUTRAL = [s("The door opens."), s("It's solid stone."), s(""), s("This door is locked."), s("You kick at empty space.")]


def test_rules_speak_only_when_obvious():
    down, up, gold, shop = s("You descend the stairs.", dlvl=(1, 2)), s("You climb up the stairs.", dlvl=(2, 1)), \
        s("$ - 5 gold pieces.", gold=(0, 5)), s("You sold a dagger for 7 gold pieces.", gold=(0, 7))
    door = NEUTRAL[0]
    assert RULES["descender"](cap(down), cap(door)) == FIRST and RULES["descender"](cap(door), cap(down)) == SECOND
    assert RULES["descender"](cap(door), cap(gold)) is None
    assert RULES["ascender"](cap(door), cap(up)) == SECOND
    assert RULES["discoverer"](cap(gold), cap(door)) == FIRST and RULES["discoverer"](cap(down), cap(door)) == SECOND
    assert RULES["merchant"](cap(door), cap(shop)) == SECOND


def test_probe_datasets_are_balanced_and_rule_decided():
    for skill in ("descender", "ascender", "discoverer", "worshipper", "merchant"):
        ds = PairDataset(probe_samples(skill, NEUTRAL, n=20, seed=0))
        wants = [RULES[skill](*ds.pair_captions(i)) for i in range(ds.num_pairs)]
        assert None not in wants and 4 <= wants.count(FIRST) <= 16  # random order, both sides
        perfect = agreement(skill, [ds.pair_captions(i) for i in range(20)], wants)
        assert perfect["rate"] == 1.0 and perfect["rule_pairs"] == 20
        ties = agreement(skill, [ds.pair_captions(i) for i in range(20)], [TIE] * 20)
        assert ties["rate"] == 0.0 and ties["labels_on_rule_pairs"]["tie"] == 20
