"""transformers backend on a tiny model built and saved locally (ByT5 byte tokenizer + 2-layer Llama):
real from_pretrained loading, chat template, left-padded batches - no Hub download."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from maestromotif.llm.base import GenerationConfig, make_backend  # noqa: E402
from maestromotif.utils.errors import UserError  # noqa: E402

TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
            "{% if add_generation_prompt %}<assistant>{% endif %}")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)
    tok = transformers.ByT5Tokenizer()
    tok.chat_template = TEMPLATE
    cfg = transformers.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                   num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                                   pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None)
    transformers.LlamaForCausalLM(cfg).save_pretrained(d)
    tok.save_pretrained(d)
    return str(d)


def test_chat_renders_the_template_and_batches_like_single_calls(tiny_model):
    be = make_backend("transformers", model=tiny_model, device="cpu", micro_batch=3)
    chats = [[{"role": "system", "content": "judge"}, {"role": "user", "content": "x" * n}] for n in (1, 7, 15)]
    assert be.render_chat(chats[0]) == "<system>judge\n<user>x\n<assistant>"
    cfg = GenerationConfig(max_tokens=4, temperature=0.0)
    batched = be.chat(chats, cfg)
    single = [be.chat([c], cfg)[0] for c in chats]
    assert batched == single and all(isinstance(t, str) for t in batched)
    assert be.calls == 6
    assert be.describe()["model"] == tiny_model


def test_scores_are_log_probs_independent_of_padding(tiny_model):
    be = make_backend("transformers", model=tiny_model, device="cpu", micro_batch=4)
    prompts = ["a", "short prompt ", "a much longer prompt than the others: ", "best_description: "]
    lp = be.score_prompts(prompts, ["1", "2"])
    alone = np.concatenate([be.score_prompts([p], ["1", "2"]) for p in prompts])
    assert lp.shape == (4, 2) and (lp < 0).all()
    np.testing.assert_allclose(lp, alone, atol=1e-4)
    full = be.score_prompts(prompts[:1], [chr(c) for c in range(32, 127)])
    assert np.exp(full).sum() <= 1.0 + 1e-5
    chat_lp = be.score_options([[{"role": "user", "content": "which?"}]], ["1", "2"])
    assert chat_lp.shape == (1, 2)


def test_missing_model_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot load model"):
        make_backend("transformers", model=str(tmp_path / "nothing-here"), device="cpu")
