"""The whole method in one resumable command (``python -m scripts.pipeline``).

- :mod:`~maestromotif.pipeline.config`  :class:`PipelineConfig` and the presets (``tiny``, ``paper``).
- :mod:`~maestromotif.pipeline.stages`  the stage table: each stage is a list of *units*, each unit a
  stand-alone ``python -m scripts.<name>`` command, so every file the pipeline writes is exactly what
  the stand-alone commands write, and ``--dry_run`` prints commands a person can run by hand.
- :mod:`~maestromotif.pipeline.runner`  skip/resume/force logic over ``<workdir>/pipeline_state.json``.
- :mod:`~maestromotif.pipeline.report`  the final report (markdown + HTML with PNG plots).
"""
