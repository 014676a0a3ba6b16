"""Captions of one NetHack transition: the paper's "diff" representation.

A *sample* is one transition (observation before -> observation after). It is described by the two
game messages and two stat vectors ``[dlvl, gold, hp, maxhp, xl, hunger]`` (``stats_list`` in the
original dataset format). The LLM sees :func:`caption`, the reward model sees :func:`message_array`
and :func:`stat_deltas`.

The caption text is byte-for-byte the one of the original MaestroMotif code, so label files made
for the original datasets (e.g. the released Llama 3.1 70B labels) describe the same text::

    Message: previously seen "<prev>", currently displayed "<cur>"
    Dungeon Level: went down from 1 to 2          # "down" means deeper
    Gold: did not change
    HP: went down from 14/14 to 12/14
    XP: went up from 1 to 2
    Hunger: did not change.                      # the trailing period is the original's
    Hunger: changed from Normal to Hungry        # hunger changes are named, not up/down

Hunger levels follow ``blstats[NLE_BL_HUNGER]``: 0 Satiated, 1 Normal ("Not Hungry"), 2 Hungry,
3 Weak, 4 Fainting, 5 Fainted, 6 Starved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MESSAGE_LEN = 256  # bytes of a message fed to the reward model (NLE's message buffer size)
STAT_NAMES = ("dlvl", "gold", "hp", "maxhp", "xl", "hunger")
DELTA_NAMES = ("dlvl", "gold", "hp", "xl", "hunger")  # maxhp is folded into the HP line
HUNGER_NAMES = {0: "Satiated", 1: "Normal", 2: "Hungry", 3: "Weak", 4: "Fainting", 5: "Fainted", 6: "Starved"}
# Status-line spelling of each hunger level (the bottom line shows nothing when not hungry).
HUNGER_STATUS = {"Satiated": 0, "": 1, "Hungry": 2, "Weak": 3, "Fainting": 4, "Fainted": 5, "Starved": 6}


def _updown(label: str, a: int, b: int, deeper_is_down: bool = False) -> str:
    if a == b:
        return f"{label}: did not change"
    up = (a > b) if deeper_is_down else (a < b)
    return f"{label}: went {'up' if up else 'down'} from {a} to {b}"


def caption_lines(msgs: Sequence[str], stats: Sequence[Sequence[int]]) -> list[str]:
    """The six caption lines of a transition (see module docstring)."""
    (prev_msg, cur_msg), (s1, s2) = msgs, stats
    s1 = [int(x) for x in s1]
    s2 = [int(x) for x in s2]
    lines = [f'Message: previously seen "{prev_msg}", currently displayed "{cur_msg}"']
    lines.append(_updown("Dungeon Level", s1[0], s2[0], deeper_is_down=True))
    lines.append(_updown("Gold", s1[1], s2[1]))
    hp1, hp2 = f"{s1[2]}/{s1[3]}", f"{s2[2]}/{s2[3]}"
    if hp1 == hp2:
        lines.append("HP: did not change")
    else:
        # A max-HP-only change (level up at full health) keeps the original's wording: no direction.
        change = "went up from" if s1[2] < s2[2] else "went down from" if s1[2] > s2[2] else "did not change"
        lines.append(f"HP: {change} {hp1} to {hp2}")
    lines.append(_updown("XP", s1[4], s2[4]))
    h1, h2 = HUNGER_NAMES.get(s1[5], "Unknown"), HUNGER_NAMES.get(s2[5], "Unknown")
    lines.append("Hunger: did not change." if h1 == h2 else f"Hunger: changed from {h1} to {h2}")
    return lines


def caption(msgs: Sequence[str], stats: Sequence[Sequence[int]]) -> str:
    """The caption the LLM reads: :func:`caption_lines` joined by newlines."""
    return "\n".join(caption_lines(msgs, stats))


def message_array(msg: str | bytes, length: int = MESSAGE_LEN) -> np.ndarray:
    """A message as zero-padded bytes (uint8, ``length``), truncated if longer; non-ASCII -> '?'."""
    raw = msg if isinstance(msg, bytes) else msg.encode("ascii", errors="replace")
    out = np.zeros(length, dtype=np.uint8)
    raw = raw[:length]
    out[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return out


def stat_deltas(stats: Sequence[Sequence[int]]) -> np.ndarray:
    """Clipped (-1/0/+1) deltas of ``DELTA_NAMES`` (float32, 5) - the reward model's stat input.

    Dungeon level is the raw depth delta (+1 = deeper), hunger +1 = hungrier.
    """
    s = np.asarray(stats, dtype=np.float32)
    s = np.delete(s, 3, axis=1)  # drop maxhp
    return np.clip(s[1] - s[0], -1.0, 1.0).astype(np.float32)
