"""Every flag a document gives to a command exists in that command's ``--help``.

Scans README.md and docs/*.md for ``python -m scripts.<name> ...`` and ``python -m bench.<name> ...``
command lines (backslash continuations joined; a command ends at a backtick, a newline, ``|``, ``&&``,
``;`` or ``#``) and checks each ``--flag`` against the real ``--help`` output of that command, run as
a subprocess from the repository root.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"python3? -m ((?:scripts|bench)\.\w+)([^`\n|;#&]*)")
FLAG = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*")


def doc_commands() -> list[tuple[str, str, str]]:
    """(doc file, module, argument text) for every command line the docs show."""
    found = []
    for doc in DOCS:
        text = re.sub(r"\\\n\s*", " ", doc.read_text())
        for m in COMMAND.finditer(text):
            found.append((doc.relative_to(ROOT).as_posix(), m.group(1), m.group(2)))
    return found


def help_argv(module: str, args: str) -> tuple[str, ...]:
    # scripts.main adds the evaluation flags only in evaluation mode (maestromotif/rl/config.py)
    if module == "scripts.main" and re.search(r"--evaluation\s+True", args):
        return ("--evaluation", "True", "--help")
    return ("--help",)


@functools.cache
def help_flags(module: str, argv: tuple[str, ...]) -> frozenset[str]:
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", module, *argv], cwd=ROOT, capture_output=True, text=True,
                         timeout=180, env=env)
    assert out.returncode == 0, f"`python -m {module} {' '.join(argv)}` failed:\n{out.stderr[-2000:]}"
    # only the option lines ("  --a A, --b A    help..."), not flags quoted in descriptions
    invocations = [re.split(r"\s{2,}", line.strip())[0] for line in out.stdout.splitlines()
                   if re.match(r"\s+-", line)]
    return frozenset(f for inv in invocations for f in FLAG.findall(inv))


def test_docs_show_commands():
    modules = {m for _, m, _ in doc_commands()}
    assert {"scripts.evaluate", "scripts.pipeline", "scripts.annotate_pairs", "scripts.main"} <= modules


@pytest.mark.parametrize("module", sorted({m for _, m, _ in doc_commands()}))
def test_every_documented_flag_is_in_help(module):
    wrong = []
    for doc, mod, args in doc_commands():
        if mod != module:
            continue
        known = help_flags(module, help_argv(module, args))
        # a quoted value (e.g. bench.rl --variant "--num_workers 4") holds another command's flags
        for flag in FLAG.findall(re.sub(r"\"[^\"]*\"|'[^']*'", " ", args)):
            if flag not in known:
                wrong.append(f"{doc}: python -m {module} ... {flag}")
    assert not wrong, "flags in the docs that --help does not list:\n" + "\n".join(sorted(set(wrong)))
