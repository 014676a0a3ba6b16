"""Pull the Python program out of an LLM answer (prose, markdown fences, several blocks, cut-offs).

The paper's prompts ask for "the code for the class definition and the unit test in a python
markdown". Models answer with questions and reasoning around one or more fenced blocks, sometimes
splitting the class and the unit test in two blocks, sometimes forgetting the closing fence or the
fence altogether. :func:`extract_code` tries, in order, and keeps the first candidate that parses
and defines the wanted method:

1. the last fenced block that defines the class, joined with the blocks after it (class + unit test
   in separate blocks; an earlier draft of the class is dropped);
2. all Python-looking fenced blocks joined in order, then each alone, last first;
3. an unterminated final fence (the answer was cut off);
4. without any fence: the whole answer, then the answer from its first code-looking line, less
   trailing prose.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_FENCE = re.compile(r"(?ms)^[ \t]*(```|~~~)[ \t]*([\w+.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$")
_OPEN_FENCE = re.compile(r"(?m)^[ \t]*(```|~~~)[ \t]*([\w+.-]*)[^\n]*\n")
_PY_LANGS = {"", "python", "py", "python3", "py3", "pycon", "ipython"}
_CODE_START = re.compile(r"^(import |from \S+ import |class |def |@|#|if __name__)")


@dataclass
class Extracted:
    code: str
    how: str  # which rule found it, for the log


def _parses(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def defines(tree: ast.Module, class_name: str, method: str | None) -> bool:
    """Whether the module defines ``class_name`` (with ``method`` when given)."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            if method is None:
                return True
            return any(isinstance(n, ast.FunctionDef) and n.name == method for n in node.body)
    return False


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)


def _prose_trimmed(text: str) -> str:
    lines = text.split("\n")
    start = next((i for i, ln in enumerate(lines) if _CODE_START.match(ln)), None)
    if start is None:
        return ""
    end = len(lines)
    # drop trailing prose only (unindented lines); never cut into the code, which would turn a
    # syntax error into a silently truncated program
    while end > start and not _parses("\n".join(lines[start:end])) and not lines[end - 1][:1].isspace():
        end -= 1
    return "\n".join(lines[start:end])


def candidates(answer: str, class_name: str = "NetHackPlayer", method: str | None = None) -> list[tuple[str, str]]:
    text = _normalise(answer)
    blocks = [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]
    py = [code for lang, code in blocks if lang in _PY_LANGS]
    out: list[tuple[str, str]] = []
    defining = [i for i, code in enumerate(py) if (t := _parses(code)) is not None and defines(t, class_name, method)]
    if defining and defining[-1] < len(py) - 1:
        k = defining[-1]
        out.append((f"fenced block {k + 1} and the blocks after it", "\n\n".join(py[k:])))
    if len(py) > 1:
        out.append(("joined fenced blocks", "\n\n".join(py)))
    out += [(f"fenced block {i + 1} of {len(py)}", code) for i, code in reversed(list(enumerate(py)))]
    opens = list(_OPEN_FENCE.finditer(text))
    if opens and len(opens) % 2 == 1 and opens[-1].group(2).lower() in _PY_LANGS:
        out.append(("unterminated fenced block", text[opens[-1].end():]))
    if not blocks:  # prose + code without fences
        out.append(("whole answer", text))
        out.append(("answer without prose", _prose_trimmed(text)))
    return out


def extract_code(answer: str, class_name: str = "NetHackPlayer", method: str | None = None) -> Extracted | None:
    """The program in ``answer`` that defines ``class_name.method`` (``None``: no such program).

    When no candidate defines the method, the first candidate that parses is returned anyway so the
    caller can tell the LLM what is missing; when nothing parses, the first fenced block is returned
    so the caller can report the syntax error.
    """
    parsed = []
    for how, code in candidates(answer, class_name, method):
        code = code.strip("\n")
        if not code.strip():
            continue
        tree = _parses(code)
        if tree is None:
            continue
        if defines(tree, class_name, method):
            return Extracted(code + "\n", how)
        parsed.append(Extracted(code + "\n", how))
    if parsed:
        return parsed[0]
    fenced = [c for h, c in candidates(answer) if h.startswith(("fenced", "unterminated")) and c.strip()]
    if fenced:
        return Extracted(fenced[-1].strip("\n") + "\n", "fenced block (does not parse)")
    return None
