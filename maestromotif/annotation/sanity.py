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
_ADVENTURE = re.compile(r"\b(you kill|you destroy|gold pieces?|scroll)", re.IGNORECASE)


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
    """{"rule_pairs", "agree", "rate", "first", "second", "tie", "unknown"} or None without a rule."""
    rule = RULES.get(goal_key)
    if rule is None:
        return None
    n = agree = 0
    by = {"first": 0, "second": 0, "tie": 0, "unknown": 0}
    for (a, b), lab in zip(pairs, labels):
        want = rule(a, b)
        if want is None:
            continue
        n += 1
        agree += int(lab == want)
        by[LABEL_NAMES.get(int(lab), "unknown")] += 1
    return {"rule_pairs": n, "agree": agree, "rate": (agree / n) if n else None, "labels_on_rule_pairs": by}
