"""Reading a learner's answer: a number, a few numbers, or a function tried on worked cases.

Each helper either returns what the check compares or raises `Refusal` with the verdict to
show ("give a number, got str"). They never trust the answer: a number may be a bool, a str,
10**400 or NaN; a function may raise, print, mutate its arguments, or return something whose
== raises. `course_utils.exercises.feedback` captures printing and renders the line.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from course_utils.exercises.feedback import Refusal, Verdict, correct, describe, error_text, wrong


def number(answer: object) -> float:
    """`answer` as a finite float; Refusal for a bool, a str, a non-number, 10**400 or NaN.

    NumPy numbers and one-element tensors or arrays count as numbers (a forgotten `.item()`
    is not the point of an exercise).
    """
    kind = type(answer).__name__
    if isinstance(answer, (bool, str, bytes)) or not (
            isinstance(answer, numbers.Real) or hasattr(type(answer), "__float__")):
        raise Refusal(wrong("not_a_number", type=kind))
    try:
        value = float(answer)  # type: ignore[arg-type]
    except OverflowError:
        raise Refusal(wrong("too_large", value=describe(answer))) from None
    except KeyboardInterrupt:  # the stop button stops a check wherever it is pressed
        raise
    except BaseException:  # a tensor of several numbers, or a __float__ that raises anything
        raise Refusal(wrong("not_a_number", type=kind)) from None
    if not math.isfinite(value):
        raise Refusal(wrong("not_finite", value=describe(answer)))
    return value


def number_list(answer: object, count: int, *, not_numbers: str, wrong_count: str) -> list[float]:
    """`answer` (a list, tuple, array or tensor of `count` numbers) as floats; else Refusal with
    the code `not_numbers` or `wrong_count` (which gets the parameter `count`)."""
    if isinstance(answer, (str, bytes, dict)) or not hasattr(answer, "__len__"):
        raise Refusal(wrong(not_numbers, answer=describe(answer)))
    try:
        size = len(answer)  # type: ignore[arg-type]
        items = [answer[i] for i in range(min(size, count))]  # type: ignore[index]
    except KeyboardInterrupt:
        raise
    except BaseException:  # a len() or [] that raises
        raise Refusal(wrong(not_numbers, answer=describe(answer))) from None
    if size != count:
        raise Refusal(wrong(wrong_count, count=size))
    try:
        return [number(item) for item in items]
    except Refusal as refusal:
        if refusal.verdict.code == "not_a_number":
            raise Refusal(wrong(not_numbers, answer=describe(answer))) from None
        raise


def close_number(answer: object, expected: float, tolerance: float, correct_code: str,
                 hints: Sequence[tuple[float, str]], otherwise: str) -> Verdict:
    """Correct within `tolerance` of `expected`; else the code of the first hint (a likely wrong
    value and its code) within `tolerance`; else `otherwise`. Every verdict has the parameters
    `answer` and `expected`, for the sentence and for a grader."""
    value = number(answer)
    params = {"answer": int(value) if value.is_integer() and abs(value) < 2**53 else value,
              "expected": expected}
    if abs(value - expected) <= tolerance:
        return correct(correct_code, **params)
    for likely, code in hints:
        if abs(value - likely) <= tolerance:
            return wrong(code, **params)
    return wrong(otherwise, **params)


@dataclass(frozen=True)
class Case:
    """One worked case: the arguments, the expected result and, optionally, how to show the
    arguments (e.g. "…, vocab" rather than GPT-2's 50,257 tokens)."""

    args: tuple[Any, ...]
    expected: Any
    shown: str | None = None


def call(fn: Callable[..., Any], name: str, args: tuple[Any, ...], shown: str | None = None
         ) -> tuple[Any, str]:
    """Call the learner's `fn` on a copy of `args` (it may change them); return (result, the
    arguments as shown), or Refusal with code "raised" naming the call and the error."""
    shown = shown if shown is not None else ", ".join(describe(arg, 100) for arg in args)
    try:
        return fn(*copy.deepcopy(args)), shown
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # anything: SystemExit, GeneratorExit, a class of its own…
        raise Refusal(wrong("raised", name=name, args=shown, error=error_text(error))) from None


def same(got: object, expected: object) -> bool:
    """got == expected for a result of exactly expected's type; False if comparing raises."""
    try:
        return type(got) is type(expected) and bool(got == expected)
    except KeyboardInterrupt:
        raise
    except BaseException:  # an array's ambiguous truth value, or an == that raises
        return False


def run_cases(fn: object, cases: Sequence[Case], name: str,
              convert: Callable[[Any], Any] | None = None) -> Verdict:
    """Call `fn` on each case and compare `convert(result)` with the expected value: the first
    case that raises or differs is the verdict ("raised" / "returned"), else "all_cases_pass".
    `convert` turns a right answer of another accepted type (a Counter, a tensor) into the
    expected one's; a result it cannot convert is shown as returned."""
    if not callable(fn):
        return wrong("not_a_function", type=type(fn).__name__)
    for case in cases:
        got, shown = call(fn, name, case.args, case.shown)
        try:
            got = convert(got) if convert is not None else got
        except KeyboardInterrupt:
            raise
        except BaseException:  # junk that does not convert is simply not the expected value
            pass
        if not same(got, case.expected):
            return wrong("returned", name=name, args=shown, got=describe(got),
                         expected=describe(case.expected))
    return correct("all_cases_pass", name=name, count=len(cases))
