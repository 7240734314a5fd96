"""Exercise checks of notebook 02 (n-gram models vs Transformers).

The exercises use the notebook's tiny corpus, whose counts a learner can verify by hand:

    the cat sat on the mat . the dog sat on the log . the cat saw the dog .

20 tokens; "the" occurs 6 times, followed by cat ×2, dog ×2, mat, log; "." occurs 3 times,
followed by "the" twice (the last one ends the corpus); "dog" occurs twice, followed by "sat"
and "."; 9 distinct words. The two checks of functions compare the learner's
code with the package: continuation counts with `NGramCounts`, a trigram Kneser-Ney with `NGramLM`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence

from course_utils.exercises.answers import Case, call, close_number, number, run_cases
from course_utils.exercises.feedback import Refusal, Verdict, correct, describe, exercise, wrong

TINY_CORPUS = "the cat sat on the mat . the dog sat on the log . the cat saw the dog ."


@exercise
def check_bigram_mle(answer: float | None) -> Verdict:
    """The maximum-likelihood bigram probability P(the | .) in the tiny corpus.

    >>> check_bigram_mle(1.0)
    ✓ correct: c(. the) / c(. ·) = 2 / 2 = 1: the last '.' ends the corpus, followed by nothing
    """
    return close_number(
        answer, 1.0, 1e-6, "bigram_mle.correct",
        hints=[(2 / 3, "bigram_mle.context_occurrences"), (2 / 20, "bigram_mle.all_tokens"),
               (1 / 9, "bigram_mle.uniform"), (2 / 6, "bigram_mle.word_count")],
        otherwise="bigram_mle.not_quite")


@exercise
def check_add_one(answer: float | None) -> Verdict:
    """Add-one (Laplace) estimate of P(cat | dog) in the tiny corpus (never seen there).

    >>> check_add_one(1 / 11)
    ✓ correct: (c(dog cat) + 1) / (c(dog ·) + |V|) = (0 + 1) / (2 + 9) = 1/11
    """
    return close_number(
        answer, 1 / 11, 1e-6, "add_one.correct",
        hints=[(0.0, "add_one.mle"), (1 / 9, "add_one.keep_observed"),
               (1 / 3, "add_one.add_vocabulary"), (1 / 29, "add_one.corpus_size"),
               (1 / 12, "add_one.unknown")],
        otherwise="add_one.not_quite")


@exercise
def check_perplexity(answer: float | None) -> Verdict:
    """Perplexity of a model that gave the four tokens of a text probabilities 1/2, 1/4, 1/8, 1/2.

    >>> check_perplexity(2 ** 1.75)
    ✓ correct: the mean of −ln p is 1.75 ln 2 nats, so the perplexity is e^(1.75 ln 2) = 2^1.75 ≈ 3.364
    """
    expected = 2 ** 1.75
    return close_number(
        answer, expected, 1e-3, "perplexity.correct",
        hints=[(1.75 * math.log(2), "perplexity.nats"), (1.75, "perplexity.bits"),
               (4.0, "perplexity.mean_inverse"),
               (1 / (0.5 * 0.25 * 0.125 * 0.5), "perplexity.inverse_probability")],
        otherwise="perplexity.not_quite")


def _plain_counts(result: object) -> object:
    """A mapping of counts as a plain {token: int} without zeros (anything else as it is)."""
    if not isinstance(result, Mapping):
        return result
    return {key: int(value) for key, value in dict(result).items() if value}


@exercise
def check_continuation_counts(continuation_counts: Callable | None) -> Verdict:
    """`continuation_counts(tokens) -> dict`: for each token, how many *distinct* tokens precede it
    somewhere in `tokens` (Kneser-Ney's N1+(• w)). The first token has no predecessor there.
    The expected counts are the package's (NGramCounts.level(1, continuation=True)).

    >>> def continuation_counts(tokens):
    ...     before = {}
    ...     for left, right in zip(tokens, tokens[1:]):
    ...         before.setdefault(right, set()).add(left)
    ...     return {token: len(lefts) for token, lefts in before.items()}
    >>> check_continuation_counts(continuation_counts)
    ✓ correct: continuation_counts passes all 4 cases
    """
    from course_utils.ngram_counts import NGramCounts  # the package's continuation counts

    tiny = TINY_CORPUS.split()
    cases = [
        # "Francisco" occurs 3 times, always after "San": 1; "San" follows "Francisco" and "in": 2
        Case(("San Francisco San Francisco in San Francisco".split(),),
             {"Francisco": 1, "San": 2, "in": 1}),
        Case(("abracadabra",), {"b": 1, "r": 1, "a": 3, "c": 1, "d": 1}),  # a follows r, c, d
        # "the" follows ".", "on", "saw"; "sat" follows "cat", "dog"; "." follows mat, log, dog
        Case((tiny,), {"cat": 1, "sat": 2, "on": 1, "the": 3, "mat": 1, ".": 3, "dog": 1,
                       "log": 1, "saw": 1}),
        Case(([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9],), None),  # ids: the package's answer
    ]
    for i, case in enumerate(cases):
        package = dict(NGramCounts(case.args[0], 2).level(1, continuation=True).contexts[()].counts)
        assert case.expected in (None, package)  # the hand-worked cases agree with the package
        cases[i] = Case(case.args, package)
    return run_cases(continuation_counts, cases, "continuation_counts", convert=_plain_counts)


@exercise
def check_distinct_trigrams(answer: int | None) -> Verdict:
    """How many distinct character trigrams (table entries of a trigram model) "abracadabra" has.

    >>> check_distinct_trigrams(7)
    ✓ correct: 9 trigrams, but 'abr' and 'bra' occur twice: 7 entries
    """
    return close_number(
        answer, 7, 0, "distinct_trigrams.correct",
        hints=[(9, "distinct_trigrams.every_position"), (11, "distinct_trigrams.characters"),
               (5, "distinct_trigrams.distinct_characters"),
               (19, "distinct_trigrams.all_orders")],
        otherwise="distinct_trigrams.not_quite")


def _kneser_ney_trigram(tokens: Sequence[Hashable], word: Hashable, context: tuple,
                        continuation: bool) -> float:
    """Interpolated Kneser-Ney of order 3, written out; continuation=False is the usual mistake
    of raw counts at every level (the hint's value). The check's answer comes from NGramLM."""
    tokens = list(tokens)
    counts = {n: Counter(zip(*(tokens[i:] for i in range(n)))) for n in (1, 2, 3)}
    if continuation:  # N1+(• g): each distinct (n+1)-gram v g counts once for g
        counts.update({n: Counter(g[1:] for g in counts[n + 1]) for n in (1, 2)})
    p = 1 / len(set(tokens))
    for m in range(3):  # contexts of 0, 1, 2 tokens
        level, ctx = counts[m + 1], tuple(context)[2 - m:]
        followers = {g[-1]: c for g, c in level.items() if g[:-1] == ctx}
        if not followers:
            break
        n1, n2 = (sum(c == r for c in level.values()) for r in (1, 2))
        d = n1 / (n1 + 2 * n2) if n1 else 0.0
        d = d if 0 < d <= 1 else 0.5
        p = (max(followers.get(word, 0) - d, 0) + d * len(followers) * p) / sum(followers.values())
    return p


@exercise
def check_kneser_ney_trigram(kneser_ney_prob: Callable | None) -> Verdict:
    """`kneser_ney_prob(tokens, word, context) -> float`: interpolated Kneser-Ney of order 3
    fitted on `tokens`, P(word | context) for a context of two tokens; checked against the
    package's NGramLM(order=3, smoothing="kneser_ney") on seen and unseen contexts.

    >>> from course_utils.ngrams import NGramLM
    >>> check_kneser_ney_trigram(lambda tokens, word, context:
    ...                          NGramLM(3, "kneser_ney").fit(tokens).prob(word, context))
    ✓ correct: kneser_ney_prob equals NGramLM(order=3, smoothing='kneser_ney') on all 6 cases
    """
    from course_utils.ngrams import NGramLM

    name = "kneser_ney_prob"
    if not callable(kneser_ney_prob):
        return wrong("not_a_function", type=type(kneser_ney_prob).__name__)
    tiny, sea = TINY_CORPUS.split(), list("she sells sea shells by the sea shore")
    cases = [(tiny, "sat", ("the", "cat")),   # seen trigram
             (tiny, "dog", ("on", "the")),    # seen context, unseen trigram, seen bigram
             (tiny, "the", ("saw", "dog")),   # unseen context: all to P(the | dog)
             (tiny, "mat", ("cat", "zebra")),  # "zebra" never seen: the unigram level alone
             (sea, "a", ("s", "e")), (sea, "h", (" ", "s"))]
    for tokens, word, context in cases:
        shown = f"<{len(tokens)} tokens>, {word!r}, {context!r}"
        got, _ = call(kneser_ney_prob, name, (tokens, word, context), shown)
        expected = NGramLM(3, "kneser_ney").fit(tokens).prob(word, context)
        try:
            value = number(got)
        except Refusal:
            return wrong("kneser_ney.not_a_number", name=name, args=shown, got=describe(got))
        if abs(value - expected) > 1e-9:
            raw = _kneser_ney_trigram(tokens, word, context, continuation=False)
            code = "kneser_ney.raw_counts" if abs(value - raw) <= 1e-9 else "returned"
            return wrong(code, name=name, args=shown, got=value, expected=expected)
    return correct("kneser_ney.correct", name=name, count=len(cases))
