"""Hugging Face's tokenizer files, read and written: GPT-2's `vocab.json` + `merges.txt` and
`tokenizer.json` with a byte-level BPE model. (tiktoken's rank files: `tiktoken_format`.)

Each reader returns a tokenizer's four parts, `(vocab, merges, special_tokens, pattern)`, the
arguments of `RegexTokenizer` (`BPETokenizer.from_vocab_merges` and `from_tokenizer_json`), and
checks its file, naming the file, the line or key, and what was expected: truncated JSON, a
wrong type, a merge whose part is not a token, a byte without a token. The writers make files
that the readers and Hugging Face's `tokenizers` read back.

- `vocab.json` maps each token, spelled with `bytes_to_unicode` (a token is bytes; JSON holds
  text), to its id; `merges.txt` lists the merges in order, "Ġ t" per line, after an optional
  "#version" line. Neither says which tokens are special or how text is split.
- `tokenizer.json` says everything: the BPE model (vocab, merges), the added tokens (read as
  special tokens: both are matched whole in text) and the split pattern of its pre-tokenizer.

Left out, refused with NotImplementedError: what the course's BPE cannot represent (normalizers,
dropout, word prefixes, `ignore_merges`, pre-tokenizers but ByteLevel after an optional Split,
post-processors that add tokens).

>>> b2u = bytes_to_unicode()
>>> "".join(b2u[b] for b in " the".encode())
'Ġthe'
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from course_utils.files import check_regular_file, write_atomically
from course_utils.regex_tokenizer import GPT2_SPLIT_PATTERN
from course_utils.tokenizer_file import Parts, check_parts, check_special_names
from course_utils.validation import check_path, short_repr

__all__ = ["bytes_to_unicode", "read_vocab_merges", "write_vocab_merges", "read_tokenizer_json",
           "write_tokenizer_json"]

WHOLE_TEXT_PATTERN = r"[\s\S]+"  # ByteLevel without its regex: the whole text is one chunk
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


def _vocab_from_json(data: Any, where: str, raw: Mapping[int, str] = {}) -> dict[int, bytes]:
    """{id: bytes} from a JSON object {spelled token: id}; ids in `raw` are written as is."""
    _expect(data, dict, where, "an object {token: id}")
    vocab: dict[int, bytes] = {}
    for token, i in data.items():
        i = _id(i, f"{where}[{token!r}]")
        if i in vocab:
            first = next(t for t, j in data.items() if j == i)
            raise ValueError(f"{where}: tokens {first!r} and {token!r} both have id {i}")
        vocab[i] = (token.encode("utf-8") if raw.get(i) == token
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

    >>> from course_utils.data import gpt2_vocab_files
    >>> vocab, merges, specials, _ = read_vocab_merges(*gpt2_vocab_files(),
    ...                                                special_tokens=["<|endoftext|>"])
    >>> len(vocab), merges[0], specials
    (50257, (b' ', b't'), {'<|endoftext|>': 50256})
    """
    vocab_path, data = _read_json(vocab_path, "vocab_path")
    vocab = _vocab_from_json(data, str(vocab_path))
    tokens = {t: i for i, t in vocab.items()}
    specials = {}
    for name in check_special_names(special_tokens):
        if name.encode("utf-8") not in tokens:
            raise ValueError(f"special token {name!r} is not in {vocab_path}; declare only "
                             "tokens of the file (add others with add_special_tokens)")
        specials[name] = tokens[name.encode("utf-8")]
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
    """Write `directory/vocab.json` and `directory/merges.txt`; return their paths.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     vocab = {i: bytes([i]) for i in range(256)} | {256: b" t"}
    ...     paths = write_vocab_merges(d, vocab, [(b" ", b"t")])
    ...     read_vocab_merges(*paths)[1], paths[1].read_text()
    ([(b' ', b't')], '#version: 0.2\\nĠ t\\n')
    """
    directory = check_path("directory", directory)
    vocab, merges, _, _ = check_parts(vocab, merges, None, GPT2_SPLIT_PATTERN)
    spelled = {_spell(t): i for i, t in sorted(vocab.items())}
    lines = ["#version: 0.2", *(f"{_spell(a)} {_spell(b)}" for a, b in merges)]
    return (write_atomically(directory / "vocab.json", json.dumps(spelled, ensure_ascii=False)),
            write_atomically(directory / "merges.txt", "\n".join(lines) + "\n"))


_BPE_OPTIONS = {  # model options that change what BPE does, with the values that do not
    "dropout": (None,), "continuing_subword_prefix": (None, ""), "end_of_word_suffix": (None, ""),
    "byte_fallback": (None, False), "ignore_merges": (None, False),
}


def _pattern(pre: Any, where: str) -> str:
    """The split pattern of a byte-level pre-tokenizer (NotImplementedError for others)."""
    sequence = isinstance(pre, dict) and pre.get("type") == "Sequence"
    steps = pre.get("pretokenizers") if sequence else [None, pre]
    split, byte_level = steps if isinstance(steps, list) and len(steps) == 2 else (None, None)
    if not (isinstance(byte_level, dict) and byte_level.get("type") == "ByteLevel"):
        raise NotImplementedError(f"{where} is {short_repr(pre)}: only ByteLevel, alone or after "
                                  "a Split, makes a byte-level tokenizer the course can read")
    if byte_level.get("add_prefix_space"):
        raise NotImplementedError(f"{where}: ByteLevel adds a space before the text "
                                  "(add_prefix_space), which the course's tokenizer does not")
    use_regex = byte_level.get("use_regex", True)
    if split is None:
        return GPT2_SPLIT_PATTERN if use_regex else WHOLE_TEXT_PATTERN
    regex = split.get("pattern", {}).get("Regex") if isinstance(split, dict) else None
    if (use_regex or not isinstance(regex, str) or split.get("type") != "Split"
            or split.get("behavior") != "Isolated" or split.get("invert")):
        raise NotImplementedError(f"{where} is {short_repr(pre, 200)}: the course reads a Split "
                                  "on a Regex (behavior Isolated, not inverted), then ByteLevel "
                                  "with use_regex false")
    return regex


def read_tokenizer_json(path: _Path) -> Parts:
    """Return the parts of a Hugging Face `tokenizer.json` with a byte-level BPE model, checked.

    Added tokens become special tokens (both are matched whole in text); the pattern is the
    pre-tokenizer's (GPT-2's for a plain ByteLevel).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"<|end|>"}
    ...     path = write_tokenizer_json(f"{d}/tokenizer.json", vocab, [(b"a", b"b")],
    ...                                 {"<|end|>": 257}, GPT2_SPLIT_PATTERN)
    ...     read_tokenizer_json(path)[1:3]
    ([(b'a', b'b')], {'<|end|>': 257})
    """
    path, data = _read_json(path, "path")
    where = str(path)
    _expect(data, dict, where, "a JSON object")
    model = _expect(data.get("model"), dict, f"{where}: model", "an object")
    if model.get("type") != "BPE":
        raise NotImplementedError(f"{where}: model.type is {short_repr(model.get('type'))}; the "
                                  "course reads byte-level BPE models only (\"BPE\")")
    for key, neutral in _BPE_OPTIONS.items():
        if model.get(key) not in neutral:
            raise NotImplementedError(f"{where}: model.{key} is {short_repr(model[key])}; the "
                                      f"course's BPE has no such option (expected {neutral[-1]})")
    if data.get("normalizer") is not None:
        raise NotImplementedError(f"{where}: normalizer is {short_repr(data['normalizer'])}; the "
                                  "course's tokenizer does not change text before splitting it")
    post = data.get("post_processor")
    if post is not None and post.get("type") != "ByteLevel" and not (
            post.get("type") == "TemplateProcessing" and len(post.get("single", [])) == 1):
        raise NotImplementedError(f"{where}: post_processor {short_repr(post)} adds tokens to "
                                  "each encoding, which the course's encode does not")
    pattern = _pattern(data.get("pre_tokenizer"), f"{where}: pre_tokenizer")

    specials: dict[str, int] = {}
    added = _expect(data.get("added_tokens", []), list, f"{where}: added_tokens", "a list")
    for k, entry in enumerate(added):
        key = f"{where}: added_tokens[{k}]"
        _expect(entry, dict, key, "an object {id, content, special, ...}")
        name = _expect(entry.get("content"), str, f"{key}.content", "a non-empty string")
        if not name or name in specials:
            raise ValueError(f"{key}.content must be a new, non-empty name, got {name!r}")
        if any(entry.get(flag) for flag in ("lstrip", "rstrip", "single_word")):
            raise NotImplementedError(f"{key}: {name!r} strips spaces or matches single words "
                                      "only; the course matches special tokens exactly")
        specials[name] = _id(entry.get("id"), f"{key}.id")
    vocab = _vocab_from_json(model.get("vocab"), f"{where}: model.vocab",
                             {i: name for name, i in specials.items()})
    for name, i in specials.items():
        if vocab.setdefault(i, name.encode("utf-8")) != name.encode("utf-8"):
            raise ValueError(f"{where}: added token {name!r} has id {i}, which model.vocab gives "
                             f"to {_spell(vocab[i])!r}")
    tokens = {t: i for i, t in vocab.items()}
    merges: list[tuple[bytes, bytes]] = []
    seen: dict[tuple[bytes, bytes], str] = {}
    model_merges = _expect(model.get("merges"), list, f"{where}: model.merges", "a list")
    for k, merge in enumerate(model_merges):
        key = f"{where}: model.merges[{k}]"
        parts = merge.split(" ") if isinstance(merge, str) else merge
        if not (isinstance(parts, list) and len(parts) == 2):
            raise ValueError(f"{key} must be \"a b\" or [a, b], got {short_repr(merge)}")
        pair = (_unspell(parts[0], key), _unspell(parts[1], key))
        _check_merge(key, pair, tokens, seen)
        merges.append(pair)
    return vocab, merges, specials, pattern


def write_tokenizer_json(path: _Path, vocab: Mapping[int, bytes],
                         merges: Sequence[tuple[bytes, bytes]],
                         special_tokens: Mapping[str, int] | None, pattern: str) -> Path:
    """Write a `tokenizer.json` that `tokenizers.Tokenizer.from_file` and `read_tokenizer_json`
    read; return its path. (The doctest of `read_tokenizer_json` writes one.)"""
    vocab, merges, specials, pattern = check_parts(vocab, merges, special_tokens, pattern)
    special_ids = set(specials.values())
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": pattern == GPT2_SPLIT_PATTERN}
    pre = byte_level if pattern == GPT2_SPLIT_PATTERN else {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
        byte_level]}
    data = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": name, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for name, i in specials.items()],
        "normalizer": None, "pre_tokenizer": pre, "post_processor": None,
        "decoder": dict(byte_level, use_regex=True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {_spell(t): i for i, t in sorted(vocab.items())
                            if i not in special_ids},
                  "merges": [[_spell(a), _spell(b)] for a, b in merges]},
    }
    return write_atomically(check_path("path", path),
                            json.dumps(data, ensure_ascii=False, indent=1))
