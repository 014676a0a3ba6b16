"""A table of normalised skill rewards shared by the processes of a training run, and by later runs.

Every rollout worker keeps r_norm per (skill, message, kept deltas) in memory, so a repeated input
costs a dict lookup. Without sharing, an input new to the run is a reward-model forward in *every*
worker that meets it (16 times on a 16-worker node), and a resumed or new run with the same reward
models starts cold. :class:`RewardTable` is that in-memory cache (a ``dict`` keyed like
:class:`maestromotif.rl.env.SkillRewardView`'s, ``(skill_index, (message_bytes, deltas_tuple))``)
backed by append-only files:

    <directory>/<fingerprint>/part-<pid>-<token>.bin   one file per writing process
    <directory>/<fingerprint>/README.txt               what these files are

``fingerprint`` (:func:`fingerprint`) hashes the five reward checkpoints in skill order, so a table is
never read with other models. A value stored is exactly what the model returned (float64), so a table
hit gives the same reward as a forward: rewards, and hence learning, do not change.

File format (little-endian): the 8-byte header ``MMRTAB1\\n``, then records
``<B skill><H message length><B number of deltas><message bytes><deltas as float64><r_norm float64>``.
A process writes its own file only (one ``os.write`` per record, ``O_APPEND``); readers parse complete
records and remember how far they read, so a record being written or cut by ``kill -9`` is skipped.
A file that does not start with the header is reported once (logging, naming the file) and ignored:
the table is a cache, it never stops training. Delete the directory to start from scratch.

When a lookup misses, :meth:`RewardTable.get` first reads what the other processes appended (at most
every ``refresh_sec``), so an input scored by one worker is picked up by the others. :func:`warm_table`
fills the table before the workers start with every distinct message of the reward models' datasets
(each with every combination of kept deltas in {-1, 0, 1}).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import struct
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HEADER = b"MMRTAB1\n"
_HEAD = struct.Struct("<BHB")
_F64 = struct.Struct("<d")
DEFAULT_MAX_ENTRIES = 200_000
DEFAULT_MAX_FILE_BYTES = 64 << 20  # a process stops appending beyond this (memory keeps working)

Key = tuple[int, tuple[bytes, tuple[float, ...]]]


def fingerprint(reward_dirs: Sequence[str | Path]) -> str:
    """sha256 (16 hex digits) of the reward checkpoints' bytes, in skill order."""
    from maestromotif.reward.checkpoint import checkpoint_path

    h = hashlib.sha256()
    for i, d in enumerate(reward_dirs):
        h.update(f"{i}:".encode())
        with open(checkpoint_path(d), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def encode_record(key: Key, value: float) -> bytes:
    skill, (message, deltas) = key
    return (_HEAD.pack(skill, len(message), len(deltas)) + message
            + struct.pack(f"<{len(deltas)}d", *deltas) + _F64.pack(value))


def decode_records(buf: bytes, start: int = 0) -> tuple[list[tuple[Key, float]], int]:
    """Complete records in ``buf[start:]`` and the offset after the last complete one."""
    out, pos, n = [], start, len(buf)
    while pos + _HEAD.size <= n:
        skill, mlen, dlen = _HEAD.unpack_from(buf, pos)
        end = pos + _HEAD.size + mlen + 8 * dlen + 8
        if end > n:
            break
        p = pos + _HEAD.size
        message = bytes(buf[p:p + mlen])
        deltas = struct.unpack_from(f"<{dlen}d", buf, p + mlen)
        value = _F64.unpack_from(buf, end - 8)[0]
        out.append(((skill, (message, tuple(deltas))), value))
        pos = end
    return out, pos


class RewardTable(dict):
    """``dict`` of r_norm values that other processes' additions flow into (see the module docstring).

    ``directory=None`` makes it a plain bounded in-memory cache (what a worker had before).
    """

    def __init__(self, directory: str | Path | None = None, *, max_entries: int = DEFAULT_MAX_ENTRIES,
                 refresh_sec: float = 0.5, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, tag: str = ""):
        super().__init__()
        self.directory = None if directory is None else Path(directory)
        self.max_entries = int(max_entries)
        self.refresh_sec = float(refresh_sec)
        self.max_file_bytes = int(max_file_bytes)
        self._name = f"part-{tag or os.getpid()}-{uuid.uuid4().hex[:8]}.bin"
        self._fd: int | None = None
        self._written = 0
        self._offsets: dict[str, int] = {}
        self._bad: set[str] = set()
        self._last_refresh = 0.0
        self.hits_from_others = 0  # entries read from other processes' files (statistics)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            readme = self.directory / "README.txt"
            if not readme.exists():
                from maestromotif.utils.io import atomic_write_text

                atomic_write_text(readme, __doc__ or "")
            self.refresh()

    # -- dict protocol used by the reward view ------------------------------------------------------
    def get(self, key: Any, default: Any = None) -> Any:
        value = dict.get(self, key)
        if value is None and self.directory is not None:
            now = time.monotonic()
            if now - self._last_refresh >= self.refresh_sec:
                self.refresh()
                value = dict.get(self, key)
        return default if value is None else value

    def __setitem__(self, key: Key, value: float) -> None:
        new = key not in self
        self._put(key, value)
        if new and self.directory is not None:
            self._append(encode_record(key, float(value)))

    def add_many(self, items: Sequence[tuple[Key, float]]) -> None:
        """Store many entries with one write (warm-up)."""
        fresh = [(k, v) for k, v in items if k not in self]
        for k, v in fresh:
            self._put(k, v)
        if fresh and self.directory is not None:
            self._append(b"".join(encode_record(k, float(v)) for k, v in fresh))

    # -- files ---------------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Read what other processes appended since the last call; returns the number of new entries."""
        self._last_refresh = time.monotonic()
        if self.directory is None:
            return 0
        added = 0
        for path in sorted(self.directory.glob("part-*.bin")):
            name = path.name
            if name == self._name or name in self._bad:
                continue
            offset = self._offsets.get(name, 0)
            try:
                with open(path, "rb") as f:
                    if offset == 0:
                        head = f.read(len(HEADER))
                        if len(head) < len(HEADER):
                            continue  # being created
                        if head != HEADER:
                            self._bad.add(name)
                            log.warning("reward table: %s is not a reward-table file (bad header); ignoring it "
                                        "(delete it, or the directory %s, to silence this)", path, self.directory)
                            continue
                        offset = len(HEADER)
                    f.seek(offset)
                    buf = f.read()
            except OSError:
                continue
            records, used = decode_records(buf)
            self._offsets[name] = offset + used
            for k, v in records:
                if k not in self:
                    self._put(k, v)
                    added += 1
        self.hits_from_others += added
        return added

    def _put(self, key: Key, value: float) -> None:
        if key not in self and len(self) >= self.max_entries:
            self.pop(next(iter(self)))  # oldest first (dicts keep insertion order)
        dict.__setitem__(self, key, value)

    def _append(self, data: bytes) -> None:
        if self._written + len(data) > self.max_file_bytes:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self.directory / self._name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.write(self._fd, HEADER)
                self._written = len(HEADER)
            os.write(self._fd, data)
            self._written += len(data)
        except OSError as e:  # a full disk must not stop training: keep the value in memory only
            log.warning("reward table: cannot append to %s (%s); continuing in memory", self.directory, e)
            self.max_file_bytes = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # pickling (a dict subclass with an fd): only the configuration travels
    def __reduce__(self):
        return (_rebuild, (self.directory, self.max_entries, self.refresh_sec, self.max_file_bytes))


def _rebuild(directory, max_entries, refresh_sec, max_file_bytes) -> RewardTable:
    return RewardTable(directory, max_entries=max_entries, refresh_sec=refresh_sec, max_file_bytes=max_file_bytes)


def table_dir(root: str | Path, reward_dirs: Sequence[str | Path]) -> Path:
    """``<root>/<fingerprint of the reward checkpoints>``."""
    return Path(root) / fingerprint(reward_dirs)


def table_root(setting: str | None, train_dir: str | Path) -> str:
    """``--reward_table_dir``: '' -> ``<train_dir>/reward_tables``; 'none' -> '' (no files, per-process cache)."""
    s = (setting or "").strip()
    if s.lower() in ("none", "off", "false", "0"):
        return ""
    return s or str(Path(train_dir) / "reward_tables")


def dataset_messages(reward_dirs: Sequence[str | Path]) -> list[bytes]:
    """Distinct messages (model-input bytes) of the datasets the reward models were trained on (those found)."""
    from maestromotif.reward.checkpoint import checkpoint_path, load_checkpoint
    from maestromotif.reward.config import RewardConfig
    from maestromotif.reward.runtime import message_key

    seen: dict[bytes, None] = {}
    for d in reward_dirs:
        cfg = RewardConfig.from_dict(load_checkpoint(checkpoint_path(d))["config"])
        path = cfg.dataset_path
        if not Path(path).is_file():
            log.info("reward table: dataset %s not found, not pre-scoring it", path)
            continue
        from maestromotif.data.dataset import load_dataset

        for row in load_dataset(path).messages:
            seen.setdefault(message_key(row))
    return list(seen)


def warm_table(table: RewardTable, reward_set: Any, messages: Sequence[bytes], batch_size: int = 1) -> int:
    """Score every (skill, message, kept-delta combination in {-1,0,1}) not yet in ``table``; returns how many.

    ``reward_set`` is a :class:`maestromotif.reward.runtime.SkillRewardSet`. ``batch_size=1`` (default)
    scores each input alone, exactly as a worker does on a miss: batched forwards differ from
    single ones in the last bits (~1e-6), and the table must give the very rewards a worker would."""
    from maestromotif.data.captions import DELTA_NAMES

    added = 0
    for skill, reward in enumerate(reward_set.rewards):
        kept = reward._dkey.kept
        combos = list(itertools.product((-1.0, 0.0, 1.0), repeat=len(kept)))
        keys = [(m, c) for m in messages for c in combos if (skill, (m, c)) not in table]
        for i in range(0, len(keys), batch_size):
            chunk = keys[i:i + batch_size]
            full = []
            for _, c in chunk:
                d = [0.0] * len(DELTA_NAMES)
                for j, v in zip(kept, c):
                    d[j] = v
                full.append(d)
            values = reward.raw_batch([m for m, _ in chunk], full)
            table.add_many([((skill, k), float(v)) for k, v in zip(chunk, values)])
            added += len(chunk)
    return added
