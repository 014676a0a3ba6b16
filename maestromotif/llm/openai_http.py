"""OpenAI-compatible HTTP server backend (vLLM / TGI / llama.cpp / SGLang servers, hosted APIs).

- ``chat``: ``POST {base_url}/chat/completions``, one request per chat, ``concurrency`` in flight.
- ``score_prompts``: ``POST {base_url}/completions`` with ``max_tokens=1, logprobs=K``; an option
  missing from the top-K next tokens gets the smallest listed log-prob (an upper bound of its own).
- Timeouts per request; connection errors, timeouts, 408/409/425/429/5xx are retried with
  exponential backoff (``Retry-After`` honoured) up to ``max_retries`` times; other 4xx fail at once
  with the server's message.
- The token is read from the environment variable named by ``api_key_env`` (default
  ``OPENAI_API_KEY``; unset is fine for local servers). It is sent only in the Authorization header and
  never appears in ``describe()``, logs or error messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from maestromotif.llm._http import RETRY_STATUS, RetryableError, map_concurrently, read_token, with_retries
from maestromotif.llm.base import Chat, GenerationConfig, LLMBackend
from maestromotif.llm.extra import require
from maestromotif.utils.errors import UserError

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


class OpenAIBackend(LLMBackend):
    name = "openai"
    OPTIONS = ("base_url", "api_key_env", "concurrency", "timeout", "max_retries", "backoff", "top_logprobs")
    supports_score = True

    def __init__(self, model: str | None = None, base_url: str | None = None, api_key_env: str | None = None,
                 concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5, backoff: float = 1.0,
                 top_logprobs: int = 20):
        super().__init__()
        httpx = require("httpx", "the openai backend")

        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_key_env = api_key_env or "OPENAI_API_KEY"
        self.concurrency, self.timeout = max(1, int(concurrency)), float(timeout)
        self.max_retries, self.backoff, self.top_logprobs = int(max_retries), float(backoff), int(top_logprobs)
        headers = {"Content-Type": "application/json"}
        token = read_token(self.api_key_env)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout,
                                    limits=httpx.Limits(max_connections=self.concurrency))
        self._httpx = httpx

    # -- transport
    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        httpx = self._httpx

        def once() -> dict[str, Any]:
            try:
                r = self._client.post(path, json=body)
            except (httpx.TimeoutException, httpx.TransportError) as e:
                raise RetryableError(f"{type(e).__name__} on {self.base_url}{path}") from None
            if r.status_code in RETRY_STATUS:
                ra = r.headers.get("retry-after")
                raise RetryableError(f"HTTP {r.status_code} from {self.base_url}{path}",
                                     retry_after=float(ra) if ra and ra.replace(".", "", 1).isdigit() else None)
            if r.status_code >= 400:
                raise UserError(f"the server answered HTTP {r.status_code}: {r.text[:300]}",
                                expected=f"an OpenAI-compatible API at {self.base_url}",
                                fix="check --base_url, --model and the token's environment variable")
            return r.json()

        return with_retries(once, self.max_retries, self.backoff)

    # -- interface
    def chat_request(self, chat: Chat, cfg: GenerationConfig) -> dict[str, Any]:
        body: dict[str, Any] = {"messages": list(chat), "max_tokens": cfg.max_tokens,
                                "temperature": cfg.temperature, "top_p": cfg.top_p}
        if self.model:
            body["model"] = self.model
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        if cfg.stop:
            body["stop"] = list(cfg.stop)
        return body

    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        cfg = cfg or GenerationConfig()
        self.calls += len(chats)

        def one(chat: Chat) -> str:
            res = self._post("/chat/completions", self.chat_request(chat, cfg))
            return res["choices"][0]["message"].get("content") or ""

        return map_concurrently(one, list(chats), self.concurrency)

    def score_request(self, prompt: str) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt, "max_tokens": 1, "temperature": 0.0,
                                "logprobs": self.top_logprobs}
        if self.model:
            body["model"] = self.model
        return body

    def score_prompts(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        self.calls += len(prompts)

        def one(prompt: str) -> list[float]:
            res = self._post("/completions", self.score_request(prompt))
            return option_logprobs(top_logprobs_of(res), options)

        return np.array(map_concurrently(one, list(prompts), self.concurrency), dtype=np.float64).reshape(
            len(prompts), len(options))

    def close(self) -> None:
        self._client.close()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "base_url": self.base_url,
                "api_key_env": self.api_key_env, "concurrency": self.concurrency, "timeout": self.timeout,
                "max_retries": self.max_retries}


def top_logprobs_of(res: dict[str, Any]) -> dict[str, float]:
    """The first generated position's top log-probs from a /completions response."""
    lp = res["choices"][0].get("logprobs") or {}
    top = lp.get("top_logprobs") or [{}]
    return {str(k): float(v) for k, v in (top[0] or {}).items()}


def option_logprobs(top: dict[str, float], options: Sequence[str]) -> list[float]:
    """Each option's log-prob from a token -> log-prob map; missing -> the smallest one listed."""
    if not top:
        return [float("nan")] * len(options)  # nothing listed: unknown, never a guess
    floor = min(top.values())
    out = []
    for o in options:
        cands = [top[k] for k in top if k == o or k.strip() == o.strip()]
        out.append(max(cands) if cands else floor)
    return out
