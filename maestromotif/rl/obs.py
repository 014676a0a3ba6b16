"""What the skill-conditioned policy sees: one preprocessing per encoder, shared by training and inference.

Every encoder gets the same four keys (a :class:`gymnasium.spaces.Dict`):

===========  ==============================  =====================================================
key          shape / dtype                   content
===========  ==============================  =====================================================
``obs``      encoder-specific, uint8         the spatial view around the agent (see below)
``message``  ``(80,)`` uint8                 the top-line message bytes (zero padded)
``blstats``  ``(len(BLSTAT_SCALES),)`` f32   normalised bottom-line stats (:data:`BLSTAT_SCALES`)
``skill``    ``(5,)`` f32                    one-hot of the running skill (skill ids of
                                             :mod:`maestromotif.skills.table`)
===========  ==============================  =====================================================

``obs`` per encoder (:data:`VIEW_SHAPES`):

- ``cdgpt5``: the tty rendered to RGB pixels, a ``12 x 12`` character crop centred on the agent,
  ``6 x 6`` pixels per character -> ``(3, 72, 72)``. Glyph bitmaps are drawn once per process with
  PIL (DejaVu Sans Mono, shipped with matplotlib) for every (character, colour) and tiled with one
  numpy gather per step - no per-step font rendering, no OpenCV.
- ``fast``: the raw tty characters and colours of an ``11 x 11`` crop -> ``(2, 11, 11)``; the
  encoder embeds them.

sample-factory divides ``obs`` by ``--obs_scale`` (255 in the paper's command); the ``fast`` encoder
multiplies it back before its embedding lookup. :func:`build_obs` is the single entry point used by
the training env and by :mod:`maestromotif.rl.actor` (evaluation, dataset collection).
"""

from __future__ import annotations

from functools import cache, lru_cache

import gymnasium as gym
import numpy as np

from maestromotif.nethack.obs import BL
from maestromotif.skills.table import SKILL_NAMES

NUM_SKILLS = len(SKILL_NAMES)
MESSAGE_CHARS = 80
# (blstats index, scale): value * scale, clipped to [-5, 5]. Position, vitals, depth, progress.
BLSTAT_SCALES: tuple[tuple[int, float], ...] = (
    (BL.X, 1 / 79), (BL.Y, 1 / 21), (BL.HP, 1 / 20), (BL.HPMAX, 1 / 20), (BL.DEPTH, 1 / 10),
    (BL.GOLD, 1 / 100), (BL.ENE, 1 / 10), (BL.ENEMAX, 1 / 10), (BL.AC, 1 / 10), (BL.XP, 1 / 10),
    (BL.TIME, 1 / 10_000), (BL.HUNGER, 1 / 2), (BL.CAP, 1 / 2), (BL.DNUM, 1 / 2), (BL.DLEVEL, 1 / 10),
    (BL.STR25, 1 / 25), (BL.DEX, 1 / 25), (BL.CON, 1 / 25),
)
_BL_IDX = np.array([i for i, _ in BLSTAT_SCALES])
_BL_SCALE = np.array([s for _, s in BLSTAT_SCALES], dtype=np.float32)
_SKILL_EYE = np.eye(NUM_SKILLS, dtype=np.float32)

# The 16 NetHack colours (CLR_BLACK ... CLR_WHITE), RGB.
PALETTE = (
    (0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128), (0, 128, 128),
    (128, 128, 128), (192, 192, 192), (255, 0, 0), (0, 255, 0), (255, 255, 0), (0, 0, 255),
    (255, 0, 255), (0, 255, 255), (255, 255, 255),
)
# Black-on-black would be invisible: draw colour 0 (e.g. dark parts of a room) as dark blue-grey.
_VISIBLE_BLACK = (64, 64, 96)


@lru_cache(maxsize=4)
def glyph_bitmaps(cell: int = 6, font_size: int = 9) -> np.ndarray:
    """``(256 * 16, 3, cell, cell)`` uint8 bitmaps: index ``char * 16 + colour``. Drawn once per process."""
    from matplotlib import font_manager
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans Mono"), font_size)
    left, top, right, bottom = font.getbbox("M")
    w, h = max(right, 1), max(bottom, 1) + 2
    out = np.zeros((256, 16, 3, cell, cell), dtype=np.uint8)
    for code in range(33, 127):  # printable, non-space ASCII: the tty never shows other bytes
        mask = Image.new("L", (w, h))
        ImageDraw.Draw(mask).text((0, 0), chr(code), fill=255, font=font)
        small = np.asarray(mask.resize((cell, cell), Image.Resampling.BOX), dtype=np.float32) / 255.0
        for colour, rgb in enumerate(PALETTE):
            rgb = _VISIBLE_BLACK if colour == 0 else rgb
            out[code, colour] = (small[None] * np.asarray(rgb, dtype=np.float32)[:, None, None]).astype(np.uint8)
    return out.reshape(256 * 16, 3, cell, cell)


def _agent_cell(blstats: np.ndarray) -> tuple[int, int]:
    return int(blstats[BL.Y]) + 1, int(blstats[BL.X])  # the map starts on tty row 1


class ObsBuilder:
    """Turns a MaestroNLE observation + skill index into the encoder's input.

    Keeps a padded copy of the tty so that a crop is a slice (one builder per environment).
    """

    def __init__(self, name: str):
        if name not in VIEW_SHAPES:
            raise KeyError(name)
        self.name = name
        self.view_shape = VIEW_SHAPES[name]
        self.size = 12 if name == "cdgpt5" else self.view_shape[-1]
        self._pad = self.size // 2 + 1
        self._tty = np.zeros((2, 24 + 2 * self._pad, 80 + 2 * self._pad), dtype=np.uint8)
        self._tty[0] = ord(" ")

    def _window(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        p, buf = self._pad, self._tty
        rows, cols = obs["tty_chars"].shape
        buf[0, p:p + rows, p:p + cols] = obs["tty_chars"]
        buf[1, p:p + rows, p:p + cols] = obs["tty_colors"].view(np.uint8)
        cy, cx = _agent_cell(obs["blstats"])
        y0, x0 = cy - self.size // 2 + p, cx - self.size // 2 + p
        return buf[0, y0:y0 + self.size, x0:x0 + self.size], buf[1, y0:y0 + self.size, x0:x0 + self.size]

    def view(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        chars, colors = self._window(obs)
        colors = colors & 15
        if self.name == "cdgpt5":
            tiles = glyph_bitmaps(6)[chars.astype(np.int32) * 16 + colors]  # (12, 12, 3, 6, 6)
            return np.ascontiguousarray(tiles.transpose(2, 0, 3, 1, 4)).reshape(self.view_shape)
        out = np.empty(self.view_shape, dtype=np.uint8)
        out[0], out[1] = chars, colors
        return out

    def space(self) -> gym.spaces.Dict:
        return observation_space(self.name)

    def build(self, obs: dict[str, np.ndarray], skill_index: int) -> dict[str, np.ndarray]:
        bl = obs["blstats"][_BL_IDX].astype(np.float32)
        np.multiply(bl, _BL_SCALE, out=bl)
        np.minimum(np.maximum(bl, -5.0, out=bl), 5.0, out=bl)  # np.clip has a slow python wrapper
        return {
            "obs": self.view(obs),
            "message": obs["message"][:MESSAGE_CHARS].astype(np.uint8),
            "blstats": bl,
            "skill": _SKILL_EYE[int(skill_index)].copy(),
        }


# The spatial view of each encoder (see the module docstring).
VIEW_SHAPES: dict[str, tuple[int, ...]] = {"cdgpt5": (3, 72, 72), "fast": (2, 11, 11)}


def observation_space(encoder: str) -> gym.spaces.Dict:
    return gym.spaces.Dict({
        "obs": gym.spaces.Box(0, 255, VIEW_SHAPES[encoder], dtype=np.uint8),
        "message": gym.spaces.Box(0, 255, (MESSAGE_CHARS,), dtype=np.uint8),
        "blstats": gym.spaces.Box(-5.0, 5.0, (len(BLSTAT_SCALES),), dtype=np.float32),
        "skill": gym.spaces.Box(0.0, 1.0, (NUM_SKILLS,), dtype=np.float32),
    })


# MaestroNLE observation keys the builders and the options framework read.
ENV_OBS_KEYS = ("glyphs", "blstats", "message", "tty_chars", "tty_colors", "inv_letters", "inv_oclasses",
                "inv_strs")


@cache
def _shared_builder(encoder: str) -> ObsBuilder:
    return ObsBuilder(encoder)


def build_obs(encoder: str, obs: dict[str, np.ndarray], skill_index: int) -> dict[str, np.ndarray]:
    """One env observation -> the policy's input dict (unbatched)."""
    return _shared_builder(encoder).build(obs, skill_index)


def batch_obs(encoder: str, obs: dict[str, np.ndarray], skill_index: int) -> dict[str, np.ndarray]:
    """One env observation -> a batch of one (what :meth:`SkillActor.act` takes)."""
    return {k: v[None] for k, v in build_obs(encoder, obs, skill_index).items()}
