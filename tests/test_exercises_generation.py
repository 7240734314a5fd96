"""Notebook 05's exercises that build something: prompt lookup's draft (checked against
course_utils' find_draft), a min-p filter (checked against transformers' MinPLogitsWarper; an
exercise of an earlier version of the notebook) and one beam-search step (checked against
course_utils' beam_search). The right answer passes, each usual mistake gets its own hint (or
the case it fails on), and nonsense never raises."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils import exercises as ex
from course_utils.exercises.messages import MESSAGES
from exercise_judge import judge


def min_p_filter(scores, min_p):
    probs = scores.softmax(dim=-1)
    return scores.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), float("-inf"))


def find_draft(ids, max_ngram_size, num_draft_tokens):
    for n in range(min(max_ngram_size, len(ids) - 1), 0, -1):
        for start in range(len(ids) - n):
            if ids[start:start + n] == ids[-n:]:
                return ids[start + n:start + n + num_draft_tokens]
    return []


def most_recent_draft(ids, max_ngram_size, num_draft_tokens):
    for n in range(min(max_ngram_size, len(ids) - 1), 0, -1):
        for start in reversed(range(len(ids) - n)):
            if ids[start:start + n] == ids[-n:]:
                return ids[start + n:start + n + num_draft_tokens]
    return []


def beam_step(beam_scores, log_probs, num_beams):
    V = log_probs.size(1)
    scores, index = (beam_scores[:, None] + log_probs).flatten().topk(num_beams)
    return scores, index // V, index % V


def test_the_new_checks_are_exported_and_their_sentences_exist():
    assert {"check_min_p_filter", "check_find_draft", "check_beam_step"} <= set(ex.__all__)
    for code in ("min_p_filter.correct", "min_p_filter.logits", "beam_step.correct",
                 "beam_step.per_beam", "beam_step.order"):
        assert code in MESSAGES["en"]


@pytest.mark.parametrize("answer", [min_p_filter, lambda s, m: min_p_filter(s.double(), m)])
def test_a_right_min_p_filter_passes(capsys, answer):
    result = judge(capsys, ex.check_min_p_filter, answer)
    assert (result.outcome, result.code) == ("correct", "min_p_filter.correct")


@pytest.mark.parametrize("answer, code", [
    (lambda s, m: s.masked_fill(s < m * s.amax(-1, keepdim=True), -math.inf),
     "min_p_filter.logits"),
    (lambda s, m: s.masked_fill(s.softmax(-1) < m, -math.inf), "min_p_filter.unscaled"),
    (lambda s, m: min_p_filter(s, m).softmax(-1), "min_p_filter.probabilities"),
    (lambda s, m: torch.where(min_p_filter(s, m).isinf(), 0.0, s), "min_p_filter.zero"),
    (lambda s, m: s, "min_p_filter.kept_wrong"),
    (lambda s, m: s[:, :1], "min_p_filter.shape"),
])
def test_usual_min_p_mistakes_get_their_hint(capsys, answer, code):
    result = judge(capsys, ex.check_min_p_filter, answer)
    assert (result.outcome, result.code) == ("wrong", code)


@pytest.mark.parametrize("answer", [
    find_draft, lambda ids, n, k: torch.tensor(find_draft(ids, n, k), dtype=torch.long),
    lambda ids, n, k: tuple(find_draft(ids, n, k))])
def test_a_right_find_draft_passes(capsys, answer):
    result = judge(capsys, ex.check_find_draft, answer)
    assert (result.outcome, result.code) == ("correct", "all_cases_pass")


@pytest.mark.parametrize("answer", [
    most_recent_draft,  # transformers takes the first occurrence
    lambda ids, n, k: find_draft(ids, n, len(ids)),  # longer than num_draft_tokens
    lambda ids, n, k: find_draft(ids, n, k) if n == 1 or len(ids) < 3 else (  # no fallback
        next((ids[s + n:s + n + k] for s in range(len(ids) - n) if ids[s:s + n] == ids[-n:]),
             [])),
    lambda ids, n, k: next((ids[s + 1:s + 1 + k] for s in range(len(ids)) if ids[s] == ids[-1]),
                           []),  # the last token matches itself
], ids=["most-recent", "too-long", "no-fallback", "self-match"])
def test_usual_find_draft_mistakes_fail_on_a_case(capsys, answer):
    result = judge(capsys, ex.check_find_draft, answer)
    assert (result.outcome, result.code) == ("wrong", "returned")


def test_a_right_beam_step_passes_and_equals_beam_search(capsys):
    result = judge(capsys, ex.check_beam_step, beam_step)
    assert (result.outcome, result.code) == ("correct", "beam_step.correct")


def no_sum(beam_scores, log_probs, num_beams):
    return beam_step(torch.zeros_like(beam_scores), log_probs, num_beams)


def per_beam(beam_scores, log_probs, num_beams):
    best, tokens = (beam_scores[:, None] + log_probs).max(dim=-1)
    order = best.argsort(descending=True)
    return best[order], order, tokens[order]


def swapped(beam_scores, log_probs, num_beams):
    scores, beams, tokens = beam_step(beam_scores, log_probs, num_beams)
    V = log_probs.size(1)
    index = beams * V + tokens
    return scores, index % V, index // V


def worst_first(beam_scores, log_probs, num_beams):
    return tuple(part.flip(0) for part in beam_step(beam_scores, log_probs, num_beams))


def worst_candidates(beam_scores, log_probs, num_beams):
    V = log_probs.size(1)
    scores, index = (beam_scores[:, None] + log_probs).flatten().topk(num_beams, largest=False)
    return scores, index // V, index % V


@pytest.mark.parametrize("answer, code", [
    (no_sum, "beam_step.no_sum"), (per_beam, "beam_step.per_beam"),
    (swapped, "beam_step.swapped"), (worst_first, "beam_step.order"),
    (worst_candidates, "beam_step.not_quite"),
    (lambda s, p, n: (s, s), "beam_step.not_three"),
    (lambda s, p, n: ([0.0], [0], [1]), "beam_step.shape"),
])
def test_usual_beam_step_mistakes_get_their_hint(capsys, answer, code):
    result = judge(capsys, ex.check_beam_step, answer)
    assert (result.outcome, result.code) == ("wrong", code)


@pytest.mark.parametrize("check", [ex.check_min_p_filter, ex.check_find_draft,
                                   ex.check_beam_step])
@pytest.mark.parametrize("answer", [
    "def f(): pass", 42, lambda *args: 1 / 0, lambda *args: print("x\n" * 10_000),
    lambda *args: None, lambda *args: ("a", "b", "c"), lambda *args: torch.full((9, 9), math.nan),
])
def test_nonsense_never_raises_and_is_never_correct(capsys, check, answer):
    result = judge(capsys, check, answer)
    assert result.outcome in ("wrong", "error") and result.outcome != "correct"


def test_not_attempted(capsys):
    for check in (ex.check_min_p_filter, ex.check_find_draft, ex.check_beam_step):
        assert judge(capsys, check, None).code == "not_attempted"


@pytest.mark.parametrize("check", [ex.check_min_p_filter, ex.check_find_draft,
                                   ex.check_beam_step], ids=lambda check: check.__name__)
def test_the_hostile_battery_gets_one_line_and_a_code(capsys, check):
    from tests.test_exercises_hostile import ANSWERS, prints_a_lot

    for label, answer in ANSWERS.items():
        result = judge(capsys, check, answer)
        assert result.outcome == "wrong", (label, result.text)
        assert result.code in MESSAGES["en"], (label, result.code)
        if not callable(answer):
            assert result.code == "not_a_function", (label, result.text)
    result = judge(capsys, check, prints_a_lot)
    assert result.text.endswith(MESSAGES["en"]["hidden_output"].format(lines=20_000))
    assert result.outcome == "wrong"


@pytest.mark.parametrize("check, right", [(ex.check_min_p_filter, min_p_filter),
                                          (ex.check_find_draft, find_draft),
                                          (ex.check_beam_step, beam_step)])
def test_mutating_the_arguments_does_not_spoil_the_next_answer(capsys, check, right):
    def mutates(*args):
        for arg in args:
            if isinstance(arg, torch.Tensor):
                arg.fill_(math.nan)
        return args[0]

    assert judge(capsys, check, mutates).outcome == "wrong"
    assert judge(capsys, check, right).outcome == "correct"
