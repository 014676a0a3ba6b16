"""Errors a user can act on.

Every error raised because of bad input names the file, what was expected, and how to fix it. CLIs
catch :class:`UserError` and print it without a traceback (see :func:`run_cli`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


class UserError(Exception):
    """Bad input from the user (a file, a flag, a config) - never a bug in maestromotif."""

    def __init__(self, what: str, *, path: str | Path | None = None, expected: str | None = None,
                 fix: str | None = None):
        self.what, self.path, self.expected, self.fix = what, path, expected, fix
        parts = [f"{path}: {what}" if path is not None else what]
        if expected:
            parts.append(f"expected: {expected}")
        if fix:
            parts.append(f"fix: {fix}")
        super().__init__("\n  ".join(parts))


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run a CLI entry point; a :class:`UserError` becomes a one-paragraph message and exit code 2."""
    try:
        return int(main(argv) or 0)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; everything finished so far is on disk, rerun the same command to resume",
              file=sys.stderr)
        return 130
