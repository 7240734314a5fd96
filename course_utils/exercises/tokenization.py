"""Exercise checks of notebook 01 (tokenization)."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping

from course_utils.exercises.answers import Case, call, close_number, run_cases
from course_utils.exercises.feedback import Verdict, correct, describe, exercise, wrong


@exercise
def check_utf8_bytes(answer: int | None) -> Verdict:
    """How many bytes does "naïve 好 😀" take in UTF-8?

    >>> check_utf8_bytes(15)
    ✓ correct: 6 ASCII characters × 1 + ï 2 + 好 3 + 😀 4 = 15 bytes
    """
    text = "naïve 好 😀"
    return close_number(
        answer, len(text.encode("utf-8")), 0, "utf8_bytes.correct",
        hints=[(len(text), "utf8_bytes.characters"),
               (len(text.encode("utf-16-le")), "utf8_bytes.utf16"),
               (len(text.encode("utf-8")) - 1, "utf8_bytes.emoji"),
               (len(text.encode("utf-8")) + 1, "utf8_bytes.accent"),
               (3 * len(text), "utf8_bytes.all_three")],
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
    ✓ correct: bpe_encode passes all 7 cases
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
        _package_encode_case(),
    ]
    return run_cases(bpe_encode, cases, "bpe_encode")


@functools.lru_cache(maxsize=1)
def _package_encode_case() -> Case:
    """24 merges learned by the package on a verse, and the package's ids of another line.

    The pattern makes each text one chunk, so the package applies the merges as bpe_encode
    does: to the whole text's bytes, without pre-tokenization.
    """
    from course_utils.tokenization import BPETokenizer

    verse = "the cat sat on the mat; the rat sat on the hat, and the bat sat on the cat"
    tok = BPETokenizer.train(verse, vocab_size=280, pattern=r"[\s\S]+", special_tokens=(),
                             progress=False)
    merges = {(tok.token_id(a), tok.token_id(b)): tok.token_id(a + b) for a, b in tok.merges}
    line = "that hat sat on the mat"
    return Case((line, merges), tok.encode(line), shown=f"{line!r}, <24 merges of a verse>")


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


@functools.lru_cache(maxsize=1)
def _separator_cases() -> tuple[tuple[str, int, str, list[tuple[bytes, bytes]]], ...]:
    """(text, num_merges, separator, BPETokenizer.train's merges): 宋词 poems joined by a
    separator, for two separators."""
    from course_utils.data import load_corpus
    from course_utils.tokenization import ENDOFTEXT, BPETokenizer

    poems = load_corpus("poetry_zh", split="train").split("\n\n")
    cases = []
    for separator, poem_slice, num_merges in ((ENDOFTEXT, slice(0, 40), 30),
                                             ("<|poem|>", slice(40, 60), 30)):
        text = separator.join(poems[poem_slice])
        tok = BPETokenizer.train(text, 256 + num_merges + 1, special_tokens=(separator,),
                                 progress=False)
        cases.append((text, num_merges, separator, tok.merges))
    return tuple(cases)


def _as_merges(result: object) -> list[tuple[bytes, bytes]] | Verdict:
    """The learner's merges as a list of pairs of bytes, or the verdict saying what is off."""
    if isinstance(result, (list, tuple)):
        pairs = [tuple(p) if isinstance(p, (list, tuple)) else p for p in result]
        if all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
            if all(isinstance(x, bytes) for p in pairs for x in p):
                return pairs
            if all(isinstance(x, int) for p in pairs for x in p):
                return wrong("bpe_separator.ids")
    return wrong("bpe_separator.not_merges", got=describe(result))


def _diagnose(got: list, case: tuple) -> Verdict | None:
    """None if `got` is the package's merges for `case`; else the likely mistake."""
    import regex

    from course_utils import bpe
    from course_utils.tokenization import GPT2_SPLIT_PATTERN, BPETokenizer

    text, num_merges, separator, want = case
    if got == want:
        return None
    if len(got) != len(want):
        return wrong("bpe_separator.count", num_merges=num_merges, count=len(got))
    poems = text.split(separator)
    foreign = set(separator.encode("utf-8")) - set("".join(poems).encode("utf-8"))
    for index, (a, b) in enumerate(got):
        if set(a + b) & foreign:
            return wrong("bpe_separator.crosses", index=index, token=repr(a + b),
                         separator=repr(separator))
        if len(regex.findall(GPT2_SPLIT_PATTERN, (a + b).decode("utf-8", "ignore"))) > 1:
            return wrong("bpe_separator.pretokenize", index=index, token=repr(a + b))
    index = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
    chunks = Counter(c for poem in poems for c in regex.findall(GPT2_SPLIT_PATTERN, poem))
    byte_chunks = [list(c.encode("utf-8")) for c in chunks]
    unweighted = bpe.train_naive(byte_chunks, [1] * len(chunks), num_merges, progress=False)
    vocab = {i: bytes([i]) for i in range(256)}
    for new_id, (x, y) in enumerate(unweighted, start=256):
        vocab[new_id] = vocab[x] + vocab[y]
    if got == [(vocab[x], vocab[y]) for x, y in unweighted]:
        return wrong("bpe_separator.unweighted", index=index)
    # The pair counts before merge `index`: each chunk encoded with the first `index` merges.
    tok = BPETokenizer.train(text, 256 + num_merges + 1, special_tokens=(separator,),
                             progress=False).truncated(256 + index + 1)
    counts: Counter = Counter()
    for chunk, n in chunks.items():
        ids = tok.encode(chunk)
        for pair in zip(ids, ids[1:]):
            counts[tok.vocab[pair[0]], tok.vocab[pair[1]]] += n
    if counts[got[index]] == counts[want[index]]:
        return wrong("bpe_separator.tie_break", index=index, got=repr(got[index]),
                     want=repr(want[index]))
    return wrong("bpe_separator.first_difference", index=index, got=repr(got[index]),
                 want=repr(want[index]))


@exercise
def check_bpe_separator(train: Callable[[str, int, str], list[tuple[bytes, bytes]]]
                        ) -> Verdict:
    """`train(text, num_merges, separator)`: the merges of byte-level BPE with GPT-2's split
    pattern, where `separator` is a special token that no merge may cross — as
    `BPETokenizer.train(text, 256 + num_merges + 1, special_tokens=(separator,)).merges`.
    Checked on 宋词 poems joined by "<|endoftext|>" and by "<|poem|>".

    >>> from course_utils.tokenization import BPETokenizer
    >>> check_bpe_separator(lambda text, num_merges, separator: BPETokenizer.train(
    ...     text, 256 + num_merges + 1, special_tokens=(separator,), progress=False).merges)
    ✓ correct: your 30 merges equal BPETokenizer.train's on both texts; none crosses the separator
    """
    if not callable(train):
        return wrong("not_a_function", type=type(train).__name__)
    cases = _separator_cases()
    for case in cases:
        text, num_merges, separator, _ = case
        result, _ = call(train, "train", (text, num_merges, separator),
                         shown=f"<{text.count(separator) + 1} poems>, {num_merges}, {separator!r}")
        got = _as_merges(result)
        if isinstance(got, Verdict):
            return got
        verdict = _diagnose(got, case)
        if verdict is not None:
            return verdict
    return correct("bpe_separator.correct", count=cases[0][1])
