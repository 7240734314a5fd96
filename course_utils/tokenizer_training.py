"""Training a byte-level BPE tokenizer on text: a str, a file, or a stream of strs.

`course_utils.bpe` learns merges from distinct chunks and their counts. This module gets those
chunks from text, the way the tokenizer will later cut it (`course_utils.pretokenize`): special
tokens first — they are document boundaries, and no merge may cross them —, then the split
pattern. Identical chunks are counted once, with their frequency, so a text of any size costs
memory only for its distinct chunks; a file is read a megabyte at a time.

`train_parts` returns the four parts of a tokenizer (vocab, merges, special tokens, pattern);
`RegexTokenizer.train` builds the tokenizer from them. GPT-2's split pattern is defined here,
the default of both.

Left out: parallel counting (production trainers count chunks on many threads) and training
anything but byte-level BPE.

>>> vocab, merges, specials, _ = train_parts(["low lo", "wer lowest"], 259, progress=False)
>>> merges, specials
([(b'l', b'o'), (b'lo', b'w')], {'<|endoftext|>': 258})
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from course_utils.bpe import TIE_BREAKS, train_fast, train_naive
from course_utils.pretokenize import compile_pattern, stream_pieces
from course_utils.special_tokens import SpecialPolicy
from course_utils.tokenizer_file import check_special_names
from course_utils.validation import check_bool, check_choice, check_int, check_str, short_repr

__all__ = ["train_parts", "GPT2_SPLIT_PATTERN", "ENDOFTEXT"]

# GPT-2's split pattern: English contractions, runs of letters, of digits, of other symbols (each
# may take one leading space, which is why GPT-2 tokens look like " the"), then whitespace.
# `\s+(?!\S)` keeps the last space of a run for the word after it. `\p{L}` needs the `regex`
# package; the standard `re` module does not know Unicode properties.
GPT2_SPLIT_PATTERN = (r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+"""
                      r"""|\s+(?!\S)|\s+""")
ENDOFTEXT = "<|endoftext|>"
_FILE_PIECE = 1 << 20  # characters read at a time when training from a file


def _read_source(source: object) -> Iterable[str]:
    """`train`'s text: a str, a file (os.PathLike, read in pieces), or an iterable of strs."""
    if isinstance(source, str):
        return [check_str("text", source, nonempty=True, utf8=True,
                          fix="BPE needs text to learn from")]
    if isinstance(source, os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no text file at {path}; train(Path(...)) reads a UTF-8 "
                                    "file (to train on a str that names a file, read it first)")
        return _file_pieces(path)
    if isinstance(source, (bytes, bytearray)) or not isinstance(source, Iterable):
        raise TypeError(f"text must be a str, a pathlib.Path of a UTF-8 file, or an iterable "
                        f"of strs, got {short_repr(source)}"
                        + ("; decode bytes first: data.decode('utf-8')"
                           if isinstance(source, (bytes, bytearray)) else ""))
    return source


def _file_pieces(path: Path) -> Iterator[str]:
    """A UTF-8 file's text, a megabyte at a time, exactly as stored (newlines untranslated)."""
    with open(path, encoding="utf-8", newline="") as f:
        try:
            while piece := f.read(_FILE_PIECE):
                yield piece
        except UnicodeDecodeError as error:
            raise ValueError(f"{path} is not UTF-8 text ({error}); convert it first") from None


def train_parts(text: str | os.PathLike[str] | Iterable[str], vocab_size: int, *,
                method: str = "fast", pattern: str = GPT2_SPLIT_PATTERN,
                special_tokens: Sequence[str] = (ENDOFTEXT,), tie_break: str = "lowest_ids",
                progress: bool = True
                ) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]], dict[str, int], str]:
    """Learn `vocab_size - 256 - len(special_tokens)` merges from `text`; return the parts
    (vocab, merges, special_tokens, pattern). The arguments are `RegexTokenizer.train`'s.
    """
    special_tokens = check_special_names(special_tokens)
    minimum = 256 + len(special_tokens)
    vocab_size = check_int("vocab_size", vocab_size, minimum=minimum, fix=f"256 bytes + "
                           f"{len(special_tokens)} special token(s), and then the merges")
    trainer = {"fast": train_fast, "naive": train_naive}[
        check_choice("method", method, ("fast", "naive"))]
    check_choice("tie_break", tie_break, TIE_BREAKS)
    split, policy = compile_pattern(pattern), SpecialPolicy.resolve(special_tokens, "all", ())
    check_bool("progress", progress)
    num_merges = vocab_size - minimum

    # Chunks that occur many times ("the", " and") are counted once, with a frequency.
    chunk_counts = Counter(piece for kind, piece in stream_pieces(
        _read_source(text), split, policy) if kind == "chunk")
    if not chunk_counts:
        raise ValueError("text has nothing to learn from (it is empty, or only special "
                         "tokens); BPE needs text")
    pairs = trainer([list(chunk.encode("utf-8")) for chunk in chunk_counts],
                    list(chunk_counts.values()), num_merges, tie_break=tie_break,
                    progress=progress)
    if len(pairs) < num_merges:
        raise ValueError(f"the text is too small for vocab_size={vocab_size}: every chunk "
                         f"is a single token after {len(pairs)} merges, so the largest "
                         f"vocab_size it supports is {minimum + len(pairs)}; use more text "
                         "or a smaller vocab_size")

    vocab = {i: bytes([i]) for i in range(256)}
    for new_id, (a, b) in enumerate(pairs, start=256):
        vocab[new_id] = vocab[a] + vocab[b]
    merges = [(vocab[a], vocab[b]) for a, b in pairs]
    specials = {s: 256 + num_merges + j for j, s in enumerate(special_tokens)}
    vocab.update({i: s.encode("utf-8") for s, i in specials.items()})
    return vocab, merges, specials, pattern
