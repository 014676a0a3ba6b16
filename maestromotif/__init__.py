"""maestromotif: MaestroMotif (skill design from AI feedback) on NetHack.

Sub-packages, one per concern (importing this package has no side effects):

- ``nethack``    NLE construction: character/options, action set, macro-actions, prompt handling,
                 observation helpers.
- ``data``       captioned transition samples and preference-pair datasets.
- ``llm``        LLM backends behind one interface.
- ``annotation`` prompts, answer parsing, chunked resumable annotation.
- ``reward``     Bradley-Terry reward models and the runtime intrinsic reward.
- ``skills``     the skill table and the options (call-and-return) framework.
- ``codegen``    LLM-written initiation/termination code and policies over skills.
- ``rl``         sample-factory APPO integration.
- ``eval``       zero-shot evaluation tasks, detectors and reports.
"""

__version__ = "0.1.0"
