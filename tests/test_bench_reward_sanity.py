"""bench/reward_sanity.py's probes are new: not the annotation probes, not the classify prompt's examples."""

from __future__ import annotations

from bench.reward_sanity import PROBES, neutral_samples
from maestromotif.annotation.prompts import PromptLibrary
from maestromotif.annotation.sanity import RULES, probe_events
from maestromotif.data.captions import caption
from maestromotif.skills.table import SKILL_NAMES


def test_probes_are_new_and_rule_positive():
    used = {e["msg_strs"][1] for v in probe_events().values() for e in v}
    used |= {e.caption for e in PromptLibrary().prompt("classify").pointwise.examples}
    neutral = {"msg_strs": ("", "The door opens."), "stats_list": [[3, 40, 12, 14, 2, 1]] * 2}
    nc = caption(neutral["msg_strs"], neutral["stats_list"])
    assert set(PROBES) == set(SKILL_NAMES)
    for skill, events in PROBES.items():
        for e in events:
            msg = e["msg_strs"][1]
            assert msg not in used and not any(msg in u for u in used), msg
            # each probe is one its skill's caption rule prefers to a neutral transition
            assert RULES[skill](caption(e["msg_strs"], e["stats_list"]), nc) == 0, msg


def test_neutral_samples_exclude_rule_events():
    base = [3, 40, 12, 14, 2, 1]
    samples = [{"msg_strs": ("", m), "stats_list": [base, base]} for m in ("The door opens.", "You kill the newt!",
                                                                          "The door opens.", "It's a wall.",
                                                                          "You hit the gnome!")]
    samples.append({"msg_strs": ("", ""), "stats_list": [base, [4] + base[1:]]})  # a descent
    out = neutral_samples(samples, 10)
    assert sorted(s["msg_strs"][1] for s in out) == ["It's a wall.", "The door opens."]
    assert len(neutral_samples(samples, 10, fights_neutral=True)) == 3
