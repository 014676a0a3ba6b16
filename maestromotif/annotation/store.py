"""Chunked, resumable label store that survives ``kill -9`` and concurrent chunk jobs.

Files for experiment ``<exp>`` (``<annotator>_<goal>_<prompt>``) under the preference directory::

    preference/<exp>.npy            merged labels, int64 (num_pairs,): 0 first, 1 second, 2 tie,
                                    3 not annotated yet / unparseable (the original's encoding)
    preference/<exp>.config.json    the annotation config that made them (save_config record)
    preference/<exp>.summary.json   label counts of the merged file + every run of every chunk
    preference/<exp>.parts/chunk-<i>-of-<K>.jsonl   append-only log of one chunk's labels
    preference/<exp>.parts/chunk-<i>-of-<K>.summary.json   that chunk's runs (list, oldest first)

A part file is the source of truth: one JSON object per line, ``{"i": pair, "l": label,
"s": source}`` with source ``same`` (identical captions: a tie without an LLM call), ``cache``
(answer cache) or ``llm`` (asked now), optionally ``"u": 1`` when the answer was unparseable (label
3). Lines are appended and fsync'ed after every batch; a line torn by ``kill -9`` is ignored on
reading. Each chunk job writes only its own part file, so jobs on different machines (sharing a
file system) never overwrite each other; :func:`LabelStore.merge` folds every part file (and labels
already in the ``.npy``, e.g. the original's released files) into the ``.npy`` atomically, under a
lock file. Part entries win over the ``.npy``; among parts, the latest line wins.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.data.dataset import UNKNOWN, load_labels
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_save_npy
from maestromotif.utils.jsonl import encode, read_jsonl


def chunk_range(num_pairs: int, n_chunks: int, chunk: int) -> tuple[int, int]:
    """Pairs ``[lo, hi)`` of chunk ``chunk`` of ``n_chunks`` (the original's split)."""
    return chunk * num_pairs // n_chunks, (chunk + 1) * num_pairs // n_chunks


class LabelStore:
    def __init__(self, directory: str | Path, experiment: str, num_pairs: int):
        self.dir = Path(directory)
        self.experiment = experiment
        self.num_pairs = num_pairs

    @property
    def npy_path(self) -> Path:
        return self.dir / f"{self.experiment}.npy"

    @property
    def config_path(self) -> Path:
        return self.dir / f"{self.experiment}.config.json"

    @property
    def summary_path(self) -> Path:
        return self.dir / f"{self.experiment}.summary.json"

    @property
    def parts_dir(self) -> Path:
        return self.dir / f"{self.experiment}.parts"

    def part_path(self, chunk: int, n_chunks: int) -> Path:
        return self.parts_dir / f"chunk-{chunk}-of-{n_chunks}.jsonl"

    def part_files(self) -> list[Path]:
        return sorted(self.parts_dir.glob("chunk-*.jsonl")) if self.parts_dir.is_dir() else []

    def load_parts(self) -> dict[int, dict[str, Any]]:
        """pair -> its latest record across all part files."""
        done: dict[int, dict[str, Any]] = {}
        for path in self.part_files():
            for rec in read_jsonl(path):
                i = rec.get("i")
                if isinstance(i, int) and 0 <= i < self.num_pairs and rec.get("l") in (0, 1, 2, 3):
                    done[i] = rec
        return done

    def load_npy(self) -> np.ndarray:
        if not self.npy_path.exists():
            return np.full(self.num_pairs, UNKNOWN, dtype=np.int64)
        return load_labels(self.npy_path, num_pairs=self.num_pairs)

    def done(self, retry_unparseable: bool = False) -> dict[int, int]:
        """Pairs that need no work: labels already in the .npy (not 3) plus every part record
        (including unparseable ones, unless ``retry_unparseable``)."""
        labels = self.load_npy()
        out = {int(i): int(labels[i]) for i in np.flatnonzero(labels != UNKNOWN)}
        for i, rec in self.load_parts().items():
            if rec["l"] == UNKNOWN and retry_unparseable:
                out.pop(i, None)
                continue
            out[i] = rec["l"]
        return out

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / f".{self.experiment}.lock", "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def chunk_lock(self, chunk: int, n_chunks: int) -> Iterator[None]:
        """Held while a job annotates a chunk: a second job on the same chunk is refused at once (it
        would pay the whole LLM cost again). flock is released by the OS when the holder dies."""
        path = self.dir / f".{self.experiment}.chunk-{chunk}-of-{n_chunks}.lock"  # beside the merge lock
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "another process"
                raise UserError(f"chunk {chunk} of {n_chunks} of '{self.experiment}' is being annotated right now "
                                f"by {holder}", path=path,
                                fix="wait for that job to end (rerun then to resume), or annotate another "
                                    "--chunk-number") from None
            f.seek(0)
            f.truncate()
            f.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
            f.flush()
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def reset(self, lo: int, hi: int, chunk: int, n_chunks: int) -> None:
        """--ignore-existing: forget labels of pairs [lo, hi) (in the .npy and in every part file)."""
        with self.lock():
            labels = self.load_npy()
            labels[lo:hi] = UNKNOWN
            if self.npy_path.exists():
                atomic_save_npy(self.npy_path, labels)
            for path in self.part_files():
                records = list(read_jsonl(path))
                keep = [r for r in records if not (isinstance(r.get("i"), int) and lo <= r["i"] < hi)]
                if len(keep) == len(records):
                    # nothing of this range: leave the file alone - another chunk's job may be appending
                    # to it, and replacing it would send the rest of its labels to an unlinked inode
                    continue
                if keep:
                    tmp = path.with_suffix(".jsonl.tmp")
                    tmp.write_bytes(b"".join(encode(r) for r in keep))
                    os.replace(tmp, path)
                else:
                    path.unlink()

    def discard_all(self) -> None:
        """Forget every label of the experiment (the dataset changed): the .npy and all part files."""
        with self.lock():
            self.npy_path.unlink(missing_ok=True)
            for path in self.part_files():
                path.unlink()
            for path in self.parts_dir.glob("*.summary.json") if self.parts_dir.is_dir() else []:
                path.unlink()

    def merge(self) -> np.ndarray:
        """Fold every part file into the .npy (atomic write, under the lock); returns the labels."""
        with self.lock():
            labels = self.load_npy()
            for i, rec in self.load_parts().items():
                labels[i] = rec["l"]
            atomic_save_npy(self.npy_path, labels.astype(np.int64))
        return labels
