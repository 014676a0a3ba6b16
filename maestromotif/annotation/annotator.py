"""Annotate one chunk of a pair dataset with an LLM: ``python -m scripts.annotate_pairs``.

For each pair ``i`` of chunk ``c`` of ``K`` (pairs ``[c*P//K, (c+1)*P//K)``) that has no label yet:

1. identical captions -> tie, no LLM call (as in Motif);
2. the unordered caption pair is in the answer cache (any earlier chunk, run or job) -> reuse it,
   flipped if the order is swapped;
3. otherwise it joins the queries; each distinct unordered pair is asked once per run, in batches of
   ``--batch_size`` queries sorted by caption (neighbours share a prompt prefix):

   - ``generate`` mode: the prompt template as a chat, greedy by default; the answer is parsed
     (:mod:`~maestromotif.annotation.parsing`); unparseable answers get ONE retry turn with the
     prompt's ``retry`` text; still unparseable -> label 3, counted as ``unparseable``;
   - ``score`` mode (small/base models): the prompt's completion-style score template is scored in
     both presentation orders; ``d = ((lp1 - lp2)(a, b) - (lp1 - lp2)(b, a)) / 2`` cancels the
     position bias; ``d > tie_margin`` -> first, ``d < -tie_margin`` -> second, else tie.

After every batch the answers are appended to the cache and the labels to this chunk's part file
(fsync'ed), so ``kill -9`` loses at most the batch in flight. At the end all part files are merged
into ``preference/<exp>.npy`` (see :mod:`~maestromotif.annotation.store` for every file written).
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.annotation.cache import AnswerCache, flip, pair_key
from maestromotif.annotation.parsing import parse_answer
from maestromotif.annotation.pointwise import CaptionCache, pair_label, score_captions
from maestromotif.annotation.prompts import Goal, PromptLibrary, PromptSpec
from maestromotif.annotation.sanity import RULES, agreement
from maestromotif.annotation.store import LabelStore, chunk_range
from maestromotif.data.dataset import FIRST, SECOND, TIE, UNKNOWN, dataset_path, label_counts, load_dataset
from maestromotif.llm.base import (
    BACKENDS,
    GenerationConfig,
    LLMBackend,
    check_options,
    make_backend,
)
from maestromotif.utils.cli import arg, ws_arg
from maestromotif.utils.config import config_hash, save_config
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_save_json
from maestromotif.utils.jsonl import AppendLog, read_jsonl

MODES = ("auto", "generate", "score", "pointwise", "rules")
# modes that read log-probabilities (need backend.supports_score and a server that returns them)
SCORING_MODES = ("score", "pointwise")
RULES_ANNOTATOR = "rules"  # --mode rules: caption rules (oracle / upper bound), never an LLM
# backend options the CLI can set; each backend takes the ones its constructor names
# The original-style LLM flags: each is an alias that fills one entry of --backend_args (flag -> the
# backend's option name); a flag the chosen backend has no option for is ignored, as its help says.
BACKEND_FLAGS: dict[str, str] = {
    "threads": "n_threads", "n_ctx": "n_ctx", "batch_seqs": "batch_seqs", "base_url": "base_url",
    "api_key_env": "api_key_env", "concurrency": "concurrency", "timeout": "timeout", "max_retries": "max_retries",
    "tensor_parallel_size": "tensor_parallel_size", "dtype": "dtype", "device": "device", "seed": "seed",
}


WHAT, FILES, PROMPT, LLM = "what to annotate", "naming and files", "prompt", "LLM"


@dataclass
class AnnotationConfig:
    """One annotation job; every field is also a flag of ``scripts.annotate_pairs`` (maestromotif.utils.cli)."""

    directory: str = ws_arg("og_dataset", "dataset directory holding <goal_key>.pkl", aliases=("dataset_dir",),
                            group=WHAT)
    goal_key: str = arg("discoverer", "skill/goal: names the goal text (prompts goals/<goal_key>.yaml) and the "
                                      "dataset <directory>/<goal_key>.pkl", group=WHAT)
    dataset: str | None = arg(None, "dataset file stem when it differs from --goal_key, e.g. --goal_key gold "
                                    "--dataset discoverer", group=WHAT)
    n_annotation_chunks: int = arg(1, "number of chunks the pairs are split into", aliases=("n_chunks",), group=WHAT)
    chunk_number: int = arg(0, "chunk this job annotates, 0..K-1 (Slurm: $SLURM_ARRAY_TASK_ID); a chunk being "
                               "annotated by another job is refused", group=WHAT)
    ignore_existing: bool = arg(False, "forget this chunk's existing labels and start over (every chunk's when "
                                       "the dataset changed); cached answers are still reused: add --use_cache 0 "
                                       "to ask the LLM again", group=WHAT)
    retry_unparseable: bool = arg(False, "ask again the pairs whose answer was unparseable (label 3)", group=WHAT)
    custom_annotator_string: str | None = arg(None, "file stem of the label file, replacing "
                                                    "<annotator>_<goal_key>_<prompt> (as in the original)", group=FILES)
    annotator: str | None = arg(None, "annotator part of the file name (default: gemma270m for the embedded model, "
                                      "else from --model)", group=FILES)
    prompt: str = arg("default", "prompt template name (templates/<name>.yaml: default, classify, motif, "
                                 "motif_reworded) or a file path", group=PROMPT)
    prompt_dir: list[str] = arg([], "extra directory with templates/ and goals/ files, searched before the built-in "
                                    "ones (repeatable)", group=PROMPT)
    mode: str = arg("auto", "generate: chat + parse the verdict (instruct models, the paper's prompt); score: "
                            "compare the next-token log-probs of '1'/'2' in both orders; pointwise: classify each "
                            "distinct caption once for all skills (small base models, --prompt classify; "
                            "docs/annotation.md); rules: caption rules, no LLM - an oracle/upper bound for "
                            "ablations, never a default; auto: pointwise for a pointwise-only prompt or the "
                            "embedded model with --prompt classify, score for the embedded model with a pairwise "
                            "prompt, else generate", choices=MODES, group=PROMPT)
    tie_margin: float | None = arg(None, "score/pointwise mode: |margin| below this is a tie (score: order-averaged "
                                         "log-prob margin; pointwise: difference of the captions' skill "
                                         "probabilities) (default: the prompt file's)", group=PROMPT)
    backend: str = arg("llamacpp", "llamacpp (embedded/any GGUF), transformers, openai (OpenAI-compatible server), "
                                   "hf_inference (huggingface_hub), vllm (GPU nodes)", choices=tuple(sorted(BACKENDS)),
                        group=LLM)
    model: str | None = arg(None, "model: GGUF path or 'embedded' (llamacpp), HF id/path (transformers, vllm), "
                                  "served model name (openai, hf_inference) (default: the embedded Gemma 3 270M "
                                  "for llamacpp)", group=LLM)
    batch_size: int | None = arg(None, "distinct caption pairs per LLM batch (pointwise: captions; each batch "
                                       "evaluates the examples once per ordering, so it is larger); labels are "
                                       "saved after each batch (default: 32, pointwise 256)", group=LLM)
    max_tokens: int = arg(1024, "generate mode: answer length cap", group=LLM)
    temperature: float = arg(0.0, "generate mode: sampling temperature, 0 = greedy", group=LLM)
    top_p: float = arg(1.0, "generate mode: nucleus sampling", group=LLM)
    seed: int = arg(0, "sampling seed", group=LLM)
    threads: int | None = arg(None, "llamacpp/transformers: CPU threads (default: min(2, cores))", group=LLM)
    n_ctx: int | None = arg(None, "llamacpp: context size in tokens (default: 8192)", group=LLM)
    batch_seqs: int | None = arg(None, "llamacpp score mode: prompts evaluated together in one multi-sequence "
                                       "llama_decode; 1 = one after another with sorted-prefix KV reuse, the "
                                       "fastest on CPUs (default: 1)", group=LLM)
    base_url: str | None = arg(None, "openai/hf_inference: server URL, e.g. http://127.0.0.1:8000/v1", group=LLM)
    api_key_env: str | None = arg(None, "openai/hf_inference: NAME of the environment variable holding the token "
                                        "(the token itself is never passed on the command line nor logged) "
                                        "(default: OPENAI_API_KEY / HF_TOKEN)", group=LLM)
    concurrency: int | None = arg(None, "openai/hf_inference: requests in flight (default: 8)", group=LLM)
    timeout: float | None = arg(None, "openai/hf_inference: seconds per request (default: 120)", group=LLM)
    max_retries: int | None = arg(None, "openai/hf_inference: retries with exponential backoff on errors/429/5xx "
                                        "(default: 5)", group=LLM)
    tensor_parallel_size: int | None = arg(None, "vllm: GPUs per model (default: all visible GPUs)", group=LLM)
    dtype: str | None = arg(None, "transformers/vllm: weights dtype, e.g. float16, bfloat16 (default: auto)", group=LLM)
    device: str | None = arg(None, "transformers: torch device (default: cuda if available, else cpu)", group=LLM)
    backend_args: dict[str, Any] = arg({}, "the backend's options as one mapping: KEY=VALUE (repeatable) or "
                                           "'{\"n_ctx\": 4096, \"verbose\": true}'; keys: the backend class's OPTIONS "
                                           "(maestromotif/llm/). The LLM flags above are aliases that fill it; an "
                                           "entry given here wins", aliases=("backend_arg",), metavar="KEY=VALUE",
                                       group=LLM)
    preference_dir: str = ws_arg("preference", "where label files go", group=FILES)
    cache_dir: str | None = arg(None, "answer cache shared by chunks and reruns (default: "
                                      "<preference_dir>/.answer_cache)", group=FILES)
    use_cache: bool = arg(True, "reuse cached answers of identical caption pairs; 0: ask the LLM again", group=FILES)
    logdir: str | None = ws_arg("prompt_logs", "conversations are appended as JSONL to "
                                               "<logdir>/<exp>/chunk-<i>-of-<K>.jsonl; '' disables", group=FILES)
    progress: bool = arg(True, "tqdm progress bar", group=FILES)


def default_annotator(backend: str, model: str | None, mode: str | None = None) -> str:
    if mode == "rules":
        return RULES_ANNOTATOR
    if backend == "llamacpp" and (model is None or model == "embedded"):
        return "gemma270m"  # the team's name for labels made with the embedded Gemma 3 270M
    if model is None:
        return backend
    stem = Path(model.rstrip("/")).name.removesuffix(".gguf")
    return re.sub(r"[^A-Za-z0-9.-]+", "-", stem) or backend


def experiment_name(cfg: AnnotationConfig, prompt: PromptSpec) -> str:
    """The original's naming: --custom-annotator-string replaces the whole file stem."""
    if cfg.custom_annotator_string:
        return cfg.custom_annotator_string
    mode = resolve_mode(cfg, prompt)
    what = "captionrules" if mode == "rules" else prompt.name  # rules ignore the prompt
    return f"{cfg.annotator or default_annotator(cfg.backend, cfg.model, mode)}_{cfg.goal_key}_{what}"


def resolve_mode(cfg: AnnotationConfig, prompt: PromptSpec) -> str:
    if cfg.mode not in MODES:
        raise UserError(f"unknown --mode '{cfg.mode}'", expected=f"one of {', '.join(MODES)}")
    if cfg.mode != "auto":
        return cfg.mode
    # The embedded Gemma 3 270M is a base model: it cannot follow the chain-of-thought instruction.
    base = cfg.backend == "llamacpp" and cfg.model in (None, "embedded")
    if prompt.pointwise is not None and (base or not prompt.template):
        return "pointwise"
    return "score" if base and prompt.score is not None else "generate"


def backend_options(cfg: AnnotationConfig) -> dict[str, Any]:
    """The one mapping of options the backend is built with: the LLM flags it has options for, then
    ``cfg.backend_args`` (which wins); an unknown ``backend_args`` key is an error naming the known ones."""
    known = check_options(cfg.backend, cfg.backend_args).OPTIONS
    opts = {key: getattr(cfg, flag) for flag, key in BACKEND_FLAGS.items()
            if key in known and getattr(cfg, flag) is not None}
    return {**opts, **cfg.backend_args}


def build_backend(cfg: AnnotationConfig) -> LLMBackend:
    return make_backend(cfg.backend, model=cfg.model, **backend_options(cfg))


def fingerprint(cfg: AnnotationConfig, backend: LLMBackend, prompt: PromptSpec, goal: Goal, mode: str,
                tie_margin: float) -> dict[str, Any]:
    """What decides an answer (the answer-cache key; resuming under a different one is refused)."""
    if mode == "rules":
        return {"mode": mode, "rules": "maestromotif.annotation.sanity.RULES", "goal": goal.key}
    desc = backend.describe()
    if mode == "pointwise":  # no goal text: one caption score serves every skill of the prompt's table
        return {"backend": desc.get("backend"), "model": desc.get("model", cfg.model), "mode": mode,
                "prompt": {"name": prompt.name, "pointwise": prompt.pointwise.fingerprint()}}
    fp: dict[str, Any] = {"backend": desc.get("backend"), "model": desc.get("model", cfg.model), "mode": mode,
                          "prompt": prompt.fingerprint(), "goal": goal.text}
    if mode == "score":  # answers are cached as margins d, so any tie_margin reuses them
        fp["prompt"]["score"] = {k: v for k, v in fp["prompt"]["score"].items() if k != "tie_margin"}
    else:
        fp["prompt"].pop("score")
        fp["generation"] = {"max_tokens": cfg.max_tokens, "temperature": cfg.temperature, "top_p": cfg.top_p,
                            "seed": cfg.seed}
    return fp


def score_label(d: float, tie_margin: float) -> int:
    return FIRST if d > tie_margin else SECOND if d < -tie_margin else TIE


@dataclass
class _Query:
    a: str  # caption asked as description 1
    b: str
    pairs: list[int]


class Annotator:
    """Asks the backend about queries and logs every exchange (generation or score mode)."""

    def __init__(self, backend: LLMBackend, prompt: PromptSpec, goal: Goal, mode: str, tie_margin: float,
                 gen: GenerationConfig):
        self.backend, self.prompt, self.goal, self.mode = backend, prompt, goal, mode
        self.tie_margin, self.gen = tie_margin, gen
        self.retries = 0

    def ask(self, queries: list[_Query]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """-> (one cache record per query: {"l", ["d"], ["u"]}, conversation log records)."""
        return self._score(queries) if self.mode == "score" else self._generate(queries)

    def _generate(self, queries: list[_Query]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        goal, key = self.goal.text, self.prompt.answer_key
        chats = [self.prompt.chat(goal, q.a, q.b) for q in queries]
        answers = self.backend.chat(chats, self.gen)
        labels = [parse_answer(t, key) for t in answers]
        logs = [{"pairs": q.pairs, "chat": c, "answer": t} for q, c, t in zip(queries, chats, answers)]
        retry = [j for j, lab in enumerate(labels) if lab is None and self.prompt.retry]
        if retry:
            self.retries += len(retry)
            retry_chats = [self.prompt.retry_chat(chats[j], answers[j]) for j in retry]
            for j, t in zip(retry, self.backend.chat(retry_chats, self.gen)):
                labels[j] = parse_answer(t, key)
                logs[j]["retry_answer"] = t
        recs = []
        for lab, log in zip(labels, logs):
            rec = {"l": UNKNOWN, "u": 1} if lab is None else {"l": lab}
            log["label"] = rec["l"]
            recs.append(rec)
        return recs, logs

    def _score(self, queries: list[_Query]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        goal, spec = self.goal.text, self.prompt
        prompts = []
        for q in queries:
            prompts += [spec.score_prompt(goal, q.a, q.b), spec.score_prompt(goal, q.b, q.a)]
        lp = self.backend.score_prompts(prompts, list(spec.score.options))
        recs, logs = [], []
        for j, q in enumerate(queries):
            s_ab = lp[2 * j, 0] - lp[2 * j, 1]  # how much "1" beats "2" when a is shown first
            s_ba = lp[2 * j + 1, 0] - lp[2 * j + 1, 1]
            d = float((s_ab - s_ba) / 2)  # order-averaged margin of a over b
            if not np.isfinite(d):
                rec: dict[str, Any] = {"l": UNKNOWN, "u": 1}
            else:
                rec = {"l": score_label(d, self.tie_margin), "d": round(d, 5)}
            recs.append(rec)
            logs.append({"pairs": q.pairs, "prompts": prompts[2 * j:2 * j + 2],
                         "logprobs": np.round(lp[2 * j:2 * j + 2], 4).tolist(), "d": rec.get("d"), "label": rec["l"]})
        return recs, logs


def annotate(cfg: AnnotationConfig, backend: LLMBackend | None = None) -> dict[str, Any]:
    """Annotate chunk ``cfg.chunk_number`` of ``cfg.n_annotation_chunks``; returns the run summary."""
    t_start = time.time()
    lib = PromptLibrary([Path(d) for d in cfg.prompt_dir])
    prompt, goal = lib.prompt(cfg.prompt), lib.goal(cfg.goal_key)
    ds_path = dataset_path(cfg.directory, cfg.dataset or cfg.goal_key)
    ds = load_dataset(ds_path)
    if ds.num_pairs == 0:
        raise UserError("the dataset holds 0 pairs: there is nothing to annotate", path=ds_path,
                        fix="recollect it with `python -m scripts.collect_dataset --num_pairs N` (N >= 1)")
    k, c = cfg.n_annotation_chunks, cfg.chunk_number
    if k < 1 or not 0 <= c < k:
        raise UserError(f"chunk {c} of {k} does not exist", expected="--n-annotation-chunks K >= 1 and "
                        "0 <= --chunk-number < K", fix="Slurm: --chunk-number $SLURM_ARRAY_TASK_ID with --array=0-(K-1)")
    mode = resolve_mode(cfg, prompt)
    if cfg.batch_size is None:
        # pointwise: every batch evaluates the examples' prefix once per ordering, so batches are large
        cfg = dataclasses.replace(cfg, batch_size=256 if mode == "pointwise" else 32)
    if cfg.batch_size < 1:
        raise UserError(f"--batch_size {cfg.batch_size} is not positive", expected="an integer >= 1")
    _check_prompt(mode, prompt, cfg.goal_key)
    default_margin = {"score": prompt.score.tie_margin if prompt.score else 0.0,
                      "pointwise": prompt.pointwise.tie_margin if prompt.pointwise else 0.0}.get(mode, 0.0)
    tie_margin = cfg.tie_margin if cfg.tie_margin is not None else default_margin
    exp = experiment_name(cfg, prompt)
    store = LabelStore(cfg.preference_dir, exp, ds.num_pairs)
    lo, hi = chunk_range(ds.num_pairs, k, c)

    own_backend = backend is None and mode != "rules"
    backend = backend or (None if mode == "rules" else build_backend(cfg))
    if mode in SCORING_MODES and not backend.supports_score:
        raise UserError(f"backend '{backend.name}' cannot read log-probabilities, which --mode {mode} needs",
                        expected="--mode generate (any backend) or --mode rules (caption rules, no LLM)",
                        fix="use one of those, or a backend with log-probs for score/pointwise "
                            "(llamacpp, transformers, vllm, openai against a server that returns logprobs)")
    try:
        fp = fingerprint(cfg, backend, prompt, goal, mode, tie_margin)
        # what made the labels (the .config.json sidecar): mode, prompt, model, goal, tie margin
        setup = {**fp, "goal": fp.get("goal", goal.text),
                 "tie_margin": tie_margin if mode in SCORING_MODES else None}
        if mode == "pointwise":
            setup["skill_labels"] = dict(prompt.pointwise.skills)[cfg.goal_key]
            setup["min_score"] = prompt.pointwise.floor(cfg.goal_key)
        with store.chunk_lock(c, k):  # a second job on this chunk is refused, not run twice
            if _check_config(store, cfg, setup, ds_path, ds.fingerprint):
                store.discard_all()  # --ignore-existing 1 on a changed dataset: no old label can be kept
            elif cfg.ignore_existing:
                store.reset(lo, hi, c, k)
            save_config(store.config_path, cfg, fingerprint=setup, fingerprint_hash=config_hash(setup),
                        dataset=str(ds_path), num_pairs=ds.num_pairs, experiment=exp,
                        dataset_fingerprint=ds.fingerprint)
            run = _run_captionwise if mode in ("pointwise", "rules") else _run
            summary = run(cfg, ds, store, lo, hi, backend, prompt, goal, mode, tie_margin, fp, exp, t_start)
    finally:
        if own_backend:
            backend.close()
    return summary


def _check_config(store: LabelStore, cfg: AnnotationConfig, fp: dict[str, Any], ds_path: Path,
                  ds_fingerprint: str) -> bool:
    """Refuse to resume labels made with another setup or dataset; True when --ignore-existing 1 must
    discard every chunk's labels because the dataset itself changed."""
    if not store.config_path.exists():
        return False
    try:
        old = json.loads(store.config_path.read_text())
    except ValueError:
        return False  # unreadable record: the labels themselves are still checked by load_labels
    old_n, old_fp = old.get("num_pairs"), old.get("dataset_fingerprint")
    dataset_changed = old_n not in (None, store.num_pairs) or old_fp not in (None, ds_fingerprint)
    if cfg.ignore_existing:
        return dataset_changed
    old_hash = old.get("fingerprint_hash")
    if old_hash and old_hash != config_hash(fp):
        diff = sorted(k for k in set(fp) | set(old.get("fingerprint", {}))
                      if fp.get(k) != old.get("fingerprint", {}).get(k))
        raise UserError(f"existing labels of '{store.experiment}' were made with a different setup "
                        f"(differs in: {', '.join(diff)})", path=store.config_path,
                        expected="the same backend, model, mode, prompt and goal to resume",
                        fix="pass --ignore-existing 1 to start over, or --custom-annotator-string NAME "
                            "for a new label file")
    if dataset_changed:
        what = (f"{old_n} pairs then, {store.num_pairs} now" if old_n != store.num_pairs
                else f"same size, content fingerprint {old_fp} then, {ds_fingerprint} now")
        raise UserError(f"existing labels of '{store.experiment}' belong to another version of {ds_path} ({what})",
                        path=store.config_path, expected="the dataset the labels were annotated on",
                        fix="keep the old labels and write new ones: --custom-annotator-string NAME; or "
                            "discard the old labels of every chunk and annotate the new dataset: "
                            "--ignore-existing 1")
    return False


def _open_convlog(cfg: AnnotationConfig, exp: str, mode: str) -> AppendLog | None:
    """The optional conversation log of this chunk (--logdir), opened with a run-start record."""
    if not cfg.logdir:
        return None
    convlog = AppendLog(Path(cfg.logdir) / exp / f"chunk-{cfg.chunk_number}-of-{cfg.n_annotation_chunks}.jsonl")
    convlog.write([{"run_start": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": socket.gethostname(),
                    "argv": sys.argv, "mode": mode, "experiment": exp}])
    return convlog


def _answer_cache_dir(cfg: AnnotationConfig) -> Path:
    return Path(cfg.cache_dir) if cfg.cache_dir else Path(cfg.preference_dir) / ".answer_cache"


def _split_pairs(cfg: AnnotationConfig, ds, todo: list[int], cache: AnswerCache, mode: str,
                 tie_margin: float) -> tuple[list[dict[str, Any]], dict[str, _Query]]:
    """Label what needs no LLM call (identical captions, cached answers); group the rest into one
    query per distinct unordered caption pair."""
    queries: dict[str, _Query] = {}
    records = []
    for i in todo:
        a, b = ds.pair_captions(i)
        if a == b:
            records.append({"i": i, "l": TIE, "s": "same"})
            continue
        hit = cache.get(a, b, use_unparseable=not cfg.retry_unparseable) if cfg.use_cache else None
        if hit is not None:
            if mode == "score" and isinstance(hit.get("d"), int | float):
                hit["l"] = score_label(hit["d"], tie_margin)
            rec = {"i": i, "l": hit["l"], "s": "cache"}
            if hit.get("u"):
                rec["u"] = 1
            records.append(rec)
            continue
        h, _ = pair_key(a, b)
        if h in queries:
            queries[h].pairs.append(i)
        else:
            queries[h] = _Query(a=a, b=b, pairs=[i])  # asked in the order the dataset first shows it
    return records, queries


def _fan_out(ds, batch: list[_Query], recs: list[dict[str, Any]], cache: AnswerCache) -> tuple[list[dict[str, Any]], int]:
    """Cache each answer and turn it into one label record per dataset pair asking it; returns
    (records, number of unparseable answers)."""
    out, unparseable = [], 0
    for q, rec in zip(batch, recs):
        cache.put(q.a, q.b, rec["l"], **{key: v for key, v in rec.items() if key != "l"})
        unparseable += int(bool(rec.get("u")))
        for j, i in enumerate(q.pairs):
            a, _ = ds.pair_captions(i)
            lab = rec["l"] if a == q.a else flip(rec["l"])  # same unordered pair, maybe swapped
            entry = {"i": i, "l": lab, "s": "llm" if j == 0 else "cache"}
            if rec.get("u"):
                entry["u"] = 1
            out.append(entry)
    return out, unparseable


def _run(cfg: AnnotationConfig, ds, store: LabelStore, lo: int, hi: int, backend: LLMBackend, prompt: PromptSpec,
         goal: Goal, mode: str, tie_margin: float, fp: dict[str, Any], exp: str, t_start: float) -> dict[str, Any]:
    done = store.done(retry_unparseable=bool(cfg.retry_unparseable))
    todo = [i for i in range(lo, hi) if i not in done]
    cache = AnswerCache(_answer_cache_dir(cfg), fp, read=bool(cfg.use_cache))
    part = AppendLog(store.part_path(cfg.chunk_number, cfg.n_annotation_chunks))
    convlog = _open_convlog(cfg, exp, mode)
    sources: Counter[str] = Counter()
    calls0 = backend.calls
    records, queries = _split_pairs(cfg, ds, todo, cache, mode, tie_margin)
    sources.update(r["s"] for r in records)
    n_new = len(records)
    part.write(records)
    part.sync()

    ordered = sorted(queries.values(), key=lambda q: (q.a, q.b))  # shared prompt prefixes side by side
    annotator = Annotator(backend, prompt, goal, mode, tie_margin,
                          GenerationConfig(max_tokens=cfg.max_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                                           seed=cfg.seed))
    unparseable = 0
    pbar = _progress(len(todo), bool(cfg.progress), f"{exp} chunk {cfg.chunk_number}/{cfg.n_annotation_chunks}")
    pbar.update(len(records))
    t_llm = time.time()
    for s in range(0, len(ordered), cfg.batch_size):
        batch = ordered[s:s + cfg.batch_size]
        recs, logs = annotator.ask(batch)
        out, bad = _fan_out(ds, batch, recs, cache)
        unparseable += bad
        n_new += len(out)
        sources.update(e["s"] for e in out)
        cache.sync()  # the answer first: a crash between the two writes costs no LLM call on rerun
        part.write(out)
        part.sync()
        if convlog is not None:
            convlog.write(logs)
            convlog.sync()
        pbar.update(len(out))
    pbar.close()
    llm_seconds = time.time() - t_llm
    part.close()
    cache.close()
    if convlog is not None:
        convlog.close()

    return _finish(cfg, ds, store, lo, hi, backend, exp, mode, tie_margin, t_start, llm_seconds,
                   n_new=n_new, todo=len(todo), sources=sources, queries=len(ordered),
                   retries=annotator.retries, unparseable=unparseable, calls0=calls0)


def _check_prompt(mode: str, prompt: PromptSpec, goal_key: str) -> None:
    """The prompt has what the mode needs (clear errors before any model loads)."""
    if mode == "score":
        prompt.score_prompt("", "", "")  # raises a UserError when the prompt has no score section
    elif mode == "generate" and not prompt.template:
        raise UserError(f"prompt '{prompt.name}' has no pairwise 'template' for --mode generate",
                        path=prompt.path or None, fix="use --mode pointwise with it, or --prompt default")
    elif mode == "pointwise":
        if prompt.pointwise is None:
            raise UserError(f"prompt '{prompt.name}' has no 'pointwise' section", path=prompt.path or None,
                            expected="a prompt file with pointwise: (e.g. the built-in 'classify')",
                            fix="pass --prompt classify, or use --mode score/generate with this prompt")
        prompt.pointwise.skill_labels(goal_key, prompt.path)
    elif mode == "rules" and goal_key not in RULES:
        raise UserError(f"no caption rule for goal '{goal_key}'", expected=f"one of {', '.join(RULES)}",
                        fix="use an LLM mode (generate, score, pointwise) for this goal")


def _rule_records(cfg: AnnotationConfig, ds, todo: list[int]) -> list[dict[str, Any]]:
    """--mode rules: one label per pair from the goal's caption rule (no LLM)."""
    rule = RULES[cfg.goal_key]
    recs = []
    for i in todo:
        a, b = ds.pair_captions(i)
        want = rule(a, b)
        recs.append({"i": i, "l": TIE if want is None else want, "s": "same" if a == b else "rule"})
    return recs


class _PointwisePairs:
    """The pairs of a --mode pointwise chunk waiting for the scores of their two rendered captions."""

    def __init__(self, cfg: AnnotationConfig, ds, todo: list[int], prompt: PromptSpec, tie_margin: float,
                 cache: CaptionCache):
        self.spec, self.cache, self.tie_margin = prompt.pointwise, cache, tie_margin
        self.cols = self.spec.skill_labels(cfg.goal_key, prompt.path)
        self.floor = self.spec.floor(cfg.goal_key)
        self.rendered: dict[int, tuple[str, str]] = {}
        self.missing: dict[str, None] = {}  # rendered captions to score, in order of first use
        self.same: list[dict[str, Any]] = []
        for i in todo:
            a, b = ds.pair_captions(i)
            ra, rb = self.spec.render(a), self.spec.render(b)
            if ra == rb:  # identical to the model: a tie without an LLM call
                self.same.append({"i": i, "l": TIE, "s": "same"})
                continue
            self.rendered[i] = (ra, rb)
            for r in (ra, rb):
                if cache.get(r) is None:
                    self.missing[r] = None
        self.pending = list(self.rendered)
        self.new_now: set[str] = set()

    def ready(self) -> list[dict[str, Any]]:
        """Label records of the pending pairs whose two captions are now scored."""
        out, rest = [], []
        for i in self.pending:
            ra, rb = self.rendered[i]
            pa, pb = self.cache.get(ra), self.cache.get(rb)
            if pa is None or pb is None:
                rest.append(i)
                continue
            sa, sb = float(pa[self.cols].sum()), float(pb[self.cols].sum())
            d = sa - sb
            fresh = [r for r in (ra, rb) if r in self.new_now]
            self.new_now.difference_update(fresh)  # the first pair using a new score counts as the LLM's
            label = pair_label(d, self.tie_margin) if max(sa, sb) >= self.floor else TIE
            out.append({"i": i, "l": label, "s": "llm" if fresh else "cache",
                        "d": round(d, 5)})
        self.pending = rest
        return out


def _score_pointwise(cfg: AnnotationConfig, ds, todo: list[int], backend: LLMBackend, prompt: PromptSpec,
                     tie_margin: float, fp: dict[str, Any], emit, convlog: AppendLog | None) -> int:
    """--mode pointwise: score each distinct rendered caption once (cached for every skill), emitting
    pair labels as soon as both captions are scored; returns the number of captions scored now."""
    spec = prompt.pointwise
    cache = CaptionCache(_answer_cache_dir(cfg), fp, len(spec.labels), read=bool(cfg.use_cache))
    pairs = _PointwisePairs(cfg, ds, todo, prompt, tie_margin, cache)
    emit(pairs.same)
    emit(pairs.ready())  # pairs whose captions are all cached already
    todo_caps = list(pairs.missing)
    step = max(1, cfg.batch_size)
    for s in range(0, len(todo_caps), step):
        batch = todo_caps[s:s + step]
        probs = score_captions(backend, spec, batch)
        if not np.isfinite(probs).all():
            raise UserError(f"backend '{backend.name}' returned no log-probabilities for the label words",
                            expected="a backend/server that returns next-token logprobs (--mode pointwise)",
                            fix="use --mode generate (chat answers) or --mode rules (caption rules, no LLM)")
        for r, p in zip(batch, probs):
            cache.put(r, p)
            pairs.new_now.add(r)
        cache.sync()  # the scores first: a crash before the labels costs no LLM call on rerun
        if convlog is not None:
            convlog.write([{"caption": r, "probs": dict(zip(spec.label_names, np.round(p, 4).tolist()))}
                           for r, p in zip(batch, probs)])
            convlog.sync()
        emit(pairs.ready())
    cache.close()
    return len(todo_caps)


def _run_captionwise(cfg: AnnotationConfig, ds, store: LabelStore, lo: int, hi: int, backend: LLMBackend | None,
                     prompt: PromptSpec, goal: Goal, mode: str, tie_margin: float, fp: dict[str, Any], exp: str,
                     t_start: float) -> dict[str, Any]:
    """--mode pointwise (each distinct rendered caption scored once, cached for every skill) and
    --mode rules (caption rules, no LLM): same part files, summaries and resumption as pairwise modes."""
    done = store.done(retry_unparseable=bool(cfg.retry_unparseable))
    todo = [i for i in range(lo, hi) if i not in done]
    part = AppendLog(store.part_path(cfg.chunk_number, cfg.n_annotation_chunks))
    convlog = _open_convlog(cfg, exp, mode) if mode == "pointwise" else None
    sources: Counter[str] = Counter()
    calls0 = backend.calls if backend is not None else 0
    pbar = _progress(len(todo), bool(cfg.progress), f"{exp} chunk {cfg.chunk_number}/{cfg.n_annotation_chunks}")

    def emit(records: list[dict[str, Any]]) -> None:
        sources.update(r["s"] for r in records)
        part.write(records)
        part.sync()
        pbar.update(len(records))

    t_llm = time.time()
    if mode == "rules":
        emit(_rule_records(cfg, ds, todo))
        queries = 0
    else:
        queries = _score_pointwise(cfg, ds, todo, backend, prompt, tie_margin, fp, emit, convlog)
    pbar.close()
    part.close()
    if convlog is not None:
        convlog.close()
    extra = {"distinct_captions_scored": queries} if mode == "pointwise" else {}
    return _finish(cfg, ds, store, lo, hi, backend, exp, mode, tie_margin, t_start, time.time() - t_llm,
                   n_new=len(todo), todo=len(todo), sources=sources, queries=queries, retries=0, unparseable=0,
                   calls0=calls0, extra=extra)


def _finish(cfg: AnnotationConfig, ds, store: LabelStore, lo: int, hi: int, backend: LLMBackend | None, exp: str,
            mode: str, tie_margin: float, t_start: float, llm_seconds: float, *, n_new: int, todo: int,
            sources: Counter[str], queries: int, retries: int, unparseable: int, calls0: int = 0,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge the parts, write the chunk's run record and the experiment summary; returns the run."""
    labels = store.merge()
    wall = time.time() - t_start
    finished = sorted(i for i in store.done() if lo <= i < hi)  # agreement only on annotated pairs
    chunk_pairs = [ds.pair_captions(i) for i in finished]
    calls = backend.calls - calls0 if backend is not None else 0
    run = {
        "experiment": exp,
        "chunk": cfg.chunk_number,
        "n_chunks": cfg.n_annotation_chunks,
        "pairs": [lo, hi],
        "pairs_in_chunk": hi - lo,
        "already_done": (hi - lo) - todo,
        "annotated_now": n_new,
        "sources": {"same": sources["same"], "cache": sources["cache"], "llm": sources["llm"],
                    **({"rule": sources["rule"]} if sources["rule"] else {})},
        "queries": queries,
        "llm_calls": calls,
        "retries": retries,
        "unparseable": unparseable,
        "unparseable_rate": unparseable / queries if queries else 0.0,
        "calls_per_pair": calls / n_new if n_new else 0.0,
        "seconds": round(wall, 2),
        "llm_seconds": round(llm_seconds, 2),
        "pairs_per_s": n_new / wall if wall > 0 else 0.0,
        "mode": mode,
        "tie_margin": tie_margin if mode in SCORING_MODES else None,
        "backend": backend.describe() if backend is not None else None,
        **(extra or {}),
        "labels_in_chunk": label_counts(labels[lo:hi]),
        "heuristic_agreement": agreement(cfg.goal_key, chunk_pairs, labels[finished]),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "host": socket.gethostname(),
    }
    chunk_summary = store.part_path(cfg.chunk_number, cfg.n_annotation_chunks).with_suffix(".summary.json")
    atomic_save_json(chunk_summary, _run_history(chunk_summary) + [run])  # every run of the chunk, oldest first
    write_summary(store, ds, cfg.goal_key, labels)
    print(format_summary(run), file=sys.stderr)
    return run


def write_summary(store: LabelStore, ds, goal_key: str, labels: np.ndarray) -> dict[str, Any]:
    """preference/<exp>.summary.json: counts of the merged file + every run of every chunk."""
    runs = []
    for p in sorted(store.parts_dir.glob("*.summary.json")) if store.parts_dir.is_dir() else []:
        runs += _run_history(p)
    finished = sorted(store.done())
    pairs = [ds.pair_captions(i) for i in finished]
    summary = {
        "experiment": store.experiment,
        "labels_file": store.npy_path.name,
        "num_pairs": int(len(labels)),
        "labels": label_counts(labels),
        "complete": bool((labels != UNKNOWN).all()),
        "unparseable": sum(int(r.get("u", 0)) for r in store.load_parts().values()),
        "heuristic_agreement": agreement(goal_key, pairs, labels[finished]),
        "runs": runs,
    }
    atomic_save_json(store.summary_path, summary)
    return summary


def _run_history(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else [data]


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="pair", dynamic_ncols=True)


def format_summary(run: dict[str, Any]) -> str:
    lab = run["labels_in_chunk"]
    src = run["sources"]
    lines = [
        f"[annotate] {run['experiment']} chunk {run['chunk']}/{run['n_chunks']} pairs [{run['pairs'][0]}, "
        f"{run['pairs'][1]}): {run['annotated_now']} annotated now, {run['already_done']} already done",
        f"  sources: identical captions {src['same']}, cache {src['cache']}, LLM {src['llm']} "
        f"({run['queries']} distinct queries, {run['llm_calls']} LLM calls incl. {run['retries']} retries, "
        f"{run['calls_per_pair']:.3f} calls/pair)",
        f"  labels in chunk: first {lab['first']}, second {lab['second']}, tie {lab['tie']}, unknown {lab['unknown']}"
        f"; unparseable {run['unparseable']} ({100 * run['unparseable_rate']:.1f}% of queries)",
        f"  {run['seconds']:.1f}s, {run['pairs_per_s']:.2f} pairs/s, mode {run['mode']}",
    ]
    agr = run.get("heuristic_agreement")
    if agr and agr["rule_pairs"]:
        ties = agr["labels_on_rule_pairs"]["tie"]
        prec = f"{100 * agr['precision']:.0f}%" if agr["precision"] is not None else "n/a"
        lines.append(f"  caption-rule check on {agr['rule_pairs']} pairs: {agr['agree']} agree, {agr['wrong']} opposite, "
                     f"{ties} ties; agreement of verdicts {prec} (chance 50%)")
    return "\n".join(lines)


def config_from_dict(d: dict[str, Any]) -> AnnotationConfig:
    names = {f.name for f in dataclasses.fields(AnnotationConfig)}
    return AnnotationConfig(**{k: v for k, v in d.items() if k in names})


__all__ = ["AnnotationConfig", "Annotator", "annotate", "build_backend", "default_annotator", "experiment_name",
           "format_summary", "read_jsonl", "resolve_mode", "write_summary", "config_from_dict"]
