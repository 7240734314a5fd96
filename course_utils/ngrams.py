"""N-gram language models, counted from scratch: MLE, add-k, Kneser-Ney, modified Kneser-Ney.

An n-gram model predicts the next token from the `order - 1` tokens before it, by counting.
`NGramLM(order, smoothing).fit(tokens)` counts every n-gram of length 1 to `order` in one long
sequence of tokens (characters: a str works; words; ids: anything hashable). Then `prob`,
`distribution`, `logprob`, `cross_entropy`, `perplexity` and `sample` use the counts.

The smoothing methods (`SMOOTHING`), with c(·) the counts and V the vocabulary:

- "mle": c(context w) / c(context). An n-gram never seen in training gets 0, so held-out
  perplexity is usually math.inf. A context never seen in training has no counts at all; MLE
  then uses the longest *suffix* of the context that was seen (unigram frequencies at worst).
  That keeps every distribution summing to 1, but it is not smoothing: zeros stay zeros.
- "add_k": (c(context w) + k) / (c(context) + k |V|), from the full context only.
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
- Counts: c(context) is how often `context` is *followed by a token*, i.e. the sum of c(context w)
  over w, so that a context that ends the training data is not counted once too often.
- Contexts: only the last `order - 1` tokens of a context are used. A shorter one (at the start
  of a sequence) uses what is there: MLE and add-k the counts of that shorter context, the
  Kneser-Ney models their shorter levels (continuation counts), as when a long context backs off.
- Vocabulary: the tokens of the training data, plus any given as `fit(tokens, vocab=...)`. The
  smoothed models give every vocabulary token some probability in every context. A token outside
  the vocabulary has probability 0 in every model, so a text that contains one has log-probability
  -inf and perplexity math.inf. Pass every token that can occur to `fit` (for Chinese, the union
  of the training and validation characters).

Left out on purpose: sentence markers <s> and </s> (the data is one long sequence), Katz backoff,
pruning, ARPA files, and speed beyond plain dicts (a 7-gram on 1 MB of text fits in seconds).

>>> lm = NGramLM(order=2, smoothing="mle").fit("abracadabra")
>>> lm.prob("b", context="a")  # "a" is followed by b, c, d, b (the last "a" by nothing): 2/4
0.5
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from numbers import Real
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

__all__ = ["NGramLM", "SMOOTHING", "FALLBACK_DISCOUNTS"]

SMOOTHING = ("mle", "add_k", "kneser_ney", "modified_kneser_ney")
# D1, D2, D3+ for a level whose count-of-counts give no valid estimate: KenLM's defaults for
# `lmplz --discount_fallback`. Kneser-Ney (one discount) uses the first, 0.5.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)

Context = tuple[Hashable, ...]


class _Seen(NamedTuple):
    """What one level knows about a context seen in training (whatever the smoothing)."""

    followers: dict[Hashable, int]  # next token -> count (or continuation count)
    total: int                      # sum of the followers' counts
    by_count: tuple[int, int, int]  # how many followers have count 1, 2 and 3 or more

    def backoff(self, discounts: tuple[float, float, float, float]) -> float:
        """The mass the discounts free for the shorter context: gamma · total."""
        n1, n2, n3 = self.by_count
        return discounts[1] * n1 + discounts[2] * n2 + discounts[3] * n3


class _Level(NamedTuple):
    """Every context of one length seen in training, and the level's count-of-counts."""

    contexts: dict[Context, _Seen]
    count_of_counts: Counter[int]  # r -> number of n-grams seen exactly r times


def _check_hashable(items: Iterable[Hashable], what: str) -> tuple[Hashable, ...]:
    """Return `items` as a tuple (a str becomes its characters); TypeError if it cannot be."""
    if isinstance(items, Mapping) or not isinstance(items, Iterable):
        raise TypeError(f"{what} must be a sequence of tokens (a str, list or tuple), "
                        f"got {type(items).__name__}")
    items = tuple(items)
    try:
        hash(items)
    except TypeError:
        bad = next(x for x in items if not isinstance(x, Hashable))
        raise TypeError(f"tokens must be hashable (str, int, tuple, ...), but {what} holds a "
                        f"{type(bad).__name__}: {bad!r}") from None
    return items


def _estimate_discounts(count_of_counts: Mapping[int, int],
                        modified: bool) -> tuple[float, float, float]:
    """Return the discounts (D1, D2, D3+) of one level from its count-of-counts."""
    n1, n2, n3, n4 = (count_of_counts.get(r, 0) for r in (1, 2, 3, 4))
    if not modified:
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
        if isinstance(order, bool) or not isinstance(order, int):
            raise TypeError(f"order must be an int, got {type(order).__name__}: {order!r}")
        if order < 1:
            raise ValueError(f"order must be at least 1 (1 = unigram model), got {order}")
        if smoothing not in SMOOTHING:
            raise ValueError(f"unknown smoothing {smoothing!r}; valid names: "
                             f"{', '.join(map(repr, SMOOTHING))}")
        if k is not None and smoothing != "add_k":
            raise ValueError(f"k is used only by smoothing='add_k', not {smoothing!r}; drop k")
        if k is not None and (isinstance(k, bool) or not isinstance(k, Real)):
            raise TypeError(f"k must be a number, got {type(k).__name__}: {k!r}")
        if k is not None and not 0 < k < math.inf:
            raise ValueError(f"k must be positive and finite (1.0 is Laplace smoothing), got {k}")
        self.order, self.smoothing = order, smoothing
        self.k: float | None = float(k if k is not None else 1.0) if smoothing == "add_k" else None
        self._tokens: tuple[Hashable, ...] = ()  # the vocabulary in a fixed order
        self._index: dict[Hashable, int] = {}
        self._ngram_counts: list[Counter[Context]] = []  # [n - 1]: raw counts of n-grams
        # Levels built from the counts, ("raw" | "continuation", n) -> _Level; shared by every
        # model that `with_smoothing` derives from the same fit, and built once, when first used.
        self._built: dict[tuple[str, int], _Level] = {}
        self._levels: list[dict[Context, _Seen]] = []    # [m]: contexts of m tokens
        self._discounts: list[tuple[float, float, float, float]] = []  # [m]: (0, D1, D2, D3+)

    def __repr__(self) -> str:
        fitted = (f", vocab_size={self.vocab_size}, num_ngrams={self.num_ngrams}"
                  if self._tokens else "")
        k = f", k={self.k}" if self.k is not None else ""
        return f"NGramLM(order={self.order}, smoothing={self.smoothing!r}{k}{fitted})"

    # ----------------------------------------------------------------------------- counting

    def fit(self, tokens: Sequence[Hashable], vocab: Iterable[Hashable] | None = None) -> NGramLM:
        """Count the n-grams of `tokens` (one sequence); return the model itself.

        `vocab` adds tokens that may occur later but not in `tokens`. The vocabulary's order,
        used by `tokens`, `distribution` and `sample`, is that of first appearance in `tokens`,
        then the extra tokens, sorted when they can be compared. Fitting again starts afresh.

        >>> NGramLM(2, "add_k").fit("abba", vocab="dc").tokens
        ('a', 'b', 'c', 'd')
        """
        tokens = _check_hashable(tokens, "tokens")
        if len(tokens) < self.order:
            raise ValueError(f"an order-{self.order} model needs at least {self.order} tokens to "
                             f"count an n-gram, got {len(tokens)}")
        known = dict.fromkeys(tokens)
        extra = _check_hashable(() if vocab is None else vocab, "vocab")
        extra = [t for t in dict.fromkeys(extra) if t not in known]
        try:
            extra = sorted(extra)
        except TypeError:
            pass  # tokens of mixed types: keep the order given
        self._tokens = (*known, *extra)
        self._index = {token: i for i, token in enumerate(self._tokens)}
        self._ngram_counts = [Counter(zip(*(tokens[i:] for i in range(n))))
                              for n in range(1, self.order + 1)]
        self._built = {}
        self._estimate()
        return self

    def with_smoothing(self, smoothing: str, *, order: int | None = None,
                       k: float | None = None) -> NGramLM:
        """Return a new model that reads this model's counts with another `smoothing` (and `k`),
        at this or a lower `order`, without counting again: equal to fitting it on the same data.

        Counting is most of the cost of `fit`; the counts of orders 1 .. n are the same whatever
        the smoothing, so one fit at the highest order serves a whole comparison table.

        >>> lm = NGramLM(3, "mle").fit("abracadabra")
        >>> lm.with_smoothing("add_k", order=2, k=1.0).prob("b", "a")  # (2 + 1) / (4 + 5)
        0.3333333333333333
        """
        self._check_fitted()
        order = self.order if order is None else order
        if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= self.order:
            raise ValueError(f"order must be an int from 1 to this model's order {self.order}, "
                             f"got {order!r}; fit a new model for a higher order")
        model = NGramLM(order, smoothing, k=k)
        model._tokens, model._index = self._tokens, self._index
        model._ngram_counts = self._ngram_counts[:order]  # shared, never modified
        model._built = self._built
        model._estimate()
        return model

    def _estimate(self) -> None:
        """Pick each level's counts and derive the discounts (Kneser-Ney) from them."""
        kneser_ney = self.smoothing in ("kneser_ney", "modified_kneser_ney")
        self._levels, self._discounts = [], []
        for n in range(1, self.order + 1):
            # Kneser-Ney's shorter levels count contexts, not occurrences (see the module doc).
            level = self._level("continuation" if kneser_ney and n < self.order else "raw", n)
            discounts = (0.0, 0.0, 0.0)
            if kneser_ney:
                discounts = _estimate_discounts(level.count_of_counts,
                                                self.smoothing != "kneser_ney")
            self._levels.append(level.contexts)
            self._discounts.append((0.0, *discounts))  # index = min(count, 3): 0 loses nothing

    def _level(self, kind: str, n: int) -> _Level:
        """The n-grams' counts ("raw") or continuation counts, grouped by context; cached."""
        if (kind, n) not in self._built:
            if kind == "raw":
                counts = self._ngram_counts[n - 1]
            else:  # how many distinct tokens come before each n-gram: (n+1)-grams ending in it
                counts = Counter(ngram[1:] for ngram in self._ngram_counts[n])
            followers: defaultdict[Context, dict[Hashable, int]] = defaultdict(dict)
            for ngram, count in counts.items():
                followers[ngram[:-1]][ngram[-1]] = count
            contexts = {}
            for context, after in followers.items():
                by_count = [0, 0, 0, 0]
                for c in after.values():
                    by_count[min(c, 3)] += 1
                contexts[context] = _Seen(after, sum(after.values()), tuple(by_count[1:]))
            self._built[kind, n] = _Level(contexts, Counter(counts.values()))
        return self._built[kind, n]

    def _check_fitted(self) -> None:
        if not self._tokens:
            raise ValueError("this model has no counts yet; call fit first")

    @property
    def tokens(self) -> tuple[Hashable, ...]:
        """The vocabulary, in the fixed order of `distribution` and `sample`."""
        self._check_fitted()
        return self._tokens

    @property
    def vocab(self) -> frozenset[Hashable]:
        """The set of known tokens: those of the training data and the extra `vocab` of `fit`."""
        return frozenset(self.tokens)

    @property
    def vocab_size(self) -> int:
        """The number of known tokens, |V|."""
        return len(self.tokens)

    def count(self, ngram: Sequence[Hashable]) -> int:
        """Return how often `ngram` (1 to `order` tokens; a str is characters) occurs in training.

        >>> NGramLM(3, "mle").fit("abracadabra").count("abr")
        2
        """
        ngram = _check_hashable(ngram, "ngram")
        self._check_fitted()
        if not 1 <= len(ngram) <= self.order:
            raise ValueError(f"ngram must have 1 to {self.order} tokens, got {len(ngram)}")
        return self._ngram_counts[len(ngram) - 1].get(ngram, 0)

    def ngrams(self, n: int) -> Mapping[Context, int]:
        """Return every distinct n-gram of training with its count (a read-only mapping).

        >>> NGramLM(2, "mle").fit("abracadabra").ngrams(2)[("a", "b")]
        2
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= self.order:
            raise ValueError(f"n must be an int from 1 to order={self.order}, got {n!r}")
        return MappingProxyType(self._ngram_counts[n - 1])

    @property
    def num_ngrams(self) -> int:
        """The size of the model: distinct n-grams stored, summed over n = 1 .. order."""
        self._check_fitted()
        return sum(map(len, self._ngram_counts))

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
        context = _check_hashable(context, "context")
        return context[max(0, len(context) - self.order + 1):]

    def _longest_seen(self, context: Context) -> _Seen:
        """MLE's counts for `context`: those of its longest suffix seen in training."""
        for start in range(len(context) + 1):
            seen = self._levels[len(context) - start].get(context[start:])
            if seen is not None:
                return seen
        raise AssertionError("the empty context is always seen: it precedes every token")

    def _prob(self, token: Hashable, context: Context) -> float:
        """P(token | context) for a known token and a context of at most order - 1 tokens."""
        if self.smoothing == "mle":
            seen = self._longest_seen(context)
            return seen.followers.get(token, 0) / seen.total
        if self.smoothing == "add_k":
            seen = self._levels[len(context)].get(context)
            count, total = (seen.followers.get(token, 0), seen.total) if seen else (0, 0)
            return (count + self.k) / (total + self.k * len(self._tokens))
        # Kneser-Ney: from the uniform distribution up through ever longer contexts.
        p = 1.0 / len(self._tokens)
        for m in range(len(context) + 1):
            seen = self._levels[m].get(context[len(context) - m:])
            if seen is None:
                # All the mass goes to the shorter context: p stays. Every longer context
                # ends with this unseen one, so it is unseen too.
                break
            count = seen.followers.get(token, 0)
            d = self._discounts[m]
            n1, n2, n3 = seen.by_count  # gamma · total, written out: this loop is the hot path
            p = (count - d[min(count, 3)] + (d[1] * n1 + d[2] * n2 + d[3] * n3) * p) / seen.total
        return p

    def prob(self, token: Hashable, context: Sequence[Hashable] = ()) -> float:
        """Return P(token | context); 0.0 for a token outside the vocabulary.

        `context` holds the preceding tokens (a tuple; a str is read as characters); only its
        last order - 1 are used.

        >>> lm = NGramLM(2, "add_k", k=1).fit("abracadabra")
        >>> lm.prob("b", context=("r", "a"))  # (c(ab) + 1) / (c(a) + 1·5) = 3/9
        0.3333333333333333
        """
        context = self._context(context)
        _check_hashable((token,), "token")
        self._check_fitted()
        return self._prob(token, context) if token in self._index else 0.0

    def distribution(self, context: Sequence[Hashable] = ()) -> dict[Hashable, float]:
        """Return {token: P(token | context)} over the whole vocabulary, in `tokens` order.

        >>> NGramLM(2, "mle").fit("abracadabra").distribution("a")
        {'a': 0.0, 'b': 0.5, 'r': 0.0, 'c': 0.25, 'd': 0.25}
        """
        context = self._context(context)
        self._check_fitted()
        return dict(zip(self._tokens, self._distribution(context).tolist()))

    def _distribution(self, context: Context) -> np.ndarray:
        """The probabilities of every token (in `_tokens` order) after `context`: shape (|V|,).

        The same arithmetic as `_prob`, on the whole vocabulary at once."""
        size, index = len(self._tokens), self._index
        if self.smoothing == "mle":
            seen = self._longest_seen(context)
            p = np.zeros(size)
            for token, count in seen.followers.items():
                p[index[token]] = count
            return p / seen.total
        if self.smoothing == "add_k":
            p = np.full(size, self.k)
            seen = self._levels[len(context)].get(context)
            if seen is None:
                return p / (self.k * size)
            for token, count in seen.followers.items():
                p[index[token]] += count
            return p / (seen.total + self.k * size)
        p = np.full(size, 1.0 / size)
        for m in range(len(context) + 1):
            seen = self._levels[m].get(context[len(context) - m:])
            if seen is None:
                break
            discount = self._discounts[m]
            p = seen.backoff(discount) * p
            for token, count in seen.followers.items():
                p[index[token]] += count - discount[min(count, 3)]
            p /= seen.total
        return p

    # ------------------------------------------------------------------------------ scoring

    def logprob(self, tokens: Sequence[Hashable], *, context: Sequence[Hashable] = ()) -> float:
        """Return the natural log of P(tokens), each token given the ones before it.

        The first token is predicted from `context` (default: nothing), the next from `context`
        and the first, and so on. -inf if any token has probability 0 (e.g. one not in `vocab`).

        >>> lm = NGramLM(2, "mle").fit("abracadabra")
        >>> math.exp(lm.logprob("cad", context="a"))  # P(c|a) P(a|c) P(d|a) = 1/4 · 1 · 1/4
        0.0625
        """
        tokens = _check_hashable(tokens, "tokens")
        history = _check_hashable(context, "context") + tokens
        self._check_fitted()
        total, width = 0.0, self.order - 1
        for i in range(len(history) - len(tokens), len(history)):
            token = history[i]
            p = self._prob(token, history[max(0, i - width):i]) if token in self._index else 0.0
            if p == 0.0:
                return -math.inf
            total += math.log(p)
        return total

    def cross_entropy(self, tokens: Sequence[Hashable], *,
                      context: Sequence[Hashable] = ()) -> float:
        """Return the average negative log-probability of `tokens`, in nats per token.

        Every token of `tokens` is scored given the tokens before it within `tokens` (the first
        given only `context`, default empty): -logprob(tokens) / len(tokens). It is math.inf if
        any token has probability 0: always for a token outside the vocabulary, so pass every
        token of held-out text to fit(..., vocab=...), and with MLE for any unseen n-gram.

        >>> lm = NGramLM(1, "add_k").fit("abcd")  # uniform: every token has probability 1/4
        >>> lm.cross_entropy("dcba") == math.log(4)
        True
        """
        tokens = _check_hashable(tokens, "tokens")
        if not tokens:
            raise ValueError("tokens is empty: there is nothing to score")
        return -self.logprob(tokens, context=context) / len(tokens)

    def perplexity(self, tokens: Sequence[Hashable], *, context: Sequence[Hashable] = ()) -> float:
        """Return exp(cross_entropy): the number of equally likely choices the model is as unsure
        as, on average (math.inf if a token has probability 0).

        >>> NGramLM(1, "add_k").fit("abcd").perplexity("dcba")
        4.0
        """
        return math.exp(self.cross_entropy(tokens, context=context))

    # ----------------------------------------------------------------------------- sampling

    def sample(self, num_tokens: int, context: Sequence[Hashable] = (), seed: int = 0) -> list:
        """Return `num_tokens` new tokens, each drawn from `distribution` of the ones before it.

        `context` starts the text and is not returned. The draws come from
        numpy.random.default_rng(seed), so a seed gives the same tokens in every process.

        >>> "".join(NGramLM(3, "mle").fit("abcabcabc").sample(7, context="a"))
        'bcabcab'
        """
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, int):
            raise TypeError(f"num_tokens must be an int, got {type(num_tokens).__name__}")
        if num_tokens < 0:
            raise ValueError(f"num_tokens must be 0 or more, got {num_tokens}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
        history = list(self._context(context))
        self._check_fitted()
        rng, width = np.random.default_rng(seed), self.order - 1
        new = []
        for _ in range(num_tokens):
            p = self._distribution(tuple(history[max(0, len(history) - width):]) if width else ())
            token = self._tokens[rng.choice(len(p), p=p)]
            new.append(token)
            history.append(token)
        return new
