"""Shared fixtures. tests/ is not a package (see pyproject: signal-slot-mp ships a top-level `tests`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("USER", "agent")


@pytest.fixture
def repo_root() -> Path:
    return ROOT
