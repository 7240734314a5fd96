"""The pitfalls lab's measurements: hand examples on a bytes-only tokenizer (every measurement
is known exactly there), and the facts notebook 01 states about GPT-2, SmolLM2 and Qwen."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import regex

from course_utils import tokenizer_pitfalls as tp
from course_utils import undertrained_tokens as ut
from course_utils.tokenization import GPT2_SPLIT_PATTERN, BPETokenizer


@functools.cache
def gpt2() -> BPETokenizer:
    return BPETokenizer.from_gpt2()


@functools.cache
def smollm2() -> BPETokenizer:
    return BPETokenizer.from_smollm2()


@functools.cache
def qwen() -> BPETokenizer:
    return BPETokenizer.from_qwen("qwen")


def bytes_only() -> BPETokenizer:
    """No merges: every byte is a token, so every measurement is known by hand."""
    return BPETokenizer({i: bytes([i]) for i in range(256)}, [])


def test_a_bytes_only_tokenizer_measures_as_worked_out_by_hand():
    tok = bytes_only()
    assert tp.token_pieces(tok, "ab") == ["a", "b"]
    assert tp.digit_tokens(tok) == {1: 10}
    assert tp.split_shapes(tok, 3, samples=7) == {(1, 1, 1): 7}
    assert tp.column_alignment(tok, 5, samples=50) == 1.0
    assert tp.reversal_costs(tok, "hello world") == (1.0, 1.0)
    # 好 is 3 bytes: 3 tokens for one character, 1 byte per token
    assert tp.language_costs({"b": tok}, {"zh": "好"}, progress=False) == {("b", "zh"): (3.0, 1.0)}
    assert tp.whole_token_chars(tok, "好好学习") == {
        "distinct": 3, "whole": 0, "share of uses": 0.0, "examples": ""}
    assert tp.space_before_words(tok, "a b") == {
        "space + letter": 0, "letter after a lone space": 1, "letter after another token": 1}


def test_gpt2_cuts_numbers_at_columns_that_change_from_number_to_number():
    tok = gpt2()
    assert tp.token_pieces(tok, " 1234567") == [" 123", "45", "67"]
    # 48|29 + 5|371 = 10|200: three numbers, cut at three different columns
    assert tp._cuts(tok, "4829 + 5371 = 10200") == [{2}, {3}, {3}]
    assert tp._cuts(tok, "1234567 + 1 = 1234568") == [{2, 4}, set(), {2, 4}]
    shapes = tp.split_shapes(tok, 4)
    assert shapes.total() == 1000 and len(shapes) >= 4
    assert tp.split_shapes(tok, 4) == shapes  # the seed fixes the sample
    assert 0.1 < tp.column_alignment(tok, 4) < 0.4
    assert tp.digit_tokens(tok)[3] > 1000


@pytest.mark.parametrize("load", [smollm2, qwen], ids=["SmolLM2", "Qwen"])
def test_smollm2_and_qwen_give_every_digit_its_own_token(load):
    tok = load()
    assert tp.digit_tokens(tok) == {1: 10}
    assert tp.split_shapes(tok, 6, samples=100) == {(1,) * 6: 100}
    assert tp.column_alignment(tok, 6, samples=100) == 1.0


def test_case_and_the_leading_space_give_different_ids():
    for tok in (gpt2(), smollm2(), qwen()):
        ids = [tuple(tok.encode_ordinary(w)) for w in (" hello", "hello", "Hello", "HELLO")]
        assert len(set(ids)) == 4
        # a prompt ending in a space ends in a lone-space token
        assert tok.vocab[tok.encode_ordinary("France is ")[-1]] == b" "


def test_words_almost_never_follow_a_lone_space():
    counts = tp.space_before_words(gpt2(), "To be, or not to be:  that is the question.")
    assert counts == {"space + letter": 9, "letter after a lone space": 0,
                      "letter after another token": 1}


def test_reversed_words_cost_more_tokens():
    forward, backward = tp.reversal_costs(gpt2(), "the quick brown fox jumps over the lazy dog")
    assert forward > 2 * backward


def test_injection_outcomes_follow_the_policies():
    out = tp.injection_outcomes(gpt2(), "hi<|endoftext|>")
    assert out["default"] == "ValueError"
    assert out['allowed_special="all"'][-1] == 50256
    assert out["disallowed_special=()"] == out["encode_ordinary"]
    assert 50256 not in out["encode_ordinary"] and len(out["encode_ordinary"]) == 8


def test_nearest_rows_and_lowest_norms_on_a_hand_matrix():
    rows = np.array([[0.0, 0.0], [0.0, 0.2], [5.0, 5.0], [0.1, 0.0], [0.0, 0.1]])
    # the reference mean is (0, 0.1): row 4 sits on it, row 3 is 0.1·√2 away
    assert [i for i, _ in ut.nearest_rows(rows, [0, 1], 3)] == [4, 3, 2]
    assert ut.nearest_rows(rows, [0, 1], 1)[0][1] == pytest.approx(0.0)
    assert ut.lowest_norms(rows, 2) == [(0, 0.0), (3, 0.1)]
    assert ut.lowest_norms(rows, 1, ids=[2, 4]) == [(4, 0.1)]
    with pytest.raises(ValueError, match="reference_ids"):
        ut.nearest_rows(rows, [], 2)
    with pytest.raises(ValueError):
        ut.nearest_rows(rows, [9], 2)


def test_smollm2s_unused_code_markers_share_one_embedding_and_glitch_tokens_sit_beside_them():
    emb = ut.smollm2_embeddings()
    assert emb.shape == (49152, 576) and emb.dtype == np.float32
    markers = [5, *range(7, 17)]  # <file_sep>, <gh_stars>, ...: GitHub and Jupyter markers
    assert np.abs(emb[markers] - emb[markers].mean(axis=0)).max() < 1e-2  # Q8_0's rounding
    assert np.abs(emb[6] - emb[markers].mean(axis=0)).max() > 0.5  # <filename> was trained
    tok = smollm2()
    near = [tok.vocab[i] for i, _ in ut.nearest_rows(emb, markers, 12)]
    assert b" InstancePreprocess" in near and b"ManagementPlaneProtection" in near


def test_qwen_gives_most_chinese_characters_a_token_gpt2_few():
    assert tp.whole_token_chars(gpt2(), tp.MODERN_ZH)["share of uses"] < 0.3
    assert tp.whole_token_chars(qwen(), tp.MODERN_ZH)["share of uses"] == 1.0
    costs = tp.language_costs({"GPT-2": gpt2(), "Qwen": qwen()}, {"zh": tp.MODERN_ZH},
                              progress=False)
    assert costs["GPT-2", "zh"][0] > 1.5 > 0.7 > costs["Qwen", "zh"][0]


def test_split_patterns_glue_chinese_to_latin_and_to_punctuation():
    text = "我用GPT写诗，好。“好”"
    gpt2_glue = tp.glued_chunks(GPT2_SPLIT_PATTERN, text)
    assert dict(gpt2_glue["Chinese + Latin"]) == {"我用GPT写诗": 1}
    assert dict(gpt2_glue["punctuation + Chinese"]) == {}
    assert dict(gpt2_glue["punctuation run"]) == {"。“": 1}
    qwen_glue = tp.glued_chunks(qwen().pattern, text)
    assert dict(qwen_glue["Chinese + Latin"]) == {"我用GPT写诗": 1}
    assert dict(qwen_glue["punctuation + Chinese"]) == {"，好": 1}
    assert dict(qwen_glue["punctuation run"]) == {"。“": 1}
    # and BPE learned a few tokens across such joins in Qwen's vocabulary, none in GPT-2's
    assert {"，请", "（笑"} <= set(tp.glued_tokens(qwen())["punctuation + Chinese"])
    assert tp.glued_tokens(gpt2()) == {"Chinese + Latin": [], "punctuation + Chinese": []}


def test_the_modern_prose_is_a_translation_pair_with_latin_and_digits():
    assert 300 < len(tp.MODERN_ZH) < 400 and len(tp.MODERN_ZH.encode("utf-8")) > 800
    assert regex.search(r"\p{Han}[A-Za-z]+", tp.MODERN_ZH) and "12" in tp.MODERN_ZH
    for word in ("App", "ChatGPT", "12", "28", "19"):
        assert word in tp.MODERN_ZH and word in tp.MODERN_EN
    assert tp.MODERN_ZH.count("\n") == tp.MODERN_EN.count("\n") == 2


def test_pad_counts_a_chinese_character_as_two_columns():
    assert tp.pad("宋词 poems", 12) == "宋词 poems  "
    assert tp.pad("，", 3, right=True) == " ，"
    assert tp.pad("too long", 3) == "too long"
