"""How every exercise check turns what it found into one line of feedback — and never more.

A check only decides *what* happened: a result code such as "utf8_bytes.characters", an outcome
(correct, wrong, not attempted, or error when the check itself could not judge) and a few
parameters. This module does the rest, the same way for every check:

- the sentence comes from the message table of the current language
  (`course_utils.exercises.messages`), so another language is a new table, not new checks;
- whatever the learner passes — None, a huge int, NaN, an object whose repr is a megabyte or
  raises, a function that raises, prints or returns junk — the check prints exactly one line of
  at most MAX_LINE characters and returns None. Long values are shortened, large containers are
  described by their size, and the learner's own printing and warnings are captured while the
  check runs (the line then says that output was hidden). Whatever the answer raises while it
  is judged — SystemExit, GeneratorExit or a BaseException of its own included — is a wrong
  answer; only KeyboardInterrupt (the notebook's stop button) goes through;
- each result is also recorded, machine-readable: for graders, while the environment variable
  LLM_TOKENS_GRADING_RESULTS names a file (`course_utils.grade` sets it), as one JSON line per
  check appended to that file and flushed at once, so a notebook the grader must kill still
  has every result recorded before (the printed line is the same either way, and a file that
  cannot be written is skipped: grading never breaks a learner's notebook); for tests:

>>> from course_utils.exercises import check_utf8_bytes
>>> with recording() as results:
...     check_utf8_bytes(9)
✗ that is the number of characters (code points), not bytes
>>> results[0].code, results[0].outcome, results[0].params
('utf8_bytes.characters', 'wrong', {'answer': 9, 'expected': 15})

What it leaves out: a time limit. A learner function that never returns blocks its check, as
it would block any other cell; the notebook's stop button interrupts both.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import json
import math
import os
import numbers
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from course_utils.exercises.messages import MESSAGES
from course_utils import language
from course_utils.language import get_language
from course_utils.validation import check_choice, check_str, short_repr

MAX_LINE = 300  # characters of the one line a check prints, its mark included
MARKS = {"correct": "✓", "wrong": "✗", "not_attempted": "…", "error": "⚠"}
_LIMITS = (300, 100, 48, 20)  # characters per value, tried in turn until the line fits
_recorders: list[list[Result]] = []
GRADING_RESULTS = "LLM_TOKENS_GRADING_RESULTS"  # names the file the grader reads results from


@dataclass(frozen=True)
class Verdict:
    """What a check found: an outcome (a key of MARKS), a result code and its parameters."""

    outcome: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def correct(code: str, **params: Any) -> Verdict:
    """The verdict for a right answer: `code` names its sentence, `params` fill it in."""
    return Verdict("correct", code, params)


def wrong(code: str, **params: Any) -> Verdict:
    """The verdict for a wrong answer: `code` names the hint, `params` fill it in."""
    return Verdict("wrong", code, params)


class Refusal(Exception):
    """Raised inside a check to end it with `verdict` (e.g. "give a number, got str")."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.code)
        self.verdict = verdict


@dataclass(frozen=True)
class Result:
    """One check's result as recorded: plain values only, ready for JSON."""

    check: str  # the check's name, e.g. "check_utf8_bytes"
    code: str  # the result code: the key of the message tables
    outcome: str  # "correct", "wrong", "not_attempted" or "error"
    params: dict[str, str | int | float]  # the values the sentence shows
    text: str  # the line printed, without its newline


@contextlib.contextmanager
def recording() -> Iterator[list[Result]]:
    """Collect the Result of every check called inside the block (blocks may nest)."""
    results: list[Result] = []
    _recorders.append(results)
    try:
        yield results
    finally:  # by identity: two recorders holding equal results are still two
        _recorders[:] = [r for r in _recorders if r is not results]


def record_for_grading(result: Result) -> None:
    """Append `result` as one JSON line to the file LLM_TOKENS_GRADING_RESULTS names, if any.

    Never raises (bar the stop button): a result that cannot be written is not recorded.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     os.environ[GRADING_RESULTS] = os.path.join(folder, "results.jsonl")
    ...     record_for_grading(Result("check_x", "x.right", "correct", {"n": 1}, "✓ right"))
    ...     with open(os.environ.pop(GRADING_RESULTS), encoding="utf-8") as file:
    ...         json.loads(file.read())["code"]
    'x.right'
    """
    path = os.environ.get(GRADING_RESULTS)
    if not path:
        return
    try:
        line = json.dumps(asdict(result), ensure_ascii=True)  # one line: no raw line breaks
        with open(path, "a", encoding="utf-8") as file:  # closing flushes it
            file.write(line + "\n")
    except KeyboardInterrupt:
        raise
    except BaseException:  # a folder the notebook deleted, a full disk: the check still prints
        pass


def set_language(language_code: str) -> None:
    """Speak `language_code`, a language of the message table ("en", "zh"), from now on.

    The same as `course_utils.language.set_language`, except that any language the table has
    is accepted (a table added at run time included), so a check can be tried in a new language.
    """
    code = check_choice("language", check_str("language", language_code), tuple(MESSAGES))
    language._chosen[:] = [code]


def describe(value: object, limit: int = 300) -> str:
    """One line, at most `limit` characters, showing `value`; never raises.

    Containers of more than 50 items are described by their size instead of their contents.

    >>> describe(list(range(10**6)))
    '<list of 1,000,000 items>'
    """
    try:
        if isinstance(value, int) and value.bit_length() > 14_000:  # repr() may refuse it
            return f"<int of about {value.bit_length() * math.log10(2):,.0f} digits>"
        if not isinstance(value, (str, bytes)) and getattr(value, "shape", None) is None:
            size = len(value)  # type: ignore[arg-type]
            if isinstance(size, int) and size > 50:
                return f"<{type(value).__name__} of {size:,} items>"
    except KeyboardInterrupt:  # the stop button stops a check wherever it is pressed
        raise
    except BaseException:  # no len(), or a len() that raises: show the repr instead
        pass
    try:
        return short_repr(value, limit)
    except KeyboardInterrupt:
        raise
    except BaseException:  # short_repr looks up .shape first, which an odd object may refuse
        return f"<{type(value).__name__} object>"


def error_text(error: BaseException) -> str:
    """'ValueError: message' for an exception, without ever raising (its str() may raise)."""
    try:
        message = str(error)
        message = message if len(message) <= 1000 else message[:500] + "…" + message[-500:]
    except KeyboardInterrupt:
        raise
    except BaseException:
        message = ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _one_line(text: str) -> str:
    """`text` with every line break (\\n, \\r, \\u2028, …) turned into a space."""
    return " ".join(text.splitlines())


def _text(value: object, limit: int) -> str | int | float:
    """A parameter as the sentence shows it: numbers as they are, anything else one line."""
    try:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if isinstance(value, numbers.Integral) and abs(value) < 10**30:
                return int(value)
            if not isinstance(value, numbers.Integral) and math.isfinite(float(value)):
                return float(value)
    except KeyboardInterrupt:
        raise
    except BaseException:  # a number type whose arithmetic raises: show it as text
        pass
    text = value if isinstance(value, str) else describe(value, limit)
    if len(text) > 8 * limit:  # a megabyte message: keep its two ends only
        text = text[:2 * limit] + " … " + text[-2 * limit:]
    text = _one_line(text)
    if len(text) > limit:
        keep = max(limit - 1, 2) // 2
        text = text[:keep] + "…" + text[-keep:]
    return text


def _sentence(code: str, params: dict[str, Any]) -> str:
    """The current language's sentence for `code`, else the English one, else the code."""
    for table in (MESSAGES.get(get_language(), {}), MESSAGES["en"]):
        template = table.get(code)
        if template is not None:
            try:
                return template.format(**params)
            except (KeyError, IndexError, ValueError, TypeError):  # a table that does not fit
                continue
    return " ".join([code, *(f"{key}={value}" for key, value in params.items())])


def render(verdict: Verdict, hidden_lines: int = 0) -> tuple[str, dict[str, Any]]:
    """The line for `verdict` (≤ MAX_LINE characters) and the parameters it shows."""
    for limit in _LIMITS:
        params = {key: _text(value, limit) for key, value in verdict.params.items()}
        line = f"{MARKS[verdict.outcome]} {_sentence(verdict.code, params)}"
        if hidden_lines:
            line += " " + _sentence("hidden_output", {"lines": hidden_lines})
        line = _one_line(line)  # whatever a table or a value holds
        if len(line) <= MAX_LINE:
            return line, params
    return line[:MAX_LINE - 1] + "…", params


class _Sink(io.TextIOBase):
    """Stands in for stdout and stderr while a check runs: counts lines, keeps nothing."""

    encoding = "utf-8"  # for code that asks before it prints

    def __init__(self) -> None:
        self.breaks, self.last = 0, "\n"

    @property
    def lines(self) -> int:
        return self.breaks + (self.last != "\n")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        if text:
            self.breaks += text.count("\n")
            self.last = text[-1]
        return len(text)


def _judge(check: Callable[[Any], Verdict], answer: Any) -> tuple[Verdict, int]:
    """Run `check` on a real answer with output captured; return its verdict and hidden lines."""
    sink = _Sink()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            verdict = check(answer)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"{check.__name__} returned {type(verdict).__name__}, not a Verdict")
    except Refusal as refusal:
        verdict = refusal.verdict
    except KeyboardInterrupt:
        raise
    except Exception as error:  # a missing file, or an answer nobody foresaw
        verdict = Verdict("error", "check_failed", {"error": error_text(error)})
    except BaseException as error:  # SystemExit, GeneratorExit…: raised by the learner's code
        verdict = wrong("answer_raised", error=error_text(error))
    return verdict, sink.lines


def exercise(check: Callable[[Any], Verdict]) -> Callable[..., None]:
    """Turn `check(answer) -> Verdict` into the function a notebook calls: it prints one line
    (None is "not attempted yet"), records the Result and returns None. It never raises,
    except KeyboardInterrupt, so that the stop button still stops a learner's endless loop."""
    name = check.__name__

    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> None:
        hidden = 0
        if len(args) + len(kwargs) != 1:
            verdict = Verdict("error", "one_answer", {"name": name})
        else:
            answer = args[0] if args else next(iter(kwargs.values()))
            if answer is None:
                verdict = Verdict("not_attempted", "not_attempted")
            else:
                verdict, hidden = _judge(check, answer)
        line, params = render(verdict, hidden)
        result = Result(name, verdict.code, verdict.outcome, params, line)
        for results in _recorders:
            results.append(result)
        record_for_grading(result)
        try:
            print(line)
        except UnicodeEncodeError:  # a script's output sent to a cp1252 file cannot show ✓
            print(line.encode("ascii", "backslashreplace").decode("ascii"))

    # help(check_...) shows the learner's side: one answer in, None out
    run.__signature__ = inspect.signature(check).replace(  # type: ignore[attr-defined]
        return_annotation=None)
    return run
