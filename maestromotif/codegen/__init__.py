"""Phases 2-3: LLM-written initiation/termination code and policies over skills.

prompt files (``code_generation/<task>/``) -> LLM -> extract -> screen -> run the unit test in a
sandbox -> LLM checks the trace -> rewrite (at most ``max_rewrites``) -> combine -> validate -> write
``rl_baseline/meta_policies/<task>/seed<N>/execution.py``.

Modules: :mod:`.tasks` (the task table), :mod:`.prompts` (prompt files), :mod:`.extract` (code out of
an answer), :mod:`.screen` (AST allow-list), :mod:`.sandbox` (subprocess runner), :mod:`.assemble`
(combining pieces), :mod:`.validate` (random-call validation), :mod:`.loop` (the loop itself).
"""
