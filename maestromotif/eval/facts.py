"""What the success detectors read from one step of the real game: messages, glyphs, bottom line.

NetHack 3.6 wording of the messages the detectors recognise (each pattern is tested on the real game
in ``tests/test_eval_detectors.py``), the glyphs that identify special places (the Oracle, the
centaur statues of Delphi, altars, doors, shopkeepers, priests, the Minetown watch), and
:class:`StepView`, the per-step record every detector receives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from nle import nethack as nh

from maestromotif.nethack.actions import ACTION_NAMES
from maestromotif.nethack.obs import BL, message_text

# ------------------------------------------------------------------------------------ messages
# "You sold a murky potion for 150 gold pieces."
SOLD = re.compile(r"\bYou sold (?P<item>.+?) for (?P<price>\d+) gold pieces?\b")
# "Akalapi offers 150 gold pieces for your murky potion.  Sell it? [ynaq] (y)"
OFFER = re.compile(r"offers(?P<only> only)? (?P<price>\d+) gold pieces? for (?P<whose>your items in |the contents of |your |the )"
                   r"(?P<item>.+?)\.  Sell (?P<pron>it|them)\?")
# "You drop 2 brown potions."
DROPPED = re.compile(r"\bYou drop (?P<qty>\d+|an?|the|some) ")
# Dropping on an altar (NetHack's doaltarobj): the object's name as it was before the drop.
ALTAR_FLASH = re.compile(r"There is an? (?P<colour>[\w -]+?) flash as (?P<item>.+) hits? the altar\.")
ALTAR_LAND = re.compile(r"^(?P<item>.+?) lands? on the altar\.")
BUC_WORD = re.compile(r"\b(uncursed|cursed|blessed|unholy|holy)\b")
PLAYER_KILL = re.compile(r"\bYou (kill|destroy)\b")
# The question NetHack asks when climbing the up staircase of level 1 (leaving the dungeon).
CLIMB_OUT = re.compile(r"Still climb\?")
DELPHI = re.compile(r"welcome to Delphi", re.IGNORECASE)
# Entering a temple (with or without its priest) and entering a shop.
TEMPLE = re.compile(r"you enter a sacred place|forbidding feeling|strange sense of peace|eerie feeling"
                    r"|You feel like you are being watched|A shiver runs down your spine")
SHOP = re.compile(r"Welcome to [^!]*'s |This shop appears to be deserted")
EAT_PROMPT = re.compile(r"What do you want to eat\? \[(?P<letters>[^\]]*)\]")
# Messages shown while or after eating (food items and corpses).
ATE = re.compile(r"You finish eating|You stop eating|You resume your meal|You consume|really hits? the spot"
                 r"|is delicious|was delicious|Delicious!|tastes? (?:terrible|okay|great|good|awful)|is bland"
                 r"|Blecch|Rotten food|Mmm, tripe|Yak - dog food|Core dumped|scrap of paper inside"
                 r"|hard time getting all of it down|Ulch|You feel guilty|That (?:food )?really hit the spot")

# ------------------------------------------------------------------------------------ glyphs
_CMAP = {nh.symdef.from_idx(i).explanation: i for i in range(60)}


def _cmap_glyphs(*names: str) -> np.ndarray:
    return np.array(sorted({nh.GLYPH_CMAP_OFF + i for i in range(60)
                            if nh.symdef.from_idx(i).explanation in names}), dtype=np.int32)


def _mon_index(name: str) -> int:
    for i in range(nh.NUMMONS):
        if nh.permonst(i).mname == name:
            return i
    raise KeyError(name)


def _monster_glyphs(*names: str) -> np.ndarray:
    """Every glyph that shows one of these monsters: normal, pet, detected, ridden."""
    idx = [_mon_index(n) for n in names]
    offs = (nh.GLYPH_MON_OFF, nh.GLYPH_PET_OFF, nh.GLYPH_DETECT_OFF, nh.GLYPH_RIDDEN_OFF)
    return np.array(sorted(off + i for off in offs for i in idx), dtype=np.int32)


ORACLE_GLYPHS = _monster_glyphs("Oracle")
# The Oracle's centre room is ringed by eight centaur statues (oracle.des).
CENTAUR_STATUE_GLYPHS = np.array(sorted(nh.GLYPH_STATUE_OFF + i for i in range(nh.NUMMONS)
                                        if "centaur" in nh.permonst(i).mname), dtype=np.int32)
ALTAR_GLYPHS = _cmap_glyphs("altar")
DOOR_GLYPHS = _cmap_glyphs("doorway", "open door", "closed door")
TOWN_PEOPLE_GLYPHS = _monster_glyphs("shopkeeper", "watchman", "watch captain", "aligned priest")
HALLUCINATING = int(nh.BL_MASK_HALLU)

ACTION_BY_INDEX = dict(enumerate(ACTION_NAMES))


@dataclass
class StepView:
    """One environment step as the detectors see it (built by :class:`~maestromotif.eval.detectors.Monitor`)."""

    index: int                 # agent steps so far (0 right after reset)
    obs: dict[str, Any]
    messages: list[str]        # every message NetHack showed during the step
    message: str               # the observation's message line (the original code's "final message")
    action: str | None         # action name (None at reset)
    depth: int
    dnum: int                  # 0 Dungeons of Doom, 2 Gnomish Mines, ...
    dlevel: int                # level number inside the branch (Mines level 1 is the first Mines level)
    xp: int
    gold: int
    hunger: int                # 0 Satiated, 1 Normal, 2 Hungry, 3 Weak, 4 Fainting
    hallucinating: bool
    level_changed: bool        # (dnum, depth) differs from the previous step
    done: bool                 # the game ended on this step
    overview: Callable[[], str | None]  # types #overview once per step on demand; None if it cannot now
    just_eaten: bool | None = None  # the env's flag: this action confirmed the eat prompt (None: not reported)

    @property
    def glyphs(self) -> np.ndarray:
        return self.obs["glyphs"]

    def shows(self, glyph_set: np.ndarray) -> int:
        """How many map cells show one of ``glyph_set``."""
        return int(np.count_nonzero(np.isin(self.glyphs, glyph_set)))


def view_from(obs: dict[str, Any], info: dict[str, Any], index: int, action: int | None, prev: StepView | None,
              done: bool, overview: Callable[[], str | None]) -> StepView:
    b = obs["blstats"]
    depth, dnum = int(b[BL.DEPTH]), int(b[BL.DNUM])
    message = message_text(obs["message"])
    messages = list(info.get("messages") or ([message] if message else []))
    return StepView(
        index=index, obs=obs, messages=messages, message=message,
        action=None if action is None else ACTION_BY_INDEX.get(int(action)),
        depth=depth, dnum=dnum, dlevel=int(b[BL.DLEVEL]), xp=int(b[BL.XP]), gold=int(b[BL.GOLD]),
        hunger=int(b[BL.HUNGER]), hallucinating=bool(int(b[BL.CONDITION]) & HALLUCINATING),
        level_changed=prev is not None and (prev.dnum, prev.depth) != (dnum, depth), done=done,
        overview=overview, just_eaten=info.get("just_eaten"))
