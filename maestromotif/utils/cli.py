"""One way to declare a command's flags: a dataclass whose fields carry their help.

    @dataclass
    class Args:
        dataset_dir: str = arg("og_dataset", "directory of <skill>.pkl datasets", aliases=("directory",))
        progress: bool = arg(True, "show a progress bar")

    cfg = parse(Args, argv, prog="python -m scripts.x", description=__doc__)

Every field becomes a flag, spelled both ``--a_b`` and ``--a-b`` (aliases too); the type comes from
the annotation (``int``, ``float``, ``str``, ``bool``, ``X | None``, ``tuple[str, ...]``,
``list[str]``); the help ends with the default. Booleans have one parser everywhere
(:func:`parse_bool`): ``--flag``, ``--flag 1/0``, ``--flag true/false/yes/no`` all work and give a
real ``bool``. The flag therefore lives in one place: the config dataclass the library reads.

A path that belongs to the artefact layout is declared with :func:`ws_arg` (``ws_arg("skill_policy/default",
"...")``): its default follows the workspace (:mod:`maestromotif.workspace`), not the current directory, and
the command gains ``--workspace DIR`` to pick another root.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

TRUE = ("1", "true", "t", "yes", "y", "on")
FALSE = ("0", "false", "f", "no", "n", "off")


def parse_bool(text: Any) -> bool:
    """The one boolean parser of every command: 1/0, true/false, yes/no, on/off (any case)."""
    if isinstance(text, bool):
        return text
    s = str(text).strip().lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (1/0, true/false, yes/no), got {text!r}")


def _scalar(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def parse_mapping(text: Any) -> dict[str, Any]:
    """A mapping flag (``dict`` fields): ``KEY=VALUE`` (numbers and true/false/none converted), JSON
    (``'{"n_ctx": 4096}'``) or a Python literal (``"{'n_ctx': 4096}"``). Repeated uses merge."""
    if isinstance(text, dict):
        return dict(text)
    s = str(text).strip()
    if not s.startswith("{") and "=" in s:
        key, value = s.split("=", 1)
        if key.strip():
            return {key.strip(): _scalar(value.strip())}
    try:
        val = json.loads(s)
    except ValueError:
        try:
            val = ast.literal_eval(s)
        except (ValueError, SyntaxError):
            val = None
    if not isinstance(val, dict) or not all(isinstance(k, str) for k in val):
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE or a mapping such as '{{\"n_ctx\": 4096}}', got {text!r}")
    return val


class _Merge(argparse.Action):
    """``--x a=1 --x '{"b": 2}'`` -> {"a": 1, "b": 2}; the first use replaces the default."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_cli_given", set())
        current = dict(getattr(namespace, self.dest)) if self.dest in seen else {}
        seen.add(self.dest)
        setattr(namespace, self.dest, {**current, **values})


class _Extend(argparse.Action):
    """``--x a b --x c`` -> [a, b, c]; the first use replaces the default instead of extending it."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_cli_given", set())
        current = list(getattr(namespace, self.dest)) if self.dest in seen else []
        seen.add(self.dest)
        setattr(namespace, self.dest, current + list(values))


def arg(default: Any = dataclasses.MISSING, help: str = "", *, aliases: Sequence[str] = (),  # noqa: A002
        type: Callable[[str], Any] | None = None, choices: Sequence[Any] | None = None,  # noqa: A002
        metavar: str | None = None, group: str | None = None, cli: bool = True,
        required: bool = False) -> Any:
    """A dataclass field that is also a flag. Mutable defaults (lists) are copied per instance."""
    meta = {"help": help, "aliases": tuple(aliases), "type": type, "choices": choices, "metavar": metavar,
            "group": group, "cli": cli, "required": required}
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda d=default: type_copy(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def ws_arg(name: str, help: str = "", **kw: Any) -> Any:  # noqa: A002
    """A path flag whose default is ``<workspace>/<LAYOUT path of name>`` (see :mod:`maestromotif.workspace`)."""
    from maestromotif.workspace import in_workspace

    meta = {**arg(help=help, **kw).metadata, "workspace": name}
    return dataclasses.field(default_factory=lambda: in_workspace(name), metadata=meta)


class InWorkspace:
    """The parser's default of a :func:`ws_arg` flag, resolved once ``--workspace`` is known. Not a ``str``,
    so argparse leaves it alone."""

    def __init__(self, name: str):
        self.name = name

    def resolve(self, root: str | None) -> str:
        from maestromotif.workspace import workspace

        return str(workspace(root).path(self.name))

    def __str__(self) -> str:
        from maestromotif.workspace import LAYOUT

        head, _, rest = self.name.partition("/")
        return "<workspace>/" + "/".join(x for x in (LAYOUT[head], rest) if x)


WORKSPACE_HELP = ("workspace root that the path defaults marked <workspace> live in (default: $MAESTROMOTIF_WORKSPACE, "
                  "else the checkout holding the package and its shipped artefacts; see docs/files.md)")


def type_copy(d: Any) -> Any:
    return type(d)(d)


def spellings(name: str) -> list[str]:
    """``--a_b`` and ``--a-b`` (one spelling for names without ``_``/``-``)."""
    out = [f"--{name}"]
    for alt in (name.replace("_", "-"), name.replace("-", "_")):
        if f"--{alt}" not in out:
            out.append(f"--{alt}")
    return out


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(inner type, optional) of ``X | None``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def add_fields(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one flag per field of dataclass ``cls`` (fields with ``cli=False`` are skipped)."""
    hints = typing.get_type_hints(cls)
    groups: dict[str, Any] = {}
    fields = dataclasses.fields(cls)
    if any(f.metadata.get("workspace") for f in fields) and "workspace" not in {f.name for f in fields}:
        parser.add_argument("--workspace", dest="workspace", default=None, metavar="DIR", help=WORKSPACE_HELP)
    for f in fields:
        meta = f.metadata
        if not meta.get("cli", True):
            continue
        tp, _ = _unwrap(hints[f.name])
        kw: dict[str, Any] = {"dest": f.name}
        if meta.get("workspace"):
            default = InWorkspace(meta["workspace"])
        elif f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        origin = typing.get_origin(tp)
        custom = meta.get("type")
        if origin is list:  # repeatable: --x a --x b and --x a b both give [a, b]
            inner = typing.get_args(tp)[0] if typing.get_args(tp) else str
            kw.update(type=custom or (inner if inner in (int, float, str) else str), nargs="+", action=_Extend)
        elif origin is dict:  # a mapping: KEY=VALUE or {...}, repeatable, merged
            kw.update(type=custom or parse_mapping, action=_Merge)
        elif custom is not None:
            kw["type"] = custom
        elif tp is bool:
            kw.update(type=parse_bool, nargs="?", const=True, metavar="BOOL")
        elif origin is tuple:
            inner = typing.get_args(tp)[0] if typing.get_args(tp) else str
            kw.update(type=inner, nargs="+")
        elif tp in (int, float, str):
            kw["type"] = tp
        if meta.get("choices") is not None:
            kw["choices"] = meta["choices"]
        if meta.get("metavar"):
            kw["metavar"] = meta["metavar"]
        if meta.get("required"):
            kw["required"] = True
        else:
            kw["default"] = default
        shown = ",".join(map(str, default)) if isinstance(default, list | tuple) else default
        help_text = meta.get("help", "")
        if not meta.get("required") and default not in (None, [], ()):
            help_text += f" (default: {shown})"
        help_text = help_text.replace("%", "%%")
        kw["help"] = help_text
        names: list[str] = []
        for n in (f.name, *meta.get("aliases", ())):
            names += [s for s in spellings(n) if s not in names]
        target = parser
        if meta.get("group"):
            if meta["group"] not in groups:
                groups[meta["group"]] = parser.add_argument_group(meta["group"])
            target = groups[meta["group"]]
        target.add_argument(*names, **kw)


def make_parser(cls: type, prog: str, description: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description, allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fields(p, cls)
    return p


def from_namespace(cls: type, ns: argparse.Namespace, **extra: Any) -> Any:
    """Build ``cls`` from parsed flags; list values become tuples for tuple-typed fields."""
    hints = typing.get_type_hints(cls)
    kw = {}
    for f in dataclasses.fields(cls):
        if not hasattr(ns, f.name):
            continue
        v = getattr(ns, f.name)
        if isinstance(v, InWorkspace):
            v = v.resolve(getattr(ns, "workspace", None))
        tp, _ = _unwrap(hints[f.name])
        if typing.get_origin(tp) is tuple and isinstance(v, list):
            v = tuple(v)
        kw[f.name] = v
    kw.update(extra)
    return cls(**kw)


def parse(cls: type, argv: Sequence[str] | None, prog: str, description: str | None = None) -> Any:
    return from_namespace(cls, make_parser(cls, prog, description).parse_args(argv))
