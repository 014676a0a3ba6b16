"""Caption-level sanity checks of labels: does the LLM prefer what the skill obviously wants?

Each skill with a check has a rule ``(caption_1, caption_2) -> FIRST | SECOND | None`` that only
speaks when the answer is unambiguous from the caption text alone (e.g. for the descender: exactly
one of the two transitions says "Dungeon Level: went down"). :func:`agreement` reports on how many
pairs a rule speaks and how often the labels agree with it (ties and unknowns count as
disagreement). A constant or random labeller scores about 50% on these pairs, so the figure says
how much a model actually reads the captions. These rules are a check, never a labeller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from maestromotif.data.dataset import FIRST, LABEL_NAMES, SECOND

Rule = Callable[[str, str], int | None]


def _message(caption: str) -> str:
    first = caption.split("\n", 1)[0]
    m = re.search(r'currently displayed "(.*)"$', first)
    return m.group(1) if m else first


def _exactly_one(pred: Callable[[str], bool], a: str, b: str, prefer_true: bool = True) -> int | None:
    pa, pb = pred(a), pred(b)
    if pa == pb:
        return None
    return (FIRST if pa else SECOND) if prefer_true else (SECOND if pa else FIRST)


def _went_down(c: str) -> bool:
    return "Dungeon Level: went down" in c


def _went_up(c: str) -> bool:
    return "Dungeon Level: went up" in c


def _level_change(c: str) -> bool:
    return _went_down(c) or _went_up(c)


_SHOP = re.compile(r"\b(sell|sold|shopkeeper|offers? \d+ gold|for \d+ (gold|zorkmids)|welcome to .*'s"
                   r"|unpaid|zorkmids|pay\b|bill)", re.IGNORECASE)
_ALTAR = re.compile(r"\b(altar|(black|amber) flash)", re.IGNORECASE)
_ADVENTURE = re.compile(r"\b(you kill|you destroy|gold pieces?|scrolls?\b|you find|you see here)", re.IGNORECASE)


def descender(a: str, b: str) -> int | None:
    return _exactly_one(_went_down, a, b)


def ascender(a: str, b: str) -> int | None:
    return _exactly_one(_went_up, a, b)


def discoverer(a: str, b: str) -> int | None:
    # "categorically refuse going up and down": a level change loses; otherwise kills/gold/scrolls win
    r = _exactly_one(_level_change, a, b, prefer_true=False)
    if r is not None or _level_change(a):
        return r
    return _exactly_one(lambda c: bool(_ADVENTURE.search(_message(c))) or "Gold: went up" in c, a, b)


def merchant(a: str, b: str) -> int | None:
    return _exactly_one(lambda c: bool(_SHOP.search(_message(c))), a, b)


def worshipper(a: str, b: str) -> int | None:
    return _exactly_one(lambda c: bool(_ALTAR.search(_message(c))), a, b)


RULES: dict[str, Rule] = {
    "descender": descender,
    "ascender": ascender,
    "discoverer": discoverer,
    "merchant": merchant,
    "worshipper": worshipper,
    "stairs": descender,
}


def agreement(goal_key: str, pairs: Sequence[tuple[str, str]], labels: Sequence[int]) -> dict[str, Any] | None:
    """None without a rule, else {"rule_pairs": pairs where the rule speaks, "agree": labels equal to
    the rule's, "wrong": the opposite verdict, "rate": agree / rule_pairs (ties count as misses),
    "precision": agree / (agree + wrong), "labels_on_rule_pairs": counts per label}."""
    rule = RULES.get(goal_key)
    if rule is None:
        return None
    n = agree = wrong = 0
    by = {"first": 0, "second": 0, "tie": 0, "unknown": 0}
    for (a, b), lab in zip(pairs, labels):
        want = rule(a, b)
        if want is None:
            continue
        n += 1
        agree += int(lab == want)
        wrong += int(lab in (FIRST, SECOND) and lab != want)
        by[LABEL_NAMES.get(int(lab), "unknown")] += 1
    return {"rule_pairs": n, "agree": agree, "wrong": wrong, "rate": (agree / n) if n else None,
            "precision": agree / (agree + wrong) if agree + wrong else None, "labels_on_rule_pairs": by}


# ---------------------------------------------------------------------------------------------------
# Probe pairs: the shipped datasets hold almost no skill events (no altar, no shop, two staircases),
# so label sanity is also measured on probes: a skill event written in the caption format (hand-written
# NetHack 3.6 messages + stat changes, via maestromotif.data.captions.caption) paired with a real
# caption of the dataset where nothing skill-relevant happens. The rule says which side should win.
# ---------------------------------------------------------------------------------------------------

def _ev(msg: str, dlvl: int = 0, gold: int = 0, prev: str = "") -> dict[str, Any]:
    """A dataset sample (see maestromotif.data.dataset) of one event, on dungeon level 2 with 20 gold."""
    before = [2, 20, 14, 14, 1, 1]
    after = [2 + dlvl, 20 + gold, 14, 14, 1, 1]
    return {"msg_strs": (prev, msg), "stats_list": [before, after], "source": "probe"}


def probe_events() -> dict[str, list[dict[str, Any]]]:
    """Skill -> samples of events the skill's goal text clearly prefers to a neutral transition."""
    return {
        "descender": [_ev("You descend the stairs.", dlvl=1), _ev("You fall through a trap door!", dlvl=1),
                      _ev("You descend the stairs.  You see here a dagger.", dlvl=1),
                      _ev("You fly down the stairs.", dlvl=1)],
        "ascender": [_ev("You climb up the stairs.", dlvl=-1), _ev("You climb up the ladder.", dlvl=-1),
                     _ev("You climb up the stairs.  There is a staircase down here.", dlvl=-1)],
        "discoverer": [_ev("You kill the newt!"), _ev("$ - 12 gold pieces.", gold=12),
                       _ev("You find a hidden passage."), _ev("You see here a scroll labeled FOOBIE BLETCH."),
                       _ev("You kill the jackal!  Welcome to experience level 2.")],
        "worshipper": [_ev("There is an altar to Huan Ti (neutral) here."),
                       _ev("There is a black flash as a dagger hits the altar.", prev="You drop a dagger."),
                       _ev("There is an amber flash as a scroll labeled ZELGO MER hits the altar."),
                       _ev("You drop 3 items on the altar.  There is a black flash.")],
        "merchant": [_ev("Hello, Agent!  Welcome to Asidonhopo's general store!"),
                     _ev("Asidonhopo offers 7 gold pieces for your dagger.  Sell it? [ynaq] (y)"),
                     _ev("You sold a dagger for 7 gold pieces.", gold=7),
                     _ev("You sold a scroll labeled ZELGO MER for 20 gold pieces.", gold=20)],
    }


def probe_samples(skill: str, neutral: Sequence[dict[str, Any]], n: int = 60, seed: int = 0) -> list[dict[str, Any]]:
    """A probe dataset (sample list, pair i = samples 2i, 2i+1) of ``n`` pairs: a skill event against a
    real sample where nothing the rule knows happens, in random order."""
    import random

    from maestromotif.data.captions import caption

    rng = random.Random(seed)
    rule = RULES[skill]
    events = probe_events()[skill]
    caps = [caption(e["msg_strs"], e["stats_list"]) for e in events]
    pool, seen = [], set()
    for smp in neutral:
        c = caption(smp["msg_strs"], smp["stats_list"])
        if c not in seen and not _level_change(c) and all(rule(e, c) is not None for e in caps):
            seen.add(c)
            pool.append(smp)
    out: list[dict[str, Any]] = []
    for k in range(n):
        e, c = events[k % len(events)], rng.choice(pool)
        out += [e, c] if rng.random() < 0.5 else [c, e]
    return out
