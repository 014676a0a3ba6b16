"""LLM backends behind one interface (:class:`maestromotif.llm.base.LLMBackend`).

Use :func:`make_backend` with a registered name; heavy backends import their libraries lazily.
"""

from maestromotif.llm.base import (
    BACKENDS,
    Chat,
    GenerationConfig,
    LLMBackend,
    make_backend,
    register_backend,
)

__all__ = ["BACKENDS", "Chat", "GenerationConfig", "LLMBackend", "make_backend", "register_backend"]
