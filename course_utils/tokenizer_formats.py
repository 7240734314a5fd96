"""Hugging Face's tokenizer files, read and written: GPT-2's `vocab.json` + `merges.txt` here,
`tokenizer.json` in `tokenizer_json` (its names importable from here too); tiktoken's rank files
in `tiktoken_format`.

Each reader returns a tokenizer's four parts, `(vocab, merges, special_tokens, pattern)`, the
arguments of `RegexTokenizer` (`BPETokenizer.from_vocab_merges` and `from_tokenizer_json`), and
checks its file, naming the file, the line or key, and what was expected: truncated JSON, a
wrong type, a merge whose part is not a token, a byte without a token. The writers make files
that the readers and Hugging Face's `tokenizers` read back.

- `vocab.json` maps each token, spelled with `bytes_to_unicode` (a token is bytes; JSON holds
  text), to its id; `merges.txt` lists the merges in order, "Ġ t" per line, after an optional
  "#version" line. Neither says which tokens are special or how text is split. Special tokens
  are written as their own text ("<pad>", "<my pad>"), as `tokenizers` writes them: a token
  declared special is read that way.

Left out: the options of Hugging Face's other models (WordPiece, Unigram), which are not
byte-level BPE.

>>> b2u = bytes_to_unicode()
>>> "".join(b2u[b] for b in " the".encode())
'Ġthe'
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from course_utils.files import check_regular_file, check_writable_folder, write_atomically
from course_utils.regex_tokenizer import GPT2_SPLIT_PATTERN
from course_utils.tokenizer_file import Parts, check_parts, check_special_names
from course_utils.validation import check_path, short_repr

__all__ = ["bytes_to_unicode", "read_vocab_merges", "write_vocab_merges", "read_tokenizer_json",
           "write_tokenizer_json"]

# tokenizer.json's reader and writer live in `tokenizer_json`, which builds on this module.
_IN_TOKENIZER_JSON = {"read_tokenizer_json", "read_tokenizer_json_and_ignore_merges",
                      "write_tokenizer_json", "WHOLE_TEXT_PATTERN"}
_Path = str | os.PathLike[str]


def bytes_to_unicode() -> dict[int, str]:
    """Return GPT-2's map from each byte value to a printable character that stands for it.

    GPT-2's files store tokens as text, but a token is bytes, and many bytes are invisible
    (control bytes, space) or not valid UTF-8 on their own. So each printable, non-space byte
    (`!`..`~`, `¡`..`¬`, `®`..`ÿ`: 188 of them) stands for itself as a Latin-1 character, and
    the other 68 are given the characters 256, 257, ... in byte order. Space (byte 32) becomes
    "Ġ" and newline "Ċ": that is why GPT-2's vocabulary is full of tokens like "Ġthe".

    >>> b2u = bytes_to_unicode()
    >>> b2u[ord("a")], b2u[ord(" ")], b2u[ord("\\n")]
    ('a', 'Ġ', 'Ċ')
    >>> len(set(b2u.values()))
    256
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return dict(sorted(mapping.items()))


_CHAR_OF = bytes_to_unicode()
_BYTE_OF = {char: b for b, char in _CHAR_OF.items()}


def _spell(token: bytes) -> str:  # a token as GPT-2's files write it
    return "".join([_CHAR_OF[b] for b in token])


def _unspell(token: object, where: str) -> bytes:
    """A token written in `bytes_to_unicode`'s alphabet, as bytes; `where` names its place."""
    if not isinstance(token, str) or not token:
        raise ValueError(f"{where}: expected a token (a non-empty string), got {short_repr(token)}")
    try:
        return bytes([_BYTE_OF[char] for char in token])
    except KeyError as error:
        raise ValueError(f"{where}: token {short_repr(token)} has {error.args[0]!r}, which is "
                         "not in GPT-2's byte alphabet (bytes_to_unicode): a byte-level file "
                         "writes each byte as its character") from None


def _read_text(path: _Path, name: str) -> tuple[Path, str]:
    """The file's text (missing, unreadable: OSError naming it; not UTF-8: ValueError)."""
    path = check_regular_file(name, path)
    raw = path.read_bytes()
    try:
        return path, raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: byte {error.start} is not UTF-8; a tokenizer file is UTF-8 "
                         "text") from None


def _read_json(path: _Path, name: str) -> tuple[Path, Any]:
    path, text = _read_text(path, name)

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(result := dict(pairs)) < len(pairs):
            twice = next(key for key, _ in pairs if [k for k, _ in pairs].count(key) > 1)
            raise ValueError(f"{path}: key {twice!r} appears twice in one object")
        return result

    try:
        return path, json.loads(text, object_pairs_hook=no_repeats)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: "
                         f"{error.msg}); is it truncated?") from None


def _expect(value: Any, types: type, where: str, expected: str) -> Any:
    if not isinstance(value, types):
        raise ValueError(f"{where} must be {expected}, got {short_repr(value)}")
    return value


def _id(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{where} must be an id (an int >= 0), got {short_repr(value)}")


def _vocab_from_json(data: Any, where: str, raw: Collection[str] = ()) -> dict[int, bytes]:
    """{id: bytes} from a JSON object {spelled token: id}; the keys in `raw` (special tokens)
    are their own text, as `tokenizers` writes them."""
    _expect(data, dict, where, "an object {token: id}")
    vocab: dict[int, bytes] = {}
    for token, i in data.items():
        i = _id(i, f"{where}[{token!r}]")
        if i in vocab:
            first = next(t for t, j in data.items() if j == i)
            raise ValueError(f"{where}: tokens {first!r} and {token!r} both have id {i}")
        vocab[i] = (token.encode("utf-8") if token in raw
                    else _unspell(token, f"{where}[{token!r}]"))
    return vocab


def _check_merge(where: str, pair: tuple[bytes, bytes], tokens: Mapping[bytes, int],
                 seen: dict[tuple[bytes, bytes], str]) -> None:
    for part in (*pair, pair[0] + pair[1]):
        if part not in tokens:
            raise ValueError(f"{where}: {_spell(part)!r} is not a token of the vocabulary (each "
                             "merge joins two tokens into a third)")
    if pair in seen:
        raise ValueError(f"{where}: the merge {_spell(pair[0])} {_spell(pair[1])} is also at "
                         f"{seen[pair]}; each merge appears once")
    seen[pair] = where


def read_vocab_merges(vocab_path: _Path, merges_path: _Path, *,
                      special_tokens: Sequence[str] = (),
                      pattern: str = GPT2_SPLIT_PATTERN) -> Parts:
    """Return the parts of a GPT-2-style `vocab.json` + `merges.txt`, checked.

    The files do not say which tokens are special, nor the split pattern: `special_tokens`
    names tokens of vocab.json to declare special (GPT-2: ["<|endoftext|>"]), with their ids.
    Their keys are read as their own text (not in GPT-2's byte alphabet), as `tokenizers`
    writes them: "<my pad>" is the token b"<my pad>".

    >>> from course_utils.data import gpt2_vocab_files
    >>> vocab, merges, specials, _ = read_vocab_merges(*gpt2_vocab_files(),
    ...                                                special_tokens=["<|endoftext|>"])
    >>> len(vocab), merges[0], specials
    (50257, (b' ', b't'), {'<|endoftext|>': 50256})
    """
    names = check_special_names(special_tokens)
    vocab_path, data = _read_json(vocab_path, "vocab_path")
    vocab = _vocab_from_json(data, str(vocab_path), names)
    tokens = {t: i for i, t in vocab.items()}
    specials = {}
    for name in names:
        if name not in data:
            raise ValueError(f"special token {name!r} is not in {vocab_path}; declare only "
                             "tokens of the file (add others with add_special_tokens)")
        specials[name] = data[name]
    merges_path, text = _read_text(merges_path, "merges_path")
    merges: list[tuple[bytes, bytes]] = []
    seen: dict[tuple[bytes, bytes], str] = {}
    lines = text.split("\n")  # not splitlines: "\x85" or "\u2028" may be part of a token
    for n, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")
        if (n == 1 and line.startswith("#version")) or (not line and n == len(lines)):
            continue
        where = f"{merges_path} line {n}"
        fields = line.split(" ")
        if len(fields) != 2 or not all(fields):
            raise ValueError(f"{where}: expected two tokens separated by one space, such as "
                             f"'Ġ t', got {short_repr(line)}")
        pair = (_unspell(fields[0], where), _unspell(fields[1], where))
        _check_merge(where, pair, tokens, seen)
        merges.append(pair)
    return check_parts(vocab, merges, specials, pattern)


def write_vocab_merges(directory: _Path, vocab: Mapping[int, bytes],
                       merges: Sequence[tuple[bytes, bytes]]) -> tuple[Path, Path]:
    """Write `directory/vocab.json` and `directory/merges.txt` (creating `directory` if
    needed); return their paths.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     vocab = {i: bytes([i]) for i in range(256)} | {256: b" t"}
    ...     paths = write_vocab_merges(d, vocab, [(b" ", b"t")])
    ...     read_vocab_merges(*paths)[1], paths[1].read_text()
    ([(b' ', b't')], '#version: 0.2\\nĠ t\\n')
    """
    vocab, merges, _, _ = check_parts(vocab, merges, None, GPT2_SPLIT_PATTERN)
    directory = check_writable_folder(check_path("directory", directory), "tokenizer folder")
    spelled = {_spell(t): i for i, t in sorted(vocab.items())}
    lines = ["#version: 0.2", *(f"{_spell(a)} {_spell(b)}" for a, b in merges)]
    return (write_atomically(directory / "vocab.json", json.dumps(spelled, ensure_ascii=False)),
            write_atomically(directory / "merges.txt", "\n".join(lines) + "\n"))


def __getattr__(name: str) -> object:
    """tokenizer.json's names, imported from `tokenizer_json` on first use (it builds on this
    module, so importing it at the top would be circular)."""
    if name in _IN_TOKENIZER_JSON:
        from course_utils import tokenizer_json

        return getattr(tokenizer_json, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
