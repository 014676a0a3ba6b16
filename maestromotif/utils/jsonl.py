"""The one JSONL store of the project: append-only files of one JSON object per line that survive ``kill -9``.

Rules (every writer and reader here follows them):

- a record is one line ending in ``\\n``, written whole (one ``write``); values JSON cannot hold go through
  :func:`maestromotif.utils.io.json_default`;
- a line without its ``\\n`` is the torn last line of a killed writer: readers skip it, and the next writer
  starts on a fresh line so it never glues onto it;
- a line that is not a JSON object is skipped (a reader never fails on a damaged file).

Two writers: :func:`append_record` (one record, made durable at once: evaluation episodes) and
:class:`AppendLog` (many records, made durable by :meth:`AppendLog.sync`: annotation labels, the answer
cache, conversation logs).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from maestromotif.utils.io import json_default


def encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, default=json_default, separators=(",", ":")).encode() + b"\n"


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file, in order; torn and corrupt lines are skipped."""
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break  # the last line of a killed writer
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict):
                yield rec


def _ends_torn(path: Path) -> bool:
    """Whether a non-empty ``path`` lacks its final newline (a killed writer's last line)."""
    if not path.exists() or not path.stat().st_size:
        return False
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def append_record(path: str | Path, record: dict[str, Any]) -> None:
    """Append one record with a single ``os.write`` and ``fsync`` it (durable when this returns)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = encode(record)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if _ends_torn(path):
            line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


class AppendLog:
    """Append records to one file; :meth:`sync` makes everything written so far durable."""

    def __init__(self, path: str | Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        torn = _ends_torn(path)
        self._f = open(path, "ab")
        if torn:
            self._f.write(b"\n")

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        self._f.write(b"".join(encode(r) for r in records))

    def sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if not self._f.closed:
            self.sync()
            self._f.close()


class WriterLog:
    """One writer's own ``<host>-<pid>-<time>-<rand>.jsonl`` in a directory that several jobs share
    (answer caches): opened on the first write, so a reader-only process leaves no empty file."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self._log: AppendLog | None = None

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        if self._log is None:
            name = f"{socket.gethostname()}-{os.getpid()}-{int(time.time())}-{uuid.uuid4().hex[:8]}.jsonl"
            self._log = AppendLog(self.dir / name)
        self._log.write(records)

    def sync(self) -> None:
        if self._log is not None:
            self._log.sync()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()

