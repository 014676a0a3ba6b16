"""Build transition samples from ttyrec recordings.

Reads what NLE writes with ``savedir`` (``*.ttyrec3.bz2``: frames + the key pressed after each) and
the format of the Dungeons-and-Data human games (``ttyrec`` v1, frames only), through NLE's own
terminal emulator (``nle._pyconverter.Converter``) - so the screens are exactly what a player saw.

From each frame: the message is tty row 0 (without a trailing ``--More--``); the stats
``[dlvl, gold, hp, maxhp, xl, hunger]`` are parsed from the two bottom lines
(``Dlvl:3 $:12 HP:10(14) Pw:5(5) AC:4 Xp:2/25 T:812 Hungry``). Frames whose bottom lines cannot be
parsed (menus covering the screen, the tombstone) are skipped. Consecutive frames with the same
(message, stats) are one state; each change of state is one transition sample.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.data.captions import HUNGER_STATUS
from maestromotif.utils.errors import UserError

ROWS, COLS = 24, 80
_DLVL = re.compile(r"Dlvl:(\d+)")
_GOLD = re.compile(r"\$:(\d+)")
_HP = re.compile(r"HP:(-?\d+)\((\d+)\)")
_XP = re.compile(r"(?:Xp|Exp):(\d+)")
_HUNGER = re.compile(r"\b(Satiated|Hungry|Weak|Fainting|Fainted|Starved)\b")
_MORE = re.compile(r"\s*--More--\s*$")


def parse_bottom_lines(line1: str, line2: str) -> list[int] | None:
    """``[dlvl, gold, hp, maxhp, xl, hunger]`` from the status lines, or None if they are not status."""
    text = line1 + " " + line2
    d, g, h, x = _DLVL.search(text), _GOLD.search(text), _HP.search(text), _XP.search(text)
    if not (d and h and x):
        return None
    hunger = _HUNGER.search(line2) or _HUNGER.search(line1)
    return [int(d.group(1)), int(g.group(1)) if g else 0, int(h.group(1)), int(h.group(2)), int(x.group(1)),
            HUNGER_STATUS[hunger.group(1)] if hunger else HUNGER_STATUS[""]]


def frame_state(tty_chars: np.ndarray) -> tuple[str, list[int]] | None:
    row = lambda i: bytes(tty_chars[i]).decode("latin-1").rstrip()  # noqa: E731
    stats = parse_bottom_lines(row(ROWS - 2), row(ROWS - 1))
    if stats is None:
        return None
    return _MORE.sub("", row(0)).strip(), stats


def _version_of(path: Path) -> int:
    m = re.search(r"\.ttyrec(\d)", path.name)
    return int(m.group(1)) if m else 1


def read_frames(path: str | Path, chunk: int = 4096) -> Iterator[np.ndarray]:
    """Yield the tty_chars of every frame of a ttyrec (bz2 or plain)."""
    from nle import _pyconverter

    path = Path(path)
    if not path.exists():
        raise UserError("ttyrec not found", path=path, expected="a ttyrec file (.ttyrec, .ttyrec3.bz2, ...)")
    conv = _pyconverter.Converter(ROWS, COLS, _version_of(path))
    try:
        conv.load_ttyrec(str(path))
    except Exception as e:
        raise UserError(f"unreadable ttyrec ({e})", path=path,
                        expected="a ttyrec recording (NLE savedir output or a Dungeons-and-Data game)") from None
    chars = np.zeros((chunk, ROWS, COLS), dtype=np.uint8)
    colors = np.zeros((chunk, ROWS, COLS), dtype=np.int8)
    cursors = np.zeros((chunk, 2), dtype=np.int16)
    stamps = np.zeros(chunk, dtype=np.int64)
    keys = np.zeros(chunk, dtype=np.uint8)
    scores = np.zeros(chunk, dtype=np.int32)
    while True:
        try:
            remaining = conv.convert(chars, colors, cursors, stamps, keys, scores)
        except Exception as e:
            raise UserError(f"corrupt ttyrec ({e})", path=path) from None
        n = chunk - remaining
        yield from chars[:n]
        if remaining:
            return


def samples_from_ttyrec(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Transition samples of one recording, plus counts (frames, skipped frames, states)."""
    states: list[tuple[str, list[int]]] = []
    frames = skipped = 0
    for tty in read_frames(path):
        frames += 1
        st = frame_state(tty)
        if st is None:
            skipped += 1
            continue
        if not states or states[-1] != st:
            states.append(st)
    if frames == 0:
        raise UserError("ttyrec has no frames", path=path, expected="a non-empty recording")
    source = f"ttyrec:{Path(path).name}"
    samples = [{"msg_strs": (a[0], b[0]), "stats_list": [a[1], b[1]], "source": source, "step": i}
               for i, (a, b) in enumerate(zip(states, states[1:]))]
    return samples, {"frames": frames, "skipped_frames": skipped, "states": len(states)}
