"""Phase 4: the skill-conditioned policy, trained with APPO on released sample-factory 2.1.1.

- :mod:`~maestromotif.rl.config`    flags of ``scripts.main`` (sample-factory's + MaestroMotif's)
- :mod:`~maestromotif.rl.validate`  checks before any worker starts (encoder, reward dirs, policy over skills)
- :mod:`~maestromotif.rl.env`       ``nle_maestro``: MaestroNLE + options framework + intrinsic rewards
- :mod:`~maestromotif.rl.obs`       what the network sees (one preprocessing for training and inference)
- :mod:`~maestromotif.rl.encoders`  ``cdgpt5`` (pixel crop, the paper's) and ``fast`` (character crop)
- :mod:`~maestromotif.rl.observers` working ``--train_for_seconds``, ``--save_every_steps``, metrics.csv
- :mod:`~maestromotif.rl.train`     register components, validate, run/resume
- :mod:`~maestromotif.rl.actor`     ``load_actor`` / ``SkillActor``: inference outside the runner
- :mod:`~maestromotif.rl.collect_policy`  a checkpoint as a dataset-collection policy
- :mod:`~maestromotif.rl.curves`, :mod:`~maestromotif.rl.skill_report`  training curves, skills vs baselines

Importing this package imports nothing heavy (torch and sample-factory load in the modules that need them).
"""
