"""The AST screen and the code extraction (pure logic, no subprocess)."""

import pytest

from maestromotif.codegen.extract import extract_code
from maestromotif.codegen.screen import screen_code

POLICY = '''import random
import numpy as np
from collections import defaultdict


class NetHackPlayer:
    def __init__(self, max_depth, branch_depth):
        self.max_depth = max_depth
        self._seen = defaultdict(int)

    def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition, worshipper_precondition):
        self._seen[dungeon_depth] += 1
        if getattr(self, "mines", False):
            return random.choice(["discoverer", "descender"])
        return "discoverer" if np.any(np.zeros(3)) else "descender"
'''


def test_a_plain_policy_passes():
    assert screen_code(POLICY) == []


@pytest.mark.parametrize("snippet, reason", [
    ("import os\nos.remove('x')", "imports 'os'"),
    ("import subprocess", "imports 'subprocess'"),
    ("import socket\ns = socket.socket()", "imports 'socket'"),
    ("from os import path", "imports from 'os'"),
    ("import sys", "imports 'sys'"),
    ("import ctypes", "imports 'ctypes'"),
    ("from . import x", "relative import"),
    ("open('/etc/passwd').read()", "builtin 'open'"),
    ("eval('1+1')", "builtin 'eval'"),
    ("exec('x = 1')", "builtin 'exec'"),
    ("__import__('os')", "dunder name '__import__'"),
    ("f = compile('1', 'x', 'eval')", "builtin 'compile'"),
    ("g = globals()", "builtin 'globals'"),
    ("().__class__.__bases__[0].__subclasses__()", "dunder attribute '.__class__'"),
    ("def f(): pass\nf.__globals__['x'] = 1", "dunder attribute '.__globals__'"),
    ("x = __builtins__", "dunder name '__builtins__'"),
    ("import random\nrandom._os.system('ls')", "private attribute '._os'"),
    ("import numpy as np\nnp.save('x.npy', np.zeros(1))", "'.save'"),
    ("import numpy as np\nnp.zeros(3).tofile('x')", "'.tofile'"),
    ("from numpy import load", "imports 'load' from 'numpy'"),
    ("import numpy as np\nnp.ctypeslib.load_library('x', '.')", "'.ctypeslib'"),
    ("getattr(object, '__subclasses__')()", "getattr() with a name that is not a plain string literal"),
    ("name = 'x'\ngetattr(object, name)", "getattr() with a name that is not a plain string literal"),
    ("import typing\ntyping.sys.exit()", "'.sys'"),
    ("async def f():\n    pass", "async code"),
])
def test_dangerous_code_is_refused_with_a_reason(snippet, reason):
    problems = screen_code(snippet)
    assert problems, snippet
    assert any(reason in p for p in problems), problems


def test_a_local_variable_named_like_a_builtin_is_not_the_builtin():
    assert screen_code("def f(help):\n    return help + 1\n") == []
    # ... but binding `open` does not whitelist it
    assert screen_code("open = 1\nopen") != []


def test_syntax_errors_are_reported():
    problems = screen_code("def f(:\n")
    assert len(problems) == 1 and problems[0].startswith("syntax error at line 1")


ANSWER_TWO_BLOCKS = '''Questions: ... I will keep a direction.

```python
class NetHackPlayer:
    def __init__(self, max_depth):
        self.max_depth = max_depth

    def select_skill(self, current_skill, dungeon_depth, m, w):
        return "discoverer"
```

And the unit test:

```python
player = NetHackPlayer(4)
print(player.select_skill("discoverer", 1, False, False))
```
'''


def test_extract_joins_class_and_unit_test_blocks():
    ext = extract_code(ANSWER_TWO_BLOCKS, "NetHackPlayer", "select_skill")
    assert "class NetHackPlayer" in ext.code and "player = NetHackPlayer(4)" in ext.code


def test_extract_prefers_the_last_draft_of_the_class():
    answer = ("```python\nclass NetHackPlayer:\n    def select_skill(self):\n        return 1\n```\n"
              "Corrected:\n```py\nclass NetHackPlayer:\n    def select_skill(self):\n        return 2\n```\n"
              "```python\nprint(NetHackPlayer().select_skill())\n```")
    ext = extract_code(answer, "NetHackPlayer", "select_skill")
    assert "return 2" in ext.code and "return 1" not in ext.code and "print(" in ext.code


def test_extract_handles_no_fence_unterminated_fence_and_crlf():
    bare = "Here you go:\r\nclass NetHackPlayer:\r\n    def f(self):\r\n        return 1\r\nHope this helps!"
    assert extract_code(bare, "NetHackPlayer", "f").code.startswith("class NetHackPlayer")
    cut = "Sure.\n```python\nclass NetHackPlayer:\n    def f(self):\n        return 1\n"
    assert "def f" in extract_code(cut, "NetHackPlayer", "f").code
    assert extract_code("I cannot help with that.", "NetHackPlayer", "f") is None


def test_extract_returns_broken_code_so_the_error_can_be_reported():
    ext = extract_code("```python\nclass NetHackPlayer:\n    def f(self)\n        return 1\n```", "NetHackPlayer", "f")
    assert ext is not None and "does not parse" in ext.how
