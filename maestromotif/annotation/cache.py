"""Persistent answer cache: each distinct unordered caption pair is asked once, ever.

Shared by every chunk, rerun and experiment that asks the same question of the same model. Its key
(:func:`cache_key`) hashes everything that changes the answer: backend, model, mode, the prompt
spec (all its texts), the goal text and the generation/score settings. Layout::

    <cache_dir>/<key>/meta.json                      what the key stands for (readable)
    <cache_dir>/<key>/<host>-<pid>-<time>-<rand>.jsonl   one append-only file per writer

Each line is ``{"k": pair_hash, "l": label, ...}`` where ``pair_hash`` hashes the two captions in
canonical (sorted) order and ``l`` is the label *for that canonical order* (0 = the
lexicographically smaller caption is better); asking the swapped order flips it. Extra fields keep
what the answer was based on (``d``: score mode's order-averaged log-prob margin of the first
caption over the second, also in canonical order; ``u: 1`` for unparseable). Writers
never share a file, so jobs on different machines can share the directory; torn last lines from
``kill -9`` are skipped on reading.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from maestromotif.data.dataset import flip
from maestromotif.utils.io import atomic_save_json
from maestromotif.utils.jsonl import WriterLog, read_jsonl


def cache_key(fingerprint: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()[:20]


def pair_key(a: str, b: str) -> tuple[str, bool]:
    """(hash of the unordered pair, whether (a, b) is the swapped order of the canonical one)."""
    lo, hi = (a, b) if a <= b else (b, a)
    h = hashlib.sha256(lo.encode() + b"\x00" + hi.encode()).hexdigest()[:24]
    return h, a > b


def _orient(rec: dict[str, Any], swapped: bool) -> dict[str, Any]:
    if not swapped:
        return dict(rec)
    out = {**rec, "l": flip(rec["l"])}
    if isinstance(rec.get("d"), int | float):
        out["d"] = -rec["d"]
    return out


class AnswerCache:
    def __init__(self, directory: str | Path, fingerprint: dict[str, Any], read: bool = True):
        self.key = cache_key(fingerprint)
        self.dir = Path(directory) / self.key
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "meta.json"
        if not meta.exists():
            atomic_save_json(meta, fingerprint)
        self.entries: dict[str, dict[str, Any]] = {}
        if read:
            for path in sorted(self.dir.glob("*.jsonl")):
                for rec in read_jsonl(path):
                    if isinstance(rec.get("k"), str) and rec.get("l") in (0, 1, 2, 3):
                        self.entries[rec["k"]] = rec
        self._log = WriterLog(self.dir)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, a: str, b: str, use_unparseable: bool = True) -> dict[str, Any] | None:
        """The cached record for asking (a, b), label already oriented to that order."""
        h, swapped = pair_key(a, b)
        rec = self.entries.get(h)
        if rec is None or (rec.get("u") and not use_unparseable):
            return None
        return _orient(rec, swapped)

    def put(self, a: str, b: str, label: int, **extra: Any) -> None:
        """Record the label of asking (a, b); call :meth:`sync` to make a batch durable."""
        h, swapped = pair_key(a, b)
        rec = _orient({"k": h, "l": label, **extra}, swapped)
        self.entries[h] = rec
        self._log.write([rec])

    def sync(self) -> None:
        self._log.sync()

    def close(self) -> None:
        self._log.close()
