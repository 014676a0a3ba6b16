"""The shipped caption-rule oracle (labels and reward models ``rules_<skill>_captionrules``): an ablation
that is never the default, whose models pay each skill for its own event in the observation it leads to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maestromotif.data.dataset import load_labels
from maestromotif.skills.table import SKILL_NAMES

pytest.importorskip("torch")

from maestromotif.reward.runtime import SkillReward  # noqa: E402
from maestromotif.rl.config import DEFAULT_REWARD_EXPERIMENTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NONE, DOWN, UP = (0, 0, 0, 0, 0), (1, 0, 0, 0, 0), (-1, 0, 0, 0, 0)


@pytest.fixture(scope="module")
def models():
    return {s: SkillReward.load(ROOT / f"train_dir/skill_rewards/rules_{s}_captionrules", eps_quantile=0.0)
            for s in SKILL_NAMES}


def test_rule_labels_are_shipped_and_never_the_default(repo_root):
    for s in SKILL_NAMES:
        stem = repo_root / f"preference/rules_{s}_captionrules"
        cfg = json.loads(stem.with_suffix(".config.json").read_text())
        assert cfg["config"]["mode"] == "rules" and cfg["fingerprint"]["rules"].endswith("sanity.RULES")
        labels = load_labels(stem.with_suffix(".npy"), num_pairs=5000)
        assert 0 < int((labels < 2).sum()) < 5000   # decided pairs exist, ties are the rest
        assert not any("rules" in d for d in DEFAULT_REWARD_EXPERIMENTS)


def test_rules_models_pay_each_skill_its_own_level_change(models):
    down, up, quiet = ("You descend the stairs.", DOWN), ("You climb up the stairs.", UP), ("", NONE)
    eat = ("You finish eating the food ration.", NONE)
    r = {s: {k: m.raw(*v) for k, v in dict(down=down, up=up, quiet=quiet, eat=eat).items()} for s, m in models.items()}
    assert r["descender"]["down"] > r["descender"]["quiet"] + 3 and r["descender"]["up"] < r["descender"]["quiet"] + 0.5
    assert r["descender"]["eat"] < r["descender"]["quiet"] + 0.5     # the choking the LLM labels once paid
    assert r["ascender"]["up"] > r["ascender"]["quiet"] + 3 and r["ascender"]["down"] < r["ascender"]["quiet"] + 0.5
    assert r["discoverer"]["down"] < r["discoverer"]["quiet"] and r["discoverer"]["up"] < r["discoverer"]["quiet"]
    assert models["discoverer"].raw("You kill the newt!", NONE) > r["discoverer"]["quiet"] + 1
    assert models["worshipper"].raw("There is a black flash as a dagger hits the altar.", NONE) > \
        r["worshipper"]["quiet"] + 1
    assert models["merchant"].raw("Asidonhopo offers 7 gold pieces for your dagger.  Sell it? [ynaq] (y)", NONE) > \
        r["merchant"]["quiet"] + 1
