"""Bad inputs for the n-gram models of notebook 02: course_utils.ngrams and ngram_counts."""

from __future__ import annotations

import math

import numpy as np
import torch
from bad_inputs import bad

from course_utils.ngram_counts import NGramCounts
from course_utils.ngrams import NGramLM

_CHARS = NGramLM(2, "kneser_ney").fit("abracadabra")
_WORDS = NGramLM(2, "modified_kneser_ney").fit("the cat sat on the mat".split())
_UNFITTED = NGramLM(3, "kneser_ney")
_IDS = NGramLM(2, "add_k").fit([1, 2, 1, 2, 3])
_META = torch.tensor(1, device="meta")
_TEXT = "the cat sat on the mat"


def _fit(tokens: object, vocab: object = None, **kwargs: object) -> NGramLM:
    return NGramLM(3, "kneser_ney").fit(tokens, vocab=vocab, **kwargs)


CASES = [
    # The model's settings
    bad("NGramLM(order=0)", lambda: NGramLM(0), ValueError, "order", ">= 1", "got 0"),
    bad("NGramLM(order=True)", lambda: NGramLM(True), TypeError, "order", "bool"),
    bad("NGramLM(order=2.0)", lambda: NGramLM(2.0), TypeError, "order", "2.0"),
    bad("NGramLM(smoothing=typo)", lambda: NGramLM(3, "kneser-ney"), ValueError, "smoothing",
        "'kneser_ney'", "'kneser-ney'"),
    bad("NGramLM(smoothing=None)", lambda: NGramLM(3, None), ValueError, "smoothing", "None"),
    bad("NGramLM(k=nan)", lambda: NGramLM(2, "add_k", k=math.nan), ValueError, "k", "nan"),
    bad("NGramLM(k=inf)", lambda: NGramLM(2, "add_k", k=math.inf), ValueError, "k", "inf"),
    bad("NGramLM(k=0)", lambda: NGramLM(2, "add_k", k=0), ValueError, "k", "> 0"),
    bad("NGramLM(k=True)", lambda: NGramLM(2, "add_k", k=True), TypeError, "k", "bool"),
    bad("NGramLM(k with kneser_ney)", lambda: NGramLM(2, "kneser_ney", k=0.1), ValueError, "k",
        "add_k"),
    # fit: the text, the extra vocabulary, the memory limit
    bad("fit(tokens=list of lists)", lambda: _fit([[1], [2], [3]]), TypeError, "tokens",
        "hashable", "list"),
    bad("fit(tokens=empty)", lambda: _fit(""), ValueError, "tokens", "at least 3"),
    bad("fit(tokens=too short)", lambda: _fit(["the", "cat"]), ValueError, "tokens",
        "order-3", "2 tokens"),
    bad("fit(tokens=dict)", lambda: _fit({"the": 2, "cat": 1, "sat": 1}), TypeError, "tokens",
        "dict"),
    bad("fit(tokens=set)", lambda: _fit(set(_TEXT)), TypeError, "tokens", "order matters"),
    bad("fit(tokens=int)", lambda: _fit(12345), TypeError, "tokens", "12345"),
    bad("fit(tokens=None)", lambda: _fit(None), TypeError, "tokens", "None"),
    bad("fit(tokens=2-D array)", lambda: _fit(np.zeros((4, 3), dtype=int)), TypeError,
        "tokens", "hashable", "list"),
    bad("fit(vocab=tokenizer.vocab)", lambda: _fit(_TEXT, vocab={0: b"t", 1: b"h"}), TypeError,
        "vocab", "dict", "range(tokenizer.vocab_size)"),
    bad("fit(vocab=[{}])", lambda: _fit(_TEXT, vocab=[{}]), TypeError, "vocab", "dict"),
    bad("fit(vocab=5)", lambda: _fit(_TEXT, vocab=5), TypeError, "vocab", "5"),
    bad("fit(max_memory_gb=0)", lambda: _fit(_TEXT, max_memory_gb=0), ValueError,
        "max_memory_gb", "> 0"),
    bad("fit(max_memory_gb=nan)", lambda: _fit(_TEXT, max_memory_gb=math.nan), ValueError,
        "max_memory_gb", "nan"),
    bad("fit(max_memory_gb='4GB')", lambda: _fit(_TEXT, max_memory_gb="4GB"), TypeError,
        "max_memory_gb", "'4GB'"),
    bad("fit(needs more than max_memory_gb)", lambda: _fit(_TEXT, max_memory_gb=1e-6),
        MemoryError, "max_memory_gb=1e-06", "GB", "lower the order"),
    bad("fit(max_memory_gb=10**400)", lambda: _fit(_TEXT, max_memory_gb=10**400), ValueError,
        "max_memory_gb", "got 1000"),
    bad("NGramLM(k=10**400)", lambda: NGramLM(2, "add_k", k=10**400), ValueError, "k",
        "finite"),
    # Tokens: equal across types (True == 1 == 1.0), nan, tensors that are not one token
    bad("fit(tokens=bools and ints)", lambda: _fit([True, 1, 0, False]), TypeError, "tokens",
        "True (bool)", "1 (int)", "one type"),
    bad("fit(tokens=ints and floats)", lambda: _fit([1, 1.0, 2]), TypeError, "tokens",
        "1.0 (float)"),
    bad("fit(vocab=True, tokens=ints)", lambda: _fit([1, 2, 3], vocab=[True]), TypeError,
        "vocab", "True (bool)"),
    bad("fit(tokens with nan)", lambda: _fit([1.0, math.nan, 2.0]), ValueError, "tokens",
        "nan"),
    bad("fit(tokens=tensor of nan)", lambda: _fit(torch.tensor([1.0, math.nan, 2.0])),
        ValueError, "tokens", "nan"),
    bad("fit(tokens=list of 1-D tensors)", lambda: _fit([torch.tensor([1, 2])] * 3), TypeError,
        "tokens", "single tokens", "shape (2,)"),
    bad("fit(tokens=meta tensor)", lambda: _fit(torch.zeros(4, device="meta")), ValueError,
        "tokens", "meta"),
    bad("fit(tokens=list with a meta tensor)", lambda: _fit([_META, 2, 3]), ValueError,
        "tokens", "meta"),
    bad("prob(token=True, ids)", lambda: _IDS.prob(True, (1,)), TypeError, "token",
        "True (bool)"),
    bad("prob(token=1-element tensor)", lambda: _IDS.prob(torch.tensor([2]), (1,)), TypeError,
        "token", "shape (1,)"),
    bad("prob(token=meta tensor)", lambda: _IDS.prob(_META), ValueError, "token", "meta"),
    bad("prob(context=1.0, ids)", lambda: _IDS.prob(2, (1.0,)), TypeError, "context",
        "1.0 (float)"),
    bad("logprob(tokens=2.0, ids)", lambda: _IDS.logprob([1, 2.0]), TypeError, "tokens",
        "2.0 (float)"),
    bad("perplexity(context=True, ids)", lambda: _IDS.perplexity([2], context=[True]),
        TypeError, "context", "True (bool)"),
    bad("distribution(context=np.True_)", lambda: _IDS.distribution((np.True_,)), TypeError,
        "context", "True (bool)"),
    bad("sample(context=1.0, ids)", lambda: _IDS.sample(2, [1.0]), TypeError, "context",
        "1.0 (float)"),
    bad("count((1, True))", lambda: _IDS.count((1, True)), TypeError, "ngram", "True (bool)"),
    bad("ngrams(2)[(True, 2)]", lambda: _IDS.ngrams(2)[(True, 2)], TypeError, "ngram",
        "True (bool)"),
    bad("with_smoothing(k=10**400)", lambda: _IDS.with_smoothing("add_k", k=10**400),
        ValueError, "k", "finite"),
    # Reading the model
    bad("prob(before fit)", lambda: _UNFITTED.prob("a"), ValueError, "fit"),
    bad("distribution(before fit)", lambda: _UNFITTED.distribution(), ValueError, "fit"),
    bad("vocab(before fit)", lambda: _UNFITTED.vocab, ValueError, "fit"),
    bad("prob(context=[['a']])", lambda: _CHARS.prob("a", [["a"]]), TypeError, "context",
        "list"),
    bad("prob(context=5)", lambda: _CHARS.prob("a", 5), TypeError, "context", "5"),
    bad("prob(token=['a'])", lambda: _CHARS.prob(["a"], "r"), TypeError, "token", "list"),
    bad("prob(token='ab', characters)", lambda: _CHARS.prob("ab", "r"), ValueError, "token",
        "'ab'", "one character"),
    bad("prob(context='the', words)", lambda: _WORDS.prob("cat", "the"), ValueError, "context",
        "('the',)"),
    bad("distribution(context=set)", lambda: _CHARS.distribution({"a", "b"}), TypeError,
        "context", "order matters"),
    bad("logprob(tokens=None)", lambda: _CHARS.logprob(None), TypeError, "tokens", "None"),
    bad("logprob(words as a str)", lambda: _WORDS.logprob("the cat"), ValueError, "tokens",
        "'the cat'", "('the', 'cat')"),
    bad("logprob(context={})", lambda: _CHARS.logprob("ab", context={}), TypeError, "context",
        "dict"),
    bad("cross_entropy(empty)", lambda: _CHARS.cross_entropy(""), ValueError, "tokens",
        "empty"),
    bad("perplexity(empty list)", lambda: _WORDS.perplexity([]), ValueError, "tokens", "empty"),
    bad("sample(num_tokens=-1)", lambda: _CHARS.sample(-1), ValueError, "num_tokens", "-1"),
    bad("sample(num_tokens=2.5)", lambda: _CHARS.sample(2.5), TypeError, "num_tokens", "2.5"),
    bad("sample(num_tokens=True)", lambda: _CHARS.sample(True), TypeError, "num_tokens", "bool"),
    bad("sample(seed=2**70)", lambda: _CHARS.sample(3, seed=2**70), ValueError, "seed",
        "2**64 - 1"),
    bad("sample(seed=-1)", lambda: _CHARS.sample(3, seed=-1), ValueError, "seed", "-1"),
    bad("sample(seed=True)", lambda: _CHARS.sample(3, seed=True), TypeError, "seed", "bool"),
    bad("sample(seed=None)", lambda: _CHARS.sample(3, seed=None), TypeError, "seed", "None"),
    bad("with_smoothing(typo)", lambda: _CHARS.with_smoothing("kn"), ValueError, "smoothing",
        "'kn'"),
    bad("with_smoothing(order above)", lambda: _CHARS.with_smoothing("mle", order=3),
        ValueError, "order", "fit a new model for a higher order"),
    bad("with_smoothing(order=0)", lambda: _CHARS.with_smoothing("mle", order=0), ValueError,
        "order", "got 0"),
    bad("with_smoothing(k=-1)", lambda: _CHARS.with_smoothing("add_k", k=-1.0), ValueError,
        "k", "-1.0"),
    bad("with_smoothing(before fit)", lambda: _UNFITTED.with_smoothing("mle"), ValueError,
        "fit"),
    bad("count(empty)", lambda: _CHARS.count(""), ValueError, "ngram", "1 to 2 tokens"),
    bad("count(too long)", lambda: _CHARS.count("abr"), ValueError, "ngram", "got 3"),
    bad("count(5)", lambda: _CHARS.count(5), TypeError, "ngram", "5"),
    bad("count(words as a str)", lambda: _WORDS.count("the cat"), ValueError, "ngram",
        "('the', 'cat')"),
    bad("ngrams(0)", lambda: _CHARS.ngrams(0), ValueError, "n", "got 0"),
    bad("ngrams(3) of order 2", lambda: _CHARS.ngrams(3), ValueError, "n", "up to order 2"),
    bad("ngrams(True)", lambda: _CHARS.ngrams(True), TypeError, "n", "bool"),
    # The counts on their own
    bad("NGramCounts(order=-1)", lambda: NGramCounts(_TEXT, -1), ValueError, "order", "-1"),
    bad("NGramCounts(tokens=dict)", lambda: NGramCounts({"a": 1}, 1), TypeError, "tokens",
        "dict"),
    bad("NGramCounts.up_to(5)", lambda: NGramCounts(_TEXT, 2).up_to(5), ValueError, "order",
        "higher order"),
    bad("NGramCounts.level(continuation at the top)",
        lambda: NGramCounts(_TEXT, 2).level(2, continuation=True), ValueError, "continuation",
        "3-grams"),
]
