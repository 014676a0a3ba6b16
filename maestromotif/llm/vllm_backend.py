"""vLLM offline backend: the path for GPU nodes (tensor parallel, continuous batching, prefix caching).

``vllm`` is imported only when this backend is made. A whole batch of chats goes to ``LLM.chat`` in
one call (vLLM applies the model's chat template and schedules the batch itself); automatic prefix
caching shares the KV cache of the common system prompt and instructions. Score mode asks
``LLM.generate`` for one token with ``logprobs=K`` and reads the options' first-token log-probs (an
option outside the top K gets the smallest listed value, an upper bound of its own).

Not runnable on the CPU-only machines this project is tested on; tests cover the request
construction with a stand-in module (tests/test_llm_vllm.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from maestromotif.llm.base import Chat, GenerationConfig, LLMBackend, first_option_tokens
from maestromotif.utils.errors import UserError


def sampling_kwargs(cfg: GenerationConfig) -> dict[str, Any]:
    """SamplingParams arguments for a generation config (greedy when temperature is 0)."""
    kw: dict[str, Any] = {"max_tokens": cfg.max_tokens, "temperature": cfg.temperature, "top_p": cfg.top_p}
    if cfg.seed is not None:
        kw["seed"] = cfg.seed
    if cfg.stop:
        kw["stop"] = list(cfg.stop)
    return kw


def llm_kwargs(model: str, tensor_parallel_size: int | None, dtype: str | None, seed: int,
               max_model_len: int | None, gpu_memory_utilization: float) -> dict[str, Any]:
    kw: dict[str, Any] = {"model": model, "seed": seed, "enable_prefix_caching": True,
                          "gpu_memory_utilization": gpu_memory_utilization}
    if tensor_parallel_size is None:
        import torch

        tensor_parallel_size = max(1, torch.cuda.device_count())
    kw["tensor_parallel_size"] = int(tensor_parallel_size)
    if dtype:
        kw["dtype"] = dtype
    if max_model_len:
        kw["max_model_len"] = int(max_model_len)
    return kw


class VLLMBackend(LLMBackend):
    name = "vllm"
    OPTIONS = ("tensor_parallel_size", "dtype", "seed", "max_model_len", "gpu_memory_utilization",
               "top_logprobs")
    supports_score = True

    def __init__(self, model: str | None = None, tensor_parallel_size: int | None = None, dtype: str | None = None,
                 seed: int = 0, max_model_len: int | None = None, gpu_memory_utilization: float = 0.9,
                 top_logprobs: int = 20):
        super().__init__()
        if not model:
            raise UserError("the vllm backend needs --model", expected="a Hub id or local path, "
                            "e.g. meta-llama/Llama-3.1-70B-Instruct")
        try:
            import vllm
        except ImportError:
            raise UserError("vLLM is not installed", expected="the vllm package (GPU nodes)",
                            fix="pip install vllm on the GPU node, or use --backend transformers/openai/llamacpp") from None
        self._vllm = vllm
        self.model = model
        self.top_logprobs = int(top_logprobs)
        self.llm_kwargs = llm_kwargs(model, tensor_parallel_size, dtype, seed, max_model_len, gpu_memory_utilization)
        self.llm = vllm.LLM(**self.llm_kwargs)

    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        cfg = cfg or GenerationConfig()
        self.calls += len(chats)
        params = self._vllm.SamplingParams(**sampling_kwargs(cfg))
        outs = self.llm.chat([list(c) for c in chats], params, use_tqdm=False)
        return [o.outputs[0].text for o in outs]

    def option_ids(self, options: Sequence[str]) -> list[int]:
        tok = self.llm.get_tokenizer()
        return first_option_tokens(options, [tok.encode(o, add_special_tokens=False) for o in options])

    def score_prompts(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        self.calls += len(prompts)
        ids = self.option_ids(options)
        params = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, logprobs=self.top_logprobs)
        outs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return np.array([first_token_logprobs(o.outputs[0].logprobs[0], ids) for o in outs], dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model,
                "tensor_parallel_size": self.llm_kwargs.get("tensor_parallel_size"), "dtype": self.llm_kwargs.get("dtype")}


def first_token_logprobs(top: dict[int, Any], ids: Sequence[int]) -> list[float]:
    """vLLM's {token_id: Logprob} of the first position -> each option's log-prob (floor if missing)."""
    vals = {int(k): float(getattr(v, "logprob", v)) for k, v in top.items()}
    if not vals:
        return [float("nan")] * len(ids)
    floor = min(vals.values())
    return [vals.get(i, floor) for i in ids]
