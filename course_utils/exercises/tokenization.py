"""Exercise checks of notebook 01 (tokenization)."""

from __future__ import annotations

from collections.abc import Callable

from course_utils.exercises._feedback import NOT_ATTEMPTED, _report, _run_cases


def check_utf8_bytes(answer: int | None) -> None:
    """How many bytes does 今天是个好日子 take in UTF-8?

    >>> check_utf8_bytes(21)
    ✓ correct: 7 characters × 3 bytes = 21 bytes
    """
    text = "今天是个好日子"
    if answer is None:
        return _report(None, NOT_ATTEMPTED)
    if answer == len(text.encode("utf-8")):
        return _report(True, "correct: 7 characters × 3 bytes = 21 bytes")
    if answer == len(text):
        return _report(False, "that is the number of characters (code points), not bytes")
    if answer == len(text.encode("utf-16-le")):
        return _report(False, "that is UTF-16 (2 bytes per character here); UTF-8 needs more")
    return _report(False, "not quite: look at len(text.encode('utf-8')) for one character first")


def check_pretokenize(chunks: list[str] | None) -> None:
    """The chunks GPT-2's split pattern makes of "I'll pay $1,000 for 2 cats!".

    >>> check_pretokenize(["I", "'ll", " pay", " $", "1", ",", "000", " for", " 2", " cats", "!"])
    ✓ correct: 11 chunks, each word keeps the space before it
    """
    import regex

    from course_utils.tokenization import GPT2_SPLIT_PATTERN

    text = "I'll pay $1,000 for 2 cats!"
    expected = regex.findall(GPT2_SPLIT_PATTERN, text)
    if chunks is None:
        return _report(None, NOT_ATTEMPTED)
    if list(chunks) == expected:
        return _report(True, f"correct: {len(expected)} chunks, each word keeps the space before it")
    if "".join(chunks) != text:
        return _report(False, "your chunks must join back to the original text exactly")
    if any(c.endswith(" ") and c.strip() for c in chunks):
        return _report(False, "spaces attach to the start of the next chunk, not the end")
    for got, want in zip(chunks, expected, strict=False):
        if got != want:
            return _report(False, f"first difference: you have {got!r}, the pattern gives {want!r}")
    return _report(False, f"the pattern gives {len(expected)} chunks, you have {len(chunks)}")


def check_count_pairs(count_pairs: Callable[[dict[tuple[int, ...], int]], dict] | None) -> None:
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
        (({(32, 116, 104, 101): 3, (32, 116, 104, 101, 110): 1},),
         {(32, 116): 4, (116, 104): 4, (104, 101): 4, (101, 110): 1}),
        (({(97, 97, 97): 2},), {(97, 97): 4}),  # overlapping pairs are all counted
        (({(7,): 5},), {}),  # a one-token chunk has no pairs
        (({},), {}),
    ]  # fmt: skip
    return _run_cases(count_pairs, cases, "count_pairs", convert=dict)


def check_bpe_encode(bpe_encode: Callable[[str, dict[tuple[int, int], int]], list[int]] | None) -> None:
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
        (("aaabdaaabac", merges), [258, 100, 258, 97, 99]),
        (("aaab", merges), [258]),
        (("ab", merges), [257]),
        (("aaaa", merges), [256, 256]),
        (("ba", merges), [98, 97]),
        (("", merges), []),
    ]
    return _run_cases(bpe_encode, cases, "bpe_encode")


def check_decode(decode: Callable[[list[int], dict[int, bytes]], str] | None) -> None:
    """`decode(ids, vocab)` joins the tokens' bytes and decodes them as UTF-8 (with
    errors="replace", because a cut can fall inside a character)."""
    from course_utils.tokenization import BPETokenizer

    gpt2 = BPETokenizer.from_gpt2()
    texts = ["Hello world", "今天是个好日子", "naïve café 🙂", ""]
    cases = [((gpt2.encode(t), gpt2.vocab), t) for t in texts]
    # 好 is 3 bytes split over two GPT-2 tokens; its first token alone is not valid UTF-8.
    first_of_hao = gpt2.encode("好")[:1]
    cases.append(((first_of_hao, gpt2.vocab), "\ufffd"))
    return _run_cases(decode, cases, "decode")
