"""Cutting text into special tokens and pre-tokens, all at once or as it streams in.

Before BPE sees any text, the text is cut in two steps: the special tokens that the call allows
are cut out (`course_utils.special_tokens`), and each piece between them is cut into chunks
("pre-tokens") by a split pattern, a regex such as GPT-2's, so that no merge crosses from a word
into a space or a comma. This module does both:

- `compile_pattern(pattern)`: the split pattern, checked (a valid regex, no capturing groups:
  `findall` would return what the groups caught instead of the chunks);
- `chunks(split, text)`: the pre-tokens of one piece of text;
- `stream_pieces(texts, split, policy)`: ("special", name) and ("chunk", text) items for the
  concatenation of an iterable of strs, exactly as for the whole text, holding only a little
  of it at a time — so a file of any size can be encoded, or trained on, in bounded memory.

Why streaming is subtle: a cut between two strs can fall inside a pre-token ("hel" + "lo"),
inside a special token ("<|endof" + "text|>"), or just before text that changes how the end of
the previous str splits (GPT-2's pattern keeps the last space of a run for the word after it).
So the stream keeps back the last two pre-tokens and any ending that may begin a special token,
and cuts them again with the text that follows. Two pre-tokens suffice for patterns like
GPT-2's, SmolLM2's and Qwen's, where a pre-token depends only on the text up to the one after
it; the tests check the stream equals the whole text on random cuts for every pattern the
course ships.

Left out: lookbehind in split patterns (none of the course's patterns uses it), and keeping
memory bounded inside a single pre-token: one giant pre-token (a megabyte without a space) is
held whole, since BPE needs all of it.

>>> split = compile_pattern(r" ?\\w+| +")
>>> [text for _, text in stream_pieces(["hel", "lo wor", "ld"], split, SpecialPolicy.resolve(
...     [], "all", ()))]
['hello', ' world']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import regex

from course_utils.special_tokens import SpecialPolicy
from course_utils.validation import check_str, short_repr

__all__ = ["compile_pattern", "chunks", "stream_pieces", "Piece"]

Piece = tuple[Literal["special", "chunk"], str]
_HELD = 2  # pre-tokens kept back at the end of what has arrived (module docstring)


def compile_pattern(pattern: object) -> regex.Pattern[str]:
    """Compile a split pattern: a str, a valid regex, and without capturing groups.

    >>> compile_pattern("(a|b)")
    Traceback (most recent call last):
    ...
    ValueError: pattern '(a|b)' has capturing groups; make each group non-capturing, (?:...) \
instead of (...)
    """
    check_str("pattern", pattern, nonempty=True, utf8=True, fix="e.g. pattern=GPT2_SPLIT_PATTERN")
    try:
        split = regex.compile(pattern)
    except regex.error as error:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {error}") from None
    if split.groups:  # findall would return what the groups caught, not the chunks
        raise ValueError(f"pattern {short_repr(pattern)} has capturing groups; make each group "
                         "non-capturing, (?:...) instead of (...)")
    return split


def chunks(split: regex.Pattern[str], text: str) -> list[str]:
    """Cut `text` into pre-tokens with a split pattern, which must match every character.

    >>> chunks(compile_pattern(r" ?\\w+| +"), "to be")
    ['to', ' be']
    """
    found = split.findall(text)
    # findall skips what no alternative matches; that text would silently vanish from the ids.
    if sum(map(len, found)) != len(text):
        raise ValueError(f"the split pattern skips part of {text[:40]!r}: it must match every "
                         "character (adding |\\s+|. at its end catches the rest)")
    return found


def _settled(split: regex.Pattern[str], policy: SpecialPolicy, text: str, *, final: bool
             ) -> tuple[list[Piece], int]:
    """The pieces of `text` that no following text can change, and where the rest begins."""
    end = len(text)
    if not final:  # an ending that may begin a special token waits for what follows
        prefixes = policy.prefixes
        for start in range(max(0, end - policy.longest + 1), end):
            if text[start:] in prefixes:
                end = start
                break
    pieces: list[Piece] = []
    done = 0  # text[:done] is settled
    for found in policy.split.finditer(text) if policy.split else ():
        if found.start() >= end:
            break  # may be the start of a longer special token: decided with what follows
        pieces += [("chunk", c) for c in chunks(split, text[done:found.start()])]
        pieces.append(("special", found.group()))
        done = found.end()
    if final:
        return pieces + [("chunk", c) for c in chunks(split, text[done:])], len(text)
    last = chunks(split, text[done:end]) if end > done else []
    keep = len(last) - _HELD
    if keep > 0:
        pieces += [("chunk", c) for c in last[:keep]]
        done += sum(map(len, last[:keep]))
    return pieces, done


def stream_pieces(texts: Iterable[str], split: regex.Pattern[str], policy: SpecialPolicy
                  ) -> Iterator[Piece]:
    """Yield the special tokens and pre-tokens of `"".join(texts)`, reading `texts` lazily.

    Allowed special tokens come as ("special", name), everything else as ("chunk", text);
    a disallowed special token raises ValueError when the stream reaches it (pieces of the
    text before it may have been yielded by then). Holds one str of `texts` plus what is kept
    back; a run of strs that add up to one pre-token is cut again only each time it has
    doubled, so that it costs linear time, not quadratic.

    >>> policy = SpecialPolicy.resolve(["<|endoftext|>"], "all", ())
    >>> list(stream_pieces(["a<|endof", "text|>b"], compile_pattern(r"\\w+"), policy))
    [('chunk', 'a'), ('special', '<|endoftext|>'), ('chunk', 'b')]
    """
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):  # checked at once
        raise TypeError(f"texts must be an iterable of strs, got {short_repr(texts)}; for one "
                        "text, use encode(text) or pass [text]")
    return _pieces(texts, split, policy)


def _pieces(texts: Iterable[str], split: regex.Pattern[str], policy: SpecialPolicy
            ) -> Iterator[Piece]:
    """`stream_pieces` itself, a generator: it runs only as its pieces are asked for."""
    held, recent = "", ""  # recent: the end of the text so far, where a special token may begin
    seen = kept = 0  # characters read so far; len(held) when it was last cut
    for k, text in enumerate(texts):
        check_str(f"texts[{k}]", text, utf8=True, fix="open files in text mode "
                  "(encoding='utf-8')")
        if not text:
            continue
        # A disallowed special token can straddle two strs: look at the end of the last one too.
        policy.check(recent + text, offset=seen - len(recent))
        seen += len(text)
        recent = (recent + text)[-(policy.longest - 1):] if policy.longest > 1 else ""
        held += text
        if len(held) < 2 * kept:
            continue  # still inside what could not be settled last time: wait until it doubles
        pieces, done = _settled(split, policy, held, final=False)
        held = held[done:]
        kept = len(held)
        yield from pieces
    yield from _settled(split, policy, held, final=True)[0]
