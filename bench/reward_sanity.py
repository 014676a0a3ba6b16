"""Do the trained reward models rank their skill's events above neutral transitions? (one run)

    python -m bench.reward_sanity --reward_dirs train_dir/skill_rewards/gemma270m_*_classify \\
        [--dataset_dir og_dataset] [--neutral 200]

Probes: hand-written NetHack 3.6 events per skill (message + stat change) that are NOT in the
annotation bench's probes (maestromotif/annotation/sanity.py), nor in the classify prompt's examples,
and whose message never occurs in the reward model's dataset (checked; a probe found there is
dropped and reported), so the labels never saw them. Neutral transitions: distinct real transitions
of the dataset on which no caption rule fires (no level change, kill, gold, scroll, altar or shop)
and, unless ``--fights_neutral 1``, no fight message ("You hit the gnome!", "The jackal bites!"): the
discoverer's goal text asks for "fighting monsters", which its caption rule (kills only) does not see.

Per model:
1. ``own > neutral``: the fraction of (own event, neutral transition) pairs whose reward is higher
   for the event (goal >= 90 %);
2. ``top``: which probe event of ALL skills the model ranks highest; ``opposite``: whether an
   opposite event outranks every own event (descender vs climbing up, ascender vs going down,
   discoverer vs any level change). Goal: the top event is the model's own, never the opposite.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from maestromotif.data.captions import caption, stat_deltas

_BASE = [3, 40, 12, 14, 2, 1]


def _ev(msg: str, dlvl: int = 0, gold: int = 0, xp: int = 0) -> dict:
    after = list(_BASE)
    after[0] += dlvl
    after[1] += gold
    after[4] += xp
    return {"msg_strs": ("", msg), "stats_list": [list(_BASE), after]}


PROBES = {
    "descender": [_ev("You descend the stairs.  You see here a mace.", dlvl=1),
                  _ev("There is a trap door here.  You fall through...", dlvl=1),
                  _ev("You descend the stairs.  There is a fountain here.", dlvl=1)],
    "ascender": [_ev("You climb up the stairs.  You see here a lamp.", dlvl=-1),
                 _ev("You climb up the stairs.  There is a sink here.", dlvl=-1),
                 _ev("You climb up the ladder.  You see here an orange.", dlvl=-1)],
    "discoverer": [_ev("You kill the hill orc!", xp=1), _ev("$ - 47 gold pieces.", gold=47),
                   _ev("You see here a scroll labeled DAIYEN FOOELS."), _ev("You destroy the kobold zombie!")],
    "worshipper": [_ev("There is an altar to Tyr (lawful) here."),
                   _ev("There is a black flash as a long sword hits the altar."),
                   _ev("You drop a mace.  There is an amber flash as it hits the altar.")],
    "merchant": [_ev("Hello, Agent!  Welcome to Hirtoirt's delicatessen!"),
                 _ev("Hirtoirt offers 9 gold pieces for your knife.  Sell it? [ynaq] (y)"),
                 _ev("You sold an apple for 2 gold pieces.", gold=2)],
}
OPPOSITE = {"descender": ("ascender",), "ascender": ("descender",), "discoverer": ("descender", "ascender")}


_FIGHT = re.compile(r"\bYou (hit|miss|bite|kick)\b|\b(hits|bites|misses|touches|stings|kicks|butts|claws)!")


def neutral_samples(samples: list[dict], n: int, seed: int = 0, fights_neutral: bool = False) -> list[dict]:
    from maestromotif.annotation.sanity import RULES

    empty = caption(("", ""), [_BASE, _BASE])
    seen, out = set(), []
    for s in samples:
        c = caption(s["msg_strs"], s["stats_list"])
        key = (s["msg_strs"][1], tuple(stat_deltas(s["stats_list"])))
        # no rule of any skill prefers it to (or dislikes it against) an empty transition
        if key in seen or any(rule(c, empty) is not None for rule in RULES.values()):
            continue
        if not fights_neutral and _FIGHT.search(s["msg_strs"][1]):
            continue
        seen.add(key)
        out.append(s)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(out))[:n]
    return [out[i] for i in sorted(idx)]


def check(reward_dir: Path, dataset_dir: Path | None, n_neutral: int, fights_neutral: bool = False) -> dict:
    from maestromotif.data.dataset import load_dataset
    from maestromotif.reward.runtime import SkillReward

    sr = SkillReward.load(reward_dir)
    skill = sr.config.skill
    ds = load_dataset(dataset_dir / f"{skill}.pkl" if dataset_dir else sr.config.dataset_path)
    seen_msgs = {s["msg_strs"][1] for s in ds.samples}
    probes = {k: [e for e in v if e["msg_strs"][1] not in seen_msgs] for k, v in PROBES.items()}
    dropped = sum(len(PROBES[k]) - len(v) for k, v in probes.items())
    neutral = neutral_samples(ds.samples, n_neutral, fights_neutral=fights_neutral)

    def rewards(smps: list[dict]) -> np.ndarray:
        return sr.raw_batch([s["msg_strs"][1] for s in smps], [stat_deltas(s["stats_list"]) for s in smps])

    r_neu = rewards(neutral)
    r_ev = {k: rewards(v) for k, v in probes.items() if v}
    own = r_ev.get(skill, np.zeros(0))
    above = float((own[:, None] > r_neu[None, :]).mean()) if len(own) and len(r_neu) else float("nan")
    flat = [(k, probes[k][j]["msg_strs"][1], float(r)) for k, rs in r_ev.items() for j, r in enumerate(rs)]
    top = max(flat, key=lambda t: t[2])
    opp = [t for t in flat if t[0] in OPPOSITE.get(skill, ())]
    opposite_wins = bool(opp and len(own) and max(t[2] for t in opp) > own.max())
    return {"reward_dir": str(reward_dir), "skill": skill, "own_above_neutral": above, "own_events": len(own),
            "neutral": len(r_neu), "probes_dropped_seen_in_data": dropped, "top_event": {"skill": top[0],
            "message": top[1], "reward": top[2]}, "top_is_own": top[0] == skill,
            "opposite_outranks_own": opposite_wins,
            "mean_reward": {k: float(v.mean()) for k, v in r_ev.items()} | {"neutral": float(r_neu.mean())}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reward_dirs", nargs="+", required=True, help="trained reward model directories")
    p.add_argument("--dataset_dir", default=None, help="dataset directory (default: each model's own dataset)")
    p.add_argument("--neutral", type=int, default=200, help="neutral transitions sampled (default: %(default)s)")
    p.add_argument("--fights_neutral", type=int, default=0,
                   help="1: count fight messages as neutral transitions too (default: %(default)s)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    a = p.parse_args()
    res = [check(Path(d), Path(a.dataset_dir) if a.dataset_dir else None, a.neutral, bool(a.fights_neutral))
           for d in a.reward_dirs]
    print(f"{'model':40s} own>neutral  top event (skill: message)                         opposite wins")
    for r in res:
        t = r["top_event"]
        print(f"{Path(r['reward_dir']).name:40s} {100 * r['own_above_neutral']:6.1f}%     "
              f"{t['skill'] + ': ' + t['message'][:44]:52s} {'YES' if r['opposite_outranks_own'] else 'no'}")
    ok = all(r["own_above_neutral"] >= 0.9 and r["top_is_own"] and not r["opposite_outranks_own"] for r in res)
    print(f"goal (>= 90% own>neutral, top event own, no opposite wins) met by all: {ok}")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
