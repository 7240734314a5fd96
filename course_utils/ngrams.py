"""N-gram language models, smoothed on top of counts: MLE, add-k, Kneser-Ney, modified Kneser-Ney.

An n-gram model predicts the next token from the `order - 1` tokens before it, by counting.
`NGramLM(order, smoothing).fit(tokens)` counts every n-gram of length 1 to `order` in one long
sequence of tokens (characters: a str works; words; ids: anything hashable) with
course_utils.ngram_counts. This module adds the smoothing; `prob`, `distribution`, `logprob`,
`cross_entropy`, `perplexity` and `sample` all go through one routine, `_probability`, which
serves one token or the whole vocabulary alike. With c(·) the counts and V the vocabulary:

- "mle": c(context w) / c(context): an unseen n-gram gets 0, so held-out perplexity is usually
  math.inf. A context never seen uses its longest *suffix* that was seen (unigram frequencies at
  worst): every distribution sums to 1, but zeros stay zeros.
- "add_k": (c(context w) + k) / (c(context) + k |V|), from the full context only; divided through
  by k where k |V| would overflow a float (a huge k gives the uniform 1/|V|).
- "kneser_ney": interpolated Kneser-Ney. Each level subtracts a discount D from every count
  and gives the mass it frees to the next shorter context; the shortest (empty) context gives
  its share to the uniform 1/|V|. The longest level uses counts; the shorter ones use
  continuation counts N1+(• context w), the number of distinct tokens seen before `context w`.
  D = n1 / (n1 + 2 n2) per level, from its numbers n_r of n-grams seen exactly r times (Ney).
- "modified_kneser_ney": the same with three discounts per level, D1, D2 and D3+, for counts
  1, 2 and 3 or more (Chen & Goodman 1998, eq. 26): with Y = n1 / (n1 + 2 n2),
  D1 = 1 - 2Y n2/n1, D2 = 2 - 3Y n3/n2, D3+ = 3 - 4Y n4/n3. On tiny data an estimate can be
  undefined (some n_r = 0) or out of range; a level then uses `FALLBACK_DISCOUNTS`.

Conventions:
- Only the last `order - 1` tokens of a context are used; a shorter context (a text's start)
  uses what is there: MLE and add-k its own counts, Kneser-Ney its shorter levels, as in backoff.
- `vocab` is the model's tokens indexed by id, as for BPETokenizer.vocab (see `fit`). A token
  outside it has probability 0, so a text that contains one has perplexity math.inf: pass every
  token that can occur to `fit` (for Chinese, the training and validation characters).
- A str given as tokens or context is read as characters: refused (ValueError) by a model whose
  tokens are not all characters. A model of words takes ("the", "cat"), not "the cat".
- Tokens are dict keys: NumPy scalars and 0-d tensors are read as their numbers; tokens of two
  types equal as keys (True and 1, 1 and 1.0) are refused (TypeError), as is nan (ValueError).

Left out on purpose: sentence markers <s> and </s> (the data is one long sequence), Katz backoff,
pruning, ARPA files, and speed beyond plain dicts (a 7-gram on 1 MB of text fits in seconds).

>>> lm = NGramLM(order=2, smoothing="mle").fit("abracadabra")
>>> lm.prob("b", context="a")  # "a" is followed by b, c, d, b (the last "a" by nothing): 2/4
0.5
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

from course_utils.ngram_counts import (MAX_MEMORY_GB, UNSEEN, Context, Discounts, EveryToken,
                                       Followers, NGramCounts, OneToken)
from course_utils.validation import check_choice, check_int, check_number, check_seed

__all__ = ["NGramLM", "SMOOTHING", "FALLBACK_DISCOUNTS"]

SMOOTHING = ("mle", "add_k", "kneser_ney", "modified_kneser_ney")
# D1, D2, D3+ for a level whose count-of-counts give no valid estimate: KenLM's defaults for
# `lmplz --discount_fallback`. Kneser-Ney (one discount) uses the first, 0.5.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)
NO_DISCOUNT: Discounts = (0.0, 0.0, 0.0, 0.0)


def _estimate_discounts(count_of_counts: Mapping[int, int],
                        smoothing: str) -> tuple[float, float, float]:
    """Return the discounts (D1, D2, D3+) of one level from its count-of-counts (0 if none)."""
    n1, n2, n3, n4 = (count_of_counts.get(r, 0) for r in (1, 2, 3, 4))
    if smoothing not in ("kneser_ney", "modified_kneser_ney"):
        return (0.0, 0.0, 0.0)
    if smoothing == "kneser_ney":
        d = n1 / (n1 + 2 * n2) if n1 else 0.0
        discounts, fallback = (d, d, d), (FALLBACK_DISCOUNTS[0],) * 3
    elif n1 and n2 and n3:
        y = n1 / (n1 + 2 * n2)
        discounts = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
        fallback = FALLBACK_DISCOUNTS
    else:
        discounts = fallback = FALLBACK_DISCOUNTS
    # A discount of 0 would give the shorter contexts (and unseen tokens) nothing; one above its
    # count would make a probability negative.
    valid = all(0 < d <= r for r, d in enumerate(discounts, start=1))
    return discounts if valid else fallback


class NGramLM:
    """An n-gram language model over any hashable tokens; see the module docstring.

    `order` is n (1 = unigram); `smoothing` is one of `SMOOTHING`; `k` (add_k only, default 1.0)
    is added to every count. Call `fit` before anything else.

    Worked by hand: every count here is 1 and n3 = 0, so both levels use the fallback
    discounts, D1 = 0.5. Unigram level: each word is preceded by one distinct word ("the" only
    by "on": the first word has no predecessor), so each gets (1 - 0.5)/5 + (5 · 0.5)/5 · 1/5
    = 0.2. After "the" (followed by cat and mat): P(cat) = (1 - 0.5)/2 + (2 · 0.5)/2 · 0.2
    = 0.35 and P(sat) = 0.5 · 0.2 = 0.1.

    >>> words = "the cat sat on the mat".split()
    >>> lm = NGramLM(order=2, smoothing="modified_kneser_ney").fit(words)
    >>> lm.distribution(context=("the",))
    {'the': 0.1, 'cat': 0.35, 'sat': 0.1, 'on': 0.1, 'mat': 0.35}
    >>> lm.sample(4, context=("the",), seed=0)
    ['on', 'the', 'the', 'the']
    """

    def __init__(self, order: int, smoothing: str = "kneser_ney", *,
                 k: float | None = None) -> None:
        self.order = check_int("order", order, minimum=1, fix="1 = unigram model")
        self.smoothing = check_choice("smoothing", smoothing, SMOOTHING)
        if k is not None and smoothing != "add_k":
            raise ValueError(f"k is used only by smoothing='add_k', not {smoothing!r}; drop k")
        k = check_number("k", k, minimum=0, min_open=True, optional=True,
                         fix="1.0 is Laplace smoothing")
        self.k: float | None = (1.0 if k is None else k) if smoothing == "add_k" else None
        self._counts: NGramCounts | None = None  # shared by `with_smoothing` models
        self._every: EveryToken | None = None  # asks for every token of the vocabulary
        self._levels: list[dict[Context, Followers]] = []  # [m]: contexts of m tokens
        self._discounts: list[Discounts] = []               # [m]: their (0, D1, D2, D3+)

    def __repr__(self) -> str:
        k = f", k={self.k}" if self.k is not None else ""
        fitted = (f", vocab_size={self.vocab_size}, num_ngrams={self.num_ngrams}"
                  if self._counts is not None else "")
        return f"NGramLM(order={self.order}, smoothing={self.smoothing!r}{k}{fitted})"

    # ----------------------------------------------------------------------------- counting

    def fit(self, tokens: Sequence[Hashable], vocab: Iterable[Hashable] | None = None, *,
            max_memory_gb: float = MAX_MEMORY_GB) -> NGramLM:
        """Count the n-grams of `tokens` (one sequence); return the model itself.

        `vocab` adds tokens that may occur later (a set, list or str). The model's `vocab` is
        the tokens of `tokens` in order of first appearance, then the extra ones, sorted when
        they can be compared. Fitting again starts afresh. A fit needing more than
        `max_memory_gb` (GB = 10**9 bytes) stops early with a MemoryError giving the estimate.

        >>> NGramLM(2, "add_k").fit("abba", vocab="dc").vocab
        ('a', 'b', 'c', 'd')
        """
        self._use(NGramCounts(tokens, self.order, vocab=vocab, max_memory_gb=max_memory_gb))
        return self

    def with_smoothing(self, smoothing: str, *, order: int | None = None,
                       k: float | None = None) -> NGramLM:
        """Return a new model that reads this model's counts with another `smoothing` (and `k`),
        at this or a lower `order`, without counting again: equal to fitting it on the same data.
        (Counting is most of the cost of `fit`: one fit serves a whole comparison table.)

        >>> lm = NGramLM(3, "mle").fit("abracadabra")
        >>> lm.with_smoothing("add_k", order=2, k=1.0).prob("b", "a")  # (2 + 1) / (4 + 5)
        0.3333333333333333
        """
        self._check_fitted()
        counts = self._counts if order is None else self._counts.up_to(order)
        model = NGramLM(counts.order, smoothing, k=k)
        model._use(counts)
        return model

    def _use(self, counts: NGramCounts) -> None:
        """Read `counts` with this model's smoothing: pick each level, estimate its discounts."""
        self._counts, self._every = counts, EveryToken(counts.index)
        kneser_ney = self.smoothing in ("kneser_ney", "modified_kneser_ney")
        self._levels, self._discounts = [], []
        for n in range(1, self.order + 1):
            # Kneser-Ney's shorter levels count contexts, not occurrences (see the module doc).
            level = counts.level(n, continuation=kneser_ney and n < self.order)
            discounts = _estimate_discounts(level.count_of_counts, self.smoothing)
            self._levels.append(level.contexts)
            self._discounts.append((0.0, *discounts))

    def _check_fitted(self) -> None:
        if self._counts is None:
            raise ValueError("this model has no counts yet; call fit first")

    @property
    def vocab(self) -> tuple[Hashable, ...]:
        """The model's tokens indexed by id: `vocab[i]` is the i-th token of `distribution` and
        of `sample`'s draws. `token in lm.vocab` and `len(lm.vocab)` work as for a set."""
        self._check_fitted()
        return self._counts.vocab

    @property
    def vocab_size(self) -> int:
        """The number of known tokens, |V|."""
        return len(self.vocab)

    def count(self, ngram: Sequence[Hashable]) -> int:
        """Return how often `ngram` (1 to `order` tokens; a str is characters) occurs in training.

        >>> NGramLM(3, "mle").fit("abracadabra").count("abr")
        2
        """
        self._check_fitted()
        return self._counts.count(ngram)

    def ngrams(self, n: int) -> Mapping[Context, int]:
        """Return every distinct n-gram of training with its count (a read-only mapping).

        >>> NGramLM(2, "mle").fit("abracadabra").ngrams(2)[("a", "b")]
        2
        """
        self._check_fitted()
        return self._counts.ngrams(n)

    @property
    def num_ngrams(self) -> int:
        """The size of the model: distinct n-grams stored, summed over n = 1 .. order."""
        self._check_fitted()
        return self._counts.num_ngrams

    @property
    def discounts(self) -> dict[int, tuple[float, float, float]]:
        """{n: (D1, D2, D3+)} for the n-gram levels of a Kneser-Ney model ({} for the others);
        Kneser-Ney's single D appears three times."""
        self._check_fitted()
        if self.smoothing not in ("kneser_ney", "modified_kneser_ney"):
            return {}
        return {m + 1: d[1:] for m, d in enumerate(self._discounts)}

    # -------------------------------------------------------------------------- probabilities

    def _context(self, context: Sequence[Hashable]) -> Context:
        """The last order - 1 tokens of `context`, as a tuple."""
        context = self._counts.as_tokens("context", context)
        return context[max(0, len(context) - self.order + 1):]

    def _probability(self, context: Context, asked: OneToken | EveryToken):
        """P(token | context) for the token(s) `asked`: a float for one, an array for all.

        The one probability routine of the model; `context` has at most order - 1 tokens.
        """
        if self.smoothing == "mle":  # the longest suffix of the context seen in training
            for start in range(len(context) + 1):
                seen = self._levels[len(context) - start].get(context[start:])
                if seen is not None:
                    return asked.counts(seen.counts, NO_DISCOUNT) / seen.total
            raise AssertionError("the empty context is always seen: it precedes every token")
        vocab_size = len(self._counts.vocab)
        if self.smoothing == "add_k":
            seen, k = self._levels[len(context)].get(context, UNSEEN), self.k
            s = 1.0 if math.isfinite(k * vocab_size) else k  # k |V| overflows: divide by k
            return ((asked.counts(seen.counts, NO_DISCOUNT) + k) / s
                    / (seen.total / s + k / s * vocab_size))
        # Kneser-Ney: from the uniform distribution up through ever longer contexts.
        p = 1.0 / vocab_size
        for m in range(len(context) + 1):
            seen = self._levels[m].get(context[len(context) - m:])
            if seen is None:
                # All the mass goes to the shorter context: p stays. Every longer context
                # ends with this unseen one, so it is unseen too.
                break
            followers, total, n1, n2, n3 = seen
            d = self._discounts[m]
            p = (asked.counts(followers, d) + (d[1] * n1 + d[2] * n2 + d[3] * n3) * p) / total
        return p

    def prob(self, token: Hashable, context: Sequence[Hashable] = ()) -> float:
        """Return P(token | context); 0.0 for a token outside the vocabulary.

        `context`: the preceding tokens (a tuple; a str is characters); the last order - 1 count.

        >>> lm = NGramLM(2, "add_k", k=1).fit("abracadabra")
        >>> lm.prob("b", context=("r", "a"))  # (c(ab) + 1) / (c(a) + 1·5) = 3/9
        0.3333333333333333
        """
        self._check_fitted()
        context, token = self._context(context), self._counts.as_token("token", token)
        return self._probability(context, OneToken(token)) if token in self._every.index else 0.0

    def distribution(self, context: Sequence[Hashable] = ()) -> dict[Hashable, float]:
        """Return {token: P(token | context)} over the whole vocabulary, in `vocab` order.

        >>> NGramLM(2, "mle").fit("abracadabra").distribution("a")
        {'a': 0.0, 'b': 0.5, 'r': 0.0, 'c': 0.25, 'd': 0.25}
        """
        self._check_fitted()
        p = self._probability(self._context(context), self._every)
        return dict(zip(self._counts.vocab, p.tolist()))

    # ------------------------------------------------------------------------------ scoring

    def logprob(self, tokens: Sequence[Hashable], *, context: Sequence[Hashable] = ()) -> float:
        """Return the natural log of P(tokens), each token given the ones before it.

        The first token is predicted from `context` (default: nothing), the next from `context`
        and the first, and so on. -inf if any token has probability 0 (e.g. one not in `vocab`).

        >>> lm = NGramLM(2, "mle").fit("abracadabra")
        >>> math.exp(lm.logprob("cad", context="a"))  # P(c|a) P(a|c) P(d|a) = 1/4 · 1 · 1/4
        0.0625
        """
        self._check_fitted()
        tokens = self._counts.as_tokens("tokens", tokens)
        history = self._counts.as_tokens("context", context) + tokens
        total, width, index = 0.0, self.order - 1, self._every.index
        for i in range(len(history) - len(tokens), len(history)):
            token = history[i]
            p = (self._probability(history[max(0, i - width):i], OneToken(token))
                 if token in index else 0.0)
            if p == 0.0:
                return -math.inf
            total += math.log(p)
        return total

    def cross_entropy(self, tokens: Sequence[Hashable], *,
                      context: Sequence[Hashable] = ()) -> float:
        """Return the average negative log-probability of `tokens`, in nats per token.

        -logprob(tokens, context=context) / len(tokens): math.inf if any token has probability
        0, as one outside the vocabulary always has (and with MLE, any unseen n-gram).

        >>> lm = NGramLM(1, "add_k").fit("abcd")  # uniform: every token has probability 1/4
        >>> lm.cross_entropy("dcba") == math.log(4)
        True
        """
        self._check_fitted()
        tokens = self._counts.as_tokens("tokens", tokens)
        if not tokens:
            raise ValueError("tokens is empty: there is nothing to score")
        return -self.logprob(tokens, context=context) / len(tokens)

    def perplexity(self, tokens: Sequence[Hashable], *, context: Sequence[Hashable] = ()) -> float:
        """Return exp(cross_entropy): how many equally likely choices the model hesitates between.

        >>> NGramLM(1, "add_k").fit("abcd").perplexity("dcba")
        4.0
        """
        cross_entropy = self.cross_entropy(tokens, context=context)
        return math.exp(cross_entropy) if cross_entropy < 709.78 else math.inf  # exp overflows

    # ----------------------------------------------------------------------------- sampling

    def sample(self, num_tokens: int, context: Sequence[Hashable] = (), seed: int = 0) -> list:
        """Return `num_tokens` new tokens, each drawn from `distribution` of the ones before it.

        `context` starts the text and is not returned. The draws come from
        numpy.random.default_rng(seed), so a seed gives the same tokens in every process.

        >>> "".join(NGramLM(3, "mle").fit("abcabcabc").sample(7, context="a"))
        'bcabcab'
        """
        num_tokens = check_int("num_tokens", num_tokens, minimum=0)
        rng = np.random.default_rng(check_seed("seed", seed))
        self._check_fitted()
        history, width = list(self._context(context)), self.order - 1
        start = len(history)
        for _ in range(num_tokens):
            context = tuple(history[max(0, len(history) - width):]) if width else ()
            p = self._probability(context, self._every)
            history.append(self._counts.vocab[rng.choice(len(p), p=p)])
        return history[start:]
