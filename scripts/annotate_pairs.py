"""Annotate pairs of a dataset with an LLM's preferences, one chunk per job (resumable).

Writes preference/<annotator>_<goal_key>_<prompt>.npy: one int label per pair of
<directory>/<goal_key>.pkl (0 first better, 1 second better, 2 tie, 3 not annotated/unparseable),
plus .config.json/.summary.json beside it. Chunks may run at the same time on different machines;
each writes preference/<exp>.parts/chunk-<i>-of-<K>.jsonl and merges all parts into the .npy when it
ends (or run `python -m scripts.merge_annotations`). Rerunning the same command resumes.

Examples:
  python -m scripts.annotate_pairs --directory og_dataset --goal_key descender --prompt classify  # embedded Gemma, pointwise
  python -m scripts.annotate_pairs --directory og_dataset --goal_key descender            # embedded Gemma, pairwise score mode
  python -m scripts.annotate_pairs --goal_key descender --mode rules                      # caption-rule oracle (ablations only)
  python -m scripts.annotate_pairs --goal_key merchant --n-annotation-chunks 8 --chunk-number 3 \\
      --backend vllm --model meta-llama/Llama-3.1-70B-Instruct --tensor_parallel_size 8 --custom-annotator-string llama3_merchant_default
  python -m scripts.annotate_pairs --goal_key gold --dataset discoverer --prompt motif \\
      --backend openai --base_url http://127.0.0.1:8000/v1 --model my-model
"""

from __future__ import annotations

import argparse

from maestromotif.annotation.annotator import MODES, AnnotationConfig, annotate
from maestromotif.llm.base import BACKENDS
from maestromotif.utils.errors import run_cli


def parse_args(argv: list[str] | None = None) -> AnnotationConfig:
    d = AnnotationConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.annotate_pairs", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("what to annotate")
    g.add_argument("--directory", default=d.directory, help="dataset directory holding <goal_key>.pkl (default: %(default)s)")
    g.add_argument("--goal_key", "--goal-key", default=d.goal_key,
                   help="skill/goal: names the goal text (prompts goals/<goal_key>.yaml) and the dataset "
                        "<directory>/<goal_key>.pkl (default: %(default)s)")
    g.add_argument("--dataset", default=None,
                   help="dataset file stem when it differs from --goal_key, e.g. --goal_key gold --dataset discoverer")
    g.add_argument("--n-annotation-chunks", "--n_annotation_chunks", "--n_chunks", dest="n_annotation_chunks",
                   type=int, default=d.n_annotation_chunks, help="number of chunks the pairs are split into (default: %(default)s)")
    g.add_argument("--chunk-number", "--chunk_number", dest="chunk_number", type=int, default=d.chunk_number,
                   help="chunk this job annotates, 0..K-1 (Slurm: $SLURM_ARRAY_TASK_ID) (default: %(default)s)")
    g.add_argument("--ignore-existing", "--ignore_existing", dest="ignore_existing", type=int, default=d.ignore_existing,
                   help="1: forget this chunk's existing labels and start over (cached answers are still reused: add "
                        "--use_cache 0 to ask the LLM again); 0: resume (default: %(default)s)")
    g.add_argument("--retry-unparseable", "--retry_unparseable", dest="retry_unparseable", type=int,
                   default=d.retry_unparseable, help="1: ask again the pairs whose answer was unparseable (label 3) (default: %(default)s)")
    g = p.add_argument_group("naming and files")
    g.add_argument("--custom-annotator-string", "--custom_annotator_string", dest="custom_annotator_string", default=None,
                   help="file stem of the label file, replacing <annotator>_<goal_key>_<prompt> (as in the original)")
    g.add_argument("--annotator", default=None,
                   help="annotator part of the file name (default: gemma270m for the embedded model, else from --model)")
    g.add_argument("--preference_dir", "--preference-dir", default=d.preference_dir,
                   help="where label files go (default: %(default)s)")
    g.add_argument("--cache_dir", "--cache-dir", default=None,
                   help="answer cache shared by chunks and reruns (default: <preference_dir>/.answer_cache)")
    g.add_argument("--use_cache", "--use-cache", type=int, default=d.use_cache,
                   help="1: reuse cached answers of identical caption pairs; 0: ask the LLM again (default: %(default)s)")
    g.add_argument("--logdir", default=d.logdir,
                   help="conversations are appended as JSONL to <logdir>/<exp>/chunk-<i>-of-<K>.jsonl; '' disables (default: %(default)s)")
    g.add_argument("--progress", type=int, default=d.progress, help="1: tqdm progress bar (default: %(default)s)")
    g = p.add_argument_group("prompt")
    g.add_argument("--prompt", default=d.prompt,
                   help="prompt template name (templates/<name>.yaml: default, classify, motif, motif_reworded) or a file path (default: %(default)s)")
    g.add_argument("--prompt_dir", "--prompt-dir", action="append", default=[],
                   help="extra directory with templates/ and goals/ files, searched before the built-in ones (repeatable)")
    g.add_argument("--mode", choices=MODES, default=d.mode,
                   help="generate: chat + parse the verdict (instruct models, the paper's prompt); score: compare "
                        "the next-token log-probs of '1'/'2' in both orders; pointwise: classify each distinct caption "
                        "once for all skills (small base models, --prompt classify; docs/annotation.md); rules: caption "
                        "rules, no LLM - an oracle/upper bound for ablations, never a default; auto: pointwise for a "
                        "pointwise-only prompt or the embedded model with --prompt classify, score for the embedded "
                        "model with a pairwise prompt, else generate (default: %(default)s)")
    g.add_argument("--tie_margin", "--tie-margin", type=float, default=None,
                   help="score/pointwise mode: |margin| below this is a tie (score: order-averaged log-prob margin; "
                        "pointwise: difference of the captions' skill probabilities) (default: the prompt file's)")
    g = p.add_argument_group("LLM")
    g.add_argument("--backend", choices=sorted(BACKENDS), default=d.backend,
                   help="llamacpp (embedded/any GGUF), transformers, openai (OpenAI-compatible server), "
                        "hf_inference (huggingface_hub), vllm (GPU nodes) (default: %(default)s)")
    g.add_argument("--model", default=None,
                   help="model: GGUF path or 'embedded' (llamacpp), HF id/path (transformers, vllm), served model "
                        "name (openai, hf_inference) (default: the embedded Gemma 3 270M for llamacpp)")
    g.add_argument("--batch_size", "--batch-size", type=int, default=d.batch_size,
                   help="distinct caption pairs per LLM batch (pointwise: captions; each batch evaluates the examples once "
                        "per ordering, so it is larger); labels are saved after each batch (default: 32, pointwise 256)")
    g.add_argument("--max_tokens", "--max-tokens", type=int, default=d.max_tokens, help="generate mode: answer length cap (default: %(default)s)")
    g.add_argument("--temperature", type=float, default=d.temperature, help="generate mode: sampling temperature, 0 = greedy (default: %(default)s)")
    g.add_argument("--top_p", "--top-p", type=float, default=d.top_p, help="generate mode: nucleus sampling (default: %(default)s)")
    g.add_argument("--seed", type=int, default=d.seed, help="sampling seed (default: %(default)s)")
    g.add_argument("--threads", type=int, default=None, help="llamacpp/transformers: CPU threads (default: min(2, cores))")
    g.add_argument("--n_ctx", "--n-ctx", type=int, default=None, help="llamacpp: context size in tokens (default: 8192)")
    g.add_argument("--batch_seqs", "--batch-seqs", type=int, default=None,
                   help="llamacpp score mode: prompts evaluated together in one multi-sequence llama_decode; 1 = "
                        "one after another with sorted-prefix KV reuse, the fastest on CPUs (default: 1)")
    g.add_argument("--base_url", "--base-url", default=None,
                   help="openai/hf_inference: server URL, e.g. http://127.0.0.1:8000/v1")
    g.add_argument("--api_key_env", "--api-key-env", default=None,
                   help="openai/hf_inference: NAME of the environment variable holding the token (the token "
                        "itself is never passed on the command line nor logged) (default: OPENAI_API_KEY / HF_TOKEN)")
    g.add_argument("--concurrency", type=int, default=None, help="openai/hf_inference: requests in flight (default: 8)")
    g.add_argument("--timeout", type=float, default=None, help="openai/hf_inference: seconds per request (default: 120)")
    g.add_argument("--max_retries", "--max-retries", type=int, default=None,
                   help="openai/hf_inference: retries with exponential backoff on errors/429/5xx (default: 5)")
    g.add_argument("--tensor_parallel_size", "--tensor-parallel-size", type=int, default=None,
                   help="vllm: GPUs per model (default: all visible GPUs)")
    g.add_argument("--dtype", default=None, help="transformers/vllm: weights dtype, e.g. float16, bfloat16 (default: auto)")
    g.add_argument("--device", default=None, help="transformers: torch device (default: cuda if available, else cpu)")
    a = p.parse_args(argv)
    return AnnotationConfig(**vars(a))


def main(argv: list[str] | None = None) -> int:
    annotate(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
