"""Exercise checks of notebook 01 (tokenization)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from course_utils.exercises.answers import Case, close_number, run_cases
from course_utils.exercises.feedback import Verdict, correct, describe, exercise, wrong


@exercise
def check_utf8_bytes(answer: int | None) -> Verdict:
    """How many bytes does 今天是个好日子 take in UTF-8?

    >>> check_utf8_bytes(21)
    ✓ correct: 7 characters × 3 bytes = 21 bytes
    """
    text = "今天是个好日子"
    return close_number(
        answer, len(text.encode("utf-8")), 0, "utf8_bytes.correct",
        hints=[(len(text), "utf8_bytes.characters"),
               (len(text.encode("utf-16-le")), "utf8_bytes.utf16")],
        otherwise="utf8_bytes.not_quite")


@exercise
def check_pretokenize(chunks: list[str] | None) -> Verdict:
    """The chunks GPT-2's split pattern makes of "I'll pay $1,000 for 2 cats!".

    >>> check_pretokenize(["I", "'ll", " pay", " $", "1", ",", "000", " for", " 2", " cats", "!"])
    ✓ correct: 11 chunks, each word keeps the space before it
    """
    import regex

    from course_utils.tokenization import GPT2_SPLIT_PATTERN

    text = "I'll pay $1,000 for 2 cats!"
    expected = regex.findall(GPT2_SPLIT_PATTERN, text)
    if type(chunks) not in (list, tuple):
        return wrong("pretokenize.not_a_list", type=type(chunks).__name__)
    chunks = list(chunks)
    for chunk in chunks:
        if not isinstance(chunk, str):
            return wrong("pretokenize.not_a_str", chunk=describe(chunk))
    if chunks == expected:
        return correct("pretokenize.correct", count=len(expected))
    if "".join(chunks) != text:
        return wrong("pretokenize.join_back")
    if any(c.endswith(" ") and c.strip() for c in chunks):
        return wrong("pretokenize.space_at_end")
    for got, want in zip(chunks, expected, strict=False):
        if got != want:
            return wrong("pretokenize.first_difference", got=repr(got), want=repr(want))
    return wrong("pretokenize.count", expected=len(expected), count=len(chunks))


def _counts(result: object) -> dict:
    """A dict or Counter of counts as a plain dict (anything else stays as it is)."""
    return dict(result) if isinstance(result, Mapping) else result  # type: ignore[return-value]


@exercise
def check_count_pairs(count_pairs: Callable[[dict[tuple[int, ...], int]], dict]) -> Verdict:
    """`count_pairs(chunk_counts)`: adjacent-pair counts when each distinct chunk is stored
    once with how often it occurs — the fast trainer's bookkeeping.

    >>> from collections import Counter
    >>> def count_pairs(chunk_counts):
    ...     counts = Counter()
    ...     for chunk, n in chunk_counts.items():
    ...         for pair in zip(chunk, chunk[1:]):
    ...             counts[pair] += n
    ...     return counts
    >>> check_count_pairs(count_pairs)
    ✓ correct: count_pairs passes all 4 cases
    """
    cases = [
        # " the" ×3 and " then" ×1: (t,h) and (h,e) occur 4 times, (e,n) once
        Case(({(32, 116, 104, 101): 3, (32, 116, 104, 101, 110): 1},),
             {(32, 116): 4, (116, 104): 4, (104, 101): 4, (101, 110): 1}),
        Case(({(97, 97, 97): 2},), {(97, 97): 4}),  # overlapping pairs are all counted
        Case(({(7,): 5},), {}),  # a one-token chunk has no pairs
        Case(({},), {}),
    ]
    return run_cases(count_pairs, cases, "count_pairs", convert=_counts)


@exercise
def check_bpe_encode(bpe_encode: Callable[[str, dict[tuple[int, int], int]], list[int]]
                     ) -> Verdict:
    """`bpe_encode(text, merges)`: UTF-8 bytes, then repeatedly apply the learned merge with
    the lowest rank (merges maps a pair to its new id, in training order).

    >>> def bpe_encode(text, merges):
    ...     ids = list(text.encode("utf-8"))
    ...     while len(ids) >= 2:
    ...         pair = min(zip(ids, ids[1:]), key=lambda p: merges.get(p, float("inf")))
    ...         if pair not in merges:
    ...             break
    ...         out, i = [], 0
    ...         while i < len(ids):
    ...             if tuple(ids[i:i + 2]) == pair:
    ...                 out.append(merges[pair]); i += 2
    ...             else:
    ...                 out.append(ids[i]); i += 1
    ...         ids = out
    ...     return ids
    >>> check_bpe_encode(bpe_encode)
    ✓ correct: bpe_encode passes all 6 cases
    """
    # The merges learned from "aaabdaaabac": aa -> 256, ab -> 257, (aa)(ab) -> 258.
    merges = {(97, 97): 256, (97, 98): 257, (256, 257): 258}
    cases = [
        Case(("aaabdaaabac", merges), [258, 100, 258, 97, 99]),
        Case(("aaab", merges), [258]),
        Case(("ab", merges), [257]),
        Case(("aaaa", merges), [256, 256]),
        Case(("ba", merges), [98, 97]),
        Case(("", merges), []),
    ]
    return run_cases(bpe_encode, cases, "bpe_encode")


@functools.lru_cache(maxsize=1)
def _decode_cases() -> tuple[Case, ...]:
    """GPT-2 ids of a few texts with GPT-2's vocab, built once (reading it takes 0.5 s)."""
    from course_utils.tokenization import BPETokenizer

    gpt2 = BPETokenizer.from_gpt2()
    texts = ["Hello world", "今天是个好日子", "naïve café 🙂", ""]
    cases = [(gpt2.encode(t), t) for t in texts]
    # 好 is 3 bytes split over two GPT-2 tokens; its first token alone is not valid UTF-8.
    cases.append((gpt2.encode("好")[:1], "\ufffd"))
    # The vocab is shown by name: its repr is close to a megabyte.
    return tuple(Case((ids, gpt2.vocab), text, shown=f"{ids!r}, vocab") for ids, text in cases)


@exercise
def check_decode(decode: Callable[[list[int], dict[int, bytes]], str]) -> Verdict:
    """`decode(ids, vocab)` joins the tokens' bytes and decodes them as UTF-8 (with
    errors="replace", because a cut can fall inside a character)."""
    if not callable(decode):  # before reading GPT-2's vocabulary
        return wrong("not_a_function", type=type(decode).__name__)
    return run_cases(decode, _decode_cases(), "decode")
