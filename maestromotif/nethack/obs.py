"""Observation helpers: message text, named bottom-line stats, branches, inventory, local views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from nle import nethack as nh


class BL:
    """Indices into ``blstats`` (from ``nle.nethack``; named here so callers never hard-code numbers)."""

    X = nh.NLE_BL_X
    Y = nh.NLE_BL_Y
    STR25 = nh.NLE_BL_STR25
    STR125 = nh.NLE_BL_STR125
    DEX = nh.NLE_BL_DEX
    CON = nh.NLE_BL_CON
    INT = nh.NLE_BL_INT
    WIS = nh.NLE_BL_WIS
    CHA = nh.NLE_BL_CHA
    SCORE = nh.NLE_BL_SCORE
    HP = nh.NLE_BL_HP
    HPMAX = nh.NLE_BL_HPMAX
    DEPTH = nh.NLE_BL_DEPTH
    GOLD = nh.NLE_BL_GOLD
    ENE = nh.NLE_BL_ENE
    ENEMAX = nh.NLE_BL_ENEMAX
    AC = nh.NLE_BL_AC
    HD = nh.NLE_BL_HD
    XP = nh.NLE_BL_XP  # experience level
    EXP = nh.NLE_BL_EXP  # experience points
    TIME = nh.NLE_BL_TIME
    HUNGER = nh.NLE_BL_HUNGER
    CAP = nh.NLE_BL_CAP
    DNUM = nh.NLE_BL_DNUM
    DLEVEL = nh.NLE_BL_DLEVEL
    CONDITION = nh.NLE_BL_CONDITION
    ALIGN = nh.NLE_BL_ALIGN


BLSTAT_NAMES = {v: k.lower() for k, v in vars(BL).items() if not k.startswith("_") and isinstance(v, int)}

# NetHack 3.6 dungeon numbers (dungeon.def order).
BRANCHES = {
    0: "The Dungeons of Doom",
    1: "Gehennom",
    2: "The Gnomish Mines",
    3: "The Quest",
    4: "Sokoban",
    5: "Fort Ludios",
    6: "Vlad's Tower",
    7: "The Elemental Planes",
}
DUNGEONS_OF_DOOM, GNOMISH_MINES, SOKOBAN = 0, 2, 4

# Object classes of inv_oclasses (NetHack's objclass.h).
OCLASS = {
    "weapon": 2, "armor": 3, "ring": 4, "amulet": 5, "tool": 6, "food": 7, "potion": 8,
    "scroll": 9, "spbook": 10, "wand": 11, "coin": 12, "gem": 13, "rock": 14,
}


def message_text(message: np.ndarray) -> str:
    """NLE's zero-padded message buffer as text."""
    raw = bytes(message)
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end]).decode("ascii", errors="replace").rstrip()


def screen_text(tty_chars: np.ndarray) -> str:
    """The terminal (``tty_chars``, 24 x 80) as text, one line per row, trailing blanks removed."""
    return "\n".join(bytes(row).decode("latin-1").rstrip() for row in tty_chars)


def blstats_dict(blstats: np.ndarray) -> dict[str, int]:
    return {name: int(blstats[i]) for i, name in BLSTAT_NAMES.items()}


def branch_name(dnum: int) -> str:
    return BRANCHES.get(int(dnum), f"dungeon {int(dnum)}")


def caption_stats(blstats: np.ndarray) -> list[int]:
    """``[dlvl, gold, hp, maxhp, xl, hunger]`` - one row of a sample's ``stats_list``."""
    b = blstats
    return [int(b[BL.DEPTH]), int(b[BL.GOLD]), int(b[BL.HP]), int(b[BL.HPMAX]), int(b[BL.XP]), int(b[BL.HUNGER])]


@dataclass(frozen=True)
class InvItem:
    letter: str
    oclass: int
    text: str


def inventory(obs: dict[str, Any]) -> list[InvItem]:
    """Inventory entries from ``inv_letters`` / ``inv_oclasses`` / ``inv_strs``."""
    items = []
    for letter, oclass, row in zip(obs["inv_letters"], obs["inv_oclasses"], obs["inv_strs"]):
        if letter == 0:
            break
        items.append(InvItem(chr(int(letter)), int(oclass), message_text(row)))
    return items


def local_view(tty_chars: np.ndarray, tty_colors: np.ndarray, blstats: np.ndarray, radius: int = 3
               ) -> tuple[np.ndarray, np.ndarray]:
    """Characters and colours of the (2r+1)^2 tty cells around the agent (pads with spaces/0).

    The map starts on tty row 1, so the agent is at tty ``(y + 1, x)``. This is what the skills'
    initiation functions read (e.g. a shopkeeper ``@`` nearby, an altar ``_``).
    """
    y, x = int(blstats[BL.Y]) + 1, int(blstats[BL.X])
    size = 2 * radius + 1
    chars = np.full((size, size), ord(" "), dtype=np.uint8)
    colors = np.zeros((size, size), dtype=np.int8)
    rows, cols = tty_chars.shape
    y0, x0 = y - radius, x - radius
    ys, xs = slice(max(y0, 0), min(y0 + size, rows)), slice(max(x0, 0), min(x0 + size, cols))
    ty, tx = slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0)
    chars[ty, tx] = tty_chars[ys, xs]
    colors[ty, tx] = tty_colors[ys, xs]
    return chars, colors


