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
import inspect
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
from maestromotif.annotation.prompts import Goal, PromptLibrary, PromptSpec
from maestromotif.annotation.sanity import agreement
from maestromotif.annotation.store import LabelStore, chunk_range
from maestromotif.data.dataset import FIRST, SECOND, TIE, UNKNOWN, dataset_path, label_counts, load_dataset
from maestromotif.llm.base import BACKENDS, GenerationConfig, LLMBackend, backend_class, make_backend
from maestromotif.utils.cli import arg
from maestromotif.utils.config import config_hash, save_config
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_save_json
from maestromotif.utils.jsonl import AppendLog, read_jsonl

MODES = ("auto", "generate", "score")
# backend options the CLI can set; each backend takes the ones its constructor names
BACKEND_OPTIONS = ("threads", "n_ctx", "batch_seqs", "base_url", "api_key_env", "concurrency", "timeout",
                   "max_retries", "tensor_parallel_size", "dtype", "device", "seed")


WHAT, FILES, PROMPT, LLM = "what to annotate", "naming and files", "prompt", "LLM"


@dataclass
class AnnotationConfig:
    """One annotation job; every field is also a flag of ``scripts.annotate_pairs`` (maestromotif.utils.cli)."""

    directory: str = arg("og_dataset", "dataset directory holding <goal_key>.pkl", aliases=("dataset_dir",),
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
    prompt: str = arg("default", "prompt template name (templates/<name>.yaml: default, motif, motif_reworded) or "
                                 "a file path", group=PROMPT)
    prompt_dir: list[str] = arg([], "extra directory with templates/ and goals/ files, searched before the built-in "
                                    "ones (repeatable)", group=PROMPT)
    mode: str = arg("auto", "generate: chat + parse the verdict (instruct models); score: compare the next-token "
                            "log-probs of the answers in both orders (base/small models); auto: score for the "
                            "embedded base model, else generate", choices=MODES, group=PROMPT)
    tie_margin: float | None = arg(None, "score mode: |order-averaged log-prob margin| below this is a tie "
                                         "(default: the prompt file's)", group=PROMPT)
    backend: str = arg("llamacpp", "llamacpp (embedded/any GGUF), transformers, openai (OpenAI-compatible server), "
                                   "hf_inference (huggingface_hub), vllm (GPU nodes)", choices=tuple(sorted(BACKENDS)),
                        group=LLM)
    model: str | None = arg(None, "model: GGUF path or 'embedded' (llamacpp), HF id/path (transformers, vllm), "
                                  "served model name (openai, hf_inference) (default: the embedded Gemma 3 270M "
                                  "for llamacpp)", group=LLM)
    batch_size: int = arg(32, "distinct caption pairs per LLM batch; labels are saved after each batch", group=LLM)
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
    preference_dir: str = arg("preference", "where label files go", group=FILES)
    cache_dir: str | None = arg(None, "answer cache shared by chunks and reruns (default: "
                                      "<preference_dir>/.answer_cache)", group=FILES)
    use_cache: bool = arg(True, "reuse cached answers of identical caption pairs; 0: ask the LLM again", group=FILES)
    logdir: str | None = arg("prompt_logs", "conversations are appended as JSONL to "
                                            "<logdir>/<exp>/chunk-<i>-of-<K>.jsonl; '' disables", group=FILES)
    progress: bool = arg(True, "tqdm progress bar", group=FILES)


def default_annotator(backend: str, model: str | None) -> str:
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
    return f"{cfg.annotator or default_annotator(cfg.backend, cfg.model)}_{cfg.goal_key}_{prompt.name}"


def resolve_mode(cfg: AnnotationConfig, prompt: PromptSpec) -> str:
    if cfg.mode not in MODES:
        raise UserError(f"unknown --mode '{cfg.mode}'", expected=f"one of {', '.join(MODES)}")
    if cfg.mode != "auto":
        return cfg.mode
    # The embedded Gemma 3 270M is a base model: it cannot follow the chain-of-thought instruction.
    base = cfg.backend == "llamacpp" and cfg.model in (None, "embedded")
    return "score" if base and prompt.score is not None else "generate"


def build_backend(cfg: AnnotationConfig) -> LLMBackend:
    klass = backend_class(cfg.backend)
    accepted = inspect.signature(klass.__init__).parameters
    kwargs = {k: getattr(cfg, k) for k in BACKEND_OPTIONS if getattr(cfg, k) is not None}
    if "threads" in kwargs and "n_threads" in accepted:
        kwargs["n_threads"] = kwargs.pop("threads")
    kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    return make_backend(cfg.backend, model=cfg.model, **kwargs)


def fingerprint(cfg: AnnotationConfig, backend: LLMBackend, prompt: PromptSpec, goal: Goal, mode: str,
                tie_margin: float) -> dict[str, Any]:
    """What decides an answer (the answer-cache key; resuming under a different one is refused)."""
    desc = backend.describe()
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
    if cfg.batch_size < 1:
        raise UserError(f"--batch_size {cfg.batch_size} is not positive", expected="an integer >= 1")
    mode = resolve_mode(cfg, prompt)
    if mode == "score":
        prompt.score_prompt(goal.text, "", "")  # raises a UserError when the prompt has no score section
    tie_margin = cfg.tie_margin if cfg.tie_margin is not None else (prompt.score.tie_margin if prompt.score else 0.0)
    exp = experiment_name(cfg, prompt)
    store = LabelStore(cfg.preference_dir, exp, ds.num_pairs)
    lo, hi = chunk_range(ds.num_pairs, k, c)

    own_backend = backend is None
    backend = backend or build_backend(cfg)
    if mode == "score" and not backend.supports_score:
        raise UserError(f"backend '{backend.name}' cannot score options", expected="--mode generate",
                        fix="use --mode generate, or a backend with log-probs (llamacpp, transformers, openai, vllm)")
    try:
        fp = fingerprint(cfg, backend, prompt, goal, mode, tie_margin)
        setup = {**fp, "tie_margin": tie_margin if mode == "score" else None}  # what made the labels
        with store.chunk_lock(c, k):  # a second job on this chunk is refused, not run twice
            if _check_config(store, cfg, setup, ds_path, ds.fingerprint):
                store.discard_all()  # --ignore-existing 1 on a changed dataset: no old label can be kept
            elif cfg.ignore_existing:
                store.reset(lo, hi, c, k)
            save_config(store.config_path, cfg, fingerprint=setup, fingerprint_hash=config_hash(setup),
                        dataset=str(ds_path), num_pairs=ds.num_pairs, experiment=exp,
                        dataset_fingerprint=ds.fingerprint)
            summary = _run(cfg, ds, store, lo, hi, backend, prompt, goal, mode, tie_margin, fp, exp, t_start)
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


def _run(cfg: AnnotationConfig, ds, store: LabelStore, lo: int, hi: int, backend: LLMBackend, prompt: PromptSpec,
         goal: Goal, mode: str, tie_margin: float, fp: dict[str, Any], exp: str, t_start: float) -> dict[str, Any]:
    done = store.done(retry_unparseable=bool(cfg.retry_unparseable))
    todo = [i for i in range(lo, hi) if i not in done]
    cache_dir = Path(cfg.cache_dir) if cfg.cache_dir else Path(cfg.preference_dir) / ".answer_cache"
    cache = AnswerCache(cache_dir, fp, read=bool(cfg.use_cache))
    part = AppendLog(store.part_path(cfg.chunk_number, cfg.n_annotation_chunks))
    convlog = None
    if cfg.logdir:
        convlog = AppendLog(Path(cfg.logdir) / exp / f"chunk-{cfg.chunk_number}-of-{cfg.n_annotation_chunks}.jsonl")
        convlog.write([{"run_start": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": socket.gethostname(),
                        "argv": sys.argv, "mode": mode, "experiment": exp}])
    sources: Counter[str] = Counter()
    calls0 = backend.calls
    new_labels: dict[int, int] = {}
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
    for r in records:
        sources[r["s"]] += 1
        new_labels[r["i"]] = r["l"]
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
        out = []
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
                new_labels[i] = lab
                sources[entry["s"]] += 1
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

    labels = store.merge()
    wall = time.time() - t_start
    finished = sorted(i for i in store.done() if lo <= i < hi)  # agreement only on annotated pairs
    chunk_pairs = [ds.pair_captions(i) for i in finished]
    calls = backend.calls - calls0
    n_new = len(new_labels)
    run = {
        "experiment": exp,
        "chunk": cfg.chunk_number,
        "n_chunks": cfg.n_annotation_chunks,
        "pairs": [lo, hi],
        "pairs_in_chunk": hi - lo,
        "already_done": (hi - lo) - len(todo),
        "annotated_now": n_new,
        "sources": {"same": sources["same"], "cache": sources["cache"], "llm": sources["llm"]},
        "queries": len(ordered),
        "llm_calls": calls,
        "retries": annotator.retries,
        "unparseable": unparseable,
        "unparseable_rate": unparseable / len(ordered) if ordered else 0.0,
        "calls_per_pair": calls / n_new if n_new else 0.0,
        "seconds": round(wall, 2),
        "llm_seconds": round(llm_seconds, 2),
        "pairs_per_s": n_new / wall if wall > 0 else 0.0,
        "mode": mode,
        "tie_margin": tie_margin if mode == "score" else None,
        "backend": backend.describe(),
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
