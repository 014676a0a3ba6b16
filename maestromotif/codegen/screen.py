"""Static screen of LLM-written code: an AST allow-list checked before anything runs.

A policy over skills is plain decision logic; it needs ``random``, ``math``, ``collections`` and
perhaps ``numpy``, never the file system, processes or the network. :func:`screen_code` returns the
list of reasons the code is refused (empty: it may run, in the sandbox of :mod:`.sandbox`).

Refused: imports outside :data:`ALLOWED_IMPORTS` (``os``, ``subprocess``, ``socket``, ``sys``,
``ctypes``, ...), relative imports, builtins outside :data:`ALLOWED_BUILTINS` (``open``, ``eval``,
``exec``, ``compile``, ``__import__``, ``globals``, ``vars``, ``input``, ...), dunder names and
attributes (``__subclasses__``, ``__globals__``, ``__builtins__``, ...; ``__init__``/``__name__``
excepted), private attributes of anything but ``self``/``cls``, numpy's file and FFI functions
(``np.save``, ``np.load``, ``np.memmap``, ``ndarray.tofile``, ``np.ctypeslib``, ...),
``getattr``/``setattr``/``hasattr``/``delattr`` with a name that is not a plain string literal,
``async`` code, and a bare ``except:`` (it would swallow the time budget's interrupt).
"""

from __future__ import annotations

import ast
import builtins

ALLOWED_IMPORTS = frozenset({
    "random", "math", "collections", "collections.abc", "itertools", "functools", "re", "numpy",
    "numpy.random", "typing", "heapq", "statistics", "string", "copy", "dataclasses", "enum", "abc",
    "bisect",
})

ALLOWED_BUILTINS = frozenset({
    "abs", "all", "any", "bin", "bool", "chr", "classmethod", "dict", "divmod", "enumerate", "filter",
    "float", "format", "frozenset", "hash", "hex", "int", "isinstance", "issubclass", "iter", "len",
    "list", "map", "max", "min", "next", "object", "oct", "ord", "pow", "print", "property", "range",
    "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod", "str", "sum", "super",
    "tuple", "type", "zip", "getattr", "setattr", "hasattr", "delattr",
    "True", "False", "None", "NotImplemented", "Ellipsis",
    # exceptions a policy may raise or catch
    "Exception", "ArithmeticError", "AssertionError", "AttributeError", "IndexError", "KeyError",
    "LookupError", "NotImplementedError", "RuntimeError", "StopIteration", "TypeError", "ValueError",
    "ZeroDivisionError",
})
_ATTR_BUILTINS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
ALLOWED_DUNDERS = frozenset({"__init__", "__name__", "__doc__", "__repr__", "__str__", "__eq__",
                             "__hash__", "__lt__", "__len__"})
# numpy (and ndarray) attributes that read/write files, map memory or reach C.
BLOCKED_ATTRIBUTES = frozenset({
    "save", "savez", "savez_compressed", "savetxt", "load", "loadtxt", "genfromtxt", "fromfile",
    "tofile", "memmap", "fromregex", "ctypeslib", "ctypes", "DataSource", "lib", "f2py", "distutils",
    "testing", "dump", "dumps", "system", "popen", "os", "sys", "builtins",
    # modules some allowed modules import at their top level
    "types", "importlib", "inspect", "marshal", "pickle", "subprocess", "socket", "shutil", "pathlib",
    "io", "gc", "codecs", "tempfile", "CodeType", "FunctionType",
})
MAX_CODE_CHARS = 200_000


class _Screen(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.bound: set[str] = set()

    def fail(self, node: ast.AST, why: str) -> None:
        line = getattr(node, "lineno", "?")
        msg = f"line {line}: {why}"
        if msg not in self.problems:
            self.problems.append(msg)

    # ---- imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                self.fail(node, f"imports '{alias.name}' (allowed: {', '.join(sorted(ALLOWED_IMPORTS))})")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.fail(node, "relative import")
        elif node.module not in ALLOWED_IMPORTS:
            self.fail(node, f"imports from '{node.module}' (allowed: {', '.join(sorted(ALLOWED_IMPORTS))})")
        for alias in node.names:
            if alias.name == "*":
                self.fail(node, f"'from {node.module} import *'")
            elif alias.name in BLOCKED_ATTRIBUTES or alias.name.startswith("_"):
                self.fail(node, f"imports '{alias.name}' from '{node.module}' (file/system access or private)")
        self.generic_visit(node)

    # ---- names and attributes
    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS:
            self.fail(node, f"uses the dunder name '{name}'")
        elif (isinstance(node.ctx, ast.Load) and hasattr(builtins, name) and name not in ALLOWED_BUILTINS
              and name not in self.bound):
            self.fail(node, f"uses the builtin '{name}' (not allowed in a policy over skills)")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__"):
            if attr not in ALLOWED_DUNDERS:
                self.fail(node, f"accesses the dunder attribute '.{attr}'")
        elif attr.startswith("_"):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                self.fail(node, f"accesses the private attribute '.{attr}' of something other than self")
        elif attr in BLOCKED_ATTRIBUTES:
            self.fail(node, f"accesses '.{attr}' (file, process or C access)")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id in _ATTR_BUILTINS and fn.id not in self.bound:
            name = node.args[1] if len(node.args) > 1 else None
            ok = isinstance(name, ast.Constant) and isinstance(name.value, str) and not name.value.startswith("_")
            if not ok:
                self.fail(node, f"{fn.id}() with a name that is not a plain string literal")
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.fail(node, "async code")

    def visit_Await(self, node: ast.Await) -> None:
        self.fail(node, "async code")

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None:  # it would also catch the time budget's interrupt (maestromotif.skills.budget)
            self.fail(node, "bare 'except:' (write 'except Exception:')")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name.startswith("__"):
                self.fail(node, f"global declaration of '{name}'")


def _bound_names(tree: ast.AST) -> set[str]:
    """Names the code binds itself (so a local variable called ``input`` is not the builtin)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    # never let a binding whitelist the dangerous builtins themselves
    return bound - {"open", "eval", "exec", "compile", "__import__", "globals", "locals", "vars",
                    "breakpoint", "input", "memoryview", "getattr", "setattr", "delattr", "hasattr"}


def screen_code(code: str) -> list[str]:
    """Reasons to refuse ``code`` (empty list: it passes the screen)."""
    if len(code) > MAX_CODE_CHARS:
        return [f"code is {len(code)} characters long (limit {MAX_CODE_CHARS})"]
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [f"syntax error at line {e.lineno}: {e.msg}"]
    s = _Screen()
    s.bound = _bound_names(tree)
    s.visit(tree)
    return s.problems
