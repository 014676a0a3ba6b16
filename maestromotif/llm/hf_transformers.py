"""Local Hugging Face ``transformers`` backend (CPU or one GPU).

``--model`` is a local directory or a Hub id (``from_pretrained``; set ``HF_HUB_OFFLINE=1`` to forbid
downloads). Chats are rendered with the tokenizer's chat template (plain "Role: text" turns when the
tokenizer has none), left-padded and generated in micro-batches of ``micro_batch``. Score mode runs
one forward pass per micro-batch and reads the next-token log-softmax at each prompt's last token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from maestromotif.llm.base import Chat, GenerationConfig, LLMBackend, first_option_tokens, render_plain_chat
from maestromotif.llm.extra import require
from maestromotif.utils.errors import UserError


class TransformersBackend(LLMBackend):
    name = "transformers"
    OPTIONS = ("device", "dtype", "micro_batch", "n_threads", "seed")
    supports_score = True

    def __init__(self, model: str | None = None, device: str | None = None, dtype: str | None = None,
                 micro_batch: int = 8, n_threads: int | None = None, seed: int = 0):
        super().__init__()
        if not model:
            raise UserError("the transformers backend needs --model", expected="a local model directory or a Hub id")
        import torch
        transformers = require("transformers", "the transformers backend")
        AutoModelForCausalLM, AutoTokenizer = transformers.AutoModelForCausalLM, transformers.AutoTokenizer

        if n_threads:
            torch.set_num_threads(int(n_threads))
        self.torch = torch
        self.model_id = str(model)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = getattr(torch, dtype) if dtype and dtype != "auto" else "auto"
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_id)
            self.model = AutoModelForCausalLM.from_pretrained(self.model_id, torch_dtype=torch_dtype)
        except (OSError, ValueError) as e:  # missing files, or a path that is not a valid Hub id either
            raise UserError(f"cannot load model '{self.model_id}' ({e})", expected="a transformers model directory "
                            "(config.json + weights + tokenizer) or a Hub id", fix="check --model") from None
        self.model.to(self.device).eval()
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.tokenizer.padding_side = "left"  # generation continues right after each prompt
        self.micro_batch = max(1, int(micro_batch))
        self.seed = seed

    def render_chat(self, chat: Chat) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(list(chat), tokenize=False, add_generation_prompt=True)
        return render_plain_chat(chat)

    def _encode(self, texts: list[str], templated: bool):
        # a chat template already holds the special tokens (BOS...); raw prompts get the tokenizer's default
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=not templated)
        return {k: v.to(self.device) for k, v in enc.items()}

    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        cfg = cfg or GenerationConfig()
        templated = bool(getattr(self.tokenizer, "chat_template", None))
        out: list[str] = []
        for s in range(0, len(chats), self.micro_batch):
            batch = [self.render_chat(c) for c in chats[s:s + self.micro_batch]]
            self.calls += len(batch)
            enc = self._encode(batch, templated)
            kw: dict[str, Any] = {"max_new_tokens": cfg.max_tokens, "pad_token_id": self.tokenizer.pad_token_id}
            if cfg.temperature > 0:
                self.torch.manual_seed(cfg.seed if cfg.seed is not None else self.seed)
                kw.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p)
            else:
                kw.update(do_sample=False)
            if cfg.stop:
                kw.update(stop_strings=list(cfg.stop), tokenizer=self.tokenizer)
            with self.torch.no_grad():
                gen = self.model.generate(**enc, **kw)
            new = gen[:, enc["input_ids"].shape[1]:]
            out += self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return out

    def option_ids(self, options: Sequence[str]) -> list[int]:
        return first_option_tokens(options, [self.tokenizer.encode(o, add_special_tokens=False) for o in options])

    def score_prompts(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        return self._score(list(prompts), options, templated=False)

    def score_options(self, chats: Sequence[Chat], options: Sequence[str]) -> np.ndarray:
        templated = bool(getattr(self.tokenizer, "chat_template", None))
        return self._score([self.render_chat(c) for c in chats], options, templated=templated)

    def _score(self, texts: list[str], options: Sequence[str], templated: bool) -> np.ndarray:
        ids = self.option_ids(options)
        rows = []
        for s in range(0, len(texts), self.micro_batch):
            batch = texts[s:s + self.micro_batch]
            self.calls += len(batch)
            enc = self._encode(batch, templated)
            mask = enc["attention_mask"]
            pos = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding must not shift the positions
            with self.torch.no_grad():
                logits = self.model(**enc, position_ids=pos).logits[:, -1, :].float()  # last column: next token
            lp = self.torch.log_softmax(logits, dim=-1)[:, ids]
            rows.append(lp.cpu().numpy().astype(np.float64))
        return np.concatenate(rows) if rows else np.zeros((0, len(options)))

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id, "device": self.device,
                "dtype": str(self.model.dtype), "micro_batch": self.micro_batch}
