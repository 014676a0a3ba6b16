"""Pointwise labelling for small base models (annotation ``--mode pointwise``).

The paper asks an instruct model about each *pair* (verbatim prompt, ``--mode generate``). A 270M base
model cannot follow that prompt and, scored pairwise (``--mode score``), is close to chance on the
skills' events. Here each DISTINCT caption is classified once, for all five skills at once:

1. the caption is rendered as the prompt file's ``pointwise`` section says (current message + the stat
   lines that changed, by default), so captions that differ only in lines no skill cares about share
   one score;
2. for each of ``orderings`` shuffles of the few-shot examples, the prompt ``header + examples + query``
   is scored with the backend's next-token log-probs (``score_prompts``; the llama.cpp backend keeps
   the examples' KV cache, so a call evaluates only the caption's tokens);
3. the log-probs of the label words are renormalised over the labels (softmax) and averaged over
   the orderings -> one probability per label (:func:`score_captions`);
4. a skill's score of a caption is the summed probability of its labels (``skills:`` of the prompt
   file; the discoverer's are kill + gold + item);
   pair ``(a, b)`` gets ``d = score(a) - score(b)``: ``d > tie_margin`` first, ``d < -tie_margin``
   second, else tie (:func:`pair_label`) - and a tie whenever neither caption reaches the skill's
   ``min_score`` (:meth:`PointwiseSpec.floor`): small differences between two captions that are not the
   skill's event (e.g. "You finish eating" vs "You hit the newt" for the descender) are the model's
   noise, and labels made of them taught a reward model to pay for eating (docs/annotation.md).

Scores live in a caption cache (:class:`CaptionCache`) keyed by the rendered caption and a
fingerprint that does not include the skill, so labelling the second skill of the same captions costs
no LLM call. LLM calls therefore grow with distinct rendered captions, not with pairs.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.data.captions import caption_lines
from maestromotif.data.dataset import FIRST, SECOND, TIE
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_save_json
from maestromotif.utils.jsonl import WriterLog, read_jsonl

STAT_LINES = ("Dungeon Level", "Gold", "HP", "XP", "Hunger")
MESSAGE_MODES = ("current", "both")
_BASE_STATS = [3, 40, 12, 14, 2, 1]  # the state an example's deltas apply to (dlvl, gold, hp, maxhp, xl, hunger)


@dataclass(frozen=True)
class Example:
    caption: str  # already rendered
    label: str


@dataclass(frozen=True)
class PointwiseSpec:
    header: str
    example: str  # str.format with {caption} and {label}
    query: str  # str.format with {caption}; ends right before the label
    labels: tuple[tuple[str, str], ...]  # (label, option text) in order
    skills: tuple[tuple[str, tuple[str, ...]], ...]  # (goal key, labels whose probabilities add up)
    examples: tuple[Example, ...]
    orderings: int = 4
    seed: int = 0
    message: str = "current"
    stat_lines: tuple[str, ...] = ("Dungeon Level", "Gold", "XP")
    tie_margin: float = 0.1
    # (goal key or "default", floor): a pair is decided only when one caption's skill score reaches it
    min_score: tuple[tuple[str, float], ...] = ()

    @property
    def label_names(self) -> list[str]:
        return [k for k, _ in self.labels]

    @property
    def options(self) -> list[str]:
        return [v for _, v in self.labels]

    def skill_labels(self, goal_key: str, path: str = "") -> list[int]:
        """Indices (into :attr:`labels`) of the labels whose probabilities sum to ``goal_key``'s score."""
        table = dict(self.skills)
        if goal_key not in table:
            raise UserError(f"the pointwise prompt has no label for goal '{goal_key}'", path=path or None,
                            expected=f"one of {', '.join(table)} (its 'skills:' table)",
                            fix=f"add '{goal_key}: <label>' to pointwise.skills of the prompt file, or use --mode score/generate")
        return [self.label_names.index(lab) for lab in table[goal_key]]

    def render(self, caption: str) -> str:
        """The part of a caption the model reads (captions' line format: maestromotif.data.captions)."""
        lines = caption.split("\n")
        out = []
        first = lines[0]
        if self.message == "current":
            cur = first.split('currently displayed "', 1)
            first = f'Message: "{cur[1][:-1]}"' if len(cur) == 2 and cur[1].endswith('"') else first
        out.append(first)
        for ln in lines[1:]:
            name = ln.split(":", 1)[0]
            if name in self.stat_lines and "did not change" not in ln:
                out.append(ln)
        return "\n".join(out)

    def prefixes(self) -> list[str]:
        """One few-shot prefix per ordering (examples shuffled with seed ``seed + k``)."""
        out = []
        for k in range(self.orderings):
            ex = list(self.examples)
            random.Random(self.seed + k).shuffle(ex)
            out.append(self.header + "".join(self.example.format(caption=e.caption, label=e.label) for e in ex))
        return out

    def prompts(self, rendered: str) -> list[str]:
        q = self.query.format(caption=rendered)
        return [p + q for p in self.prefixes()]

    def floor(self, goal_key: str) -> float:
        table = dict(self.min_score)
        return float(table.get(goal_key, table.get("default", 0.0)))

    def fingerprint(self) -> dict[str, Any]:
        # what decides the caption scores (the cache key); min_score only turns scores into pair
        # labels, so changing it reuses every cached score (it is recorded in the label sidecar)
        d = asdict(self)
        d.pop("min_score")
        return d


def parse_pointwise(s: Any, path: Path) -> PointwiseSpec:
    def bad(what: str, expected: str, fix: str | None = None) -> UserError:
        return UserError(f"pointwise.{what}", path=path, expected=expected,
                         fix=fix or "see maestromotif/annotation/prompts/templates/classify.yaml")

    if not isinstance(s, dict):
        raise bad("is not a mapping", "pointwise: {header, example, query, labels, skills, examples}")
    for key in ("header", "example", "query"):
        if not isinstance(s.get(key), str):
            raise bad(f"{key} is missing or not a string", "a text")
    try:
        s["example"].format(caption="", label="")
        s["query"].format(caption="")
    except (KeyError, IndexError, ValueError) as e:
        raise bad(f"example/query has a bad placeholder ({e})", "{caption} (and {label} in example); literal "
                  "braces doubled") from None
    if "{caption}" not in s["query"] or "{label}" not in s["example"]:
        raise bad("query needs {caption}, example needs {caption} and {label}", "both placeholders")
    labels = s.get("labels")
    if not (isinstance(labels, dict) and len(labels) >= 2 and all(isinstance(v, str) and v for v in labels.values())):
        raise bad("labels is not a mapping of >= 2 labels to option texts", "labels: {down: \" down\", ...}")
    skills = s.get("skills")
    if isinstance(skills, dict):
        skills = {k: [v] if isinstance(v, str) else v for k, v in skills.items()}
    if not (isinstance(skills, dict) and skills and all(isinstance(v, list) and v and set(v) <= set(labels)
                                                        for v in skills.values())):
        raise bad("skills does not map goal keys to labels",
                  f"skills: {{descender: [labels among {', '.join(labels)}], ...}}")
    message = str(s.get("message", "current"))
    if message not in MESSAGE_MODES:
        raise bad(f"message '{message}' is unknown", f"one of {', '.join(MESSAGE_MODES)}")
    stat_lines = tuple(s.get("stat_lines", ("Dungeon Level", "Gold", "XP")))
    if not set(stat_lines) <= set(STAT_LINES):
        raise bad(f"stat_lines {list(stat_lines)} has unknown lines", f"a subset of {list(STAT_LINES)}")
    spec = PointwiseSpec(header=s["header"], example=s["example"], query=s["query"],
                         labels=tuple((str(k), v) for k, v in labels.items()),
                         skills=tuple((str(k), tuple(map(str, v))) for k, v in skills.items()), examples=(),
                         orderings=int(s.get("orderings", 4)), seed=int(s.get("seed", 0)), message=message,
                         stat_lines=stat_lines, tie_margin=float(s.get("tie_margin", 0.1)),
                         min_score=_min_score(s.get("min_score", 0.0), bad))
    if spec.orderings < 1:
        raise bad("orderings is < 1", "an integer >= 1")
    exs = s.get("examples")
    if not isinstance(exs, list) or not exs:
        raise bad("examples is missing", "a list of {message, [prev], [dlvl], [gold], [xp], label}")
    out = []
    for j, e in enumerate(exs):
        if not isinstance(e, dict) or e.get("label") not in labels or not isinstance(e.get("message"), str):
            raise bad(f"examples[{j}] is malformed", f"{{message: str, label: one of {', '.join(labels)}, ...}}")
        after = list(_BASE_STATS)
        after[0] += int(e.get("dlvl", 0))
        after[1] += int(e.get("gold", 0))
        after[4] += int(e.get("xp", 0))
        cap = "\n".join(caption_lines((str(e.get("prev", "")), e["message"]), [_BASE_STATS, after]))
        out.append(Example(caption=spec.render(cap), label=str(e["label"])))
    return replace(spec, examples=tuple(out))


def _min_score(v: Any, bad) -> tuple[tuple[str, float], ...]:
    table = v if isinstance(v, dict) else {"default": v}
    try:
        out = tuple((str(k), float(x)) for k, x in table.items())
    except (TypeError, ValueError):
        raise bad(f"min_score {v!r} is not a number", "a number in [0, 1] or {default: x, <goal key>: y}") from None
    if not all(0.0 <= x <= 1.0 for _, x in out):
        raise bad(f"min_score {v!r} is outside [0, 1]", "a number in [0, 1] or {default: x, <goal key>: y}")
    return out


def score_captions(backend: Any, spec: PointwiseSpec, rendered: list[str]) -> np.ndarray:
    """(len(rendered), n_labels): label probabilities renormalised over the labels, mean over orderings."""
    if not rendered:
        return np.zeros((0, len(spec.labels)))
    k = spec.orderings
    prompts = [p for r in rendered for p in spec.prompts(r)]
    lp = np.asarray(backend.score_prompts(prompts, spec.options), dtype=np.float64)
    lp = lp - lp.max(axis=1, keepdims=True)
    p = np.exp(lp)
    p /= p.sum(axis=1, keepdims=True)
    return p.reshape(len(rendered), k, -1).mean(axis=1)


def pair_label(d: float, tie_margin: float) -> int:
    return FIRST if d > tie_margin else SECOND if d < -tie_margin else TIE


def caption_key(rendered: str) -> str:
    return hashlib.sha256(rendered.encode()).hexdigest()[:24]


class CaptionCache:
    """Label probabilities per rendered caption, shared by every skill, chunk and rerun.

    Layout (like the pair answer cache, maestromotif/annotation/cache.py)::

        <cache_dir>/pointwise-<key>/meta.json        the fingerprint (backend, model, pointwise spec)
        <cache_dir>/pointwise-<key>/<host>-<pid>-<time>-<rand>.jsonl   {"k": caption hash, "p": [probs]}

    One file per writer (jobs may share the directory); torn last lines are skipped on reading.
    """

    def __init__(self, directory: str | Path, fingerprint: dict[str, Any], n_labels: int, read: bool = True):
        import json

        key = hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()[:20]
        self.dir = Path(directory) / f"pointwise-{key}"
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.dir / "meta.json").exists():
            atomic_save_json(self.dir / "meta.json", fingerprint)
        self.scores: dict[str, np.ndarray] = {}
        if read:
            for path in sorted(self.dir.glob("*.jsonl")):
                for rec in read_jsonl(path):
                    p = rec.get("p")
                    if isinstance(rec.get("k"), str) and isinstance(p, list) and len(p) == n_labels:
                        self.scores[rec["k"]] = np.asarray(p, dtype=np.float64)
        self._log = WriterLog(self.dir)

    def get(self, rendered: str) -> np.ndarray | None:
        return self.scores.get(caption_key(rendered))

    def put(self, rendered: str, probs: np.ndarray) -> None:
        k = caption_key(rendered)
        self.scores[k] = np.asarray(probs, dtype=np.float64)
        self._log.write([{"k": k, "p": [round(float(x), 6) for x in probs]}])

    def sync(self) -> None:
        self._log.sync()

    def close(self) -> None:
        self._log.close()
