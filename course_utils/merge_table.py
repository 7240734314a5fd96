"""A vocabulary as the integer tables that encoding needs, checked; and chunks encoded with them.

A tokenizer's vocab and merges are bytes; encoding works on ints. `MergeTable.build` turns
(vocab, merges, special ids) into

- `byte_ids[b]`: the id of each single byte, -1 where the vocab has none (SmolLM2's lacks 21);
- `id_of[token]`: the id of every ordinary (non-special) token, given as bytes;
- `ranks[(id_a, id_b)] = (rank, merged id)`: the pair that `merges[rank]` joins;
- `orphans`: the ids of tokens that neither a byte nor a merge makes,

and checks that they fit: no two ordinary ids hold the same bytes, each merge joins two vocab
tokens into a vocab token, no pair is merged twice. Several merges may make the same token.

`apply_merges(ids, ranks)` merges one chunk: one merge at a time, the adjacent pair of lowest
rank first, the leftmost among equals — the order of GPT-2, Hugging Face and tiktoken. A short
chunk is simply rescanned after each merge. A long one (a page of letters without a space, a
paragraph of Chinese) would cost a rescan per merge, O(n²); instead its pairs wait in buckets,
one per rank, taken in rank order, while a linked list of the surviving positions finds each
merge's neighbours. That is exact when each merge's pairs rank after the merge itself, as in
every trained BPE; for any other list it notices and merges through a heap, O(n log n).

`MergeTable.encode_chunk(chunk)` runs text through the tables, remembering recent chunks. With
`ignore_merges` a chunk that is itself a vocab token becomes that token at once, as tiktoken
(and Hugging Face's `ignore_merges`) do: it reaches tokens that no merge makes.

Left out: anything that is not byte-level BPE (WordPiece, Unigram) and BPE dropout.

>>> table = MergeTable.build({**{b: bytes([b]) for b in range(256)}, 256: b"ab"},
...                          [(b"a", b"b")], set())
>>> table.encode_chunk("abc"), table.orphans
([256, 99], [])
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from course_utils.language import say

__all__ = ["MergeTable", "apply_merges"]

Pair = tuple[int, int]
_SHORT = 24  # chunks up to this many ids are encoded by rescanning: faster than buckets there
_NO_RANK = (float("inf"), -1)  # (rank, id) of a pair that is not a merge: after all merges
_CACHE_SIZE = 100_000  # encoded chunks remembered; a corpus has far fewer distinct words
_CACHED_LENGTH = 256  # longer chunks are not remembered: a stream's memory stays bounded


def apply_merges(ids: list[int], ranks: Mapping[Pair, tuple[int, int]]) -> list[int]:
    """Return one chunk's ids after merging (module docstring: the order, and why it is fast).

    >>> apply_merges([97, 97, 97, 98], {(97, 97): (0, 256), (97, 98): (1, 257)})
    [256, 257]
    """
    if len(ids) > _SHORT:
        merged = _merge_by_rank(ids, ranks)
        return merged if merged is not None else _merge_with_heap(ids, ranks)
    ids = list(ids)
    while len(ids) >= 2:
        pairs = list(zip(ids, ids[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, _NO_RANK))  # the first of equal ranks
        if best not in ranks:
            break
        i = pairs.index(best)
        ids[i:i + 2] = [ranks[best][1]]
    return ids


def _join(tok: list[int], after: list[int], before: list[int], i: int, new: int
          ) -> tuple[tuple[int, Pair], tuple[int, Pair]]:
    """Merge the token at position i with the next one into `new`, in the linked list; return
    the two pairs that now meet the new token, each with its position (-1: no neighbour)."""
    j = after[i]
    tok[i], tok[j] = new, -1
    k = after[i] = after[j]
    if k >= 0:
        before[k] = i
    h = before[i]
    return (i if k >= 0 else -1, (new, tok[k])), (h, (tok[h], new))


def _merge_by_rank(ids: list[int], ranks: Mapping[Pair, tuple[int, int]]) -> list[int] | None:
    """Long chunks, when every merge makes pairs of higher rank (else None): each rank's
    positions are merged left to right, ranks in increasing order."""
    tok = list(ids)  # tok[i]: the token starting at position i; -1 once merged into its left
    after = [*range(1, len(tok)), -1]  # the next surviving position, -1 at the end
    before = list(range(-1, len(tok) - 1))
    rank_of, waiting = ranks.get, {}  # waiting[rank]: positions where that pair may start
    for i, pair in enumerate(zip(tok, tok[1:])):
        if (r := rank_of(pair)) is not None:
            waiting.setdefault(r[0], []).append(i)
    order = list(waiting)
    heapq.heapify(order)
    while order:
        rank = heapq.heappop(order)
        for i in sorted(waiting.pop(rank)):  # leftmost first: "aaa" merges as (aa)a
            j = after[i]
            # Outdated if either side has merged since (a position's token only grows).
            if j < 0 or (r := rank_of((tok[i], tok[j]))) is None or r[0] != rank:
                continue
            for pos, pair in _join(tok, after, before, i, r[1]):
                if pos < 0 or (r := rank_of(pair)) is None:  # pos -1: no neighbour there
                    continue
                if r[0] <= rank:
                    return None  # a merge made a pair that ranks before it: use the heap
                if r[0] not in waiting:
                    heapq.heappush(order, r[0])
                waiting.setdefault(r[0], []).append(pos)
    return [t for t in tok if t >= 0]


def _merge_with_heap(ids: list[int], ranks: Mapping[Pair, tuple[int, int]]) -> list[int]:
    """Long chunks, any merge list: a heap of (rank, position), one merge at a time."""
    tok, n = list(ids), len(ids)
    after, before = [*range(1, n), -1], list(range(-1, n - 1))
    heap = [(r[0], i) for i, pair in enumerate(zip(tok, tok[1:]))
            if (r := ranks.get(pair)) is not None]
    heapq.heapify(heap)
    while heap:
        rank, i = heapq.heappop(heap)
        j = after[i]
        if tok[i] < 0 or j < 0 or (r := ranks.get((tok[i], tok[j]))) is None or r[0] != rank:
            continue
        for pos, pair in _join(tok, after, before, i, r[1]):
            if pos >= 0 and (r := ranks.get(pair)) is not None:
                heapq.heappush(heap, (r[0], pos))
    return [t for t in tok if t >= 0]


@dataclass
class MergeTable:
    """The integer tables of a vocabulary (module docstring), and a cache of encoded chunks."""

    byte_ids: list[int]
    id_of: dict[bytes, int]
    ranks: dict[Pair, tuple[int, int]]
    orphans: list[int]
    ignore_merges: bool = False
    cache: dict[str, list[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]],
              special_ids: set[int], ignore_merges: bool = False) -> MergeTable:
        """Derive the tables from a vocab, its merges and the ids of its special tokens;
        ValueError naming the culprit if they do not fit."""
        id_of: dict[bytes, int] = {}
        if not vocab or b"" in vocab.values():
            raise ValueError("the vocab is empty" if not vocab else "the vocab holds an empty "
                             "token b'': every token is at least one byte")
        for i, token in vocab.items():
            if i in special_ids:
                continue
            if token in id_of:
                raise ValueError(f"vocab ids {id_of[token]} and {i} are the same token {token!r}")
            id_of[token] = i
        byte_ids = [id_of.get(bytes([b]), -1) for b in range(256)]
        ranks: dict[Pair, tuple[int, int]] = {}
        for rank, (a, b) in enumerate(merges):
            absent = next((t for t in (a, b, a + b) if t not in id_of), None)
            if absent is not None:
                raise ValueError(f"merges[{rank}] = {(a, b)!r} needs the token {absent!r}, "
                                 "which is not in the vocab (or is a special token)")
            pair = (id_of[a], id_of[b])
            if pair in ranks:
                raise ValueError(f"merges[{rank}] = {(a, b)!r} repeats merges"
                                 f"[{ranks[pair][0]}]: each pair is merged once")
            ranks[pair] = (rank, id_of[a + b])
        made = {i for _, i in ranks.values()} | set(byte_ids)
        return cls(byte_ids, id_of, ranks, sorted(set(id_of.values()) - made), ignore_merges)

    def encode_chunk(self, chunk: str) -> list[int]:
        """Return the ids of one pre-token (text without special tokens); ValueError if it
        holds a byte that has no token."""
        ids = self.cache.get(chunk)
        if ids is not None:
            return ids
        raw = chunk.encode("utf-8")
        whole = self.id_of.get(raw) if self.ignore_merges else None
        ids = [whole] if whole is not None else [self.byte_ids[b] for b in raw]
        if -1 in ids:
            byte = raw[ids.index(-1)]
            missing = self.byte_ids.count(-1)
            raise ValueError(say(f"{chunk!r} holds the byte {byte:#04x}, which has no token in "
                                 f"this vocabulary (it lacks {missing} of the 256 bytes); remove "
                                 "or replace such characters before encoding",
                                 f"{chunk!r}含有字节{byte:#04x}，这个词表里没有它的词元（256个字节"
                                 f"中缺了{missing}个）；编码前请删除或替换这样的字符"))
        ids = apply_merges(ids, self.ranks) if whole is None else ids
        if len(chunk) <= _CACHED_LENGTH:
            if len(self.cache) >= _CACHE_SIZE:
                self.cache.clear()  # crude but bounded; the common chunks come back quickly
            self.cache[chunk] = ids
        return ids
