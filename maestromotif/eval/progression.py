"""BALROG's NetHack progression metric: the best milestone reached in an episode.

BALROG (Paglieri et al., 2024) scores a NetHack episode by the highest "achievement" reached, each
valued at the empirical probability that human players who reach it go on to ascend. Its logic is in
``balrog/environments/nle/progress.py`` (repo ``balrog-ai/BALROG``): every step it looks up
``Dlvl:<depth>`` and ``Xp:<experience level>`` from ``blstats`` and keeps the maximum value. The values
below are those of BALROG's ``achievements.json`` (read from ``fmrl/environments/nle/achievements.json``
in the same repository, commit c09b1840, where the experience entries are keyed
``"Welcome to experience level N"``; ``progress.py`` looks them up as ``Xp:N``). Only the depth and
experience entries are used: the other milestones (quest home, Astral Plane, artifacts, ascension) are
far out of reach of these agents and need information the evaluation does not track.
"""

from __future__ import annotations

from dataclasses import dataclass

from maestromotif.nethack.obs import BL

DLVL: dict[int, float] = {
    1: 0.012572249593503313, 2: 0.015392269075361172, 3: 0.017539535798967013, 4: 0.021221378364235505,
    5: 0.026482449457437766, 6: 0.035428686118173014, 7: 0.04846098359243788, 8: 0.0695812141543123,
    9: 0.09770935198701912, 10: 0.12558597019922987, 11: 0.1612677822768481, 12: 0.20612854836308672,
    13: 0.2566039887664476, 14: 0.29247245425293333, 15: 0.30881240110986263, 16: 0.3249071349317381,
    17: 0.34007883702829594, 18: 0.3526455577544006, 19: 0.3654881095022441, 20: 0.37895667923256743,
    21: 0.39293747679675045, 22: 0.40832255575976223, 23: 0.4258360748858015, 24: 0.445181408701678,
    25: 0.46637631565303056, 26: 0.5067605633802816, 27: 0.5543572044866264, 28: 0.6015648510382184,
    29: 0.6465049415992812, 30: 0.6913110342176086, 31: 0.7101094299371864, 32: 0.7176456494828894,
    33: 0.7232124894378948, 34: 0.7284405900470092, 35: 0.7327761924174481, 36: 0.7368528917489855,
    37: 0.7421458943978863, 38: 0.7471321695760599, 39: 0.753731343283582, 40: 0.7610398408061306,
    41: 0.76740810314648, 42: 0.7725338491295938, 43: 0.7771626297577855, 44: 0.7812567949554251,
    45: 0.7858986134802957, 46: 0.7890256738822022, 47: 0.7929718875502008, 48: 0.7967408445768355,
    49: 0.8018467495718222, 50: 0.8067964442444019,
}
XP: dict[int, float] = {
    1: 0.012555494040957552, 2: 0.01847840456172601, 3: 0.02081163581974355, 4: 0.024160136550546978,
    5: 0.029108986017138745, 6: 0.036887590648350246, 7: 0.0507583712345433, 8: 0.07453595273884014,
    9: 0.11704996473565571, 10: 0.17909953770432294, 11: 0.25480449090205187, 12: 0.33264942385807844,
    13: 0.41442590519821954, 14: 0.49403949403949404, 15: 0.5778823703813513, 16: 0.6261221999477034,
    17: 0.656281764586298, 18: 0.6810218550418937, 19: 0.7015328516442704, 20: 0.7174494081710576,
    21: 0.7286977843944303, 22: 0.7371004909327723, 23: 0.7443446629532795, 24: 0.7513449678519879,
    25: 0.7585537128343045, 26: 0.7642151855635002, 27: 0.7703376822716808, 28: 0.7759810263044415,
    29: 0.7783345263660224, 30: 0.7804561949196475,
}


@dataclass
class Progression:
    """Running maximum of BALROG's progression over one episode."""

    value: float = 0.0
    achievement: str = ""

    def update(self, blstats) -> float:
        for key, table, level in (("Dlvl", DLVL, int(blstats[BL.DEPTH])), ("Xp", XP, int(blstats[BL.XP]))):
            v = table.get(level)
            if v is not None and v > self.value:
                self.value, self.achievement = v, f"{key}:{level}"
        return self.value
