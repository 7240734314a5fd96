"""The course's one independent Kneser-Ney: an oracle for course_utils.ngrams, slow on purpose.

`KneserNeyOracle` is interpolated Kneser-Ney (one discount per level) or modified Kneser-Ney
(D1, D2, D3+), written straight from Chen & Goodman (1998), eqs. 17 and 26:

    P_n(w | ctx) = max(c(ctx w) - D(c(ctx w)), 0) / Σ_v c(ctx v) + γ(ctx) P_{n-1}(w | ctx[1:]),
    γ(ctx) = (D1 N1(ctx •) + D2 N2(ctx •) + D3+ N3+(ctx •)) / Σ_v c(ctx v),

down to the uniform 1/|V|. c is the raw count at the model's order and the continuation count
(the number of distinct tokens seen right before) below it, also for contexts shorter than
order - 1. A context with no counts leaves everything to the shorter one. Discounts outside
(0, r], or undefined, become FALLBACK_DISCOUNTS, as course_utils.ngrams documents.

It shares no code with NGramLM and takes another route: every n-gram of the text is listed
position by position, the continuation counts are sets of left neighbours, each context's
statistics are rows in flat dicts keyed by n-gram tuples, and every probability is the formula
above, max and γ written out. Used by tests/test_ngrams.py and by benchmarks/ngrams.py (which
puts this folder on sys.path).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence

from course_utils.ngrams import FALLBACK_DISCOUNTS


class KneserNeyOracle:
    """Kneser-Ney (`modified=False`) or modified Kneser-Ney over `train`, of order `order`.

    `vocab` is the vocabulary (the tokens of `train` are added to it). Building the tables
    reads the text once per order; `prob` then costs one dict look-up per level.
    """

    def __init__(self, train: Sequence[Hashable], order: int, modified: bool,
                 vocab: Iterable[Hashable] = ()) -> None:
        train = list(train)
        self.order, self.modified = order, modified
        self.vocab_size = len(set(vocab) | set(train))
        self.counts: dict[int, dict[tuple, int]] = {}  # n -> {n-gram: c}, the c of the formula
        self.rows: dict[int, dict[tuple, list[int]]] = {}  # n -> {ctx: [Σ c, N1, N2, N3+]}
        self.discounts: dict[int, tuple[float, float, float]] = {}
        for n in range(1, order + 1):
            grams = [tuple(train[i:i + n]) for i in range(len(train) - n + 1)]
            if n == order:
                counts = dict(Counter(grams))
            else:  # the distinct tokens seen right before each n-gram
                left: defaultdict[tuple, set] = defaultdict(set)
                for i, gram in enumerate(grams):
                    if i > 0:
                        left[gram].add(train[i - 1])
                counts = {gram: len(tokens) for gram, tokens in left.items()}
            self.counts[n] = counts
            self.discounts[n] = self._discounts(list(counts.values()))
            rows: dict[tuple, list[int]] = {}
            for gram, c in counts.items():
                row = rows.setdefault(gram[:-1], [0, 0, 0, 0])
                row[0] += c
                row[min(c, 3)] += 1
            self.rows[n] = rows

    def _discounts(self, counts: list[int]) -> tuple[float, float, float]:
        """(D1, D2, D3+) from the count-of-counts n_r, or the fallback, as the module says."""
        n1, n2, n3, n4 = (counts.count(r) for r in (1, 2, 3, 4))
        if not self.modified:
            d = n1 / (n1 + 2 * n2) if n1 else -1.0
            return (d, d, d) if 0 < d <= 1 else (FALLBACK_DISCOUNTS[0],) * 3
        if 0 in (n1, n2, n3):
            return FALLBACK_DISCOUNTS
        y = n1 / (n1 + 2 * n2)
        d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
        return d if 0 < d[0] <= 1 and 0 < d[1] <= 2 and 0 < d[2] <= 3 else FALLBACK_DISCOUNTS

    def prob(self, w: Hashable, context: Sequence[Hashable] = ()) -> float:
        """P(w | context), from the uniform distribution up to the last order - 1 tokens."""
        context = tuple(context)[max(0, len(context) - self.order + 1):]
        p = 1 / self.vocab_size
        for n in range(1, len(context) + 2):
            ctx = context[len(context) - n + 1:]
            row = self.rows[n].get(ctx)
            if row is None:
                continue  # an unseen context gives everything to the shorter one
            total, ones, twos, more = row
            d1, d2, d3 = self.discounts[n]
            c = self.counts[n].get(ctx + (w,), 0)
            discount = {0: 0.0, 1: d1, 2: d2}.get(c, d3)
            gamma = (d1 * ones + d2 * twos + d3 * more) / total
            p = max(c - discount, 0.0) / total + gamma * p
        return p

    def cross_entropy(self, tokens: Sequence[Hashable]) -> float:
        """Nats per token of `tokens`, each given the ones before it (the first given none)."""
        tokens = list(tokens)
        nats = -sum(math.log(self.prob(w, tokens[max(0, i - self.order + 1):i]))
                    for i, w in enumerate(tokens))
        return nats / len(tokens)
