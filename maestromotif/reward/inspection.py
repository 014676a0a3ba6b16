"""Look inside a trained reward model: its dataset's captions ranked by reward, and typed captions.

:func:`rank_dataset` scores every distinct (message, kept deltas) input of a dataset (the paper's
"highly preferred messages" figure lists the top of this ranking); :func:`parse_caption` reads a
typed caption ``<message>`` or ``<message> [dlvl,gold,hp,xl,hunger]`` (e.g. ``You climb down the
stairs. [1,0,0,0,0]``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from maestromotif.data.captions import DELTA_NAMES
from maestromotif.data.dataset import load_dataset
from maestromotif.reward.data import describe_input, distinct_inputs
from maestromotif.reward.model import delta_mask
from maestromotif.reward.runtime import SkillReward
from maestromotif.reward.train import predict
from maestromotif.utils.io import atomic_write_text

_DELTAS_AT_END = re.compile(r"^(.*?)\s*\[\s*([-+\d.,\s]*)\]\s*$")  # any bracketed number list at the end


@dataclass
class Ranked:
    r_norm: float
    count: int  # samples of the dataset with this input
    message: str
    deltas: np.ndarray

    @property
    def text(self) -> str:
        return describe_input(self.message, self.deltas)


def rank_dataset(sr: SkillReward, dataset_path: str | Path) -> list[Ranked]:
    """Every distinct input of the dataset with its normalised reward, best first."""
    ds = load_dataset(dataset_path)
    deltas = ds.deltas * delta_mask(sr.config.keep_deltas)[None, :]
    first, _, counts = distinct_inputs(ds.messages, deltas)
    r = predict(sr.model, ds.messages[first], deltas[first], device=sr.device)
    norm = (r - sr.mean) / sr.std
    rows = [Ranked(float(v), int(c), ds.samples[int(i)]["msg_strs"][1], deltas[int(i)])
            for v, c, i in zip(norm, counts, first)]
    rows.sort(key=lambda x: (-x.r_norm, x.message))
    return rows


def ranking_csv(rows: list[Ranked], path: str | Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "r_norm", "count", "message", *(f"d_{n}" for n in DELTA_NAMES)])
    for i, row in enumerate(rows):
        w.writerow([i + 1, f"{row.r_norm:.4f}", row.count, row.message, *(int(x) for x in row.deltas)])
    atomic_write_text(path, buf.getvalue())


def parse_caption(line: str, default_deltas: np.ndarray | None = None) -> tuple[str, np.ndarray]:
    """``message`` or ``message [d1,d2,d3,d4,d5]`` -> (message, deltas)."""
    line = line.rstrip("\n")
    m = _DELTAS_AT_END.match(line)
    if m:
        try:
            vals = [int(x) for x in m.group(2).split(",")]
        except ValueError:
            vals = []
        if len(vals) != len(DELTA_NAMES):
            raise ValueError(f"{line!r} ends with [{m.group(2)}]: the deltas in brackets must be "
                             f"{len(DELTA_NAMES)} integers in the order {','.join(DELTA_NAMES)}, e.g. [1,0,0,0,0]")
        return m.group(1), np.array(vals, np.float32)
    d = np.zeros(len(DELTA_NAMES), np.float32) if default_deltas is None else default_deltas
    return line, d


def parse_deltas(s: str) -> np.ndarray:
    vals = [int(x) for x in s.split(",")]
    if len(vals) != len(DELTA_NAMES):
        raise ValueError(f"--deltas needs {len(DELTA_NAMES)} comma-separated ints ({','.join(DELTA_NAMES)})")
    return np.array(vals, np.float32)
