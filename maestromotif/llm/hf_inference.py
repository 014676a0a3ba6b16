"""Hugging Face Inference backend (``huggingface_hub.InferenceClient``).

Talks to Inference Providers / Inference Endpoints by model id, or to any TGI or OpenAI-compatible
server through ``base_url``. Chats go through ``InferenceClient.chat_completion`` (``concurrency``
in flight, retried with exponential backoff on timeouts, connection errors, 429 and 5xx). The token
comes from the environment variable named by ``api_key_env`` (default ``HF_TOKEN``) and is never
logged. Generation only: the Inference API gives no raw-prompt next-token log-probs, so score mode
is not offered (use the openai backend against the same server for that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maestromotif.llm._http import RETRY_STATUS, RetryableError, map_concurrently, read_token, with_retries
from maestromotif.llm.base import Chat, GenerationConfig, LLMBackend
from maestromotif.utils.errors import UserError


class HFInferenceBackend(LLMBackend):
    name = "hf_inference"
    OPTIONS = ("base_url", "api_key_env", "concurrency", "timeout", "max_retries", "backoff")
    supports_score = False

    def __init__(self, model: str | None = None, base_url: str | None = None, api_key_env: str | None = None,
                 concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5, backoff: float = 1.0):
        super().__init__()
        try:
            from huggingface_hub import InferenceClient
        except ImportError:
            raise UserError("huggingface_hub is not installed", fix="pip install -r requirements.txt") from None
        if model is None and base_url is None:
            raise UserError("the hf_inference backend needs --model (a Hub model id) or --base_url (a server)")
        self.model, self.base_url = model, base_url
        self.api_key_env = api_key_env or "HF_TOKEN"
        self.concurrency, self.timeout = max(1, int(concurrency)), float(timeout)
        self.max_retries, self.backoff = int(max_retries), float(backoff)
        token = read_token(self.api_key_env)
        # base_url and model are exclusive in InferenceClient; with a server the model id travels in the body
        if base_url:
            self._client = InferenceClient(base_url=base_url, token=token, timeout=self.timeout)
        else:
            self._client = InferenceClient(model=model, token=token, timeout=self.timeout)

    def chat_kwargs(self, chat: Chat, cfg: GenerationConfig) -> dict[str, Any]:
        kw: dict[str, Any] = {"messages": list(chat), "max_tokens": cfg.max_tokens, "temperature": cfg.temperature,
                              "top_p": cfg.top_p}
        if cfg.seed is not None:
            kw["seed"] = cfg.seed
        if cfg.stop:
            kw["stop"] = list(cfg.stop)
        if self.base_url and self.model:
            kw["model"] = self.model
        return kw

    def _one(self, chat: Chat, cfg: GenerationConfig) -> str:
        from huggingface_hub.errors import HfHubHTTPError

        def once() -> str:
            try:
                out = self._client.chat_completion(**self.chat_kwargs(chat, cfg))
            except HfHubHTTPError as e:
                status = getattr(e.response, "status_code", None)
                if status in RETRY_STATUS:
                    raise RetryableError(f"HTTP {status} from the inference server") from None
                raise UserError(f"the inference server answered HTTP {status}: {str(e)[:300]}",
                                fix="check --model/--base_url and the token's environment variable") from None
            except (TimeoutError, ConnectionError, OSError) as e:
                raise RetryableError(f"{type(e).__name__} talking to the inference server") from None
            return out.choices[0].message.content or ""

        return with_retries(once, self.max_retries, self.backoff)

    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        cfg = cfg or GenerationConfig()
        self.calls += len(chats)
        return map_concurrently(lambda c: self._one(c, cfg), list(chats), self.concurrency)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "base_url": self.base_url,
                "api_key_env": self.api_key_env, "concurrency": self.concurrency}
