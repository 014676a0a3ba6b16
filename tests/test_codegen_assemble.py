"""Combining generated pieces into one execution.py (pure logic)."""

import ast

from maestromotif.codegen import assemble

BASE = '''import random

LIMIT = 3


def helper(x):
    return min(x, LIMIT)


class NetHackPlayer:
    REQUIRED_ATTRIBUTES = ()

    def __init__(self, max_depth, branch_depth):
        self.max_depth = helper(max_depth)

    def select_skill(self, current_skill, dungeon_depth, m, w):
        return "discoverer"

    def perform_task(self, current_skill, dungeon_depth, branch_number, m, w):
        return self.select_skill(current_skill, dungeon_depth, m, w)


def view(things):  # a unit-test helper: not used by the class
    return things


# Starting conditions
skill = "discoverer"
player = NetHackPlayer(4, 2)
for turn in range(3):
    print(player.perform_task(skill, 1, 0, False, False))
'''

OVERLAY = '''from __future__ import annotations
import math


class NetHackPlayer:
    REQUIRED_ATTRIBUTES = ("gold",)

    def perform_task(self, current_skill, dungeon_depth, branch_number, m, w):
        return "descender" if self.gold > math.pi else "discoverer"

    def extra(self):
        return 1


player = NetHackPlayer(1, 2)
'''


def test_parse_program_separates_class_definitions_and_unit_test():
    prog = assemble.parse_program(BASE)
    assert prog.has_class and prog.has_test
    assert list(prog.members) == ["REQUIRED_ATTRIBUTES", "__init__", "select_skill", "perform_task"]
    assert any("def helper" in d for d in prog.definitions) and any("LIMIT = 3" in d for d in prog.definitions)
    assert not any("def view" in d for d in prog.definitions)  # the test's helper is dropped
    assert not assemble.has_test_code(assemble.render(prog))


def test_combine_overrides_by_name_keeps_the_rest_and_orders_future_imports_first():
    out = assemble.combine(assemble.parse_program(BASE), [(assemble.parse_program(OVERLAY), None)])
    code = assemble.render(out, header="# header\n")
    tree = ast.parse(code)
    code_lines = [ln for ln in code.splitlines() if ln.strip() and not ln.startswith("#")]
    assert code.startswith("# header\n") and code_lines[0] == "from __future__ import annotations"
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    names = [getattr(n, "name", None) or n.targets[0].id for n in cls.body]
    assert names == ["REQUIRED_ATTRIBUTES", "__init__", "select_skill", "perform_task", "extra"]
    assert '("gold",)' in code and "self.gold > math.pi" in code and "print(" not in code
    ns = {}
    exec(compile(code, "x", "exec"), ns)
    p = ns["NetHackPlayer"](9, 2)
    p.gold = 10
    assert p.max_depth == 3 and p.perform_task("discoverer", 1, 0, False, False) == "descender"


def test_combine_with_selected_members_and_method_snippets():
    snippet = "\n    def set_initial_values(self):\n        self.skill = 'discoverer'\n"
    out = assemble.combine(assemble.parse_program(BASE), [
        (assemble.parse_program(OVERLAY), ("extra",)), (assemble.parse_methods(snippet), None)])
    code = assemble.render(out)
    assert "def extra" in code and "self.gold" not in code and "def set_initial_values" in code


def test_code_before_method_cuts_at_the_signature():
    text = "# a header\n# more\n\n" + BASE
    prev = assemble.code_before_method(text, "perform_task")
    assert prev.rstrip().endswith("def perform_task(self, current_skill, dungeon_depth, branch_number, m, w):")
    assert not prev.startswith("#") and "select_skill" in prev
