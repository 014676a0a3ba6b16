"""Annotate pairs of a dataset with an LLM's preferences, one chunk per job (resumable).

Writes preference/<annotator>_<goal_key>_<prompt>.npy: one int label per pair of
<directory>/<goal_key>.pkl (0 first better, 1 second better, 2 tie, 3 not annotated/unparseable),
plus .config.json/.summary.json beside it. Chunks may run at the same time on different machines;
each writes preference/<exp>.parts/chunk-<i>-of-<K>.jsonl and merges all parts into the .npy when it
ends (or run `python -m scripts.merge_annotations`). Rerunning the same command resumes.

Examples:
  python -m scripts.annotate_pairs --directory og_dataset --goal_key descender            # embedded Gemma, score mode
  python -m scripts.annotate_pairs --goal_key merchant --n-annotation-chunks 8 --chunk-number 3 \\
      --backend vllm --model meta-llama/Llama-3.1-70B-Instruct --tensor_parallel_size 8 --custom-annotator-string llama3_merchant_default
  python -m scripts.annotate_pairs --goal_key gold --dataset discoverer --prompt motif \\
      --backend openai --base_url http://127.0.0.1:8000/v1 --model my-model
"""

from __future__ import annotations

from maestromotif.annotation.annotator import AnnotationConfig, annotate
from maestromotif.utils.cli import parse
from maestromotif.utils.errors import run_cli


def parse_args(argv: list[str] | None = None) -> AnnotationConfig:
    return parse(AnnotationConfig, argv, prog="python -m scripts.annotate_pairs", description=__doc__)


def main(argv: list[str] | None = None) -> int:
    annotate(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
