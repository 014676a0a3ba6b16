"""A backend that replays recorded answers - for unit tests of the logic around an LLM.

Answers come from a list (cycled in order) or from a callable ``chat -> str``; every chat received
is kept in ``self.history`` so a test can check what the LLM was asked. Scores come from a callable
``(chat or raw prompt, options) -> log-probs`` (``score_options`` passes chats, ``score_prompts``
passes the prompt strings).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from maestromotif.llm.base import Chat, GenerationConfig, LLMBackend


class ScriptedBackend(LLMBackend):
    name = "scripted"
    supports_score = True

    def __init__(self, model: str | Path | None = None, answers: Sequence[str] | Callable[[Chat], str] | None = None,
                 scores: Callable[[Chat, Sequence[str]], Sequence[float]] | None = None):
        super().__init__()
        if answers is None and model is not None:  # --model names a JSON list of answers
            answers = json.loads(Path(model).read_text())
        self._answers = answers if answers is not None else []
        self._scores = scores
        self._i = 0
        self.history: list[Chat] = []

    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        out = []
        for c in chats:
            self.calls += 1
            self.history.append(list(c))
            if callable(self._answers):
                out.append(self._answers(c))
            else:
                if not self._answers:
                    raise RuntimeError("ScriptedBackend has no recorded answers")
                out.append(self._answers[self._i % len(self._answers)])
                self._i += 1
        return out

    def score_options(self, chats: Sequence[Chat], options: Sequence[str]) -> np.ndarray:
        if self._scores is None:
            return super().score_options(chats, options)
        self.calls += len(chats)
        self.history.extend(list(c) for c in chats)
        return np.array([list(self._scores(c, options)) for c in chats], dtype=np.float64)

    def score_prompts(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        if self._scores is None:
            return super().score_prompts(prompts, options)
        self.calls += len(prompts)
        self.history.extend([{"role": "user", "content": p}] for p in prompts)
        return np.array([list(self._scores(p, options)) for p in prompts], dtype=np.float64)
