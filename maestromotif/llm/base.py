"""The LLM interface every backend implements.

A *chat* is a list of ``{"role": "system"|"user"|"assistant", "content": str}`` messages. Backends
take a batch of chats and return one completion string per chat, in order. Backends that can read
next-token log-probabilities also implement :meth:`LLMBackend.score_prompts` (raw text prompts) and
so :meth:`LLMBackend.score_options` (chats rendered with the model's chat template); the annotation
"score mode" for small/base models uses them.

Scoring contract: ``score_prompts(prompts, options)[i, j]`` is the log-probability (natural log,
normalised over the whole vocabulary) that the first token of ``options[j]`` follows ``prompts[i]``.
Options must therefore start with different tokens (e.g. ``"1"`` and ``"2"``).

``self.calls`` counts the prompts a backend evaluated (one completion, one retry or one scored
prompt each): the "LLM calls" of the annotation figures.

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
    # the keyword options of __init__ besides ``model`` that a command line may set (one mapping,
    # AnnotationConfig.backend_args); a test checks them against the signature
    OPTIONS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.calls = 0  # completions/scorings requested, for "LLM calls per pair" figures

    @abstractmethod
    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        """One completion per chat, same order."""

    def score_options(self, chats: Sequence[Chat], options: Sequence[str]) -> np.ndarray:
        """Log-probability of each option as the assistant's next text, shape (len(chats), len(options))."""
        if type(self).score_prompts is LLMBackend.score_prompts:
            raise NotImplementedError(f"backend '{self.name}' cannot score options; use generation mode")
        return self.score_prompts([self.render_chat(c) for c in chats], options)

    def score_prompts(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        """Log-probability of the first token of each option right after each raw text prompt,
        shape (len(prompts), len(options))."""
        raise NotImplementedError(f"backend '{self.name}' cannot score options; use generation mode")

    def render_chat(self, chat: Chat) -> str:
        """The raw text a chat becomes for this model, ending where the assistant's answer starts."""
        return render_plain_chat(chat)

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> LLMBackend:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name}


def first_option_tokens(options: Sequence[str], tokenized: Sequence[Sequence[int]]) -> list[int]:
    """The first token of each score-mode option; they must exist and differ (one logit per option)."""
    firsts = [t[0] if len(t) else -1 for t in tokenized]
    if -1 in firsts or len(set(firsts)) != len(firsts):
        raise UserError(f"score-mode options {list(options)} do not start with distinct tokens",
                        expected="options whose first tokens differ (e.g. '1' and '2')",
                        fix="change the 'options' of the prompt file's score section")
    return firsts


def render_plain_chat(chat: Chat) -> str:
    """A template-free rendering for models that ship no chat template (base models)."""
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    parts = [f"{names.get(m['role'], m['role'].title())}: {m['content'].strip()}" for m in chat]
    return "\n\n".join(parts) + "\n\nAssistant:"


# name -> "module:Class"; imported only by make_backend, so heavy libraries load on demand.
BACKENDS: dict[str, str] = {
    "scripted": "maestromotif.llm.scripted:ScriptedBackend",
    "llamacpp": "maestromotif.llm.llamacpp:LlamaCppBackend",
    "transformers": "maestromotif.llm.hf_transformers:TransformersBackend",
    "openai": "maestromotif.llm.openai_http:OpenAIBackend",
    "hf_inference": "maestromotif.llm.hf_inference:HFInferenceBackend",
    "vllm": "maestromotif.llm.vllm_backend:VLLMBackend",
}


def register_backend(name: str, target: str) -> None:
    BACKENDS[name] = target


def backend_class(name: str) -> type[LLMBackend]:
    if name not in BACKENDS:
        raise UserError(f"unknown LLM backend '{name}'", expected=f"one of {', '.join(sorted(BACKENDS))}",
                        fix="pass --backend with one of those names")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def check_options(name: str, options: Any) -> type[LLMBackend]:
    """The backend class, after checking that ``options`` (its keyword options) are among its OPTIONS."""
    klass = backend_class(name)
    unknown = sorted(set(options) - set(klass.OPTIONS))
    if unknown:
        raise UserError(f"backend '{name}' does not take {', '.join(map(repr, unknown))}",
                        expected=f"backend options among: {', '.join(klass.OPTIONS) or '(none)'}",
                        fix="remove those keys from --backend_arg, or pick the backend they belong to with --backend")
    return klass


def make_backend(name: str, model: str | None = None, **kwargs: Any) -> LLMBackend:
    klass = check_options(name, kwargs)
    return klass(model=model, **kwargs) if model is not None else klass(**kwargs)
