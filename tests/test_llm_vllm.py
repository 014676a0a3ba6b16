"""vLLM backend: request construction only. vLLM needs a GPU and is not installed on the CPU machines
these tests run on, so a stand-in ``vllm`` module records what the backend asks for (a fake inside a
unit test of pure logic). Running it for real is left to GPU nodes."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest

from maestromotif.llm.base import GenerationConfig, make_backend
from maestromotif.llm.vllm_backend import first_token_logprobs, llm_kwargs, sampling_kwargs
from maestromotif.utils.errors import UserError


@dataclass
class _Logprob:
    logprob: float


class _Tok:
    def encode(self, text, add_special_tokens=False):
        return [ord(c) for c in text]


class _LLM:
    instances: list[_LLM] = []

    def __init__(self, **kw):
        self.kw = kw
        self.calls: list[tuple] = []
        _LLM.instances.append(self)

    def get_tokenizer(self):
        return _Tok()

    def chat(self, conversations, params, use_tqdm=False):
        self.calls.append(("chat", conversations, params))
        return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text=f"answer {i}")]) for i in range(len(conversations))]

    def generate(self, prompts, params, use_tqdm=False):
        self.calls.append(("generate", prompts, params))
        top = {ord("1"): _Logprob(-0.5), ord("2"): _Logprob(-1.5), 7: _Logprob(-3.0)}
        return [types.SimpleNamespace(outputs=[types.SimpleNamespace(logprobs=[top])]) for _ in prompts]


class _SamplingParams:
    def __init__(self, **kw):
        self.kw = kw


@pytest.fixture
def fake_vllm(monkeypatch):
    mod = types.ModuleType("vllm")
    mod.LLM = _LLM
    mod.SamplingParams = _SamplingParams
    monkeypatch.setitem(sys.modules, "vllm", mod)
    _LLM.instances = []
    return mod


def test_engine_and_batched_chat_requests(fake_vllm):
    be = make_backend("vllm", model="meta-llama/Llama-3.1-70B-Instruct", tensor_parallel_size=8, dtype="float16")
    llm = _LLM.instances[-1]
    assert llm.kw == {"model": "meta-llama/Llama-3.1-70B-Instruct", "seed": 0, "enable_prefix_caching": True,
                      "gpu_memory_utilization": 0.9, "tensor_parallel_size": 8, "dtype": "float16"}
    chats = [[{"role": "user", "content": f"q{i}"}] for i in range(3)]
    out = be.chat(chats, GenerationConfig(max_tokens=4096, temperature=0.1, top_p=0.95, stop=("</s>",), seed=3))
    assert out == ["answer 0", "answer 1", "answer 2"]
    kind, convs, params = llm.calls[-1]
    assert kind == "chat" and convs == chats  # one engine call for the whole batch
    assert params.kw == {"max_tokens": 4096, "temperature": 0.1, "top_p": 0.95, "seed": 3, "stop": ["</s>"]}
    assert be.calls == 3 and be.describe()["tensor_parallel_size"] == 8


def test_score_reads_first_token_logprobs(fake_vllm):
    be = make_backend("vllm", model="m", tensor_parallel_size=1)
    lp = be.score_prompts(["p1", "p2"], ["1", "2", "x"])
    kind, prompts, params = _LLM.instances[-1].calls[-1]
    assert kind == "generate" and prompts == ["p1", "p2"]
    assert params.kw == {"max_tokens": 1, "temperature": 0.0, "logprobs": 20}
    np.testing.assert_allclose(lp, [[-0.5, -1.5, -3.0]] * 2)  # "x" not in the top-K: the smallest listed value
    with pytest.raises(UserError, match="distinct tokens"):
        be.score_prompts(["p"], ["1", "1"])


def test_pure_helpers():
    assert sampling_kwargs(GenerationConfig(max_tokens=5, temperature=0.0, seed=None)) == \
        {"max_tokens": 5, "temperature": 0.0, "top_p": 1.0}
    assert llm_kwargs("m", 2, None, 1, 4096, 0.8) == {"model": "m", "seed": 1, "enable_prefix_caching": True,
                                                      "gpu_memory_utilization": 0.8, "tensor_parallel_size": 2,
                                                      "max_model_len": 4096}
    assert np.isnan(first_token_logprobs({}, [1, 2])).all()


def test_missing_vllm_is_a_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import fails as on a machine without vLLM
    with pytest.raises(UserError, match="vLLM is not installed"):
        make_backend("vllm", model="m")
