"""Every exercise check against hostile answers: values and functions a learner (or a curious
one) might pass. Whatever it gets, a check prints exactly one line of at most 300 characters,
writes nothing to stderr, returns None, says "wrong" (never "correct", never that it could not
judge) with a result code from the message table, and keeps judging right answers afterwards.
"""

from __future__ import annotations

import decimal
import fractions
import io
import itertools
import math
import sys
import warnings

import numpy as np
import pytest
import torch

from course_utils import exercises as ex
from course_utils.exercises import feedback
from course_utils.exercises.messages import MESSAGES
from exercise_judge import judge

CHECKS = [getattr(ex, name) for name in ex.__all__ if name.startswith("check_")]
FUNCTION_CHECKS = {ex.check_count_pairs, ex.check_bpe_encode, ex.check_decode,
                   ex.check_continuation_counts, ex.check_stable_softmax, ex.check_causal_mask,
                   ex.check_split_heads, ex.check_momentum_step, ex.check_top_k_filter,
                   ex.check_sliding_window_mask, ex.check_chunked_attention,
                   ex.check_multihead_attention, ex.check_bpe_separator,
                   ex.check_kneser_ney_trigram, ex.check_clip_grad_norm, ex.check_adam_l2_step,
                   ex.check_min_p_filter, ex.check_find_draft, ex.check_beam_step,
                   ex.check_heavy_ball, ex.check_chat_ids}
NUMBER_CHECKS = set(CHECKS) - FUNCTION_CHECKS - {
    ex.check_pretokenize, ex.check_digit_pattern, ex.check_attention_weights,
    ex.check_repetition_penalty, ex.check_query_weights}
MEGABYTE = 10**6


class EnormousRepr:
    def __repr__(self):
        return "enormous\n" * MEGABYTE


class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("no repr " * MEGABYTE)


class Stop(BaseException):
    """A learner's own exception derived from BaseException, as Python's SystemExit is."""


class Hostile:
    """Every operation a check might try raises."""

    error: type[BaseException] = RuntimeError

    def _raise(self, *args, **kwargs):
        raise self.error("hostile " * MEGABYTE)

    __eq__ = __ne__ = __lt__ = __bool__ = __float__ = __int__ = __index__ = _raise
    __len__ = __iter__ = __getitem__ = __repr__ = __str__ = __format__ = __call__ = _raise
    __hash__ = None

    def __getattr__(self, name):
        raise self.error(f"no attribute {name}")


class BaseHostile(Hostile):
    """Every operation raises a BaseException that is not an Exception."""

    error = Stop


class Liar:
    """Says it equals everything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


class Noisy:
    """Prints whenever it is looked at."""

    def __repr__(self):
        print("repr!\n" * 1000)
        return "Noisy()"

    def __eq__(self, other):
        print("eq!", file=sys.stderr)
        return False

    __hash__ = object.__hash__


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("no str")


def _deep_list(depth: int) -> list:
    nested: list = []
    for _ in range(depth):
        nested = [nested]
    return nested


VALUES = {
    "10**400": 10**400, "-10**400": -(10**400), "10**5000": 10**5000, "2**70": 2**70,
    "-1": -1, "True": True, "False": False, "nan": math.nan, "inf": math.inf,
    "-inf": -math.inf, "1e308": 1e308, "complex": 1 + 2j, "Fraction": fractions.Fraction(1, 7),
    "Decimal nan": decimal.Decimal("NaN"), "Decimal 1e400": decimal.Decimal("1e400"),
    "empty str": "", "megabyte str": "x" * MEGABYTE, "numeric str": "21",
    "multiline str": "line\n" * 100_000, "bytes": b"21", "empty list": [], "nested list": [[[]]],
    "deep list": _deep_list(100_000), "million list": list(range(MEGABYTE)),
    "nan list": [math.nan] * 3, "huge list": [10**400] * 2, "str list": ["a", "b", "c"],
    "None list": [None, None, None], "dict": {"a": 1}, "set": {1, 2, 3}, "tuple": (1, 2, 3),
    "range": range(3), "endless iterator": itertools.count(), "generator": (i for i in range(3)),
    "object": object(), "a class": type, "a module": math, "Ellipsis": ...,
    "enormous repr": EnormousRepr(), "raising repr": RaisingRepr(), "hostile": Hostile(),
    "hostile with BaseException": BaseHostile(),
    "liar": Liar(), "noisy": Noisy(), "nan array": np.full(3, np.nan),
    "big array": np.zeros((1000, 1000)), "float32 inf": np.float32(np.inf), "int64": np.int64(8),
    "nan tensor": torch.tensor(math.nan), "matrix tensor": torch.zeros(3, 3),
    "empty tensor": torch.empty(0), "meta tensor": torch.zeros(3, device="meta"),
}


def raises_megabyte(*args):
    raise ValueError("é" * MEGABYTE)


def raises_multiline(*args):
    raise RuntimeError("line\n" * 10_000)


def raises_unprintable(*args):
    raise UnprintableError()


def exits(*args):
    sys.exit(3)


def raises_its_own_base_exception(*args):
    raise Stop("not an Exception")


def raises_generator_exit(*args):
    raise GeneratorExit


def recurses(*args):
    return recurses(*args)


def prints_a_lot(*args):
    for i in range(10_000):
        print("spam " * 20)
        print("eggs", file=sys.stderr)
    warnings.warn("careful " * MEGABYTE)
    return None


def mutates_its_arguments(*args):
    for arg in args:
        if isinstance(arg, (dict, list)):
            arg.clear()
        elif isinstance(arg, torch.Tensor) and arg.is_floating_point():
            arg.fill_(math.nan)
        elif isinstance(arg, np.ndarray):
            arg.fill(np.nan)
    return args


def yields(*args):
    yield from args


def takes_nothing():
    return 1


FUNCTIONS = {
    "raises a megabyte": raises_megabyte, "raises many lines": raises_multiline,
    "raises an unprintable error": raises_unprintable, "calls sys.exit": exits,
    "raises its own BaseException": raises_its_own_base_exception,
    "raises GeneratorExit": raises_generator_exit,
    "recurses forever": recurses, "prints a lot": prints_a_lot,
    "mutates its arguments": mutates_its_arguments, "is a generator": yields,
    "takes nothing": takes_nothing, "returns None": lambda *a: None,
    "returns nan": lambda *a: math.nan, "returns 10**400": lambda *a: 10**400,
    "returns its arguments": lambda *a: a, "returns an enormous repr": lambda *a: EnormousRepr(),
    "returns a hostile object": lambda *a: Hostile(), "returns a liar": lambda *a: Liar(),
    "returns a BaseException-hostile object": lambda *a: BaseHostile(),
    "returns a noisy object": lambda *a: Noisy(),
    "returns an endless iterator": lambda *a: itertools.count(),
    "returns a million items": lambda *a: list(range(MEGABYTE)),
    "returns a megabyte str": lambda *a: "x" * MEGABYTE,
    "returns a big array": lambda *a: np.zeros((1000, 1000)),
    "returns a big tensor": lambda *a: torch.zeros(1000, 1000),
    "returns a meta tensor": lambda *a: torch.zeros(7, 7, dtype=torch.bool, device="meta"),
    "is the class dict": dict, "is the class str": str, "is a hostile callable": Hostile(),
    "is a BaseException-hostile callable": BaseHostile(),
}
ANSWERS = {**VALUES, **FUNCTIONS}


def test_the_battery_covers_every_check():
    assert len(CHECKS) == 41
    assert len(ANSWERS) >= 70


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_hostile_answers_get_one_short_line_and_a_code(capsys, check):
    for label, answer in ANSWERS.items():
        result = judge(capsys, check, answer)
        assert result.outcome == "wrong", (label, result.text)
        assert result.code in MESSAGES["en"], (label, result.code)
        if check in FUNCTION_CHECKS and not callable(answer):
            assert result.code == "not_a_function", (label, result.text)
        if check in NUMBER_CHECKS and (callable(answer) or isinstance(answer, (str, bool))):
            assert result.code == "not_a_number", (label, result.text)
        if check in NUMBER_CHECKS and label in ("nan", "inf", "Decimal 1e400", "float32 inf"):
            assert result.code == "not_finite", (label, result.text)
        if check in NUMBER_CHECKS and label in ("10**400", "-10**400", "10**5000"):
            assert result.code == "too_large", (label, result.text)


@pytest.mark.parametrize("check", sorted(FUNCTION_CHECKS, key=lambda c: c.__name__),
                         ids=lambda check: check.__name__)
def test_what_a_function_printed_is_hidden_and_counted(capsys, check):
    result = judge(capsys, check, prints_a_lot)
    assert "lines" in result.params or result.text.endswith(
        MESSAGES["en"]["hidden_output"].format(lines=20_000))


def test_a_megabyte_error_is_shortened(capsys):
    result = judge(capsys, ex.check_bpe_encode, raises_megabyte)
    assert result.code == "raised" and result.params["error"].startswith("ValueError: éé")
    assert "…" in result.params["error"]


def test_the_gpt2_vocab_is_named_not_printed(capsys):
    def decode_token_by_token(ids, vocab):
        return "".join(vocab[i].decode("utf-8") for i in ids)

    result = judge(capsys, ex.check_decode, decode_token_by_token)
    assert result.code == "raised" and result.params["args"].endswith("], vocab")


def test_mutating_the_arguments_does_not_spoil_the_next_answer(capsys):
    def decode(ids, vocab):
        return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")

    for check, right in [(ex.check_decode, decode),
                         (ex.check_top_k_filter, lambda s, k: s.masked_fill(
                             s < s.topk(k).values[:, -1:], float("-inf")))]:
        assert judge(capsys, check, mutates_its_arguments).outcome == "wrong"
        assert judge(capsys, check, right).outcome == "correct"


def test_the_stop_button_still_stops_a_learner_function():
    def interrupted(*args):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ex.check_bpe_encode(interrupted)


class Interrupting(Hostile):
    """Pressing the stop button while a check runs any of this object's methods."""

    touched = False

    def _raise(self, *args, **kwargs):
        type(self).touched = True
        raise KeyboardInterrupt

    __eq__ = __ne__ = __lt__ = __bool__ = __float__ = __int__ = __index__ = _raise
    __len__ = __iter__ = __getitem__ = __repr__ = __str__ = __format__ = __call__ = _raise
    __getattr__ = _raise


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_stop_button_stops_every_check_wherever_it_is_pressed(capsys, check, monkeypatch):
    # in the learner's function, or in an answer's (or a result's) __eq__, __float__, __repr__…
    monkeypatch.setattr(Interrupting, "touched", False)
    answer = (lambda *a: Interrupting()) if check in FUNCTION_CHECKS else Interrupting()
    try:
        check(answer)
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
    assert interrupted == Interrupting.touched  # a check that never looks at it judges it
    assert interrupted or capsys.readouterr().out.count("\n") == 1
    if check in FUNCTION_CHECKS:
        with pytest.raises(KeyboardInterrupt):
            check(interrupted_function)


def interrupted_function(*args):
    raise KeyboardInterrupt


@pytest.mark.parametrize("answer", [raises_its_own_base_exception, raises_generator_exit, exits],
                         ids=lambda f: f.__name__)
def test_what_a_learner_function_raised_is_named(capsys, answer):
    result = judge(capsys, ex.check_count_pairs, answer)
    assert result.code == "raised"
    assert result.params["error"] in ("Stop: not an Exception", "GeneratorExit", "SystemExit: 3")


class RaisesWhenRead:
    def __init__(self, error: BaseException):
        self.error = error

    def __int__(self):
        raise self.error


@feedback.exercise
def check_reads_an_int(answer):
    return feedback.correct("all_cases_pass", name="f", count=int(answer))


@pytest.mark.parametrize("error", [Stop("its own"), GeneratorExit(), SystemExit(3)],
                         ids=lambda error: type(error).__name__)
def test_a_base_exception_wherever_the_answer_raises_it_is_a_wrong_answer(capsys, error):
    # raised outside the guarded calls: by a result the check reads, not by the function itself
    result = judge(capsys, check_reads_an_int, RaisesWhenRead(error))
    assert (result.outcome, result.code) == ("wrong", "answer_raised")
    assert result.params["error"] in ("Stop: its own", "GeneratorExit", "SystemExit: 3")
    with pytest.raises(KeyboardInterrupt):
        check_reads_an_int(RaisesWhenRead(KeyboardInterrupt()))
    assert judge(capsys, check_reads_an_int, 2).outcome == "correct"


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_a_check_prints_its_line_on_an_output_that_cannot_show_it(monkeypatch, encoding):
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding=encoding, newline="\n"))
    with feedback.recording() as results:
        ex.check_utf8_bytes(15)
    sys.stdout.flush()
    line = out.getvalue().decode(encoding)
    assert line.startswith("\\u2713 correct: 6 ASCII characters ") and line.endswith(" bytes\n")
    assert line == results[0].text.encode("ascii", "backslashreplace").decode() + "\n"


def test_a_check_that_fails_itself_says_so_in_one_line(capsys, monkeypatch):
    from course_utils.exercises import tokenization

    def missing():
        raise FileNotFoundError("GPT-2's vocabulary is not installed; run `make setup`\n" * 50)

    monkeypatch.setattr(tokenization, "_decode_cases", missing)
    result = judge(capsys, ex.check_decode, lambda ids, vocab: "")
    assert (result.outcome, result.code) == ("error", "check_failed")
    assert result.text.startswith("⚠ ") and "make setup" in result.text


def test_a_wrong_number_of_answers_is_one_line(capsys):
    with feedback.recording() as results:
        ex.check_gd_step()
        ex.check_gd_step(1.4, 2)
    assert [r.code for r in results] == ["one_answer", "one_answer"]
    assert capsys.readouterr().out.count("\n") == 2


def test_results_are_recorded_as_plain_values(capsys):
    with feedback.recording() as outer:
        with feedback.recording() as inner:
            ex.check_gpt2_parameters(10**400)
        ex.check_gd_step(None)
    assert len(inner) == 1 and len(outer) == 2
    for result in outer:
        assert all(isinstance(v, (str, int, float)) for v in result.params.values())
    assert outer[1] == feedback.Result("check_gd_step", "not_attempted", "not_attempted", {},
                                       "… " + ex.NOT_ATTEMPTED)


def test_another_language_needs_only_a_table(capsys, monkeypatch):
    monkeypatch.setitem(MESSAGES, "xx", {"utf8_bytes.correct": "richtig: {answer} Bytes"})
    try:
        ex.set_language("xx")
        ex.check_utf8_bytes(15)
        ex.check_utf8_bytes(9)  # not translated: falls back to English
    finally:
        ex.set_language("en")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["✓ richtig: 15 Bytes",
                     "✗ that is the number of characters (code points), not bytes"]


def test_a_table_that_does_not_fit_falls_back_to_english(capsys, monkeypatch):
    monkeypatch.setitem(MESSAGES, "xx", {"utf8_bytes.correct": "richtig: {missing}"})
    try:
        ex.set_language("xx")
        ex.check_utf8_bytes(15)
    finally:
        ex.set_language("en")
    assert capsys.readouterr().out == "✓ correct: 6 ASCII characters × 1 + ï 2 + 好 3 + 😀 4 = 15 bytes\n"


def test_every_message_is_one_line_and_every_code_is_used():
    import inspect

    from course_utils.exercises import answers

    sources = "".join(inspect.getsource(m) for m in (
        ex.tokenization, ex.tokenizer_pitfalls, ex.ngrams, ex.attention, ex.attention_build,
        ex.training, ex.generation, answers, feedback))
    for code, sentence in MESSAGES["en"].items():
        assert "\n" not in sentence and len(sentence) <= 200, code
        assert f'"{code}"' in sources, f"{code} is never used"
