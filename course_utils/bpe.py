"""Byte-pair encoding on lists of ids: `merge`, and the naive and the fast trainer.

This is the algorithm of notebook 01, section 4. Its input is what a tokenizer makes of a text
once it has cut it into chunks: each distinct chunk as a list of byte ids (0-255), with how
often it occurs.

- `merge(ids, pair, new_id)` replaces each occurrence of a pair by a new id, left to right.
- `train_naive(chunks, freqs, num_merges)` learns merges the obvious way: count every pair of
  every chunk, merge the most frequent one, and count everything again.
- `train_fast(...)` learns exactly the same merges, but after each merge it recounts only the
  chunks that the merge changed, and finds the next most frequent pair with a heap.

Merge i makes id 256 + i. Ties between equally frequent pairs are broken by `tie_break`: the
smallest ids ("lowest_ids", the course's rule) or the greatest pair of bytes ("lexicographic",
the rule of Stanford CS336 and several other references). Either way the result is unique.

Left out: encoding with the merges (`course_utils.merge_table`); text, split patterns, special
tokens and files (`course_utils.regex_tokenizer`); and the faster tricks of production trainers
(threads, Rust), which `benchmarks/bpe.py` measures against.

>>> chunks, freqs = [list(b"aaabdaaabac")], [1]
>>> train_naive(chunks, freqs, 3, progress=False)
[(97, 97), (97, 98), (256, 257)]
>>> train_fast(chunks, freqs, 3, progress=False) == train_naive(chunks, freqs, 3, progress=False)
True
"""

from __future__ import annotations

import heapq
import numbers
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain

from course_utils.progress import progress_bar
from course_utils.validation import check_bool, check_int, short_repr

__all__ = ["merge", "train_naive", "train_fast", "check_ids", "TIE_BREAKS"]

Pair = tuple[int, int]
_NOT_LISTS = (str, bytes, bytearray, Mapping, set, frozenset)  # iterable, but not lists of ids
TIE_BREAKS = ("lowest_ids", "lexicographic")


class _Descending(bytes):
    """Bytes that sort backwards, so that a min-heap pops the lexicographically greatest pair."""

    def __lt__(self, other: bytes) -> bool:  # type: ignore[override]
        return bytes.__gt__(self, other)


def merge(ids: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Return `ids` with each occurrence of `pair` replaced by `new_id`, left to right.

    Occurrences do not overlap: in "aaa" the first two a's merge and the third stays.

    >>> merge([97, 97, 97, 98], (97, 97), 256)
    [256, 97, 98]
    """
    ids = check_ids("ids", ids)
    if (isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2
            or any(isinstance(i, bool) or not isinstance(i, numbers.Integral) for i in pair)):
        raise TypeError(f"pair must be two token ids, e.g. (97, 97), got {short_repr(pair)}")
    return _merge(ids, (int(pair[0]), int(pair[1])), check_int("new_id", new_id, minimum=0))


def _merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """`merge` itself, without the argument checks: the loops below call it millions of times."""
    a, b = pair
    out, i, n = [], 0, len(ids)
    while i < n:
        if ids[i] == a and i + 1 < n and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_naive(chunks: Sequence[Sequence[int]], freqs: Sequence[int], num_merges: int, *,
                tie_break: str = "lowest_ids", progress: bool = True) -> list[Pair]:
    """Learn up to `num_merges` merges, recounting every pair of every chunk for each one.

    `chunks[c]` is a distinct chunk as byte ids and `freqs[c]` how often it occurs. Returns the
    merged pairs in order (merge i made id 256 + i); fewer than `num_merges` when every chunk
    has become a single token. `tie_break` chooses among equally frequent pairs (module
    docstring). `progress` shows a bar (closed as complete if it stops early).

    >>> train_naive([[1, 2, 3], [2, 3]], [1, 5], 5, progress=False)
    [(2, 3), (1, 256)]
    >>> [train_naive([list(b"abcd")], [1], 1, tie_break=t, progress=False) for t in TIE_BREAKS]
    [[(97, 98)], [(99, 100)]]
    """
    chunks, freqs, num_merges = _check_training(chunks, freqs, num_merges, progress)
    order = _tie_order(tie_break)
    merged: list[Pair] = []
    with progress_bar(num_merges, "BPE merges", enabled=progress) as bar:
        for new_id in range(256, 256 + num_merges):
            counts: Counter[Pair] = Counter()
            for ids, freq in zip(chunks, freqs):
                for pair in zip(ids, ids[1:]):
                    counts[pair] += freq  # a chunk seen `freq` times adds its pairs `freq` times
            if not counts:
                break  # every chunk is a single token: nothing left to merge
            # The most frequent pair; among equals, the first in `tie_break`'s order.
            best = min(counts, key=lambda p: (-counts[p], *order(p), *p))
            chunks = [_merge(ids, best, new_id) for ids in chunks]
            merged.append(best)
            order.learn(best)
            bar.update()
    return merged


def train_fast(chunks: Sequence[Sequence[int]], freqs: Sequence[int], num_merges: int, *,
               tie_break: str = "lowest_ids", progress: bool = True) -> list[Pair]:
    """Learn the same merges as `train_naive`, touching only the chunks that each merge changes.

    `counts` holds every pair's weighted count and `where` the chunks that contain it (and maybe
    some that lost it since, which a merge then leaves as they are). After a merge, each changed
    chunk takes back all its old pairs and adds all its new ones: redoing the whole chunk is
    simpler than patching neighbours and stays right when pairs overlap ("aaaa"). The most
    frequent pair comes from a heap of (-count, tie-break key, id_a, id_b), whose order is the
    naive trainer's; a count that changes gets a fresh entry, and outdated entries are skipped.

    >>> train_fast([[1, 2, 3], [2, 3]], [1, 5], 5, progress=False)
    [(2, 3), (1, 256)]
    """
    chunks, freqs, num_merges = _check_training(chunks, freqs, num_merges, progress)
    order = _tie_order(tie_break)
    counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)
    for c, (ids, freq) in enumerate(zip(chunks, freqs)):
        for pair in zip(ids, ids[1:]):
            counts[pair] += freq
            where[pair].add(c)
    heap = [(-n, *order((a, b)), a, b) for (a, b), n in counts.items()]
    heapq.heapify(heap)

    merged: list[Pair] = []
    with progress_bar(num_merges, "BPE merges", enabled=progress) as bar:
        for new_id in range(256, 256 + num_merges):
            # Pop until the top entry still tells the truth about its pair's count.
            while heap and counts.get((heap[0][-2], heap[0][-1])) != -heap[0][0]:
                heapq.heappop(heap)
            if not heap:
                break  # every chunk is a single token: nothing left to merge
            best = heapq.heappop(heap)[-2:]
            merged.append(best)
            order.learn(best)
            change: dict[Pair, int] = defaultdict(int)
            for c in where.pop(best):
                old, freq = chunks[c], freqs[c]
                new = _merge(old, best, new_id)
                if len(new) == len(old):
                    continue  # the chunk lost this pair to an earlier merge
                chunks[c] = new
                for pair in zip(old, old[1:]):
                    change[pair] -= freq
                for pair in zip(new, new[1:]):
                    change[pair] += freq
                    where[pair].add(c)  # pairs that vanished keep a stale entry: cheaper
            for pair, delta in change.items():
                if delta == 0:
                    continue
                count = counts[pair] + delta
                if count:
                    counts[pair] = count
                    heapq.heappush(heap, (-count, *order(pair), *pair))
                else:  # the pair is gone from every chunk (always true for `best`)
                    del counts[pair]
                    where.pop(pair, None)
            bar.update()
    return merged


class _TieOrder:
    """The sort key of a pair among equally frequent ones: smallest key first.

    "lowest_ids" needs no key beyond the ids themselves (which end every heap entry);
    "lexicographic" keys each pair by its bytes, sorting backwards, so it keeps the bytes of
    every token, learning each new one as it is merged.
    """

    def __init__(self, tie_break: str) -> None:
        self.lexicographic = tie_break == "lexicographic"
        self.token_bytes = [_Descending(bytes([b])) for b in range(256)]

    def __call__(self, pair: Pair) -> tuple[bytes, ...]:
        if self.lexicographic:
            return self.token_bytes[pair[0]], self.token_bytes[pair[1]]
        return ()

    def learn(self, pair: Pair) -> None:
        if self.lexicographic:
            self.token_bytes.append(_Descending(self.token_bytes[pair[0]]
                                                + self.token_bytes[pair[1]]))


def _tie_order(tie_break: object) -> _TieOrder:
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {list(TIE_BREAKS)}, got "
                         f"{short_repr(tie_break)}")
    return _TieOrder(tie_break)


# ------------------------------------------------------------------------- argument checks


def check_ids(name: str, ids: object, *, size: int | None = None) -> list[int]:
    """Return `ids` as a list of ints (each in 0..size-1 when `size` is given); else raise.

    NumPy and torch integers are welcome; bools, floats, strings and bytes are not, although
    Python would let True and 1.0 pass as dictionary keys for id 1. Nor are sets, whose order
    is not the ids' order, and single ids (an int, or a 0-d tensor or array).

    >>> check_ids("ids", [3, True])
    Traceback (most recent call last):
    ...
    TypeError: ids[1] must be a token id (an int), got True (bool)
    """
    single = isinstance(ids, numbers.Integral) or getattr(ids, "ndim", None) == 0  # tensor(5)
    if single or not isinstance(ids, Iterable) or isinstance(ids, _NOT_LISTS):
        hint = ("; for one id, pass a list of one" if single
                else "; a set has no order: pass a list" if isinstance(ids, (set, frozenset))
                else "; to encode text use encode()" if isinstance(ids, (str, bytes)) else "")
        raise TypeError(f"{name} must be a list of token ids (ints), got {short_repr(ids)}{hint}")
    ids = list(ids)
    # The usual case, plain ints in range, checked at C speed; the loop below finds the culprit.
    if set(map(type, ids)) <= {int} and (size is None or not ids
                                         or (min(ids) >= 0 and max(ids) < size)):
        return ids
    out = []
    for k, i in enumerate(ids):
        if type(i) is not int:
            i = _as_id(f"{name}[{k}]", i)
        if size is not None and not 0 <= i < size:
            raise ValueError(f"{name}[{k}] = {i} is not a token id: the vocab has {size} ids, "
                             f"0 to {size - 1}")
        out.append(i)
    return out


def _as_id(name: str, value: object) -> int:
    """An id that is not a plain int: a NumPy or a 0-d torch integer; not a bool, 1.0 or "7"."""
    is_bool = isinstance(value, bool) or "bool" in str(getattr(value, "dtype", ""))
    try:
        if not is_bool and getattr(value, "ndim", 0) == 0:  # tensor([5]) holds an id, is not one
            return operator.index(value)
    except (TypeError, RuntimeError):  # RuntimeError: a tensor on the meta device has no value
        pass
    raise TypeError(f"{name} must be a token id (an int), got {short_repr(value)} "
                    f"({'bool' if is_bool else type(value).__name__})")


def _check_training(chunks: object, freqs: object, num_merges: object, progress: object
                    ) -> tuple[list[list[int]], list[int], int]:
    """The trainers' argument checks; return fresh lists (the fast trainer changes its own)
    and num_merges as an int."""
    num_merges = check_int("num_merges", num_merges, minimum=0)
    check_bool("progress", progress)
    for name, value in (("chunks", chunks), ("freqs", freqs)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a list with one item per distinct chunk, got "
                            f"{short_repr(value)}")
    if len(freqs) != len(chunks):
        raise ValueError(f"freqs must have one count per chunk: {len(chunks)} chunks, got "
                         f"{len(freqs)} counts")
    # The usual case at C speed (a corpus has ~10^5 chunks); the slow path names the culprit.
    flat = list(chain.from_iterable(chunks)) if all(type(c) is list for c in chunks) else [-1]
    if (set(map(type, flat)) <= {int} and set(map(type, freqs)) <= {int}
            and (not flat or (min(flat) >= 0 and max(flat) < 256)) and min(freqs, default=1) > 0):
        return [ids.copy() for ids in chunks], list(freqs), num_merges
    return ([check_ids(f"chunks[{c}]", ids, size=256) for c, ids in enumerate(chunks)],
            [check_int(f"freqs[{c}]", n, minimum=1) for c, n in enumerate(freqs)], num_merges)
