"""The LLM interface every backend implements.

A *chat* is a list of ``{"role": "system"|"user"|"assistant", "content": str}`` messages. Backends
take a batch of chats and return one completion string per chat, in order. Backends that can read
next-token log-probabilities also implement :meth:`LLMBackend.score_options` (used by the annotation
"score mode" for small/base models).

Backends are registered by name -> ``"module:Class"`` and imported only when made, so importing
maestromotif never imports vLLM, llama.cpp or transformers.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from maestromotif.utils.errors import UserError

Message = dict[str, str]
Chat = list[Message]


@dataclass
class GenerationConfig:
    max_tokens: int = 1024
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] | None = None
    seed: int | None = 0


class LLMBackend(ABC):
    """Batched chat completion (and optionally answer scoring)."""

    name: ClassVar[str] = "base"
    supports_score: ClassVar[bool] = False

    def __init__(self) -> None:
        self.calls = 0  # completions/scorings requested, for "LLM calls per pair" figures

    @abstractmethod
    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        """One completion per chat, same order."""

    def score_options(self, chats: Sequence[Chat], options: Sequence[str]) -> np.ndarray:
        """Log-probability of each option as the assistant's next text, shape (len(chats), len(options))."""
        raise NotImplementedError(f"backend '{self.name}' cannot score options; use generation mode")

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> LLMBackend:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name}


# name -> "module:Class"; backends register themselves here (lazily imported).
BACKENDS: dict[str, str] = {
    "scripted": "maestromotif.llm.scripted:ScriptedBackend",
}


def register_backend(name: str, target: str) -> None:
    BACKENDS[name] = target


def make_backend(name: str, model: str | None = None, **kwargs: Any) -> LLMBackend:
    if name not in BACKENDS:
        raise UserError(f"unknown LLM backend '{name}'", expected=f"one of {', '.join(sorted(BACKENDS))}",
                        fix="pass --backend with one of those names")
    module, cls = BACKENDS[name].split(":")
    klass = getattr(importlib.import_module(module), cls)
    return klass(model=model, **kwargs) if model is not None else klass(**kwargs)
