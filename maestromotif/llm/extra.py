"""The LLM stack is an optional extra: the main job (collect, reward, RL, evaluation) installs without it.

Backends import their libraries through :func:`require`, which turns a missing package into a
:class:`UserError` naming the command that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from maestromotif.utils.errors import UserError

INSTALL_LLM = 'pip install -e ".[llm]"   (or: pip install -r requirements-llm.txt)'


def require(module: str, needed_for: str) -> ModuleType:
    """Import ``module`` or explain how to install the LLM extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise UserError(f"{needed_for} needs the Python module '{module}', which is not installed ({e})",
                        expected="maestromotif installed with its LLM extra (requirements-llm.txt)",
                        fix=INSTALL_LLM) from None
