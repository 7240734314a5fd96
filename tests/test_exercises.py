"""The exercise checks: silence for nothing, a helpful hint for wrong answers, and "correct"
only for correct ones. Tests compare result codes, never the English sentences."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch

from course_utils import exercises as ex
from course_utils.exercises.messages import MESSAGES
from course_utils.exercises.tokenizer_pitfalls import chat_ids
from exercise_judge import judge
from course_utils.tokenization import GPT2_SPLIT_PATTERN, merge


def good_bpe_encode(text, merges):
    ids = list(text.encode("utf-8"))
    while len(ids) >= 2:
        pair = min(zip(ids, ids[1:]), key=lambda p: merges.get(p, float("inf")))
        if pair not in merges:
            return ids
        ids = merge(ids, pair, merges[pair])
    return ids


def bpe_encode_in_dict_order(text, merges):
    ids = list(text.encode("utf-8"))
    for pair, new_id in reversed(list(merges.items())):  # wrong: ignores the merge ranks
        ids = merge(ids, pair, new_id)
    return ids


def good_count_pairs(chunk_counts):
    counts = Counter()
    for chunk, n in chunk_counts.items():
        for pair in zip(chunk, chunk[1:]):
            counts[pair] += n
    return counts


def unweighted_count_pairs(chunk_counts):
    return Counter(pair for chunk in chunk_counts for pair in zip(chunk, chunk[1:]))


def good_decode(ids, vocab):
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


def decode_token_by_token(ids, vocab):
    return "".join(vocab[i].decode("utf-8") for i in ids)


def stable_softmax(x):
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def naive_softmax(x):
    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)


def split_heads(x, n_head):
    B, T, C = x.shape
    return x.view(B, T, n_head, C // n_head).transpose(1, 2)


TINY = "the cat sat on the mat . the dog sat on the log . the cat saw the dog .".split()
TINY_BIGRAMS = Counter(zip(TINY, TINY[1:]))


def bigram_context_count(word):
    return sum(n for (left, _), n in TINY_BIGRAMS.items() if left == word)


def good_continuation_counts(tokens):
    return Counter(right for left, right in set(zip(tokens, tokens[1:])))


def occurrence_counts(tokens):  # wrong: counts occurrences, not distinct predecessors
    return Counter(tokens[1:])


CHECKS = [
    (ex.check_utf8_bytes, 15),
    (ex.check_pretokenize, ["I", "'ll", " pay", " $", "1", ",", "000", " for", " 2", " cats", "!"]),
    (ex.check_count_pairs, good_count_pairs),
    (ex.check_bpe_encode, good_bpe_encode),
    (ex.check_decode, good_decode),
    (ex.check_digit_pattern, GPT2_SPLIT_PATTERN.replace(r" ?\p{N}+", r" ?\p{N}")),
    (ex.check_chat_ids, chat_ids),
    (ex.check_bigram_mle, TINY_BIGRAMS[(".", "the")] / bigram_context_count(".")),
    (ex.check_add_one,
     (TINY_BIGRAMS[("dog", "cat")] + 1) / (bigram_context_count("dog") + len(set(TINY)))),
    (ex.check_perplexity, math.exp(-sum(map(math.log, [1 / 2, 1 / 4, 1 / 8, 1 / 2])) / 4)),
    (ex.check_continuation_counts, good_continuation_counts),
    (ex.check_distinct_trigrams,
     len({"abracadabra"[i:i + 3] for i in range(len("abracadabra") - 2)})),
    (ex.check_temperature, torch.tensor([2.0, 1.0, 0.0]).div(0.5).softmax(-1)[0].item()),
    (ex.check_nucleus_size, 3),
    (ex.check_repetition_penalty, [2.0 / 1.25, -1.0 * 1.25]),
    (ex.check_kv_cache_floats, 2 * 16 * 8 * 64 * 4096),
    (ex.check_top_k_filter,
     lambda s, k: s.masked_fill(s < s.topk(k).values[:, -1:], float("-inf"))),
    (ex.check_attention_weights, [0.2741, 0.2741, 0.4519]),
    (ex.check_stable_softmax, stable_softmax),
    (ex.check_causal_mask, lambda T: torch.ones(T, T, dtype=torch.bool).tril()),
    (ex.check_split_heads, split_heads),
    (ex.check_gpt2_parameters, 124_439_808),
    (ex.check_gd_step, 1.4),
    (ex.check_max_stable_lr, 0.2),
    (ex.check_bits_per_byte, 3.0 / (2.5 * math.log(2))),
    (ex.check_initial_loss, math.log(1024)),
    (ex.check_momentum_step, lambda p, g, buf, lr, m: (p - lr * (g if buf is None else m * buf + g),
                                                       g if buf is None else m * buf + g)),
]


@pytest.mark.parametrize(("check", "answer"), CHECKS, ids=lambda c: getattr(c, "__name__", ""))
def test_right_answers_are_correct(capsys, check, answer):
    result = judge(capsys, check, answer)
    assert result.outcome == "correct" and result.text.startswith("✓ correct"), result.text


@pytest.mark.parametrize(("check", "answer"), CHECKS, ids=lambda c: getattr(c, "__name__", ""))
def test_no_answer_is_not_attempted(capsys, check, answer):
    result = judge(capsys, check, None)
    assert (result.code, result.outcome) == ("not_attempted", "not_attempted")
    assert result.text == "… " + ex.NOT_ATTEMPTED  # the line every lesson notebook shows


@pytest.mark.parametrize(
    ("check", "answer", "code", "params"),
    [
        (ex.check_utf8_bytes, 9, "utf8_bytes.characters", {}),
        (ex.check_utf8_bytes, 20, "utf8_bytes.utf16", {}),
        (ex.check_utf8_bytes, 14, "utf8_bytes.emoji", {}),
        (ex.check_utf8_bytes, 16, "utf8_bytes.accent", {}),
        (ex.check_utf8_bytes, 27, "utf8_bytes.all_three", {}),
        (ex.check_utf8_bytes, 21, "utf8_bytes.not_quite", {"answer": 21}),
        (ex.check_pretokenize, "I'll pay $1,000 for 2 cats!".split(" "), "pretokenize.join_back",
         {}),
        (ex.check_pretokenize,
         ["I", "'ll ", "pay", " $", "1", ",", "000", " for", " 2", " cats", "!"],
         "pretokenize.space_at_end", {}),
        (ex.check_pretokenize, ["I", "'ll", " pay", " $1", ",", "000", " for", " 2", " cats", "!"],
         "pretokenize.first_difference", {"got": "' $1'", "want": "' $'"}),
        (ex.check_pretokenize, "I'll pay $1,000 for 2 cats!", "pretokenize.not_a_list",
         {"type": "str"}),
        (ex.check_pretokenize, ["I", 1], "pretokenize.not_a_str", {"chunk": "1"}),
        (ex.check_count_pairs, unweighted_count_pairs, "returned", {"name": "count_pairs"}),
        (ex.check_count_pairs, 42, "not_a_function", {"type": "int"}),
        (ex.check_bpe_encode, bpe_encode_in_dict_order, "returned",
         {"args": "'aaabdaaabac', {(97, 97): 256, (97, 98): 257, (256, 257): 258}"}),
        (ex.check_bpe_encode, lambda text, merges: 1 / 0, "raised",
         {"error": "ZeroDivisionError: division by zero"}),
        (ex.check_decode, decode_token_by_token, "raised", {"name": "decode"}),
        (ex.check_bigram_mle, 0.1, "bigram_mle.all_tokens", {}),
        (ex.check_bigram_mle, 2 / 3, "bigram_mle.context_occurrences", {}),
        (ex.check_bigram_mle, 0.5, "bigram_mle.not_quite", {}),
        (ex.check_add_one, 0.0, "add_one.mle", {}),
        (ex.check_add_one, 1 / 9, "add_one.keep_observed", {}),
        (ex.check_add_one, 1 / 12, "add_one.unknown", {}),
        (ex.check_perplexity, 1.75, "perplexity.bits", {}),
        (ex.check_perplexity, 4.0, "perplexity.mean_inverse", {}),
        (ex.check_continuation_counts, occurrence_counts, "returned",
         {"args": "['San', 'Francisco', 'San', 'Francisco', 'in', 'San', 'Francisco']"}),
        (ex.check_distinct_trigrams, 9, "distinct_trigrams.every_position", {}),
        (ex.check_distinct_trigrams, 11, "distinct_trigrams.characters", {}),
        (ex.check_distinct_trigrams, 19, "distinct_trigrams.all_orders", {}),
        (ex.check_temperature, torch.tensor([2.0, 1.0, 0.0]).softmax(-1)[0].item(),
         "temperature.temperature_one", {}),
        (ex.check_temperature, 0.5, "temperature.not_quite", {}),
        (ex.check_temperature, torch.tensor(0.8668), "temperature.correct", {}),  # no .item()
        (ex.check_nucleus_size, 2, "nucleus_size.two", {}),
        (ex.check_nucleus_size, 4, "nucleus_size.four", {}),
        (ex.check_nucleus_size, True, "not_a_number", {"type": "bool"}),
        (ex.check_repetition_penalty, [1.6, -0.8], "repetition_penalty.negative_divided", {}),
        (ex.check_repetition_penalty, [1.6], "repetition_penalty.count", {"count": 1}),
        (ex.check_repetition_penalty, "1.6, -1.25", "repetition_penalty.not_numbers", {}),
        (ex.check_kv_cache_floats, 16 * 8 * 64 * 4096, "kv_cache_floats.one_of_two", {}),
        (ex.check_kv_cache_floats, 2 * 24 * 64 * 4096 * 16, "kv_cache_floats.query_heads", {}),
        (ex.check_kv_cache_floats, 2 * 16 * 8 * 64 * 4096 * 2, "kv_cache_floats.bytes", {}),
        (ex.check_kv_cache_floats, 2 * 8 * 64 * 4096, "kv_cache_floats.one_layer", {}),
        (ex.check_top_k_filter,
         lambda s, k: s.masked_fill(s <= s.topk(k).values[:, -1:], float("-inf")),
         "returned", {"got": "[[-inf, 3.0, -inf, -inf]]"}),
        (ex.check_top_k_filter, lambda s, k: s.topk(k).values, "returned", {"got": "[[3.0, 2.0]]"}),
        (ex.check_attention_weights, [0.2119, 0.2119, 0.5761], "attention_weights.unscaled", {}),
        (ex.check_attention_weights, [0.3, 0.3, 0.3], "attention_weights.sum", {}),
        (ex.check_attention_weights, [0.2, 0.3, 0.5], "attention_weights.not_quite", {}),
        (ex.check_attention_weights, [0.5, 0.5], "attention_weights.count", {"count": 2}),
        (ex.check_attention_weights, np.array([0.2741, 0.2741, 0.4519]),
         "attention_weights.correct", {}),
        (ex.check_stable_softmax, naive_softmax, "returned",
         {"args": "[1000.0, 1000.0]", "got": "[nan, nan]"}),
        (ex.check_stable_softmax, lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum(),
         "returned", {"args": "[[0.0, 0.0], [1000.0, 0.0]]"}),  # one max and one sum for all rows
        (ex.check_causal_mask, lambda T: torch.ones(T, T, dtype=torch.bool).triu(),
         "causal_mask.transposed", {}),
        (ex.check_causal_mask, lambda T: ~torch.ones(T, T, dtype=torch.bool).tril(),
         "causal_mask.inverted", {}),
        (ex.check_causal_mask, lambda T: torch.ones(T, T).tril(), "causal_mask.not_bool",
         {"dtype": "torch.float32"}),
        (ex.check_split_heads, lambda x, n: x.view(x.shape[0], n, x.shape[1], -1),
         "split_heads.mixes_tokens", {}),
        (ex.check_split_heads, lambda x, n: x.view(x.shape[0], x.shape[1], n, -1),
         "split_heads.shape", {"shape": "(2, 3, 4, 2)"}),
        (ex.check_split_heads, lambda x: x, "split_heads.raised", {}),
        (ex.check_gpt2_parameters, 124_439_808 + 50257 * 768, "gpt2_parameters.lm_head", {}),
        (ex.check_gpt2_parameters, 124_439_808 - 1024 * 768, "gpt2_parameters.wpe", {}),
        (ex.check_gpt2_parameters, 124_000_000, "gpt2_parameters.not_quite",
         {"answer": 124_000_000}),
        (ex.check_gpt2_parameters, 10**400, "too_large", {}),
        (ex.check_gd_step, 0.6, "gd_step.along_gradient", {}),
        (ex.check_gd_step, 1.2, "gd_step.factor_two", {}),
        (ex.check_gd_step, "1.4x", "not_a_number", {"type": "str"}),
        (ex.check_gd_step, "1.4", "not_a_number", {"type": "str"}),
        (ex.check_gd_step, float("nan"), "not_finite", {"value": "nan"}),
        (ex.check_max_stable_lr, 0.1, "max_stable_lr.one_step", {}),
        (ex.check_max_stable_lr, 0.4, "max_stable_lr.curvature", {}),
        (ex.check_bits_per_byte, 1.2, "bits_per_byte.nats", {}),
        (ex.check_bits_per_byte, 3.0 / math.log(2), "bits_per_byte.per_token", {}),
        (ex.check_initial_loss, 10.0, "initial_loss.bits", {}),
        (ex.check_initial_loss, 5.0, "initial_loss.not_quite", {}),
        (ex.check_momentum_step, lambda p, g, buf, lr, m: (p - lr * g, g), "returned",
         {"args": "0.8, 1.0, 2.0, 0.1, 0.9"}),
        (ex.check_momentum_step, lambda p, g, buf, lr, m: (p + lr * g, g), "returned",
         {"args": "1.0, 2.0, None, 0.1, 0.9"}),
    ],
)  # fmt: skip
def test_wrong_answers_get_a_hint(capsys, check, answer, code, params):
    result = judge(capsys, check, answer)
    assert result.code == code, result.text
    assert result.outcome == ("correct" if code.endswith(".correct") else "wrong")
    assert params.items() <= result.params.items(), result.params
    assert result.code in MESSAGES["en"]
