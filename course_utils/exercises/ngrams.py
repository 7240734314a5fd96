"""Exercise checks of notebook 02 (n-gram models vs Transformers).

The exercises use the notebook's tiny corpus, whose counts a learner can verify by hand:

    the cat sat on the mat . the dog sat on the log . the cat saw the dog .

20 tokens; "the" occurs 6 times, followed by cat ×2, dog ×2, mat, log; "dog" occurs twice,
followed by "sat" and "."; 9 distinct words.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from course_utils.exercises._feedback import _close_number, _run_cases

TINY_CORPUS = "the cat sat on the mat . the dog sat on the log . the cat saw the dog ."


def check_bigram_mle(answer: float | None) -> None:
    """The maximum-likelihood bigram probability P(dog | the) in the tiny corpus.

    >>> check_bigram_mle(1 / 3)
    ✓ correct: c(the dog) / c(the ·) = 2 / 6 = 1/3
    """
    return _close_number(
        answer, 1 / 3, 1e-6, "c(the dog) / c(the ·) = 2 / 6 = 1/3",
        hints=[(2 / 20, "you divided by all 20 tokens: condition on the context, divide by c(the)"),
               (1 / 9, "that is 1/|V|, a uniform guess: count how often 'dog' follows 'the'"),
               (2 / 3, "divide the count of 'the dog' by the count of 'the', not of 'dog' pairs")],
        otherwise="count the bigrams that start with 'the' and those that are exactly 'the dog'")


def check_add_one(answer: float | None) -> None:
    """Add-one (Laplace) estimate of P(cat | dog) in the tiny corpus (never seen there).

    >>> check_add_one(1 / 11)
    ✓ correct: (c(dog cat) + 1) / (c(dog ·) + |V|) = (0 + 1) / (2 + 9) = 1/11
    """
    return _close_number(
        answer, 1 / 11, 1e-6, "(c(dog cat) + 1) / (c(dog ·) + |V|) = (0 + 1) / (2 + 9) = 1/11",
        hints=[(0.0, "that is the MLE estimate: add one to every count first"),
               (1 / 9, "add |V| = 9 to the denominator *and* keep the 2 observed bigrams 'dog ·'"),
               (1 / 3, "add one to the count, but add |V| (one per possible next word) below"),
               (1 / 27, "the context count is c(dog ·) = 2, not the corpus size")],
        otherwise="add-one: (count + 1) / (context count + vocabulary size)")


def check_perplexity(answer: float | None) -> None:
    """Perplexity of a model that gave the four tokens of a text probabilities 1/2, 1/4, 1/8, 1/2.

    >>> check_perplexity(2 ** 1.75)
    ✓ correct: the mean of −ln p is 1.75 ln 2 nats, so the perplexity is e^(1.75 ln 2) = 2^1.75 ≈ 3.364
    """
    expected = 2 ** 1.75
    return _close_number(
        answer, expected, 1e-3,
        f"the mean of −ln p is 1.75 ln 2 nats, so the perplexity is e^(1.75 ln 2) = 2^1.75 ≈ {expected:.3f}",
        hints=[(1.75 * math.log(2), "that is the cross-entropy in nats: the perplexity is e to it"),
               (1.75, "that is the cross-entropy in bits: the perplexity is 2 to it"),
               (4.0, "that is the mean of 1/p: perplexity is a geometric mean, exp(mean(−ln p))"),
               (1 / (0.5 * 0.25 * 0.125 * 0.5), "that is 1/P(text): take the 4th root (one per token)")],
        otherwise="perplexity = exp(mean over tokens of −ln p)")


def check_continuation_counts(continuation_counts: Callable | None) -> None:
    """`continuation_counts(tokens) -> dict`: for each token, how many *distinct* tokens precede it
    somewhere in `tokens` (Kneser-Ney's N1+(• w)). The first token has no predecessor there.

    >>> def continuation_counts(tokens):
    ...     before = {}
    ...     for left, right in zip(tokens, tokens[1:]):
    ...         before.setdefault(right, set()).add(left)
    ...     return {token: len(lefts) for token, lefts in before.items()}
    >>> check_continuation_counts(continuation_counts)
    ✓ correct: continuation_counts passes all 3 cases
    """
    tiny = TINY_CORPUS.split()
    cases = [
        # "Francisco" occurs 3 times, always after "San": 1; "San" follows "Francisco" and "in": 2
        (("San Francisco San Francisco in San Francisco".split(),),
         {"Francisco": 1, "San": 2, "in": 1}),
        (("abracadabra",), {"b": 1, "r": 1, "a": 3, "c": 1, "d": 1}),  # a follows r, c and d
        # "the" follows ".", "on" and "saw"; "sat" follows "cat" and "dog"; "." follows mat, log, dog
        ((tiny,), {"cat": 1, "sat": 2, "on": 1, "the": 3, "mat": 1, ".": 3, "dog": 1, "log": 1,
                   "saw": 1}),
    ]

    def as_plain_dict(result: Any) -> Any:
        return {key: int(value) for key, value in dict(result).items() if value}

    return _run_cases(continuation_counts, cases, "continuation_counts", convert=as_plain_dict)


def check_distinct_trigrams(answer: int | None) -> None:
    """How many distinct character trigrams (table entries of a trigram model) "abracadabra" has.

    >>> check_distinct_trigrams(7)
    ✓ correct: 9 trigrams, but 'abr' and 'bra' occur twice: 7 entries
    """
    return _close_number(
        answer, 7, 0, "9 trigrams, but 'abr' and 'bra' occur twice: 7 entries",
        hints=[(9, "that counts every position; a table stores each distinct trigram once"),
               (11, "that is the number of characters: a trigram spans 3 of them"),
               (5, "that is the number of distinct characters, not trigrams")],
        otherwise="list the trigrams at positions 0…8 (abr, bra, rac, …) and drop repeats")
