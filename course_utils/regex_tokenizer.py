"""A byte-level BPE tokenizer: text in, token ids out, and back; trained, truncated, saved.

`course_utils.bpe` learns merges on lists of ids. This module adds what turns that into a
tokenizer of text:

- a split `pattern`, a regex that cuts text into chunks before BPE sees it, so that no merge
  crosses from a word into a space or a comma (GPT-2's pattern by default; groups in it must be
  non-capturing, `(?:...)`, or `findall` would return what they caught instead of the chunks);
- `special_tokens` such as "<|endoftext|>": strings that get one reserved id each, are cut out
  of the text before the pattern runs, and are never merged into anything;
- `encode` (apply the learned merges, earliest first, inside each chunk) and `decode`;
- `truncated`, the same tokenizer with fewer merges, and `save` / `load` (the file format is
  `course_utils.tokenizer_file`).

The vocab maps each id to its bytes (256 single bytes, one token per merge, the special tokens),
in any order: GPT-2 gives "!" id 0. `course_utils.tokenization` adds GPT-2's files on top.

Left out on purpose: Unicode normalization, BPE dropout, unknown tokens (every byte has a
token, so nothing is unknown), choosing which special tokens may appear in text (all are always
recognised), and speed beyond what a cache of encoded chunks gives.

>>> tok = RegexTokenizer.train("aaabdaaabac", vocab_size=259, special_tokens=(), progress=False)
>>> tok.merges, tok.encode("aaabdaaabac")
([(b'a', b'a'), (b'a', b'b'), (b'aa', b'ab')], [258, 100, 258, 97, 99])
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import regex

from course_utils.bpe import Pair, _merge, check_ids, train_fast, train_naive
from course_utils.tokenizer_file import (check_parts, check_special_names, read_tokenizer,
                                         write_tokenizer)
from course_utils.validation import (check_bool, check_choice, check_int, check_str,
                                     check_type, short_repr)

__all__ = ["RegexTokenizer", "GPT2_SPLIT_PATTERN", "ENDOFTEXT"]

# GPT-2's split pattern: English contractions, runs of letters, of digits, of other symbols (each
# may take one leading space, which is why GPT-2 tokens look like " the"), then whitespace.
# `\s+(?!\S)` keeps the last space of a run for the word after it. `\p{L}` needs the `regex`
# package; the standard `re` module does not know Unicode properties.
GPT2_SPLIT_PATTERN = (r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+"""
                      r"""|\s+(?!\S)|\s+""")
ENDOFTEXT = "<|endoftext|>"
_CACHE_SIZE = 100_000  # encoded chunks remembered; a corpus has far fewer distinct words
_NO_MERGE = (float("inf"), -1)  # (rank, id) of a pair that is not a merge: ranks after all merges
_Self = TypeVar("_Self", bound="RegexTokenizer")


def _compile(pattern: object) -> regex.Pattern[str]:
    """Compile a split pattern: a str, a valid regex, and without capturing groups."""
    check_str("pattern", pattern, nonempty=True, utf8=True, fix="e.g. pattern=GPT2_SPLIT_PATTERN")
    try:
        split = regex.compile(pattern)
    except regex.error as error:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {error}") from None
    if split.groups:  # findall would return what the groups caught, not the chunks
        raise ValueError(f"pattern {short_repr(pattern)} has capturing groups; make each group "
                         "non-capturing, (?:...) instead of (...)")
    return split


def _chunks(split: regex.Pattern[str], text: str) -> list[str]:
    """Cut `text` into chunks with a split pattern, which must match every character."""
    chunks = split.findall(text)
    # findall skips what no alternative matches; that text would silently vanish from the ids.
    if sum(map(len, chunks)) != len(text):
        raise ValueError(f"the split pattern skips part of {text[:40]!r}: it must match every "
                         "character (adding |\\s+|. at its end catches the rest)")
    return chunks


def _special_regex(names: Iterable[str]) -> regex.Pattern[str] | None:
    """A regex that splits text around special tokens (kept, as the odd items of `split`)."""
    # Longest first, so that a special token that contains a shorter one wins.
    names = sorted(names, key=len, reverse=True)
    return regex.compile("(" + "|".join(map(regex.escape, names)) + ")") if names else None


class RegexTokenizer:
    """A byte-level BPE tokenizer: `vocab`, `merges`, `special_tokens` and a split `pattern`.

    Build one with `train` or `load`; the constructor takes the four parts and checks that
    they fit together (ValueError otherwise): every byte has a token, each merge makes a new
    token from two earlier ones, and each special token is in the vocab as its UTF-8 bytes.

    >>> tok = RegexTokenizer.train("hello hello world", vocab_size=260, progress=False)
    >>> tok.token_strings(tok.encode("hello<|endoftext|>"))
    ['hel', 'lo', '<|endoftext|>']
    """

    def __init__(self, vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]],
                 special_tokens: Mapping[str, int] | None = None,
                 pattern: str = GPT2_SPLIT_PATTERN) -> None:
        # Each part's type is checked, and NumPy ids made ints, where the file format is defined.
        parts = check_parts(vocab, merges, special_tokens, pattern)
        self.vocab, self.merges, self.special_tokens, self.pattern = parts
        self._split, self._special_split = _compile(pattern), _special_regex(self.special_tokens)

        # Check the parts fit together, and derive the int-level tables that encode() uses.
        if sorted(self.vocab) != list(range(len(self.vocab))):
            raise ValueError(f"vocab ids must be 0 to {len(self.vocab) - 1}, each used once")
        for name, i in self.special_tokens.items():
            if self.vocab.get(i) != name.encode("utf-8"):
                raise ValueError(f"special token {name!r} must be in the vocab as id {i!r} "
                                 "(special_tokens maps each name to its id)")
        special_ids = set(self.special_tokens.values())
        id_of: dict[bytes, int] = {}
        for i, token in self.vocab.items():
            if i in special_ids:
                continue
            if token in id_of:
                raise ValueError(f"vocab ids {id_of[token]} and {i} are the same token {token!r}")
            id_of[token] = i
        missing = [b for b in range(256) if bytes([b]) not in id_of]
        if missing:
            raise ValueError(f"the vocab lacks single-byte tokens for bytes {missing[:10]}...")
        self._byte_ids = [id_of[bytes([b])] for b in range(256)]
        self._id_of, self._special_ids = id_of, special_ids
        self._ranks: dict[Pair, tuple[int, int]] = {}  # (id_a, id_b) -> (rank, merged id)
        made = {bytes([b]) for b in range(256)}  # tokens that exist before merge `rank`
        for rank, (a, b) in enumerate(self.merges):
            if a not in made or b not in made:
                raise ValueError(f"merges[{rank}] uses a token that no earlier merge made")
            if a + b in made or a + b not in id_of:
                raise ValueError(f"merges[{rank}] must make a new vocab token {a + b!r}")
            made.add(a + b)
            self._ranks[id_of[a], id_of[b]] = (rank, id_of[a + b])
        if len(made) != len(id_of):
            raise ValueError(f"{len(id_of) - len(made)} vocab tokens are neither a byte, "
                             "a merge nor a special token")
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        """Number of ids: 256 bytes + one per merge + one per special token."""
        return len(self.vocab)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(vocab_size={self.vocab_size}, "
                f"merges={len(self.merges)}, special_tokens={list(self.special_tokens)})")

    def token_id(self, token: bytes) -> int:
        """Return the id of a non-special token given as bytes.

        >>> RegexTokenizer.train("aaabdaaabac", 259, progress=False).token_id(b"aa")
        256
        """
        fix = f"e.g. token_id({token!r}.encode())" if isinstance(token, str) else None
        check_type("token", token, bytes, "bytes", fix=fix)
        if token not in self._id_of:
            name = token.decode("utf-8", errors="replace")
            where = f"; its id is special_tokens[{name!r}]" if name in self.special_tokens else ""
            raise ValueError(f"token {short_repr(token)} is not a token of this vocab{where}")
        return self._id_of[token]

    def truncated(self: _Self, vocab_size: int) -> _Self:
        """Return the tokenizer made of the 256 bytes, the first merges and the special tokens.

        BPE training is greedy, so this is exactly what training on the same text with the
        smaller `vocab_size` gives (same merges, same ids) — a whole vocabulary-size sweep from
        one training run. The special tokens move to the ids right after the kept merges.

        >>> tok = RegexTokenizer.train("aaabdaaabac", vocab_size=260, progress=False)
        >>> small = tok.truncated(258)
        >>> small.merges, small.special_tokens
        ([(b'a', b'a')], {'<|endoftext|>': 257})
        """
        minimum = 256 + len(self.special_tokens)
        vocab_size = check_int("vocab_size", vocab_size, minimum=minimum, maximum=self.vocab_size,
                               fix="the bytes and special tokens at least, this tokenizer's size "
                               "at most")
        merges = self.merges[: vocab_size - minimum]
        kept = {bytes([b]) for b in range(256)} | {a + b for a, b in merges}
        vocab = {i: t for i, t in self.vocab.items() if t in kept and i not in self._special_ids}
        if sorted(vocab) != list(range(len(vocab))):
            raise ValueError("truncated() needs merge i to have id 256 + i (as GPT-2's has)")
        specials = {name: len(vocab) + j for j, name in enumerate(self.special_tokens)}
        vocab.update({i: name.encode("utf-8") for name, i in specials.items()})
        return type(self)(vocab, merges, specials, self.pattern)

    # ----------------------------------------------------------------------------- training

    @classmethod
    def train(cls: type[_Self], text: str, vocab_size: int, *,
              method: Literal["fast", "naive"] = "fast", pattern: str = GPT2_SPLIT_PATTERN,
              special_tokens: Sequence[str] = (ENDOFTEXT,), progress: bool = True) -> _Self:
        """Learn `vocab_size - 256 - len(special_tokens)` merges from `text`; return the tokenizer.

        The text is cut around special tokens (which are never merged into anything), then into
        chunks by `pattern`; identical chunks are counted once, with their frequency. Each step
        merges the most frequent adjacent pair inside chunks, breaking ties by the smallest ids.
        Merge i gets id 256 + i; the special tokens get the ids after the last merge.

        >>> tok = RegexTokenizer.train("low lower lowest", vocab_size=259, progress=False)
        >>> tok.merges, tok.special_tokens
        ([(b'l', b'o'), (b'lo', b'w')], {'<|endoftext|>': 258})
        """
        check_str("text", text, nonempty=True, utf8=True, fix="BPE needs text to learn from")
        special_tokens = check_special_names(special_tokens)
        minimum = 256 + len(special_tokens)
        vocab_size = check_int("vocab_size", vocab_size, minimum=minimum, fix=f"256 bytes + "
                               f"{len(special_tokens)} special token(s), and then the merges")
        trainer = {"fast": train_fast, "naive": train_naive}[
            check_choice("method", method, ("fast", "naive"))]
        split, special_split = _compile(pattern), _special_regex(special_tokens)
        check_bool("progress", progress)
        num_merges = vocab_size - minimum

        # Chunks that occur many times ("the", " and") are counted once, with a frequency.
        parts = special_split.split(text)[::2] if special_split else [text]
        chunk_counts = Counter(chunk for part in parts for chunk in _chunks(split, part))
        pairs = trainer([list(chunk.encode("utf-8")) for chunk in chunk_counts],
                        list(chunk_counts.values()), num_merges, progress=progress)
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
        return cls(vocab, merges, specials, pattern)

    # ------------------------------------------------------------------- encoding, decoding

    def _encode_chunk(self, chunk: str) -> list[int]:
        """Encode one chunk: start from bytes, apply the earliest-learned merge until none fits."""
        ids = [self._byte_ids[b] for b in chunk.encode("utf-8")]
        ranks = self._ranks
        while len(ids) >= 2:
            # Merges are applied in the order they were learned, as GPT-2 does; a pair that is
            # not a merge ranks after all of them.
            pair = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, _NO_MERGE))
            if pair not in ranks:
                break
            ids = _merge(ids, pair, ranks[pair][1])
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()  # crude but bounded; the common chunks come back quickly
        self._cache[chunk] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """Return the token ids of `text`. Special tokens are recognised anywhere in it.

        >>> tok = RegexTokenizer.train("aaabdaaabac", 260, progress=False)
        >>> tok.encode("aaab<|endoftext|>")
        [258, 259]
        """
        check_str("text", text, utf8=True,
                  fix="to encode bytes, decode them first: data.decode('utf-8')")
        parts = self._special_split.split(text) if self._special_split else [text]
        ids: list[int] = []
        cache = self._cache
        for k, part in enumerate(parts):
            if k % 2:  # odd parts are the special tokens that split() kept
                ids.append(self.special_tokens[part])
                continue
            for chunk in _chunks(self._split, part):
                chunk_ids = cache.get(chunk)
                ids.extend(chunk_ids if chunk_ids is not None else self._encode_chunk(chunk))
        return ids

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """Return the bytes that `ids` stand for, concatenated (`ids`: ints, 0 to vocab_size - 1).

        >>> RegexTokenizer.train("aaabdaaabac", 260, progress=False).decode_bytes([258, 100])
        b'aaabd'
        """
        return b"".join([self.vocab[i] for i in check_ids("ids", ids, size=self.vocab_size)])

    def decode(self, ids: Iterable[int]) -> str:
        """Return the text that `ids` stand for.

        Bytes that are not valid UTF-8 become "�" rather than an error: a slice of ids can end
        in the middle of a character (GPT-2 spends two or three tokens on one Chinese character).

        >>> tok = RegexTokenizer.train("你好", 257, special_tokens=(), progress=False)
        >>> ids = tok.encode("你好")
        >>> tok.decode(ids), tok.decode(ids[:1])
        ('你好', '�')
        """
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_strings(self, ids: Iterable[int]) -> list[str]:
        """Return each token as readable text; bytes that are not whole characters show as \\x...

        >>> RegexTokenizer.train("aaabdaaabac", 260, progress=False).token_strings([258, 0xe4])
        ['aaab', '\\\\xe4']
        """
        return [self.vocab[i].decode("utf-8", errors="backslashreplace")
                for i in check_ids("ids", ids, size=self.vocab_size)]

    # ------------------------------------------------------------------------ save and load

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the tokenizer to `directory/bpe_tokenizer.json`; return the file's path.

        The file replaces an earlier one in one step, with a checksum (see
        `course_utils.tokenizer_file`): whatever happens, the path holds the old tokenizer or
        the new one, complete. A file of that name that is not a tokenizer is never replaced.
        """
        return write_tokenizer(directory, self.vocab, self.merges, self.special_tokens,
                               self.pattern)

    @classmethod
    def load(cls: type[_Self], directory: str | os.PathLike[str]) -> _Self:
        """Read a tokenizer written by `save` from its directory (or from the file itself).

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     RegexTokenizer.load(RegexTokenizer.train("to to", 258, progress=False).save(d))
        RegexTokenizer(vocab_size=258, merges=1, special_tokens=['<|endoftext|>'])
        """
        path, parts = read_tokenizer(directory)
        try:
            return cls(**parts)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path} is inconsistent ({error}); save the tokenizer "
                             "again") from None
