"""Each skill's own-job rate (maestromotif/skills/own_job.py): counters on the real game, rates, report."""

from __future__ import annotations

import math
import textwrap

from maestromotif.nethack import wizard
from maestromotif.nethack.actions import ACTION_INDEX
from maestromotif.nethack.env import make_env
from maestromotif.skills import own_job as OJ
from maestromotif.skills.interface import load_policy_class
from maestromotif.skills.options import OptionsController

# The Descender until the depth changes, then the Ascender.
DESCEND_ONCE = textwrap.dedent('''
    class NetHackPlayer:
        REQUIRED_ATTRIBUTES = ()

        def __init__(self, max_depth, branch_depth):
            self.max_depth = max_depth

        def set_initial_values(self):
            self.skill = "descender"

        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False

        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            return current_depth != previous_depth

        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return "ascender"
''')


def test_a_descent_counts_once_for_the_descender_activation_that_made_it(tmp_path):
    path = tmp_path / "execution.py"
    path.write_text(DESCEND_ONCE)
    env = make_env(wizard=True, max_episode_steps=500)
    try:
        obs, info = env.reset(seed=3)
        ctrl = OptionsController(load_policy_class(path))
        ctrl.reset(obs, info)
        assert wizard.stand_on(env, ">")
        obs, _, _, _, info = env.step(ACTION_INDEX["search"])
        ctrl.step(obs, info)
        assert ctrl.stats()["descender_own_job"] == 0
        obs, _, _, _, info = env.step(ACTION_INDEX["down"])
        ctrl.step(obs, info)
        st = ctrl.stats()
    finally:
        env.close()
    assert st["descender_descents"] == 1 and st["descender_own_job"] == 1
    assert st["descender_activations"] == 1 and st["ascender_activations"] == 1 and st["ascender_own_job"] == 0
    rates = OJ.own_job_rates(st)
    assert rates["descender"]["own_job_rate"] == 1.0 and rates["ascender"]["own_job_rate"] == 0.0


def test_rates_over_summed_episodes():
    ep1 = {**OJ.zero_counters(), "descender_activations": 3, "descender_own_job": 1, "discoverer_steps": 500,
           "discoverer_cells_explored": 100, "discoverer_kills": 1, "discoverer_activations": 2}
    ep2 = {**OJ.zero_counters(), "descender_activations": 1, "descender_own_job": 1, "discoverer_steps": 1500,
           "discoverer_cells_explored": 300, "discoverer_kills": 3, "discoverer_activations": 1}
    rates = OJ.own_job_rates(OJ.sum_counters([ep1, ep2]))
    assert rates["descender"] == {"activations": 4, "steps": 0, "own_job": 2, "own_job_rate": 0.5}
    assert rates["discoverer"]["cells_explored_per_1000"] == 200.0 and rates["discoverer"]["kills_per_1000"] == 2.0
    assert "merchant" not in rates  # never activated
    assert math.isnan(OJ.per_1000(1, 0))
    assert OJ.summary(rates) == "discoverer 200 cells & 2.0 kills /1k, descender 2/4"
    assert OJ.did_own_job("merchant", {"items_sold": 1}) and not OJ.did_own_job("discoverer", {"kills": 1})


def test_report_own_job_table():
    from maestromotif.eval.report import own_job_table

    row = {"task": "gnomish", "agent": "maestromotif", "own_job": {
        "descender": {"activations": 4, "steps": 90, "own_job": 1, "own_job_rate": 0.25},
        "discoverer": {"activations": 2, "steps": 2000, "cells_explored_per_1000": 150.0, "kills_per_1000": 2.5}}}
    lines = own_job_table([row])
    assert lines[-1].startswith("| maestromotif | 150 | 2.50 | 1/4 (25%) | - |")
