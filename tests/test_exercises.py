"""The exercise checkers: silence for nothing, a helpful hint for wrong answers, and "correct"
only for correct ones."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch

from course_utils import exercises as ex
from course_utils.tokenization import merge


def feedback(capsys, check, answer) -> str:
    assert check(answer) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one line of feedback"
    return out.strip()


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
    (ex.check_utf8_bytes, 21),
    (ex.check_pretokenize, ["I", "'ll", " pay", " $", "1", ",", "000", " for", " 2", " cats", "!"]),
    (ex.check_count_pairs, good_count_pairs),
    (ex.check_bpe_encode, good_bpe_encode),
    (ex.check_decode, good_decode),
    (ex.check_bigram_mle, TINY_BIGRAMS[("the", "dog")] / bigram_context_count("the")),
    (ex.check_add_one, (TINY_BIGRAMS[("dog", "cat")] + 1) / (bigram_context_count("dog") + len(set(TINY)))),
    (ex.check_perplexity, math.exp(-sum(map(math.log, [1 / 2, 1 / 4, 1 / 8, 1 / 2])) / 4)),
    (ex.check_continuation_counts, good_continuation_counts),
    (ex.check_distinct_trigrams, len({"abracadabra"[i:i + 3] for i in range(len("abracadabra") - 2)})),
    (ex.check_temperature, torch.tensor([2.0, 1.0, 0.0]).div(0.5).softmax(-1)[0].item()),
    (ex.check_nucleus_size, 3),
    (ex.check_repetition_penalty, [2.0 / 1.25, -1.0 * 1.25]),
    (ex.check_kv_cache_floats, 2 * 4 * 128 * 128),
    (ex.check_top_k_filter, lambda s, k: s.masked_fill(s < s.topk(k).values[:, -1:], float("-inf"))),
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
    assert feedback(capsys, check, answer).startswith("✓ correct")


@pytest.mark.parametrize(("check", "answer"), CHECKS, ids=lambda c: getattr(c, "__name__", ""))
def test_no_answer_is_not_attempted(capsys, check, answer):
    assert feedback(capsys, check, None).startswith("… not attempted yet")


@pytest.mark.parametrize(
    ("check", "answer", "hint"),
    [
        (ex.check_utf8_bytes, 7, "number of characters"),
        (ex.check_utf8_bytes, 14, "UTF-16"),
        (ex.check_utf8_bytes, 20, "not quite"),
        (ex.check_pretokenize, "I'll pay $1,000 for 2 cats!".split(" "), "join back"),
        (ex.check_pretokenize, ["I", "'ll ", "pay", " $", "1", ",", "000", " for", " 2", " cats", "!"],
         "spaces attach"),
        (ex.check_pretokenize, ["I", "'ll", " pay", " $1", ",", "000", " for", " 2", " cats", "!"],
         "first difference: you have ' $1'"),
        (ex.check_count_pairs, unweighted_count_pairs, "expected"),
        (ex.check_count_pairs, 42, "expected a function"),
        (ex.check_bpe_encode, bpe_encode_in_dict_order, "bpe_encode('aaabdaaabac'"),
        (ex.check_bpe_encode, lambda text, merges: 1 / 0, "raised ZeroDivisionError"),
        (ex.check_decode, decode_token_by_token, "raised UnicodeDecodeError"),
        (ex.check_bigram_mle, 0.1, "all 20 tokens"),
        (ex.check_bigram_mle, 0.5, "count the bigrams"),
        (ex.check_add_one, 0.0, "MLE"),
        (ex.check_add_one, 1 / 9, "keep the 2 observed"),
        (ex.check_perplexity, 1.75, "in bits"),
        (ex.check_perplexity, 4.0, "geometric mean"),
        (ex.check_continuation_counts, occurrence_counts, "continuation_counts(['San'"),
        (ex.check_distinct_trigrams, 9, "each distinct trigram once"),
        (ex.check_distinct_trigrams, 11, "number of characters"),
        (ex.check_temperature, torch.tensor([2.0, 1.0, 0.0]).softmax(-1)[0].item(), "temperature 1"),
        (ex.check_temperature, 0.5, "divide the logits"),
        (ex.check_nucleus_size, 2, "must reach p"),
        (ex.check_nucleus_size, 4, "not needed"),
        (ex.check_repetition_penalty, [1.6, -0.8], "more* likely"),
        (ex.check_repetition_penalty, [1.6], "give two logits"),
        (ex.check_kv_cache_floats, 4 * 128 * 128, "not both"),
        (ex.check_kv_cache_floats, 2 * 4 * 4 * 128 * 128, "number of heads"),
        (ex.check_top_k_filter, lambda s, k: s.masked_fill(s <= s.topk(k).values[:, -1:], float("-inf")),
         "returned [[-inf, 3.0, -inf, -inf]]"),
        (ex.check_top_k_filter, lambda s, k: s.topk(k).values, "expected"),
        (ex.check_attention_weights, [0.2119, 0.2119, 0.5761], "unscaled"),
        (ex.check_attention_weights, [0.3, 0.3, 0.3], "sum to 0.900"),
        (ex.check_attention_weights, [0.2, 0.3, 0.5], "not quite"),
        (ex.check_attention_weights, [0.5, 0.5], "three weights"),
        (ex.check_stable_softmax, naive_softmax, "softmax([1000.0, 1000.0]) returned [nan, nan]"),
        (ex.check_stable_softmax, lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum(),
         "softmax([[0.0, 0.0], [1000.0, 0.0]])"),  # one max and one sum for the whole array
        (ex.check_causal_mask, lambda T: torch.ones(T, T, dtype=torch.bool).triu(), "transposed"),
        (ex.check_causal_mask, lambda T: ~torch.ones(T, T, dtype=torch.bool).tril(), "inverted"),
        (ex.check_causal_mask, lambda T: torch.ones(T, T).tril(), "boolean"),
        (ex.check_split_heads, lambda x, n: x.view(x.shape[0], n, x.shape[1], -1), "mixes tokens"),
        (ex.check_split_heads, lambda x, n: x.view(x.shape[0], x.shape[1], n, -1), "expected shape"),
        (ex.check_gpt2_parameters, 124_439_808 + 50257 * 768, "tied"),
        (ex.check_gpt2_parameters, 124_439_808 - 1024 * 768, "wpe"),
        (ex.check_gpt2_parameters, 124_000_000, "not quite"),
        (ex.check_gd_step, 0.6, "along the gradient"),
        (ex.check_gd_step, 1.2, "factor 2"),
        (ex.check_gd_step, "1.4x", "give a number"),
        (ex.check_max_stable_lr, 0.1, "one step"),
        (ex.check_max_stable_lr, 0.4, "curvature"),
        (ex.check_bits_per_byte, 1.2, "nats per byte"),
        (ex.check_bits_per_byte, 3.0 / math.log(2), "bits per token"),
        (ex.check_initial_loss, 10.0, "log₂"),
        (ex.check_initial_loss, 5.0, "spreads probability evenly"),
        (ex.check_momentum_step, lambda p, g, buf, lr, m: (p - lr * g, g), "momentum_step(0.8"),
        (ex.check_momentum_step, lambda p, g, buf, lr, m: (p + lr * g, g), "momentum_step(1.0"),
    ],
)  # fmt: skip
def test_wrong_answers_get_a_hint(capsys, check, answer, hint):
    out = feedback(capsys, check, answer)
    assert out.startswith("✗") and hint in out
