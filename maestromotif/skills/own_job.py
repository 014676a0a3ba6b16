"""Each skill's own job, measured: one module for the evaluation report, the skill report and training curves.

The options framework (:class:`maestromotif.skills.options.OptionsController`) counts, per episode and
skill, ``<skill>_activations``, ``<skill>_steps``, ``<skill>_<behaviour>`` (:data:`BEHAVIOURS` seen while
the skill ran) and ``<skill>_own_job``: activations during which the skill's own event happened at
least once (:data:`OWN_JOB`: a descent for the descender, an ascent for the ascender, an item dropped
on an altar for the worshipper, a sale for the merchant). The discoverer has no single event; its job
is measured as rates: new map cells seen and kills per 1,000 of its steps (:data:`DISCOVERER_RATES`).

Counters of many episodes are summed (:func:`sum_counters`) before rates are taken
(:func:`own_job_rates`), so a rate is over all activations / steps, not a mean of per-episode rates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from maestromotif.skills.table import SKILL_NAMES

# What the framework counts while a skill runs (messages/blstats deltas; see AttributeTracker).
# `prayers` is no skill's job: a prayer before the timeout runs out angers the god, and repeated ones
# kill (the most common death of undertrained policies), so who prays is worth watching.
BEHAVIOURS = ("descents", "ascents", "items_sold", "altar_drops", "cells_explored", "kills", "prayers")
# The event an activation of each interaction/travel skill exists for.
OWN_JOB = {"descender": "descents", "ascender": "ascents", "worshipper": "altar_drops", "merchant": "items_sold"}
# The discoverer's job as rates per 1,000 of its steps.
DISCOVERER_RATES = ("cells_explored", "kills")
# Each skill's headline behaviour as a rate per 1,000 of its steps (skill report, training curves).
SKILL_BEHAVIOUR = {"discoverer": "cells_explored", **OWN_JOB}


def zero_counters() -> dict[str, int]:
    """The per-episode counters of every skill, all zero."""
    st: dict[str, int] = {}
    for name in SKILL_NAMES:
        st[f"{name}_activations"] = 0
        st[f"{name}_steps"] = 0
        st[f"{name}_own_job"] = 0
        for beh in BEHAVIOURS:
            st[f"{name}_{beh}"] = 0
    return st


def did_own_job(skill: str, events: Mapping[str, int]) -> bool:
    """True when this step's ``events`` include ``skill``'s own event."""
    beh = OWN_JOB.get(skill)
    return bool(beh and events.get(beh))


def sum_counters(stats: Iterable[Mapping[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for s in stats:
        for k, v in (s or {}).items():
            if isinstance(v, int | float):
                total[k] = total.get(k, 0) + v
    return total


def per_1000(count: float, steps: float) -> float:
    return 1000.0 * count / steps if steps else math.nan


def own_job_rates(counters: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Per skill: ``activations``, ``steps``; ``own_job`` and ``own_job_rate`` (fraction of activations
    that did the job; NaN without activations) for the skills of :data:`OWN_JOB`; for the discoverer
    ``<rate>_per_1000`` for :data:`DISCOVERER_RATES`. Skills never activated are left out."""
    out: dict[str, dict[str, float]] = {}
    for s in SKILL_NAMES:
        acts, steps = counters.get(f"{s}_activations", 0), counters.get(f"{s}_steps", 0)
        if not acts and not steps:
            continue
        row: dict[str, float] = {"activations": acts, "steps": steps}
        if s in OWN_JOB:
            done = counters.get(f"{s}_own_job", 0)
            row["own_job"] = done
            row["own_job_rate"] = done / acts if acts else math.nan
        else:
            for beh in DISCOVERER_RATES:
                row[f"{beh}_per_1000"] = per_1000(counters.get(f"{s}_{beh}", 0), steps)
        out[s] = row
    return out


def summary(rates: Mapping[str, Mapping[str, float]]) -> str:
    """``descender 12/40, ascender 3/9, discoverer 310 cells & 2.1 kills /1k`` (compact, for tables)."""
    parts = []
    for s, row in rates.items():
        if s in OWN_JOB:
            parts.append(f"{s} {row['own_job']:.0f}/{row['activations']:.0f}")
        else:
            parts.append(f"{s} {row['cells_explored_per_1000']:.0f} cells & {row['kills_per_1000']:.1f} kills /1k")
    return ", ".join(parts) or "-"
