"""Annotation label quality, cost and speed, measured in one run.

    python -m bench.annotation --compare_modes 1 [--directory og_dataset] [--probes 40] [--real 60]
        [--generate_pairs 3] [--threads 1] [--skip_speed 1] [--json out.json]

0. ``--compare_modes 1`` (issue 14): every labelling mode on the SAME dataset, per skill -
   forced-choice accuracy on probe pairs (tie margin 0; goal >= 90 % every skill), and on real pairs
   of the dataset where a caption rule speaks (up to ``--real`` per skill, same pairs for every
   mode) the precision of the verdicts and the fraction answered (not tie) with the mode's shipped
   tie margin (goal: precision >= 90 % with >= 60 % answered); LLM calls per annotated pair on the
   whole dataset (counted exactly from its captions: pointwise = orderings x distinct rendered
   captions of all five skills, score = 2 x distinct caption pairs per skill, generate = 1 x
   distinct caption pairs per skill, retries not included); seconds per LLM call measured here and
   the wall time extrapolated to 5 x 5,000 pairs on 2 cores (two chunk jobs of one thread each).
   Modes: ``pointwise`` (prompt classify, this repo's mode for small base models), ``score``
   (pairwise log-probs, prompt default), ``generate`` (the paper's verbatim prompt and parsing,
   only ``--generate_pairs`` probe pairs per skill and a ``--generate_max_tokens`` cap: a 270M model
   generates slowly) and ``rules`` (caption rules: the oracle, 100 % on rule pairs by construction).

1. LLM calls per annotated pair on the shipped datasets (anchor: the original asks the LLM once per
   pair = 1.0; goal <= 0.5), counted by the real annotator (``annotate``) with an instant
   recorded-answer backend: first pass over each skill's pairs, a rerun / other chunk (cache), and
   score mode (two presentation orders per question).
2. Pairs/s of the embedded Gemma 3 270M in score mode on distinct caption pairs of the shipped
   descender dataset, through ``annotate`` (fresh cache each time): one question per LLM call
   (``--batch_size 1 --batch_seqs 1``), batched calls evaluated one prompt after another with
   sorted-prefix KV reuse (``--batch_size Q --batch_seqs 1``), and batched calls with multi-sequence
   ``llama_decode`` (``--batch_size Q --batch_seqs 16``). Rounds are interleaved; medians and the
   ratios to one-at-a-time are printed; a fourth variant turns llama.cpp KV-cache prefix reuse off. Also: prompt tokens llama.cpp actually evaluated per prompt,
   and how often a label changes when the same question is scored in another batch composition
   (llama.cpp's arithmetic on the Q4 model depends on batch shapes).
3. Label sanity of the shipped setup (embedded model, score mode, default prompt) on probe pairs
   (``maestromotif.annotation.sanity``): a skill event written in the caption format (e.g. "You
   descend the stairs." + "Dungeon Level: went down") against a real neutral sample of the shipped
   dataset, in random order. Agreement with the obvious answer vs 50% chance (a tie counts as wrong),
   with a 95% Wilson interval. The score template was chosen on probe seeds 1 and 2; this uses seed 0.
   Plus the agreement of the shipped label files on the real pairs where a caption rule applies.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

from maestromotif.annotation.annotator import AnnotationConfig, annotate
from maestromotif.data.dataset import load_dataset, save_dataset
from maestromotif.llm.scripted import ScriptedBackend
from maestromotif.skills.table import SKILL_NAMES


def calls_per_pair(directory: str) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("generate", "score"):
            pairs = calls = rerun_calls = 0
            for skill in SKILL_NAMES:
                be = ScriptedBackend(answers=['("best_description": 1)'], scores=lambda p, o: [-1.0, -2.0])
                cfg = AnnotationConfig(directory=directory, goal_key=skill, backend="scripted", mode=mode,
                                       preference_dir=f"{tmp}/{mode}", logdir=None, progress=0, batch_size=10_000)
                run = annotate(cfg, backend=be)
                pairs += run["annotated_now"]
                calls += run["llm_calls"]
                be2 = ScriptedBackend(answers=['("best_description": 1)'], scores=lambda p, o: [-1.0, -2.0])
                cfg.custom_annotator_string = f"again_{skill}"  # a new label file asking the same questions
                rerun_calls += annotate(cfg, backend=be2)["llm_calls"]
            out[mode] = {"pairs": pairs, "llm_calls": calls, "calls_per_pair": calls / pairs,
                         "rerun_calls_per_pair": rerun_calls / pairs}
    return out


def _subset(directory: str, n_queries: int, dest: Path) -> None:
    """The first n distinct, non-identical caption pairs of the descender dataset (a tiny dataset)."""
    ds = load_dataset(Path(directory) / "descender.pkl")
    seen, samples = set(), []
    for i in range(ds.num_pairs):
        a, b = ds.pair_captions(i)
        key = tuple(sorted((a, b)))
        if a != b and key not in seen:
            seen.add(key)
            samples += list(ds.pair(i))
        if len(seen) == n_queries:
            break
    save_dataset(dest / "descender.pkl", samples)


def speed(directory: str, n_queries: int, rounds: int, threads: int) -> dict:
    from maestromotif.llm.llamacpp import LlamaCppBackend

    # name -> (questions per LLM call, sequences per llama_decode, KV prefix reuse)
    configs = {"no_prefix_reuse": (1, 1, False), "one_at_a_time": (1, 1, True),
               "batched_sorted_walk": (n_queries, 1, True), "batched_multi_seq": (n_queries, 16, True)}
    res: dict[str, list[float]] = {k: [] for k in configs}
    tokens: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        _subset(directory, n_queries, Path(tmp))
        backends = {k: LlamaCppBackend(n_threads=threads, batch_seqs=seqs, prefix_reuse=reuse)
                    for k, (_, seqs, reuse) in configs.items()}
        for r in range(rounds):
            for name, (bs, _, _) in configs.items():
                be = backends[name]
                be._scorer = None  # no KV state carried over from the previous round
                cfg = AnnotationConfig(directory=tmp, goal_key="descender", backend="llamacpp", batch_size=bs,
                                       preference_dir=f"{tmp}/{name}{r}", logdir=None, progress=0)
                t = time.perf_counter()
                run = annotate(cfg, backend=be)
                res[name].append(run["annotated_now"] / (time.perf_counter() - t))
                tokens[name] = be.tokens_evaluated
            print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.3f} pairs/s" for k, v in res.items()), flush=True)
        prompt_tokens = statistics.mean(len(backends["one_at_a_time"].llm.tokenize(p.encode())) for p in
                                        _prompts(tmp))
        for be in backends.values():
            be.close()
        stability = _stability(tmp, list(configs), rounds)
    med = {k: statistics.median(v) for k, v in res.items()}
    return {"pairs": n_queries, "threads": threads, "pairs_per_s": med, "stability": stability,
            "ratio_vs_one_at_a_time": {k: v / med["one_at_a_time"] for k, v in med.items()},
            "prompt_tokens_mean": prompt_tokens,
            "evaluated_tokens_per_prompt": {k: v / (2 * n_queries) for k, v in tokens.items()}}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / den
    return (mid - half, mid + half)


def sanity(directory: str, n: int, threads: int, preference_dir: str) -> dict:
    import numpy as np

    from maestromotif.annotation.sanity import agreement, probe_samples
    from maestromotif.llm.llamacpp import LlamaCppBackend

    out = {}
    be = LlamaCppBackend(n_threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        for skill in SKILL_NAMES:
            ds = load_dataset(Path(directory) / f"{skill}.pkl")
            save_dataset(Path(tmp) / f"{skill}.pkl", probe_samples(skill, ds.samples, n, seed=0))
            cfg = AnnotationConfig(directory=tmp, goal_key=skill, backend="llamacpp", batch_size=64,
                                   preference_dir=f"{tmp}/pref", logdir=None, progress=0)
            forced = annotate(dataclasses.replace(cfg, tie_margin=0.0, custom_annotator_string=f"forced_{skill}"),
                              backend=be)["heuristic_agreement"]  # every pair decided by the sign of d
            run = annotate(cfg, backend=be)  # the shipped tie margin: answers come from the cache, no new call
            agr = run["heuristic_agreement"]
            by_margin = _by_margin(Path(tmp) / f"{skill}.pkl", Path(f"{tmp}/pref/.answer_cache"), skill)
            shipped = Path(preference_dir) / f"gemma270m_{skill}_default.npy"
            real = None
            if shipped.exists():
                labels = np.load(shipped)
                real = agreement(skill, [ds.pair_captions(i) for i in range(ds.num_pairs)], labels)
                real["by_margin"] = _by_margin(Path(directory) / f"{skill}.pkl",
                                               Path(preference_dir) / ".answer_cache", skill)
            out[skill] = {"forced_choice_rate": forced["rate"], "forced_ci95": wilson(forced["agree"], forced["rule_pairs"]),
                          "probe_pairs": agr["rule_pairs"], "probe_agree": agr["agree"], "probe_rate": agr["rate"],
                          "probe_ci95": wilson(agr["agree"], agr["rule_pairs"]),
                          "probe_labels": agr["labels_on_rule_pairs"], "by_margin": by_margin,
                          "shipped_rule_pairs": real}
    be.close()
    return out


MARGINS = (0.0, 0.02, 0.05, 0.1)


def _by_margin(dataset: Path, cache_root: Path, skill: str) -> dict:
    """Right / wrong / tie counts of probe labels for several tie margins (from the cached margins d)."""
    from maestromotif.annotation.annotator import score_label
    from maestromotif.annotation.cache import pair_key
    from maestromotif.annotation.prompts import PromptLibrary
    from maestromotif.annotation.sanity import RULES
    from maestromotif.annotation.store import read_jsonl

    goal = PromptLibrary().goal(skill).text
    d = {}
    for meta in cache_root.glob("*/meta.json"):  # only this skill's answers: datasets share caption pairs
        if json.loads(meta.read_text()).get("goal") != goal:
            continue
        for f in meta.parent.glob("*.jsonl"):
            d.update({rec["k"]: rec["d"] for rec in read_jsonl(f) if "d" in rec})
    ds = load_dataset(dataset)
    out = {}
    for m in MARGINS:
        right = wrong = tie = 0
        for i in range(ds.num_pairs):
            a, b = ds.pair_captions(i)
            k, swapped = pair_key(a, b)
            want = RULES[skill](a, b)
            if want is None or k not in d:  # no rule, or not (yet) annotated
                continue
            lab = score_label(-d[k] if swapped else d[k], m)
            right += lab == want
            tie += lab == 2
            wrong += lab not in (want, 2)
        out[str(m)] = {"right": right, "wrong": wrong, "tie": tie}
    return out


def _stability(tmp: str, names: list[str], rounds: int) -> dict:
    """The same questions scored under different batch compositions: how often does the label change?"""
    from maestromotif.annotation.annotator import score_label
    from maestromotif.annotation.store import read_jsonl

    runs = []
    for name in names:
        for r in range(rounds):
            d = {}
            for f in Path(f"{tmp}/{name}{r}/.answer_cache").glob("*/*.jsonl"):
                d.update({rec["k"]: rec["d"] for rec in read_jsonl(f) if "d" in rec})
            runs.append(d)
    keys = sorted(set.intersection(*(set(d) for d in runs)))
    out = {"questions": len(keys), "runs": len(runs)}
    for margin in (0.0, 0.05):
        labels = [{score_label(d[k], margin) for d in runs} for k in keys]
        # a flip: the same question got "first" in one run and "second" in another
        out[f"flips_margin_{margin}"] = sum({0, 1} <= ls for ls in labels) / len(keys) if keys else float("nan")
        out[f"changes_margin_{margin}"] = sum(len(ls) > 1 for ls in labels) / len(keys) if keys else float("nan")
    spread = [max(d[k] for d in runs) - min(d[k] for d in runs) for k in keys]
    out["d_spread_median"] = statistics.median(spread) if spread else float("nan")
    return out


def _prompts(directory: str) -> list[str]:
    from maestromotif.annotation.prompts import PromptLibrary

    lib = PromptLibrary()
    spec, goal = lib.prompt("default"), lib.goal("descender").text
    ds = load_dataset(Path(directory) / "descender.pkl")
    return [spec.score_prompt(goal, *ds.pair_captions(i)) for i in range(ds.num_pairs)]


# ---------------------------------------------------------------------------------------- modes
MODE_SETUPS = {"pointwise": ("pointwise", "classify"), "score": ("score", "default"),
               "generate": ("generate", "default"), "rules": ("rules", "default")}


def rule_pairs(ds, skill: str, n: int, seed: int = 0) -> list[int]:
    """Up to n pairs of the dataset on which the skill's caption rule speaks (seeded draw)."""
    import random

    from maestromotif.annotation.sanity import RULES

    idx = [i for i in range(ds.num_pairs) if RULES[skill](*ds.pair_captions(i)) is not None]
    random.Random(seed).shuffle(idx)
    return sorted(idx[:n])


def exact_calls_per_pair(directory: str) -> dict:
    """LLM calls a first labelling of all five skills' datasets needs, per annotated pair."""
    from maestromotif.annotation.prompts import PromptLibrary

    spec = PromptLibrary().prompt("classify").pointwise
    pairs, captions, pair_q = 0, set(), 0
    for skill in SKILL_NAMES:
        ds = load_dataset(Path(directory) / f"{skill}.pkl")
        pairs += ds.num_pairs
        qs = set()
        for i in range(ds.num_pairs):
            a, b = ds.pair_captions(i)
            if a != b:
                qs.add(tuple(sorted((a, b))))
            ra, rb = spec.render(a), spec.render(b)
            if ra != rb:
                captions.update((ra, rb))
        pair_q += len(qs)
    return {"pairs": pairs, "pointwise": spec.orderings * len(captions) / pairs, "score": 2 * pair_q / pairs,
            "generate": pair_q / pairs, "rules": 0.0, "distinct_rendered_captions": len(captions),
            "distinct_caption_pairs": pair_q}


def compare_modes(directory: str, n_probes: int, n_real: int, n_generate: int, gen_tokens: int, threads: int,
                  modes: list[str]) -> dict:
    from maestromotif.annotation.sanity import probe_samples
    from maestromotif.llm.llamacpp import LlamaCppBackend

    calls = exact_calls_per_pair(directory)
    out: dict = {"calls_per_pair": calls, "modes": {}}
    be = LlamaCppBackend(n_threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        sets = {}
        for skill in SKILL_NAMES:
            ds = load_dataset(Path(directory) / f"{skill}.pkl")
            probes = probe_samples(skill, ds.samples, n_probes, seed=0)
            real = [s for i in rule_pairs(ds, skill, n_real) for s in ds.pair(i)]
            sets[skill] = {"probe": probes, "probe_generate": probes[:2 * n_generate], "real": real}
        for name in modes:
            mode, prompt = MODE_SETUPS[name]
            res: dict = {"skills": {}}
            llm_s = n_calls = 0.0
            for skill in SKILL_NAMES:
                row = {}
                for kind in ("probe", "real"):
                    smp = sets[skill]["probe_generate" if name == "generate" and kind == "probe" else kind]
                    if name == "generate" and kind == "real":
                        continue  # too slow for the real pairs; probes only
                    d = Path(tmp) / name / kind
                    save_dataset(d / f"{skill}.pkl", smp)
                    cfg = AnnotationConfig(directory=str(d), goal_key=skill, backend="llamacpp", mode=mode,
                                           prompt=prompt, preference_dir=f"{tmp}/{name}/{kind}-pref",
                                           cache_dir=f"{tmp}/{name}/cache", logdir=None,
                                           progress=0, batch_size=256, max_tokens=gen_tokens,
                                           tie_margin=0.0 if kind == "probe" and mode != "generate" else None)
                    c0 = be.calls
                    run = annotate(cfg, backend=None if mode == "rules" else be)
                    llm_s += run["llm_seconds"] if mode != "rules" else 0.0
                    n_calls += be.calls - c0 if mode != "rules" else 0
                    agr = run["heuristic_agreement"]
                    if kind == "probe":
                        row["probe_forced_choice"] = agr["rate"]
                        row["probe_pairs"] = agr["rule_pairs"]
                    else:
                        ans = agr["agree"] + agr["wrong"]
                        row.update(real_pairs=agr["rule_pairs"], real_precision=agr["precision"],
                                   real_answered=ans / agr["rule_pairs"] if agr["rule_pairs"] else None)
                res["skills"][skill] = row
                print(f"  {name:9s} {skill:10s} {row}", flush=True)
            s_per_call = llm_s / n_calls if n_calls else 0.0
            cpp = calls[name]
            res.update(llm_calls=int(n_calls), seconds_per_call=s_per_call, calls_per_pair=cpp,
                       minutes_5x5000_on_2_cores=cpp * 25_000 * s_per_call / 2 / 60)
            out["modes"][name] = res
    be.close()
    return out


def _pct(x: float | None) -> str:
    return "  - " if x is None else f"{100 * x:3.0f}%"


def print_modes(res: dict) -> None:
    c = res["calls_per_pair"]
    print(f"\nLabelling modes on one dataset ({c['pairs']} pairs of five skills; {c['distinct_rendered_captions']} "
          f"distinct rendered captions, {c['distinct_caption_pairs']} distinct caption pairs)")
    print("  probe = forced-choice accuracy on probe pairs; real = precision / answered on real rule pairs")
    head = "  mode      " + "".join(f"{s[:10]:>22s}" for s in SKILL_NAMES) + "   calls/pair  s/call  min(5x5000, 2 cores)"
    print(head)
    for name, r in res["modes"].items():
        cells = []
        for s in SKILL_NAMES:
            row = r["skills"][s]
            p = row.get("probe_forced_choice")
            rp, ra = row.get("real_precision"), row.get("real_answered")
            cells.append(f"{_pct(p)} {_pct(rp)}/{_pct(ra)}".rjust(22))
        print(f"  {name:9s} " + "".join(cells) + f"   {r['calls_per_pair']:10.3f}  {r['seconds_per_call']:6.3f}  "
              f"{r['minutes_5x5000_on_2_cores']:8.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--directory", default="og_dataset", help="shipped datasets (default: %(default)s)")
    p.add_argument("--queries", type=int, default=24, help="distinct caption pairs timed (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds, medians reported (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="llama.cpp CPU threads (default: %(default)s)")
    p.add_argument("--skip_speed", type=int, default=0, help="1: skip the speed measurement")
    p.add_argument("--probes", type=int, default=40, help="probe pairs per skill for label sanity; 0 skips (default: %(default)s)")
    p.add_argument("--preference_dir", default="preference", help="shipped label files (default: %(default)s)")
    p.add_argument("--compare_modes", type=int, default=0, help="1: only the mode comparison of issue 14 (section 0)")
    p.add_argument("--modes", default="pointwise,score,generate,rules", help="modes compared (default: %(default)s)")
    p.add_argument("--real", type=int, default=60, help="real rule pairs per skill compared (default: %(default)s)")
    p.add_argument("--generate_pairs", type=int, default=3, help="probe pairs per skill in generate mode (default: %(default)s)")
    p.add_argument("--generate_max_tokens", type=int, default=256, help="generate mode answer cap (default: %(default)s)")
    p.add_argument("--json", default=None, help="also write all results to this JSON file")
    a = p.parse_args()
    if a.compare_modes:
        import subprocess

        res = compare_modes(a.directory, a.probes, a.real, a.generate_pairs, a.generate_max_tokens, a.threads,
                            a.modes.split(","))
        res["load_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print_modes(res)
        print("  load: " + res["load_after"])
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=1, default=float))
        return
    calls = calls_per_pair(a.directory)
    print("\nLLM calls per annotated pair on the shipped datasets (original: 1.0, goal <= 0.5):")
    for mode, c in calls.items():
        print(f"  {mode:8s}: {c['llm_calls']} calls for {c['pairs']} pairs = {c['calls_per_pair']:.3f} per pair "
              f"(first pass); rerun/other chunk: {c['rerun_calls_per_pair']:.3f}")
    out = {"calls": calls}
    if not a.skip_speed:
        s = speed(a.directory, a.queries, a.rounds, a.threads)
        out["speed"] = s
        print(f"\nEmbedded Gemma 3 270M, score mode, {s['pairs']} distinct pairs, {s['threads']} thread(s), "
              f"median of {a.rounds} interleaved rounds:")
        for k, v in s["pairs_per_s"].items():
            print(f"  {k:20s} {v:6.3f} pairs/s  x{s['ratio_vs_one_at_a_time'][k]:.2f} vs one-at-a-time   "
                  f"{s['evaluated_tokens_per_prompt'][k]:.0f} of {s['prompt_tokens_mean']:.0f} prompt tokens evaluated")
        st = s["stability"]
        print(f"  the same {st['questions']} questions in {st['runs']} runs of different batch shapes: first<->second "
              f"flips {100 * st['flips_margin_0.0']:.0f}% with tie margin 0, {100 * st['flips_margin_0.05']:.0f}% with "
              f"0.05 (any change incl. tie<->verdict {100 * st['changes_margin_0.05']:.0f}%); median spread of d "
              f"{st['d_spread_median']:.3f}")
    if a.probes:
        san = sanity(a.directory, a.probes, a.threads, a.preference_dir)
        out["sanity"] = san
        print("\nLabel sanity of the embedded model (score mode, default prompt), chance = 50%:")
        for skill, r in san.items():
            lo, hi = r["forced_ci95"]
            lab = r["probe_labels"]
            decisive = lab["first"] + lab["second"]
            line = (f"  {skill:10s} {r['probe_pairs']} probes: forced choice {100 * r['forced_choice_rate']:.0f}% "
                    f"[95% CI {100 * lo:.0f}-{100 * hi:.0f}%]; with the tie margin: {r['probe_agree']} right, "
                    f"{decisive - r['probe_agree']} wrong, {lab['tie']} ties")
            line += "; right/wrong/tie by margin " + ", ".join(
                f"{m}: {v['right']}/{v['wrong']}/{v['tie']}" for m, v in r["by_margin"].items())
            real = r["shipped_rule_pairs"]
            if real and real["rule_pairs"]:
                line += (f"\n  {'':10s} shipped labels on the {real['rule_pairs']} real pairs with a rule: "
                         f"{real['agree']} agree ({100 * real['rate']:.0f}%); right/wrong/tie by margin " + ", ".join(
                             f"{m}: {v['right']}/{v['wrong']}/{v['tie']}" for m, v in real["by_margin"].items()))
            print(line)
    print(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
