"""Counting n-grams once: the tables every n-gram model reads, whatever its smoothing.

`NGramCounts(tokens, order)` counts every n-gram of length 1 to `order` in one sequence of
hashable tokens (characters: a str works; words; token ids), grouped by context, the n - 1
tokens before the last: for each context, which tokens followed it and how often (`Followers`).
Smoothing (course_utils.ngrams) reads nothing else: `level(n)`, the n-grams' counts and their
count-of-counts n_r, the number of n-grams seen exactly r times (Kneser-Ney estimates its
discounts from them), and `level(n, continuation=True)`, Kneser-Ney's continuation counts
N1+(• g): for each n-gram g, the number of distinct tokens seen right before it.

c(context) is how often `context` is *followed by a token* (the `total` of its followers), so a
context that ends the training data is not counted once too often. A fit that would need more
memory than `max_memory_gb` stops early, with a MemoryError giving the estimate (`NGramCounts`).

Left out on purpose: pruning, counts kept on disk, and compact storage (KenLM sorts the n-grams
into arrays of a few bytes each).

>>> counts = NGramCounts("abracadabra", order=2)
>>> counts.count(("a", "b")), counts.level(2).contexts[("a",)]
(2, Followers(counts={'b': 2, 'c': 1, 'd': 1}, total=4, n1=2, n2=1, n3=0))
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from itertools import islice
from typing import NamedTuple

import numpy as np

from course_utils.language import say
from course_utils.ngram_tokens import check_tokens
from course_utils.validation import check_int, check_number, short_repr

__all__ = ["NGramCounts", "Followers", "Level", "check_tokens", "BYTES_PER_NGRAM",
           "MAX_MEMORY_GB"]

# Measured with tracemalloc (the peak of a modified Kneser-Ney fit, continuation counts included,
# divided by the n-grams it stores), on the course's Shakespeare: 312 bytes per n-gram for
# characters, order 7 (918,422 n-grams, 273 MiB); 391 at order 8; 454 for words, order 5, where
# most contexts were seen once and each costs a dictionary of its own. Rounded up to the worst.
BYTES_PER_NGRAM = 500
MAX_MEMORY_GB = 2.0  # default limit of a fit: leaves room on an 8 GB laptop
CHUNK = 1 << 18      # positions counted between two memory checks

Context = tuple[Hashable, ...]
Discounts = tuple[float, float, float, float]  # (0, D1, D2, D3+): index = min(count, 3)


class Followers(NamedTuple):
    """What followed one context in training: each token with its count, and summaries."""

    counts: dict[Hashable, int]  # next token -> count (or continuation count)
    total: int                   # the sum of the counts: c(context ·)
    n1: int                      # how many tokens followed it exactly once,
    n2: int                      # ... exactly twice,
    n3: int                      # ... three times or more


UNSEEN = Followers({}, 0, 0, 0, 0)  # a context never seen: followed by nothing


class Level(NamedTuple):
    """Every context of one length seen in training, with the level's count-of-counts."""

    contexts: dict[Context, Followers]
    count_of_counts: Counter[int]  # r -> the number of n-grams seen exactly r times


def _summarise(grouped: Mapping[Context, dict[Hashable, int]],
               count_of_counts: Counter[int]) -> Level:
    """A Level from {context: {token: count}}: each context's total, n1, n2 and n3+."""
    contexts = {}
    for context, after in grouped.items():
        values = list(after.values())
        ones, twos = values.count(1), values.count(2)
        contexts[context] = Followers(after, sum(values), ones, twos, len(values) - ones - twos)
    return Level(contexts, count_of_counts)


class NGramCounts:
    """The counts of every n-gram of orders 1 to `order` in `tokens`; see the module docstring.

    Counting also fixes the vocabulary, `vocab` (tokens indexed by id): the tokens of `tokens`
    in order of first appearance, then those of `vocab` not among them (extra tokens that may
    occur later), sorted when they can be compared.

    `max_memory_gb` (GB = 10**9 bytes; math.inf: no limit) bounds the memory of the counts, at
    `BYTES_PER_NGRAM` per n-gram. After every `CHUNK` positions, the n-grams counted so far, plus
    as many less one in each higher order to come (each n-gram but the last extends to one), are
    a lower bound of what the fit stores; once it passes the limit, counting stops with a
    MemoryError. So the counts never exceed the limit by more than one chunk, and a fit whose
    estimate is within the limit is never refused (fits measure 312-454 bytes per n-gram).

    >>> NGramCounts("abracadabra", order=3).num_ngrams  # 5 letters, 7 bigrams, 7 trigrams
    19
    """

    def __init__(self, tokens: Iterable[Hashable], order: int, *,
                 vocab: Iterable[Hashable] | None = None,
                 max_memory_gb: float = MAX_MEMORY_GB) -> None:
        tokens = check_tokens("tokens", tokens)
        self.order = check_int("order", order, minimum=1, fix="1 = unigram model")
        extra = check_tokens("vocab", () if vocab is None else vocab, ordered=False,
                             fix="; for token ids pass vocab=range(tokenizer.vocab_size)")
        limit = check_number("max_memory_gb", max_memory_gb, minimum=0, min_open=True,
                             finite=False, fix="e.g. max_memory_gb=4")
        if len(tokens) < order:
            raise ValueError(f"tokens has {len(tokens)} tokens, but an order-{order} model "
                             f"needs at least {order} to count one n-gram")
        seen = dict.fromkeys(tokens)
        extra = check_tokens("vocab", (*seen, *extra))[len(seen):]  # 1 in tokens, True in vocab
        self._levels: list[Level] = []  # [n - 1]: the n-grams' counts
        self._continuation: dict[int, Level] = {}
        stored = 0
        for n in range(1, order + 1):
            self._levels.append(self._count(tokens, n, stored, limit))
            stored += len(self.ngrams(n))
        extra = [token for token in dict.fromkeys(extra) if token not in seen]
        try:
            extra = sorted(extra)
        except TypeError:
            pass  # tokens of mixed types: keep the order given
        self.vocab: tuple[Hashable, ...] = (*seen, *extra)
        self.index = {token: i for i, token in enumerate(self.vocab)}  # token -> id
        self._kinds = set(map(type, self.vocab))
        # A str reads as a sequence of tokens only if every token is one character.
        self.characters = all(isinstance(t, str) and len(t) == 1 for t in self.vocab)

    def _count(self, tokens: tuple[Hashable, ...], n: int, stored: int, limit: float) -> Level:
        """Count the n-grams of `tokens` a chunk at a time, checking the memory after each."""
        positions = len(tokens) - n + 1
        grams = zip(*(islice(tokens, i, None) for i in range(n)))  # no copy of the tokens
        counts: Counter[Context] = Counter()
        for done in range(CHUNK, positions + CHUNK, CHUNK):
            counts.update(islice(grams, CHUNK))
            counted = len(counts)
            at_least = stored + counted + (self.order - n) * (counted - 1)
            if at_least * BYTES_PER_NGRAM > limit * 1e9:
                need = at_least * BYTES_PER_NGRAM / 1e9
                seen = min(done, positions)
                raise MemoryError(say(
                    f"an order-{self.order} fit would need about {need:.2g} GB, more than "
                    f"max_memory_gb={limit:g}: at least {at_least:,} n-grams at up to "
                    f"{BYTES_PER_NGRAM} bytes each (known after counting the {n}-grams of "
                    f"{seen:,} of {positions:,} positions); lower the order, fit "
                    f"on less text, or raise max_memory_gb if the machine has the memory",
                    f"{self.order}阶的拟合约需{need:.2g} GB内存，超过了max_memory_gb={limit:g}：至少"
                    f"{at_least:,}个n 元语法，每个最多{BYTES_PER_NGRAM}字节（数完{positions:,}个位置中"
                    f"{seen:,}个位置的{n}元语法后得知）；请降低阶数、用更少的文本拟合，或在机器"
                    f"内存足够时调大max_memory_gb"))
        grouped: defaultdict[Context, dict[Hashable, int]] = defaultdict(dict)
        for ngram, count in counts.items():
            grouped[ngram[:-1]][ngram[-1]] = count
        count_of_counts = Counter(counts.values())
        del counts  # the grouped table holds the same counts: keep one copy
        return _summarise(grouped, count_of_counts)

    def __repr__(self) -> str:
        return f"NGramCounts(order={self.order}, num_ngrams={self.num_ngrams:,})"

    def up_to(self, order: int) -> NGramCounts:
        """These counts for orders 1 to `order` only: shared with this object, not copied.

        >>> NGramCounts("abracadabra", 3).up_to(2).num_ngrams  # 5 letters, 7 bigrams
        12
        """
        order = check_int("order", order, minimum=1, maximum=self.order,
                          fix="fit a new model for a higher order")
        lower = copy.copy(self)  # the tables, the vocabulary and the continuation cache
        lower.order, lower._levels = order, self._levels[:order]
        return lower

    def _check_n(self, n: int) -> int:
        return check_int("n", n, minimum=1, maximum=self.order,
                         fix=f"the counts go up to order {self.order}")

    def as_tokens(self, name: str, value: object) -> tuple[Hashable, ...]:
        """`value` as a tuple of tokens; a non-empty str only if every token is one character
        (for a model of words, "the cat" would be seven unknown characters, not two words)."""
        if isinstance(value, str) and value and not self.characters:
            raise ValueError(f"{name}={short_repr(value)} is a str, read as characters, but "
                             f"the vocabulary holds tokens longer than one character; pass a "
                             f"tuple of tokens, e.g. {name}={short_repr(tuple(value.split()))}")
        tokens = check_tokens(name, value)
        # Refuse a token equal to one of `vocab` but of another type (True for 1): rare types only.
        if foreign := set(map(type, tokens)) - self._kinds:
            check_tokens(name, (*self.vocab, *(t for t in tokens if type(t) in foreign)))
        return tokens

    def as_token(self, name: str, value: object) -> Hashable:
        """`value` as one token: hashable, and one character if every token is one."""
        (token,) = self.as_tokens(name, (value,))
        if self.characters and isinstance(token, str) and len(token) != 1:
            raise ValueError(f"{name}={short_repr(token)} is not one character, but the "
                             f"vocabulary's tokens are characters; for a string use logprob")
        return token

    def level(self, n: int, *, continuation: bool = False) -> Level:
        """The n-grams' counts grouped by context (n - 1 tokens), or their continuation counts
        (n < order): how many distinct tokens come right before each ("a" after r, c and d):

        >>> NGramCounts("abracadabra", 2).level(1, continuation=True).contexts[()].counts["a"]
        3
        """
        n = self._check_n(n)
        if not continuation:
            return self._levels[n - 1]
        if n == self.order:
            raise ValueError(f"continuation counts of {n}-grams need the {n + 1}-grams, but "
                             f"these counts stop at order {self.order}")
        if n not in self._continuation:
            # Each distinct (n+1)-gram v g is one distinct token v seen before the n-gram g.
            grouped: defaultdict[Context, dict[Hashable, int]] = defaultdict(dict)
            for context, seen in self._levels[n].contexts.items():
                after = grouped[context[1:]]
                for token in seen.counts:
                    after[token] = after.get(token, 0) + 1
            count_of_counts = Counter(c for after in grouped.values() for c in after.values())
            self._continuation[n] = _summarise(grouped, count_of_counts)
        return self._continuation[n]

    def count(self, ngram: tuple[Hashable, ...]) -> int:
        """How often `ngram` (a tuple of 1 to `order` tokens) occurs in the tokens counted.

        >>> NGramCounts("abracadabra", 3).count("abr")
        2
        """
        ngram = self.as_tokens("ngram", ngram)
        if not 1 <= len(ngram) <= self.order:
            raise ValueError(f"ngram must have 1 to {self.order} tokens, got {len(ngram)}: "
                             f"{short_repr(ngram)}")
        return self.ngrams(len(ngram)).get(ngram, 0)

    def ngrams(self, n: int) -> Mapping[Context, int]:
        """Every distinct n-gram counted, with its count: a read-only mapping over the tables.

        >>> dict(NGramCounts("abcab", 2).ngrams(2))
        {('a', 'b'): 2, ('b', 'c'): 1, ('c', 'a'): 1}
        """
        return _NGrams(self._levels[self._check_n(n) - 1], self.as_tokens)

    @property
    def num_ngrams(self) -> int:
        """The number of distinct n-grams stored, summed over n = 1 .. order."""
        return sum(len(self.ngrams(n)) for n in range(1, self.order + 1))


class _NGrams(Mapping):
    """A read-only {n-gram: count} view of one level (the counts are stored by context)."""

    def __init__(self, level: Level, read: Callable) -> None:
        self._level, self._read = level, read  # read: 0-d tensors as their numbers

    def __getitem__(self, ngram: Context) -> int:
        if not isinstance(ngram, tuple) or not ngram:
            raise KeyError(ngram)
        ngram = self._read("ngram", ngram)  # 0-d tensors as their numbers, True for 1 refused
        return self._level.contexts.get(ngram[:-1], UNSEEN).counts[ngram[-1]]

    def __iter__(self) -> Iterator[Context]:
        for context, seen in self._level.contexts.items():
            for token in seen.counts:
                yield (*context, token)

    def __len__(self) -> int:
        return sum(self._level.count_of_counts.values())


# Reading the counts of the token(s) a model asks for, less a discount D(c) (Kneser-Ney's D1,
# D2, D3+; 0 for none): `OneToken` for one token (the fast path of scoring a text), `EveryToken`
# for the whole vocabulary (arrays in id order), so one smoothing routine serves both.


class OneToken(NamedTuple):
    """The count of one token after a context, less its discount: a float."""

    token: Hashable

    def counts(self, followers: dict[Hashable, int], discounts: Discounts) -> float:
        """c(context token) - D(c), from the context's `followers`."""
        count = followers.get(self.token, 0)
        return count - discounts[count if count < 3 else 3]  # (faster than min: the hot path)


class EveryToken:
    """The counts of every token of the vocabulary after a context, less their discounts."""

    def __init__(self, index: Mapping[Hashable, int]) -> None:
        self.index, self.size = index, len(index)  # token -> id

    def counts(self, followers: dict[Hashable, int], discounts: Discounts) -> np.ndarray:
        """c(context w) - D(c) for every token w, in id order, shape (|V|,); 0 if never seen."""
        count = np.zeros(self.size, dtype=np.int64)
        count[[self.index[token] for token in followers]] = list(followers.values())
        return count - np.asarray(discounts)[np.minimum(count, 3)]
