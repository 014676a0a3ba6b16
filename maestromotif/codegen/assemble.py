"""Combine generated pieces into one ``execution.py`` (the original's ``combine.py``, done on the AST).

A *piece* is a program (an LLM answer: a ``NetHackPlayer`` class, perhaps helper functions and a
unit test) or a method snippet file (``initial_values.txt``: indented ``def`` blocks). Combining
starts from a base class and lays pieces over it: a member (method or class attribute such as
``REQUIRED_ATTRIBUTES``) of a later piece replaces the member of the same name, new members are
appended. Module-level imports are merged; unit-test code (whatever is not an import, a definition
or a constant above the class) is dropped. The result is parsed again before it is returned.
"""

from __future__ import annotations

import ast
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from maestromotif.skills.interface import CLASS_NAME


@dataclass
class Program:
    imports: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)  # module-level helpers/constants
    class_line: str = f"class {CLASS_NAME}:"
    members: dict[str, str] = field(default_factory=dict)  # name -> dedented source
    has_class: bool = False
    has_test: bool = False


def _segment(lines: Sequence[str], node: ast.AST) -> str:
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return textwrap.dedent("\n".join(lines[start - 1:node.end_lineno]))


def _member_name(node: ast.stmt, index: int) -> str:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return "__doc__"
    return f"__stmt{index}__"


def _bound(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def parse_program(code: str) -> Program:
    """Split a program into imports, module definitions, the ``NetHackPlayer`` members and the rest.

    Module-level functions and classes (anywhere) and assignments (above the class) are kept only when
    the class uses them, directly or through another kept definition: the unit test's are test code.
    """
    tree = ast.parse(code)
    lines = code.split("\n")
    prog = Program()
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == CLASS_NAME), None)
    # helpers anywhere; constants only above the class (assignments below it are the unit test's)
    defs = [n for n in tree.body if n is not cls and (isinstance(n, ast.FunctionDef | ast.ClassDef) or (
        isinstance(n, ast.Assign | ast.AnnAssign) and cls is not None and n.lineno < cls.lineno))]
    needed, kept = _used(cls) if cls is not None else set(), []
    changed = True
    while changed:
        changed = False
        for node in defs:
            if node not in kept and _bound(node) & needed:
                kept.append(node)
                needed |= _used(node)
                changed = True
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            prog.imports.append(ast.unparse(node))
        elif node is cls:
            prog.has_class = True
            bases = ", ".join(ast.unparse(b) for b in node.bases + node.keywords)
            prog.class_line = f"class {CLASS_NAME}({bases}):" if bases else f"class {CLASS_NAME}:"
            for i, member in enumerate(node.body):
                prog.members[_member_name(member, i)] = _segment(lines, member)
        elif node in kept:
            prog.definitions.append(_segment(lines, node))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node is tree.body[0]:
            continue  # module docstring
        elif not isinstance(node, ast.FunctionDef | ast.ClassDef):
            prog.has_test = True  # statements that do something: the unit test
    return prog


def parse_methods(snippet: str) -> Program:
    """A snippet file of indented ``def`` blocks (``initial_values.txt``) as class members."""
    return parse_program(f"class {CLASS_NAME}:\n" + textwrap.indent(textwrap.dedent(snippet).strip("\n"), "    ")
                         + "\n")


def has_test_code(code: str) -> bool:
    return parse_program(code).has_test


def strip_header(code: str) -> str:
    """Drop the leading comment block (the provenance header of a shipped/generated file)."""
    lines = code.split("\n")
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        i += 1
    return "\n".join(lines[i:])


def code_before_method(code: str, method: str = "perform_task") -> str:
    """The class up to ``method``'s signature line (what the task prompts show as previous code)."""
    lines = strip_header(code).split("\n")
    for i, line in enumerate(lines):
        if line.strip().startswith(f"def {method}("):
            signature = [line]
            j = i
            while not lines[j].rstrip().endswith(":") and j + 1 < len(lines):
                j += 1
                signature.append(lines[j])
            return "\n".join(lines[:i] + signature)
    return "\n".join(lines)


def combine(base: Program, overlays: Iterable[tuple[Program, Sequence[str] | None]]) -> Program:
    """Lay ``(piece, names)`` over ``base``; ``names=None`` takes every member of the piece."""
    out = Program(list(base.imports), list(base.definitions), base.class_line, dict(base.members), True)
    for piece, names in overlays:
        wanted = piece.members if names is None else {n: piece.members[n] for n in names if n in piece.members}
        missing = [] if names is None else [n for n in names if n not in piece.members]
        if missing:
            raise ValueError(f"piece lacks member(s) {', '.join(missing)}")
        for name, src in wanted.items():
            if name.startswith("__stmt") or (name == "__doc__" and "__doc__" in out.members):
                continue
            out.members[name] = src
        out.imports += [i for i in piece.imports if i not in out.imports]
        out.definitions += [d for d in piece.definitions if d not in out.definitions]
    return out


def render(prog: Program, header: str = "") -> str:
    imports = list(dict.fromkeys(["import random", *prog.imports]))
    imports.sort(key=lambda i: not i.startswith("from __future__"))  # must come first; sort is stable
    body = "\n\n".join(textwrap.indent(src, "    ") for src in prog.members.values())
    parts = [header.rstrip("\n"), "\n".join(imports)] if header else ["\n".join(imports)]
    parts += prog.definitions
    parts.append(f"{prog.class_line}\n{body}")
    code = "\n\n\n".join(p for p in parts if p) + "\n"
    ast.parse(code)  # a combination bug must not reach a file
    return code


def make_header(task: str, seed: int, lines: Iterable[str]) -> str:
    out = [f"# Policy over skills for the task '{task}' (code seed {seed}): class NetHackPlayer,",
           "# interface documented in maestromotif/skills/interface.py.",
           *(f"# {ln}" for ln in lines),
           f"# Written {time.strftime('%Y-%m-%d %H:%M:%S %z')}; validated by maestromotif.codegen.validate."]
    return "\n".join(out) + "\n"
