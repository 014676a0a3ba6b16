"""Shared fixtures. tests/ is not a package (see pyproject: signal-slot-mp ships a top-level `tests`).

The package is installed (`pip install -e .`, done by requirements-dev.txt and .ci/run); run the tests
from the repository root: `python -m pytest -q` (everything) or `python -m pytest -q -m "not slow"`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return ROOT
