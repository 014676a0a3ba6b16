"""The LLM stack is an extra: a missing module says how to install it."""

from __future__ import annotations

import json

import pytest

from maestromotif.llm.extra import INSTALL_LLM, require
from maestromotif.utils.errors import UserError


def test_present_module_is_returned():
    assert require("json", "anything") is json


def test_missing_module_names_the_install_command():
    with pytest.raises(UserError) as e:
        require("maestromotif_no_such_module", "the test backend")
    msg = str(e.value)
    assert "the test backend" in msg and "maestromotif_no_such_module" in msg and INSTALL_LLM in msg
    assert '".[llm]"' in INSTALL_LLM
