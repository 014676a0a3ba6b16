"""Zero-shot evaluation: the task table, success detectors, agents, the evaluator and its reports.
Command: ``python -m scripts.evaluate``."""
