"""Wizard-mode (debug) helpers that put a real game into a chosen state - for tests and detectors.

NetHack's debug mode can map the level (^F), teleport within it (^T) and between levels (^V), wish
(^W) and create monsters (^G). These helpers type those commands through
:meth:`MaestroNLE.send_keys`; the environment must be made with ``wizard=True``.

Places: :func:`dungeon_layout` reads where this game's special levels are (the ``^V ?`` menu),
:func:`enter_mines` walks down the Mines branch staircase, :func:`goto_oracle_level`,
:func:`goto_minetown`, :func:`stand_in_shop` (inside a shop, off the shopkeeper's spot) and
``stand_on(env, "_")`` (an altar). Things: :func:`wish`, :func:`quaff`, :func:`create_monster`,
:func:`pass_turns` (e.g. until Hungry).
"""

from __future__ import annotations

import re

import numpy as np
from nle import nethack as nh

from maestromotif.nethack.env import MaestroNLE
from maestromotif.nethack.obs import BL, GNOMISH_MINES, inventory, message_text, screen_text

CTRL_F, CTRL_G, CTRL_T, CTRL_V, CTRL_W = 6, 7, 20, 22, 23
ESC = 27
# Map glyphs of room floor (lit and dark): cells inside a room, never a doorway.
_ROOM_GLYPHS = (nh.GLYPH_CMAP_OFF + 19, nh.GLYPH_CMAP_OFF + 20)


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


def terrain(env: MaestroNLE) -> dict[str, np.ndarray]:
    """The observation while ``#terrain`` shows the known map without monsters and objects (a staircase
    or altar under a newt or a gold piece is visible there); the game is back to normal afterwards."""
    env.send_keys(b"#terrain\r")
    obs = {k: v.copy() for k, v in env.send_keys(b"b").items()}  # NLE reuses its arrays on the next key
    _settle(env, env.send_keys(bytes([ESC])))
    return obs


def stand_on(env: MaestroNLE, char: str) -> bool:
    """Reveal the map and teleport onto the first cell showing ``char`` (e.g. ``">"``); objects and
    monsters standing on it do not hide it (see :func:`terrain`)."""
    reveal_map(env)
    for spot in find_on_map(terrain(env), char):
        if _teleport_onto(env, spot):
            return True
    return False


def _teleport_onto(env: MaestroNLE, spot: tuple[int, int], tries: int = 5) -> bool:
    for _ in range(tries):  # a monster standing there makes the teleport fail: let it move
        obs = teleport_to(env, *spot)
        if (int(obs["blstats"][BL.X]), int(obs["blstats"][BL.Y])) == spot:
            return True
        _settle(env, env.send_keys(b"s"))
    return False


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


# ---------------------------------------------------------------------------------------- places
_LAYOUT_ENTRY = re.compile(r"^\s*(?:[a-zA-Z] - )?[ *]?\s*(.+?): (-?\d+)")


def dungeon_layout(env: MaestroNLE) -> dict[str, int]:
    """Depths of this game's special levels and branches, read from the ``^V ?`` menu.

    Keys are NetHack's level names (``oracle``, ``minetn``, ``bigrm``, ...) and
    ``Stair to The Gnomish Mines`` (the Dungeons-of-Doom level with the Mines staircase). The game
    state is unchanged (the menu is closed without choosing).
    """
    pages = []
    obs = env.send_keys(bytes([CTRL_V]) + b"?\r")
    for _ in range(10):  # a menu of "(1 of 3)" pages: '>' shows the next one
        pages.append(screen_text(obs["tty_chars"]))
        page = re.search(r"\((\d+) of (\d+)\)", pages[-1])
        if not page or page.group(1) == page.group(2):
            break
        obs = env.send_keys(b">")
    _settle(env, env.send_keys(bytes([ESC, ESC])))
    layout: dict[str, int] = {}
    for line in "\n".join(pages).splitlines():
        m = _LAYOUT_ENTRY.match(line)
        if m and not line.lstrip().startswith(("The ", "Level ")):
            layout.setdefault(m.group(1).strip(), int(m.group(2)))
    return layout


def enter_mines(env: MaestroNLE) -> dict[str, np.ndarray]:
    """Go down the Gnomish Mines staircase of this game (arrives on the first Mines level)."""
    branch = dungeon_layout(env)["Stair to The Gnomish Mines"]
    level_teleport(env, branch)
    reveal_map(env)
    for spot in find_on_map(terrain(env), ">"):
        if int(env.current_obs()["blstats"][BL.DEPTH]) != branch:
            level_teleport(env, branch)
        if _teleport_onto(env, spot):
            obs = _settle(env, env.send_keys(b">"))
            if int(obs["blstats"][BL.DNUM]) == GNOMISH_MINES:
                return obs
    raise RuntimeError("could not find the Gnomish Mines staircase")


def goto_mines_level(env: MaestroNLE, depth: int) -> dict[str, np.ndarray]:
    """Level-teleport to the Mines level at ``depth`` (entering the Mines first if needed)."""
    if int(env.current_obs()["blstats"][BL.DNUM]) != GNOMISH_MINES:
        obs = enter_mines(env)
        if int(obs["blstats"][BL.DEPTH]) == depth:
            return obs
    return level_teleport(env, depth)


def goto_minetown(env: MaestroNLE) -> dict[str, np.ndarray]:
    return goto_mines_level(env, dungeon_layout(env)["minetn"])


def goto_oracle_level(env: MaestroNLE) -> dict[str, np.ndarray]:
    if int(env.current_obs()["blstats"][BL.DNUM]) != 0:
        level_teleport(env, 1)  # out of a branch: ^V counts depths in the current dungeon
    return level_teleport(env, dungeon_layout(env)["oracle"])


def monster_positions(obs: dict[str, np.ndarray], name: str) -> list[tuple[int, int]]:
    """Map cells ``(x, y)`` showing a monster called ``name`` (also detected/remembered ones)."""
    out = []
    for g in np.unique(obs["glyphs"]):
        g = int(g)
        if nh.glyph_is_monster(g) and nh.permonst(nh.glyph_to_mon(g)).mname == name:
            ys, xs = np.nonzero(obs["glyphs"] == g)
            out += [(int(x), int(y)) for x, y in zip(xs, ys)]
    return out


def stand_in_shop(env: MaestroNLE, kinds: tuple[str, ...] = ()) -> str | None:
    """Stand inside a shop of this level, next to its shopkeeper, and return the shopkeeper's welcome
    (``"Hello, ...! Welcome to Izchak's lighting store!"``; None when no shop was entered). ``kinds``
    (e.g. ``("general store",)``) picks a shop by its welcome. A blessed potion of monster detection is
    wished for and drunk to find the shopkeepers."""
    letter = wish(env, "blessed potion of monster detection")
    if letter is None:
        return None
    reveal_map(env)
    obs = _settle(env, env.send_keys(b"q" + letter.encode()))
    glyphs = obs["glyphs"]
    for x, y in monster_positions(obs, "shopkeeper"):
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                cx, cy = x + dx, y + dy
                if not (dx or dy) or not 0 <= cy < glyphs.shape[0] or int(glyphs[cy, cx]) not in _ROOM_GLYPHS:
                    continue
                here = env.current_obs()
                ax, ay = int(here["blstats"][BL.X]), int(here["blstats"][BL.Y])
                arrived = env.send_keys(bytes([CTRL_T]) + _cursor_keys(cx - ax, cy - ay) + b".")
                welcome = message_text(arrived["message"])  # read before --More-- is dismissed
                obs = _settle(env, arrived)
                if (int(obs["blstats"][BL.X]), int(obs["blstats"][BL.Y])) == (cx, cy):
                    if "Welcome to" in welcome and (not kinds or any(k in welcome for k in kinds)):
                        return welcome
                break  # next shopkeeper
    return None


def goto_shop(env: MaestroNLE, kinds: tuple[str, ...] = (), depths=range(2, 12)) -> str | None:
    """Stand in a shop of one of ``kinds``: Minetown's first, then Dungeons-of-Doom levels ``depths``.
    Returns the shopkeeper's welcome (None if no such shop was found)."""
    goto_minetown(env)
    welcome = stand_in_shop(env, kinds)
    for depth in depths:
        if welcome:
            break
        if int(env.current_obs()["blstats"][BL.DNUM]) != 0:
            level_teleport(env, 1)
        level_teleport(env, depth)
        welcome = stand_in_shop(env, kinds)
    return welcome


# ---------------------------------------------------------------------------------------- things
def wish(env: MaestroNLE, text: str) -> str | None:
    """Wish for ``text`` (e.g. ``"2 potions of sleeping"``); returns the new item's inventory letter."""
    before = {i.letter: i.text for i in inventory(env.current_obs())}
    obs = _settle(env, env.send_keys(bytes([CTRL_W]) + text.encode() + b"\r"))
    for item in inventory(obs):
        if before.get(item.letter) != item.text:
            return item.letter
    return None


def quaff(env: MaestroNLE, letter: str) -> dict[str, np.ndarray]:
    """Drink the potion ``letter`` (raw keys: not an agent action), e.g. a wished-for gain level."""
    return _settle(env, env.send_keys(b"q" + letter.encode()))


def create_monster(env: MaestroNLE, name: str) -> dict[str, np.ndarray]:
    """Create a ``name`` next to the hero (``^G``)."""
    return _settle(env, env.send_keys(bytes([CTRL_G]) + name.encode() + b"\r"))


_DIR_KEYS = {(-1, 0): b"h", (1, 0): b"l", (0, -1): b"k", (0, 1): b"j", (-1, -1): b"y", (1, -1): b"u",
             (-1, 1): b"b", (1, 1): b"n"}


def pass_turns(env: MaestroNLE, until, max_keys: int = 5000) -> dict[str, np.ndarray]:
    """Search in place (``s``) until ``until(obs)`` holds, e.g. ``lambda o: o["blstats"][BL.HUNGER] >= 2``;
    monsters next to the hero are fought (``F`` + direction) so they do not interrupt forever."""
    obs = env.current_obs()
    for _ in range(max_keys):
        if until(obs):
            break
        x, y = int(obs["blstats"][BL.X]), int(obs["blstats"][BL.Y])
        for (dx, dy), key in _DIR_KEYS.items():
            cy, cx = y + dy, x + dx
            if 0 <= cy < obs["glyphs"].shape[0] and 0 <= cx < obs["glyphs"].shape[1]:
                g = int(obs["glyphs"][cy, cx])
                if nh.glyph_is_monster(g) and not nh.glyph_is_pet(g):
                    obs = _settle(env, env.send_keys(b"F" + key))
                    break
        else:
            obs = _settle(env, env.send_keys(b"20s"))
    return obs


__all__ = ["reveal_map", "terrain", "find_on_map", "teleport_to", "level_teleport", "stand_on", "message_text",
           "dungeon_layout", "enter_mines", "goto_mines_level", "goto_minetown", "goto_oracle_level",
           "monster_positions", "stand_in_shop", "goto_shop", "wish", "quaff", "create_monster", "pass_turns"]
