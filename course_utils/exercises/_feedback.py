"""The one line of feedback every `check_*` prints, and the helpers that compute it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

NOT_ATTEMPTED = "not attempted yet: replace the None above with your answer"


def _report(correct: bool | None, message: str) -> None:
    mark = {None: "…", True: "✓", False: "✗"}[correct]
    print(f"{mark} {message}")


def _run_cases(
    fn: Callable | None, cases: Sequence[tuple[tuple, Any]], name: str, convert: Callable = lambda x: x
) -> None:
    """Call `fn(*args)` on each case and compare `convert(result)` with the expected value;
    report the first wrong or failing case."""
    if fn is None:
        return _report(None, NOT_ATTEMPTED)
    if not callable(fn):
        return _report(False, f"expected a function, got {type(fn).__name__}")
    for args, expected in cases:
        shown = ", ".join(repr(a) for a in args)
        try:
            got = convert(fn(*args))
        except Exception as error:  # the learner's code may raise anything; report it
            return _report(False, f"{name}({shown}) raised {type(error).__name__}: {error}")
        if got != expected:
            return _report(False, f"{name}({shown}) returned {got!r}, expected {expected!r}")
    return _report(True, f"correct: {name} passes all {len(cases)} cases")


def _close_number(answer: float | None, expected: float, tolerance: float, correct: str,
                  hints: Sequence[tuple[float, str]] = (), otherwise: str = "not quite") -> None:
    """Report on a numeric answer: correct within `tolerance`, else the first matching hint."""
    if answer is None:
        return _report(None, NOT_ATTEMPTED)
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _report(False, f"give a number, got {type(answer).__name__}")
    if abs(value - expected) <= tolerance:
        return _report(True, f"correct: {correct}")
    for wrong, hint in hints:
        if abs(value - wrong) <= tolerance:
            return _report(False, hint)
    return _report(False, otherwise)
