"""Every public function and class refuses bad input with a clear error.

The cases live in tests/bad_inputs/, one module per area. Each must raise the stated exception
type (TypeError / ValueError, OSError for files), with a message that names the argument (and
what else the case lists), raised by course_utils itself: not an IndexError, RuntimeError or bare
AssertionError from deep inside torch or Python.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import bad_inputs

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "course_utils"
AREAS = sorted(m.name for m in pkgutil.iter_modules(bad_inputs.__path__))
CASES = [case for area in AREAS
         for case in importlib.import_module(f"bad_inputs.{area}").CASES]


def test_there_are_many_cases_in_every_area():
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES), "case ids must be unique"
    for area in AREAS:
        assert len(importlib.import_module(f"bad_inputs.{area}").CASES) >= 10, area


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_is_a_clear_error(case):
    with pytest.raises(BaseException) as info:
        case.call()
    error = info.value
    assert isinstance(error, case.error), (
        f"expected {case.error.__name__}, got {type(error).__name__}: {error}")
    assert not isinstance(error, (AssertionError, IndexError, KeyError, AttributeError))
    message = str(error)
    for word in case.mentions:
        assert word in message, f"{word!r} not in the message: {message}"
    assert len(message) <= 600, f"a {len(message)}-character message: {message[:200]}…"
    # The error is raised by course_utils' own code, which names what to change.
    frame = info.tb
    while frame.tb_next is not None:
        frame = frame.tb_next
    raised_in = Path(frame.tb_frame.f_code.co_filename).resolve()
    assert PACKAGE_DIR in raised_in.parents, f"raised in {raised_in}: {message}"
