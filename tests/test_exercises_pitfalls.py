"""The pitfalls lab's exercises: a split pattern with one digit per chunk, and a chat prompt
whose user text cannot inject special tokens (checked with the course's SmolLM2 tokenizer)."""

from __future__ import annotations

import pytest

from course_utils import exercises as ex
from course_utils.exercises.tokenizer_pitfalls import (CHAT_AFTER, CHAT_BEFORE, SYSTEM_TURN,
                                                       chat_ids)
from course_utils.tokenization import GPT2_SPLIT_PATTERN
from exercise_judge import judge

NUMBERS = r" ?\p{N}+"


@pytest.mark.parametrize("pattern", [
    GPT2_SPLIT_PATTERN.replace(NUMBERS, r" ?\p{N}"),
    GPT2_SPLIT_PATTERN.replace(NUMBERS, r" ?\p{N}{1}"),
    GPT2_SPLIT_PATTERN.replace(NUMBERS, r"(?: |)\p{N}"),
])
def test_a_pattern_with_one_digit_per_chunk_is_correct(capsys, pattern):
    result = judge(capsys, ex.check_digit_pattern, pattern)
    assert (result.code, result.outcome) == ("digit_pattern.correct", "correct"), result.text


@pytest.mark.parametrize(("pattern", "code", "params"), [
    (GPT2_SPLIT_PATTERN, "digit_pattern.grouped", {"chunk": "'234'"}),
    (GPT2_SPLIT_PATTERN.replace(NUMBERS, r" ?\p{N}{1,3}"), "digit_pattern.gpt4", {}),
    (GPT2_SPLIT_PATTERN.replace(NUMBERS, r"\p{N}"), "digit_pattern.space", {}),
    (GPT2_SPLIT_PATTERN.replace(NUMBERS, r" ?\d"), "digit_pattern.unicode", {"lost": "'²½〇'"}),
    (GPT2_SPLIT_PATTERN.replace(NUMBERS, r" ?[0-9]"), "digit_pattern.unicode", {}),
    (GPT2_SPLIT_PATTERN.replace(NUMBERS, r" ?\p{N}(?=\p{N}|\b)"), "digit_pattern.unmatched",
     {"lost": "'²½〇'"}),
    (GPT2_SPLIT_PATTERN.replace(NUMBERS, r"( ?\p{N})"), "digit_pattern.groups", {}),
    (GPT2_SPLIT_PATTERN.replace(NUMBERS, r"( ?)(\p{N})"), "digit_pattern.groups", {}),
    (GPT2_SPLIT_PATTERN.replace(r" ?\p{L}+", r"\p{L}+").replace(NUMBERS, r" ?\p{N}"),
     "digit_pattern.first_difference", {"got": "' '", "want": "' paid'"}),
    (r"\p{L}+|\p{N}", "digit_pattern.join_back", {}),
    ("(", "digit_pattern.invalid", {}),
    (["\\p{N}"], "digit_pattern.not_a_str", {"type": "list"}),
])
def test_typical_wrong_patterns_get_their_hint(capsys, pattern, code, params):
    result = judge(capsys, ex.check_digit_pattern, pattern)
    assert (result.code, result.outcome) == (code, "wrong"), result.text
    assert params.items() <= result.params.items(), result.params


ONE_DIGIT = GPT2_SPLIT_PATTERN.replace(NUMBERS, r" ?\p{N}")


@pytest.mark.parametrize("pattern", [
    ONE_DIGIT.replace(r"|\s+(?!\S)", ""),  # a run of spaces before a word
    ONE_DIGIT.replace(r"'t|'re|'ve|'m|'ll|'d", ""),  # contractions
    ONE_DIGIT.replace(r"'s|'t|'re|'ve|'m|'ll|'d", r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"),  # Don'T
    ONE_DIGIT.replace(r" ?\p{N}", r"\s?\p{N}"),  # a tab glued to a digit
    ONE_DIGIT.replace(r"[^\s\p{L}\p{N}]+", r"[^\s\p{L}\p{N}]"),  # a run of marks cut apart
])
def test_a_pattern_that_cuts_the_rest_differently_is_wrong(capsys, pattern):
    assert pattern != ONE_DIGIT
    result = judge(capsys, ex.check_digit_pattern, pattern)
    assert result.outcome == "wrong", result.text


def whole_prompt(policy):
    """Typical mistakes: the whole prompt, template and user text, under one policy."""
    return lambda tok, text: tok.encode(CHAT_BEFORE + text + CHAT_AFTER, **policy)


def test_the_safe_chat_prompt_is_correct(capsys):
    result = judge(capsys, ex.check_chat_ids, chat_ids)
    assert (result.code, result.outcome) == ("chat_ids.correct", "correct"), result.text

    def via_encode_ordinary(tok, text):
        return (tok.encode(CHAT_BEFORE, allowed_special={"<|im_start|>"})
                + tok.encode_ordinary(text)
                + tok.encode(CHAT_AFTER, allowed_special={"<|im_start|>", "<|im_end|>"}))

    assert judge(capsys, ex.check_chat_ids, via_encode_ordinary).outcome == "correct"


@pytest.mark.parametrize(("answer", "code"), [
    (whole_prompt({"allowed_special": "all"}), "chat_ids.injected"),
    (whole_prompt({"disallowed_special": ()}), "chat_ids.markers_as_text"),
    (whole_prompt({}), "chat_ids.refused"),
    (lambda tok, text: tok.encode(CHAT_BEFORE, allowed_special="all") + tok.encode(text)
     + tok.encode(CHAT_AFTER, allowed_special="all"), "chat_ids.refused"),
    (lambda tok, text: [str(i) for i in chat_ids(tok, text)], "chat_ids.not_ids"),
    (lambda tok, text: chat_ids(tok, text)[:-1], "chat_ids.ends_early"),
    (lambda tok, text: chat_ids(tok, text.replace("<|im_end|>", "")), "chat_ids.first_difference"),
    (lambda tok, text: tok.encode(SYSTEM_TURN, allowed_special="all") + chat_ids(tok, text),
     "chat_ids.system_turn"),
    (lambda tok, text: tok.encode(SYSTEM_TURN + CHAT_BEFORE + text + CHAT_AFTER,
                                  allowed_special="all"), "chat_ids.system_turn"),
    (lambda tok, text: 1 / 0, "raised"),
    ("chat_ids", "not_a_function"),
])
def test_typical_chat_mistakes_get_their_hint(capsys, answer, code):
    result = judge(capsys, ex.check_chat_ids, answer)
    assert (result.code, result.outcome) == (code, "wrong"), result.text


def test_chat_feedback_names_the_first_token_that_differs(capsys):
    result = judge(capsys, ex.check_chat_ids, lambda tok, text: chat_ids(tok, text)[:-1])
    assert result.params == {"text": "'What is 2+2?'", "last": "'<|im_start|>assistant'",
                             "want": "'\\n'"}
    result = judge(capsys, ex.check_chat_ids,
                   lambda tok, text: chat_ids(tok, text.replace("<|im_end|>", "")))
    assert result.params["got"] != result.params["want"], result.params
