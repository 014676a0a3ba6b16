"""One way to declare flags (maestromotif/utils/cli.py): every command, both spellings, one boolean parser."""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass

import pytest

from maestromotif.utils.cli import arg, make_parser, parse, parse_bool

DATACLASS_COMMANDS = {  # module -> its parser
    "scripts.train_reward": lambda m: make_parser(m.RewardConfig, "x"),
    "scripts.annotate_pairs": lambda m: make_parser(m.AnnotationConfig, "x"),
    "scripts.collect_dataset": lambda m: make_parser(m.CollectArgs, "x"),
    "scripts.evaluate": lambda m: m.parser(),
    "scripts.generate_code": lambda m: m.parser(),
    "scripts.merge_annotations": lambda m: make_parser(m.MergeArgs, "x"),
    "scripts.inspect_reward": lambda m: make_parser(m.InspectArgs, "x"),
    "scripts.skill_report": lambda m: make_parser(m.SkillReportArgs, "x"),
    "scripts.pipeline": lambda m: make_parser(m.PipelineArgs, "x"),
}


@pytest.mark.parametrize("module", sorted(DATACLASS_COMMANDS))
def test_every_flag_has_help_and_both_spellings(module):
    p = DATACLASS_COMMANDS[module](importlib.import_module(module))
    required = [x for a in p._actions if a.required for x in (a.option_strings[0], "v")]
    for action in p._actions:
        if not action.option_strings or action.dest == "help":
            continue
        assert action.help, action.option_strings
        for opt in action.option_strings:
            assert opt.replace("_", "-") in action.option_strings and opt.replace("-", "_").replace(
                "__", "--", 1) in action.option_strings, (module, action.option_strings)
        if action.type is parse_bool:  # one boolean parser: bare flag, 0/1, true/false
            for argv, want in (([], True), (["0"], False), (["true"], True), (["No"], False)):
                ns = p.parse_known_args([*required, action.option_strings[0], *argv])[0]
                assert getattr(ns, action.dest) is want


def test_the_original_flags_still_parse():
    from scripts.annotate_pairs import parse_args as annotate_args
    from scripts.train_reward import parse_args as reward_args

    r = reward_args(["--batch_size", "1000", "--num_workers", "40", "--reward_lr", "1e-5", "--num_epochs", "20",
                     "--seed", "777", "--dataset_dir", "og_dataset", "--experiment", "gemma270m_descender_default",
                     "--train_dir", "train_dir/skill_rewards"])
    assert r.num_workers == 40 and r.reward_lr == 1e-5
    a = annotate_args(["--directory", "og_dataset", "--goal_key", "merchant", "--n-annotation-chunks", "8",
                       "--chunk-number", "3", "--custom-annotator-string", "x", "--ignore-existing", "1"])
    assert (a.n_annotation_chunks, a.chunk_number, a.ignore_existing) == (8, 3, True)
    assert annotate_args(["--dataset_dir", "d"]).directory == "d"  # one name for the dataset directory


def test_dataclass_parser_types_defaults_and_repeats():
    @dataclass
    class Args:
        name: str = arg("a", "a name", aliases=("other_name",))
        n: int | None = arg(None, "a number")
        flag: bool = arg(False, "a switch")
        items: list[str] = arg(["x"], "repeatable")
        pair: tuple[str, ...] = arg(("p",), "several")

    a = parse(Args, ["--other-name", "b", "--n", "3", "--flag", "--items", "y", "z", "--items", "w",
                     "--pair", "q", "r"], "x")
    assert a == Args(name="b", n=3, flag=True, items=["y", "z", "w"], pair=("q", "r"))
    assert parse(Args, [], "x") == Args()
    with pytest.raises(argparse.ArgumentTypeError):
        parse_bool("maybe")
