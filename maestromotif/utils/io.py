"""Crash-safe file writes: write to a temporary file in the same directory, fsync, ``os.replace``.

A reader (or a process restarted after ``kill -9``) sees either the old file or the new one, never a
torn write.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[io.IOBase]:
    """Open a temp file beside ``path``; on clean exit fsync it and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; artefacts are shared files
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_json(path: str | Path, obj: Any, **kwargs: Any) -> None:
    kwargs.setdefault("indent", 2)
    kwargs.setdefault("sort_keys", False)
    atomic_write_text(path, json.dumps(obj, default=json_default, **kwargs) + "\n")


def atomic_save_pickle(path: str | Path, obj: Any) -> None:
    with atomic_open(path, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def atomic_save_npy(path: str | Path, array: np.ndarray) -> None:
    """``np.save`` without the implicit ``.npy`` suffix games, atomically."""
    with atomic_open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


def atomic_torch_save(path: str | Path, obj: Any) -> None:
    import torch  # local: keep this module importable without torch

    with atomic_open(path, "wb") as f:
        torch.save(obj, f)


def json_default(o: Any) -> Any:
    """The one ``default=`` of every ``json.dump`` here: numpy values and arrays, paths, sets."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, set | frozenset):
        return sorted(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
