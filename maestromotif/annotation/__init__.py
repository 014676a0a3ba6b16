"""Phase 1a: ask an LLM which of two captioned transitions better fits a skill (prompts, answer parsing,
the chunked resumable annotator and its label store). Command: ``python -m scripts.annotate_pairs``."""
