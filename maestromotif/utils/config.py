"""Config records saved next to every artefact.

Each phase keeps its hyperparameters in a dataclass; :func:`save_config` writes it (plus the
maestromotif version and the command line) as JSON beside the artefact, and :func:`config_hash` gives
a stable fingerprint used to decide whether an existing artefact was made by the same config.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from maestromotif import __version__
from maestromotif.utils.io import atomic_save_json


def to_dict(cfg: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(cfg):
        return dataclasses.asdict(cfg)
    if isinstance(cfg, dict):
        return dict(cfg)
    return dict(vars(cfg))


def config_hash(cfg: Any, ignore: tuple[str, ...] = ()) -> str:
    d = {k: v for k, v in to_dict(cfg).items() if k not in ignore}
    blob = json.dumps(d, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def save_config(path: str | Path, cfg: Any, **extra: Any) -> dict[str, Any]:
    record = {
        "maestromotif_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "argv": sys.argv,
        "config": to_dict(cfg),
        **extra,
    }
    atomic_save_json(path, record)
    return record
