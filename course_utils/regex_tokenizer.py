"""A byte-level BPE tokenizer: text in, token ids out, and back; streamed, saved, any vocab.

`course_utils.bpe` applies merges to lists of ids; `course_utils.tokenizer_training` learns
them from text. This module adds the tokenizer of text around them:

- `encode` with tiktoken's policy for special tokens (`allowed_special`, `disallowed_special`;
  by default text that looks like one is refused: `course_utils.special_tokens`),
  `encode_ordinary`, and `encode_iterable`, which streams the ids of a file or any iterable of
  strs in bounded memory (`course_utils.pretokenize`);
- `decode`, `token_strings`, `add_special_tokens`, `truncated` (fewer merges), `train`, and
  `save` / `load` (the file format is `course_utils.tokenizer_file`).

Any byte-level BPE vocabulary is taken as given: `vocab` maps ids (in any order, with gaps, as
released vocabularies have) to bytes, and `merges` lists pairs of bytes in priority order. A
token that is neither a byte, a merge's result nor a special token is kept (`orphan_ids`): it
decodes, but merges never produce it — GPT-2's "<|endoftext|>" until it is declared special
(with `ignore_merges`, a chunk that is exactly such a token still becomes it).
`course_utils.tokenization` adds GPT-2's and other released vocabularies.

Left out: Unicode normalization, BPE dropout and unknown tokens (a byte-level vocabulary has
a token for every byte; one that lacks some, as SmolLM2's, refuses text that needs them).

>>> tok = RegexTokenizer.train("aaabdaaabac", vocab_size=259, special_tokens=(), progress=False)
>>> tok.merges, tok.encode("aaabdaaabac")
([(b'a', b'a'), (b'a', b'b'), (b'aa', b'ab')], [258, 100, 258, 97, 99])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar

from course_utils.bpe import check_ids
from course_utils.merge_table import MergeTable
from course_utils.pretokenize import chunks, compile_pattern, stream_pieces
from course_utils.special_tokens import SpecialPolicy
from course_utils.tokenizer_file import (check_parts, check_special_names, read_tokenizer,
                                         write_tokenizer)
from course_utils.tokenizer_training import ENDOFTEXT, GPT2_SPLIT_PATTERN, train_parts
from course_utils.validation import check_bool, check_int, check_str, check_type, short_repr

__all__ = ["RegexTokenizer", "GPT2_SPLIT_PATTERN", "ENDOFTEXT"]

_Self = TypeVar("_Self", bound="RegexTokenizer")
Policy = Literal["all"] | Iterable[str]


class RegexTokenizer:
    """A byte-level BPE tokenizer: `vocab`, `merges`, `special_tokens` and a split `pattern`.

    Build one with `train`, `load` or from the four parts, which must fit (ValueError): each
    merge joins two vocab tokens into one, and each special token's id holds its UTF-8 bytes
    (or is missing from `vocab`, and is added). `ignore_merges=True` takes a chunk that is a
    vocab token as that token, as tiktoken does (`course_utils.merge_table`).

    >>> tok = RegexTokenizer.train("hello hello world", vocab_size=260, progress=False)
    >>> tok.token_strings(tok.encode("hello<|endoftext|>", allowed_special="all"))
    ['hel', 'lo', '<|endoftext|>']
    """

    def __init__(self, vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]],
                 special_tokens: Mapping[str, int] | None = None,
                 pattern: str = GPT2_SPLIT_PATTERN, *, ignore_merges: bool = False) -> None:
        # Each part's type is checked, and NumPy ids made ints, where the file format is defined.
        self.vocab, self.merges, self.special_tokens, self.pattern = check_parts(
            vocab, merges, special_tokens, pattern)
        self.ignore_merges = check_bool("ignore_merges", ignore_merges)
        self._split = compile_pattern(pattern)
        for name, i in self.special_tokens.items():
            if self.vocab.setdefault(i, name.encode("utf-8")) != name.encode("utf-8"):
                raise ValueError(f"special token {name!r} must be in the vocab as id {i!r} "
                                 "(special_tokens maps each name to its id)")
        self._special_ids = set(self.special_tokens.values())
        self._table = MergeTable.build(self.vocab, self.merges, self._special_ids, ignore_merges)

    @property
    def vocab_size(self) -> int:
        """The largest id + 1: the rows an embedding table needs (ids may leave gaps)."""
        return max(self.vocab) + 1

    @property
    def orphan_ids(self) -> list[int]:
        """Ids of vocab tokens that no merge produces: neither a byte, a merge's result
        nor a special token (GPT-2's "<|endoftext|>" before it is declared special)."""
        return list(self._table.orphans)

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
        if token not in self._table.id_of:
            name = token.decode("utf-8", errors="replace")
            where = f"; its id is special_tokens[{name!r}]" if name in self.special_tokens else ""
            raise ValueError(f"token {short_repr(token)} is not a token of this vocab{where}")
        return self._table.id_of[token]

    def add_special_tokens(self, names: Sequence[str]) -> list[int]:
        """Declare special tokens after the fact (in place); return their ids.

        A special name keeps its id, an orphan's bytes take the orphan's id, any other name a
        new id after the largest; an ordinary token such as "the" cannot be special (ValueError).

        >>> tok = RegexTokenizer.train("to be or not", 258, special_tokens=(), progress=False)
        >>> tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])
        [258, 259]
        """
        ids, vocab, specials = [], dict(self.vocab), dict(self.special_tokens)
        for name in check_special_names(names):  # nothing changes unless every name is valid
            i = specials.get(name, self._table.id_of.get(name.encode("utf-8")))
            if i is not None and i not in self._special_ids and (
                    i not in self._table.orphans or self._chunk_is_token(name)):
                raise ValueError(f"{name!r} is already an ordinary token (id {i}) that encode "
                                 "produces; a special token needs text of its own")
            if i is None:
                i = max(vocab) + 1
                vocab[i] = name.encode("utf-8")
            specials[name] = i
            ids.append(i)
        # Built and checked apart first (an orphan a merge uses cannot become special), so
        # that a refused call leaves this tokenizer as it was.
        self.__dict__.update(RegexTokenizer(vocab, self.merges, specials, self.pattern,
                                            ignore_merges=self.ignore_merges).__dict__)
        return ids

    def _chunk_is_token(self, text: str) -> bool:
        """Whether `encode` can produce the token `text` whole (ignore_merges, one chunk)."""
        return self.ignore_merges and chunks(self._split, text) == [text]

    def truncated(self: _Self, vocab_size: int) -> _Self:
        """Return the tokenizer made of the 256 bytes, the first merges and the special tokens.

        BPE training is greedy, so this is exactly what training on the same text with the
        smaller `vocab_size` gives (same merges, same ids): a vocabulary-size sweep from one
        training run. Special tokens move to the ids after the kept merges; orphans go.

        >>> tok = RegexTokenizer.train("aaabdaaabac", vocab_size=260, progress=False)
        >>> small = tok.truncated(258)
        >>> small.merges, small.special_tokens
        ([(b'a', b'a')], {'<|endoftext|>': 257})
        """
        minimum = 256 + len(self.special_tokens)
        vocab_size = check_int("vocab_size", vocab_size, minimum=minimum,
                               maximum=minimum + len(self.merges), fix="the bytes and special "
                               "tokens at least, this tokenizer's bytes, merges and special "
                               "tokens at most")
        merges = self.merges[: vocab_size - minimum]
        kept = {bytes([b]) for b in range(256)} | {a + b for a, b in merges}
        vocab = {i: t for i, t in self.vocab.items() if t in kept and i not in self._special_ids}
        if sorted(vocab) != list(range(len(vocab))):
            raise ValueError("truncated() needs merge i to have id 256 + i (as GPT-2's has)")
        specials = {name: len(vocab) + j for j, name in enumerate(self.special_tokens)}
        vocab.update({i: name.encode("utf-8") for name, i in specials.items()})
        return type(self)(vocab, merges, specials, self.pattern, ignore_merges=self.ignore_merges)

    # ----------------------------------------------------------------------------- training

    @classmethod
    def train(cls: type[_Self], text: str | os.PathLike[str] | Iterable[str], vocab_size: int,
              *, method: Literal["fast", "naive"] = "fast", pattern: str = GPT2_SPLIT_PATTERN,
              special_tokens: Sequence[str] = (ENDOFTEXT,),
              tie_break: Literal["lowest_ids", "lexicographic"] = "lowest_ids",
              progress: bool = True) -> _Self:
        """Learn `vocab_size - 256 - len(special_tokens)` merges; return the tokenizer.

        `text` is a str, a pathlib.Path of a UTF-8 file (read a megabyte at a time), or an
        iterable of strs (lines, documents) taken as their concatenation. It is cut around the
        special tokens — document boundaries, which no merge crosses — then into chunks by
        `pattern`; identical chunks are counted once, with their frequency. Each step merges
        the most frequent adjacent pair inside chunks; `tie_break` chooses among equals
        (`course_utils.bpe`). Merge i gets id 256 + i; the special tokens the ids after.

        >>> tok = RegexTokenizer.train("low lower lowest", vocab_size=259, progress=False)
        >>> tok.merges, tok.special_tokens
        ([(b'l', b'o'), (b'lo', b'w')], {'<|endoftext|>': 258})
        """
        return cls(*train_parts(text, vocab_size, method=method, pattern=pattern,
                                special_tokens=special_tokens, tie_break=tie_break,
                                progress=progress))

    # ------------------------------------------------------------------- encoding, decoding

    def _encode_chunks(self, text: str, ids: list[int]) -> None:
        """Append the ids of `text` (no special tokens in it) to `ids`, chunk by chunk."""
        for chunk in chunks(self._split, text):
            ids.extend(self._table.encode_chunk(chunk))

    def encode(self, text: str, *, allowed_special: Policy = (),
               disallowed_special: Policy = "all") -> list[int]:
        """Return the token ids of `text`.

        Special tokens follow tiktoken's policy (`course_utils.special_tokens`): those in
        `allowed_special` ("all", or names) become their ids; one in `disallowed_special` (by
        default all not allowed) raises ValueError, against prompt injection; others are text.

        >>> tok = RegexTokenizer.train("aaabdaaabac", 260, progress=False)
        >>> tok.encode("aaab<|endoftext|>", allowed_special={"<|endoftext|>"})
        [258, 259]
        >>> len(tok.encode("aaab<|endoftext|>", disallowed_special=()))
        14
        """
        check_str("text", text, utf8=True,
                  fix="to encode bytes, decode them first: data.decode('utf-8')")
        policy = SpecialPolicy.resolve(self.special_tokens, allowed_special, disallowed_special)
        policy.check(text)
        ids: list[int] = []
        done = 0
        for found in policy.split.finditer(text) if policy.split else ():
            self._encode_chunks(text[done:found.start()], ids)
            ids.append(self.special_tokens[found.group()])
            done = found.end()
        self._encode_chunks(text[done:], ids)
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Return the ids of `text` read as plain text: "<|endoftext|>" is just 13 characters.

        >>> RegexTokenizer.train("aaabdaaabac", 260, progress=False).encode_ordinary("<|")
        [60, 124]
        """
        return self.encode(text, disallowed_special=())

    def encode_iterable(self, texts: Iterable[str], *, allowed_special: Policy = (),
                        disallowed_special: Policy = "all") -> Iterator[int]:
        """Yield the ids of `"".join(texts)` one by one, reading `texts` lazily.

        `texts`: a file opened in text mode (its lines), a generator, a list of documents.
        Memory holds one of its strs and a few pre-tokens (`course_utils.pretokenize`), whatever
        the total size; the ids are exactly `encode("".join(texts))`'s, with `encode`'s policy
        (a disallowed special token raises when the stream reaches it).

        >>> tok = RegexTokenizer.train("aaabdaaabac", 260, progress=False)
        >>> list(tok.encode_iterable(["aa", "abdaa", "abac"])) == tok.encode("aaabdaaabac")
        True
        """
        policy = SpecialPolicy.resolve(self.special_tokens, allowed_special, disallowed_special)
        return self._stream(stream_pieces(texts, self._split, policy))

    def _stream(self, pieces: Iterator[tuple[str, str]]) -> Iterator[int]:
        for kind, piece in pieces:
            ids = [self.special_tokens[piece]] if kind == "special" else []
            if kind == "chunk":
                self._encode_chunks(piece, ids)
            yield from ids

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """Return the bytes that `ids` stand for, concatenated (`ids`: ints, 0 to vocab_size - 1).

        >>> RegexTokenizer.train("aaabdaaabac", 260, progress=False).decode_bytes([258, 100])
        b'aaabd'
        """
        return b"".join(self._tokens(ids))

    def _tokens(self, ids: Iterable[int]) -> list[bytes]:
        try:
            return [self.vocab[i] for i in check_ids("ids", ids, size=self.vocab_size)]
        except KeyError as error:  # a gap between the vocab's ids
            raise ValueError(f"id {error.args[0]} is not in this vocab: its ids leave gaps "
                             "(decode only ids that encode produced)") from None

    def decode(self, ids: Iterable[int]) -> str:
        """Return the text that `ids` stand for.

        Bytes that are not valid UTF-8 become "�" rather than an error: a slice of ids can end
        inside a character (GPT-2 spends two or three tokens on a Chinese character).

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
        return [token.decode("utf-8", errors="backslashreplace") for token in self._tokens(ids)]

    # ------------------------------------------------------------------------ save and load

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the tokenizer to `directory/bpe_tokenizer.json`; return the file's path.

        The file replaces an earlier one in one step, with a checksum (see
        `course_utils.tokenizer_file`): whatever happens, the path holds the old tokenizer or
        the new one, complete. A file of that name that is not a tokenizer is never replaced.
        """
        return write_tokenizer(directory, self.vocab, self.merges, self.special_tokens,
                               self.pattern, ignore_merges=self.ignore_merges)

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
