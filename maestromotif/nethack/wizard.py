"""Wizard-mode (debug) helpers that put a real game into a chosen state - for tests and detectors.

NetHack's debug mode can map the level (^F), teleport within it (^T) and between levels (^V). These
helpers type those commands through :meth:`MaestroNLE.send_keys`; the environment must be made with
``wizard=True``.
"""

from __future__ import annotations

import numpy as np

from maestromotif.nethack.env import MaestroNLE
from maestromotif.nethack.obs import BL, message_text

CTRL_F, CTRL_T, CTRL_V = 6, 20, 22


def reveal_map(env: MaestroNLE) -> dict[str, np.ndarray]:
    return _settle(env, env.send_keys(bytes([CTRL_F])))


def find_on_map(obs: dict[str, np.ndarray], char: str) -> list[tuple[int, int]]:
    """Map coordinates ``(x, y)`` where the tty shows ``char`` (map rows start at tty row 1)."""
    rows, cols = np.nonzero(obs["tty_chars"][1:22] == ord(char))
    return [(int(c), int(r)) for r, c in zip(rows, cols)]


def _cursor_keys(dx: int, dy: int) -> bytes:
    keys = b""
    for d, (small, big) in ((dx, (b"l", b"L")), (-dx, (b"h", b"H")), (dy, (b"j", b"J")), (-dy, (b"k", b"K"))):
        if d > 0:
            keys += big * (d // 8) + small * (d % 8)
    return keys


def teleport_to(env: MaestroNLE, x: int, y: int) -> dict[str, np.ndarray]:
    """Teleport the hero to map cell ``(x, y)`` of the current level."""
    obs = env.current_obs()
    ax, ay = int(obs["blstats"][BL.X]), int(obs["blstats"][BL.Y])
    obs = env.send_keys(bytes([CTRL_T]) + _cursor_keys(x - ax, y - ay) + b".")
    return _settle(env, obs)


def level_teleport(env: MaestroNLE, level: int) -> dict[str, np.ndarray]:
    """Level-teleport to ``level`` of the current dungeon branch."""
    return _settle(env, env.send_keys(bytes([CTRL_V]) + str(level).encode() + b"\r"))


def stand_on(env: MaestroNLE, char: str) -> bool:
    """Reveal the map and teleport onto the first cell showing ``char`` (e.g. ``">"``)."""
    obs = reveal_map(env)
    spots = find_on_map(obs, char)
    if not spots:
        return False
    obs = teleport_to(env, *spots[0])
    return (int(obs["blstats"][BL.X]), int(obs["blstats"][BL.Y])) == spots[0]


def _settle(env: MaestroNLE, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Dismiss --More-- and decline any question left by a debug command."""
    for _ in range(20):
        misc = env.last_observation[env._idx["misc"]]
        if misc[2]:
            obs = env.send_keys(b" ")
        elif misc[0] or misc[1]:
            obs = env.send_keys(bytes([27]))
        else:
            break
    return obs


__all__ = ["reveal_map", "find_on_map", "teleport_to", "level_teleport", "stand_on", "message_text"]
