"""Tests for notebook 02's checks of functions: the trigram Kneser-Ney (against NGramLM) and the
continuation counts (against NGramCounts): a right answer passes, the usual mistakes get their
hint, and junk gets one line without raising."""

from __future__ import annotations

from collections import Counter

import pytest

from course_utils import exercises as ex
from course_utils.exercises import feedback
from course_utils.exercises.messages import MESSAGES
from course_utils.exercises.ngrams import _kneser_ney_trigram
from course_utils.ngrams import NGramLM


def result_of(capsys, check, answer) -> feedback.Result:
    with feedback.recording() as results:
        assert check(answer) is None
    out = capsys.readouterr()
    assert out.err == "" and out.out.count("\n") == 1
    (result,) = results
    assert result.code in MESSAGES["en"]
    return result


def package_kneser_ney(tokens, word, context):
    return NGramLM(order=3, smoothing="kneser_ney").fit(tokens).prob(word, context)


def written_out(tokens, word, context):
    return _kneser_ney_trigram(tokens, word, context, continuation=True)


def raw_counts_everywhere(tokens, word, context):
    return _kneser_ney_trigram(tokens, word, context, continuation=False)


def no_unseen_context_rule(tokens, word, context):  # uses P(w | v) = 0 for an unseen v
    if tuple(context)[-1] not in tokens:
        return 0.0
    return package_kneser_ney(tokens, word, context)


@pytest.mark.parametrize("answer", [package_kneser_ney, written_out])
def test_a_right_kneser_ney_passes(capsys, answer):
    result = result_of(capsys, ex.check_kneser_ney_trigram, answer)
    assert (result.outcome, result.code) == ("correct", "kneser_ney.correct")
    assert result.params["count"] == 6


def test_the_written_out_version_equals_the_package_on_random_text():
    import random

    rng = random.Random(0)
    tokens = rng.choices("abcdef", weights=[32, 16, 8, 4, 2, 1], k=300)
    for context in [("a", "b"), ("f", "e"), ("c", "c"), ("z", "a")]:
        for word in "abcdef":
            assert abs(written_out(tokens, word, context)
                       - package_kneser_ney(tokens, word, context)) < 1e-12


@pytest.mark.parametrize(("answer", "code"), [
    (raw_counts_everywhere, "kneser_ney.raw_counts"),
    (no_unseen_context_rule, "returned"),
    (lambda tokens, word, context: 1 / len(set(tokens)), "returned"),
    (lambda tokens, word, context: "0.3", "kneser_ney.not_a_number"),
    (lambda tokens, word, context: None, "kneser_ney.not_a_number"),
    (lambda tokens, word, context: 1 / 0, "raised"),
    (lambda tokens: 0.5, "raised"),
    ("not a function", "not_a_function"),
])
def test_a_wrong_kneser_ney_gets_its_hint(capsys, answer, code):
    result = result_of(capsys, ex.check_kneser_ney_trigram, answer)
    assert (result.outcome, result.code) == ("wrong", code), result.text


def test_the_raw_count_hint_is_a_real_difference():
    tiny = ex.ngrams.TINY_CORPUS.split()
    assert abs(raw_counts_everywhere(tiny, "sat", ("the", "cat"))
               - package_kneser_ney(tiny, "sat", ("the", "cat"))) > 1e-3


def continuation_counts(tokens):
    return dict(Counter(right for left, right in set(zip(tokens, tokens[1:]))))


def test_continuation_counts_are_checked_against_the_package(capsys):
    result = result_of(capsys, ex.check_continuation_counts, continuation_counts)
    assert (result.outcome, result.params["count"]) == ("correct", 4)
    counting_the_first_token = lambda tokens: {**continuation_counts(tokens),  # noqa: E731
                                               tokens[0]: continuation_counts(tokens).get(
                                                   tokens[0], 0) + 1}
    result = result_of(capsys, ex.check_continuation_counts, counting_the_first_token)
    assert (result.outcome, result.code) == ("wrong", "returned")
