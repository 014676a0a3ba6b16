"""Annotation prompts and goals, loaded from data files (YAML or JSON) - no code per prompt or skill.

Two kinds of file, looked up by name in ``templates/`` and ``goals/`` of each prompt directory:
the user's ``--prompt_dir`` directories first, then the built-in ``maestromotif/annotation/prompts``.
``--prompt`` may also be the path of a template file.

Goal file ``goals/<goal_key>.yaml`` (the text that says what the skill prefers)::

    goal: |-
      the direction of progress is to explore by going down the dungeon. ...
    source: where the text comes from (optional)

Template file ``templates/<prompt>.yaml``::

    name: default                      # optional, defaults to the file stem
    system: |-                         # system message
      You are a helpful and honest judge ...
    template: |                        # user message; str.format placeholders {goal},
      ... {goal} ... {description_1} ... {description_2}   # literal braces doubled: {{ }}
    retry: |-                          # sent once when the answer cannot be parsed
      So, which one is the best? ...
    answer_key: best_description       # the key of ("best_description": 1|2|None)
    score:                             # optional: score mode (next-token log-probs, base models)
      template: |-                     # a completion-style prompt ending right before the answer
        ... {goal} ... {description_1} ... {description_2} ... Answer:
      options: [" 1", " 2"]            # option texts for "description 1" and "description 2"
      tie_margin: 0.1                  # |order-averaged log-prob difference| below this -> tie
      compact: true                    # drop the captions' "X: did not change" lines
    pointwise:                         # optional: pointwise mode (one score per caption for every
      ...                              # skill; see maestromotif/annotation/pointwise.py and
                                       # templates/classify.yaml). A file with only this section
                                       # needs no 'template'/'system'/'retry'.

Built in: templates ``default`` (MaestroMotif, verbatim from the paper), ``classify`` (pointwise mode
for small base models, ours), ``motif`` (Motif's prompt,
whose modifier slot takes goals ``defaultgoal``/``gold``/``stairs``/``combat``, or ``zeroknowledge``
for the zero-knowledge prompt) and ``motif_reworded``; goals: the five skills verbatim from the
paper plus Motif's modifiers.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from maestromotif.annotation.pointwise import PointwiseSpec, parse_pointwise
from maestromotif.llm.base import Chat
from maestromotif.utils.errors import UserError

BUILTIN_DIR = Path(__file__).resolve().parent / "prompts"
SUFFIXES = (".yaml", ".yml", ".json")
PLACEHOLDERS = ("goal", "description_1", "description_2")


_UNCHANGED = re.compile(r"^[A-Za-z][A-Za-z ]*: did not change\.?$")


def compact_description(caption: str) -> str:
    """A caption without its "X: did not change" lines (what a small model should not have to read)."""
    lines = [ln for ln in caption.split("\n") if not _UNCHANGED.match(ln)]
    return "\n".join(lines)


@dataclass(frozen=True)
class ScoreSpec:
    template: str
    options: tuple[str, str] = ("1", "2")
    tie_margin: float = 0.0
    compact: bool = False  # drop "X: did not change" caption lines (shorter prompts, less distraction)


@dataclass(frozen=True)
class PromptSpec:
    name: str
    system: str
    template: str
    retry: str
    answer_key: str = "best_description"
    score: ScoreSpec | None = None
    source: str = ""
    path: str = ""
    pointwise: PointwiseSpec | None = None

    def user_message(self, goal: str, d1: str, d2: str) -> str:
        return self.template.format(goal=goal, description_1=d1, description_2=d2)

    def chat(self, goal: str, d1: str, d2: str) -> Chat:
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        return msgs + [{"role": "user", "content": self.user_message(goal, d1, d2)}]

    def retry_chat(self, chat: Chat, answer: str) -> Chat:
        return list(chat) + [{"role": "assistant", "content": answer}, {"role": "user", "content": self.retry}]

    def score_prompt(self, goal: str, d1: str, d2: str) -> str:
        if self.score is None:
            raise UserError(f"prompt '{self.name}' has no score section", path=self.path or None,
                            expected="a 'score:' mapping with 'template' and 'options'",
                            fix="add one to the prompt file, or use --mode generate")
        if self.score.compact:
            d1, d2 = compact_description(d1), compact_description(d2)
        return self.score.template.format(goal=goal, description_1=d1, description_2=d2)

    def fingerprint(self) -> dict[str, Any]:
        """Everything in the spec that changes what the LLM is asked (for cache keys)."""
        d = asdict(self)
        d.pop("path")
        d.pop("source")
        if d.get("pointwise") is None:
            d.pop("pointwise", None)  # keeps the keys of pairwise prompts' caches and label files unchanged
        return d


@dataclass(frozen=True)
class Goal:
    key: str
    text: str
    source: str = ""
    path: str = ""


@dataclass
class PromptLibrary:
    """Finds templates and goals in the user's directories, then in the built-in one."""

    extra_dirs: list[Path] = field(default_factory=list)

    @property
    def dirs(self) -> list[Path]:
        return [Path(d) for d in self.extra_dirs] + [BUILTIN_DIR]

    def _find(self, kind: str, name: str) -> Path | None:
        for d in self.dirs:
            for suf in SUFFIXES:
                p = d / kind / f"{name}{suf}"
                if p.is_file():
                    return p
        return None

    def names(self, kind: str) -> list[str]:
        out: set[str] = set()
        for d in self.dirs:
            if (d / kind).is_dir():
                out.update(p.stem for p in (d / kind).iterdir() if p.suffix in SUFFIXES)
        return sorted(out)

    def prompt(self, name_or_path: str) -> PromptSpec:
        p = Path(name_or_path)
        path = p if p.suffix in SUFFIXES and p.is_file() else self._find("templates", name_or_path)
        if path is None:
            raise UserError(f"unknown prompt '{name_or_path}'",
                            expected=f"one of {', '.join(self.names('templates'))}, or a template file path",
                            fix="pass --prompt with one of those, or add templates/<name>.yaml to a --prompt_dir")
        return parse_prompt(_read(path), path)

    def goal(self, key: str) -> Goal:
        path = self._find("goals", key)
        if path is None:
            raise UserError(f"no goal text for '{key}'",
                            expected=f"one of {', '.join(self.names('goals'))}",
                            fix=f"check --goal_key, or add goals/{key}.yaml (with a 'goal:' string) to a --prompt_dir")
        data = _read(path)
        if not isinstance(data, dict) or not isinstance(data.get("goal"), str):
            raise UserError("is not a goal file", path=path, expected="a mapping with a 'goal:' string",
                            fix="write goal: <text of what the skill prefers>")
        return Goal(key=key, text=data["goal"], source=str(data.get("source", "")), path=str(path))


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as e:
        raise UserError(f"cannot be parsed ({type(e).__name__}: {e})", path=path,
                        expected="valid YAML/JSON", fix="fix the syntax (see maestromotif/annotation/prompts.py)") from None


def _check_template(text: Any, what: str, path: Path) -> str:
    if not isinstance(text, str):
        raise UserError(f"'{what}' is missing or not a string", path=path,
                        expected="a text with {goal}, {description_1} and {description_2}")
    try:
        text.format(goal="", description_1="", description_2="")
    except (KeyError, IndexError, ValueError) as e:
        raise UserError(f"'{what}' has a bad placeholder ({type(e).__name__}: {e})", path=path,
                        expected="only {goal}, {description_1}, {description_2}; literal braces doubled {{ }}",
                        fix="rename the placeholder or double the braces") from None
    for ph in ("description_1", "description_2"):
        if "{" + ph + "}" not in text:
            raise UserError(f"'{what}' never shows {{{ph}}}", path=path,
                            expected="both descriptions in the text", fix=f"add {{{ph}}} to '{what}'")
    return text


def parse_prompt(data: Any, path: Path) -> PromptSpec:
    if not isinstance(data, dict):
        raise UserError("is not a prompt file", path=path,
                        expected="a mapping with 'system', 'template', 'retry' (see maestromotif/annotation/prompts.py)")
    pointwise = parse_pointwise(data["pointwise"], path) if data.get("pointwise") is not None else None
    # a pointwise-only prompt (templates/classify.yaml) asks no pairwise question
    template = "" if pointwise is not None and data.get("template") is None else \
        _check_template(data.get("template"), "template", path)
    score = None
    if data.get("score") is not None:
        s = data["score"]
        if not isinstance(s, dict):
            raise UserError("'score' is not a mapping", path=path, expected="score: {template: ..., options: [...]}")
        opts = s.get("options", ["1", "2"])
        if not (isinstance(opts, list) and len(opts) == 2 and all(isinstance(o, str) and o for o in opts)):
            raise UserError(f"score options {opts!r} are not two strings", path=path,
                            expected="options: [\" 1\", \" 2\"] (description 1, description 2)")
        score = ScoreSpec(template=_check_template(s.get("template"), "score.template", path),
                          options=(opts[0], opts[1]), tie_margin=float(s.get("tie_margin", 0.0)),
                          compact=bool(s.get("compact", False)))
    return PromptSpec(
        name=str(data.get("name", path.stem)),
        system=str(data.get("system", "")),
        template=template,
        retry=str(data.get("retry", "")),
        answer_key=str(data.get("answer_key", "best_description")),
        score=score,
        source=str(data.get("source", "")),
        path=str(path),
        pointwise=pointwise,
    )
