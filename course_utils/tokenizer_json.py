"""Hugging Face's `tokenizer.json` with a byte-level BPE model, read and written (its names are
importable from `tokenizer_formats` too).

`tokenizer.json` says everything: the BPE model (vocab, merges, `ignore_merges`), the added
tokens (read as special tokens: both are matched whole in text) and the split pattern of its
pre-tokenizer. The special tokens sit in `model.vocab` too, as their own text, so that
`tokenizers` gives them their ids.

`model.ignore_merges: true` (a chunk that is a vocab token is taken whole, as tiktoken does)
is not one of the four parts: `read_tokenizer_json_and_ignore_merges` returns it beside them,
and `BPETokenizer.from_tokenizer_json` builds its tokenizer with it; `read_tokenizer_json`,
which returns the parts alone, refuses such a file rather than drop the flag.

Every malformed field gives a ValueError naming the file and the key. Left out, refused with
NotImplementedError: what the course's BPE cannot represent (normalizers, dropout, word
prefixes and suffixes, byte fallback, pre-tokenizers but ByteLevel after an optional Split on a
Regex, post-processors that add tokens, added tokens that strip spaces).

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab"}
...     path = write_tokenizer_json(f"{d}/tokenizer.json", vocab, [(b"a", b"b")], {"<s>": 300},
...                                 GPT2_SPLIT_PATTERN, ignore_merges=True)
...     parts, ignore_merges = read_tokenizer_json_and_ignore_merges(path)
>>> parts[0][300], parts[2], ignore_merges
(b'<s>', {'<s>': 300}, True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from course_utils.files import write_atomically
from course_utils.regex_tokenizer import GPT2_SPLIT_PATTERN
from course_utils.tokenizer_file import Parts, check_parts
from course_utils.tokenizer_formats import (_check_merge, _expect, _id, _Path, _read_json, _spell,
                                            _unspell, _vocab_from_json)
from course_utils.validation import check_bool, check_path, short_repr

__all__ = ["read_tokenizer_json", "read_tokenizer_json_and_ignore_merges", "tokenizer_json_text",
           "write_tokenizer_json", "WHOLE_TEXT_PATTERN"]

WHOLE_TEXT_PATTERN = r"[\s\S]+"  # ByteLevel without its regex: the whole text is one chunk
_BPE_OPTIONS = {  # model options that change what BPE does, with the values that do not
    "dropout": (None,), "continuing_subword_prefix": (None, ""), "end_of_word_suffix": (None, ""),
    "byte_fallback": (None, False),
}


def _flag(obj: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{where}.{key} must be true or false, got {short_repr(value)}")
    return value


def _kind(obj: Any, where: str, expected: str) -> str:
    """The "type" of a pipeline step (an object), checked."""
    _expect(obj, dict, where, f"an object {{\"type\": ...}} ({expected})")
    return _expect(obj.get("type"), str, f"{where}.type", "a string")


def _pattern(pre: Any, where: str) -> str:
    """The split pattern of a byte-level pre-tokenizer (NotImplementedError for others)."""
    only = ("only ByteLevel, alone or after a Split, makes a byte-level tokenizer the course "
            "can read")
    if pre is None:
        raise NotImplementedError(f"{where} is null: {only}")
    kind = _kind(pre, where, "a pre-tokenizer")
    split, byte_level, byte_where = None, pre, where
    if kind == "Sequence":
        steps = _expect(pre.get("pretokenizers"), list, f"{where}.pretokenizers", "a list")
        if len(steps) != 2:
            raise NotImplementedError(f"{where} is {short_repr(pre)}: {only}")
        split, byte_level, byte_where = *steps, f"{where}.pretokenizers[1]"
    if _kind(byte_level, byte_where, "ByteLevel") != "ByteLevel":
        raise NotImplementedError(f"{where} is {short_repr(pre)}: {only}")
    if _flag(byte_level, "add_prefix_space", byte_where, False):
        raise NotImplementedError(f"{byte_where}: ByteLevel adds a space before the text "
                                  "(add_prefix_space), which the course's tokenizer does not")
    use_regex = _flag(byte_level, "use_regex", byte_where, True)
    if split is None:
        return GPT2_SPLIT_PATTERN if use_regex else WHOLE_TEXT_PATTERN
    split_where = f"{where}.pretokenizers[0]"
    expected = ("the course reads a Split on a Regex (behavior Isolated, not inverted), then "
                "ByteLevel with use_regex false")
    if _kind(split, split_where, "a Split") != "Split":
        raise NotImplementedError(f"{split_where} is {short_repr(split)}: {expected}")
    pattern = _expect(split.get("pattern"), dict, f"{split_where}.pattern",
                      "an object {\"Regex\": ...} or {\"String\": ...}")
    if "Regex" not in pattern:
        raise NotImplementedError(f"{split_where}.pattern is {short_repr(pattern)}: {expected}")
    regex = _expect(pattern["Regex"], str, f"{split_where}.pattern.Regex", "a string")
    invert = _flag(split, "invert", split_where, False)
    behavior = _expect(split.get("behavior"), str, f"{split_where}.behavior", "a string")
    if use_regex or behavior != "Isolated" or invert:
        raise NotImplementedError(f"{where} is {short_repr(pre, 200)}: {expected}")
    return regex


def _check_post_processor(post: Any, where: str) -> None:
    """NotImplementedError for a post-processor that adds tokens to each encoding."""
    if post is None:
        return
    kind = _kind(post, where, "a post-processor, or null")
    if kind == "Sequence":
        steps = _expect(post.get("processors"), list, f"{where}.processors", "a list")
        for k, step in enumerate(steps):
            _check_post_processor(step, f"{where}.processors[{k}]")
        return
    if kind == "TemplateProcessing":
        single = _expect(post.get("single"), list, f"{where}.single", "a list")
        if len(single) == 1 and isinstance(single[0], dict) and "Sequence" in single[0]:
            return  # the text's own tokens, nothing added
    elif kind == "ByteLevel":
        return
    raise NotImplementedError(f"{where} {short_repr(post)} adds tokens to each encoding, which "
                              "the course's encode does not")


def _specials(data: dict[str, Any], where: str) -> dict[str, int]:
    specials: dict[str, int] = {}
    added = _expect(data.get("added_tokens", []), list, f"{where}: added_tokens", "a list")
    for k, entry in enumerate(added):
        key = f"{where}: added_tokens[{k}]"
        _expect(entry, dict, key, "an object {id, content, special, ...}")
        name = _expect(entry.get("content"), str, f"{key}.content", "a non-empty string")
        if not name or name in specials:
            raise ValueError(f"{key}.content must be a new, non-empty name, got {name!r}")
        if any([_flag(entry, flag, key, False) for flag in ("lstrip", "rstrip", "single_word")]):
            raise NotImplementedError(f"{key}: {name!r} strips spaces or matches single words "
                                      "only; the course matches special tokens exactly")
        specials[name] = _id(entry.get("id"), f"{key}.id")
    return specials


def read_tokenizer_json_and_ignore_merges(path: _Path) -> tuple[Parts, bool]:
    """Return the parts of a Hugging Face `tokenizer.json` with a byte-level BPE model, checked,
    and its `model.ignore_merges` (False where absent): `BPETokenizer(*parts,
    ignore_merges=...)` is the tokenizer. (The module's doctest reads one.)"""
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
    ignore_merges = model.get("ignore_merges")
    ignore_merges = False if ignore_merges is None else _flag(model, "ignore_merges",
                                                              f"{where}: model", False)
    if data.get("normalizer") is not None:
        raise NotImplementedError(f"{where}: normalizer is {short_repr(data['normalizer'])}; the "
                                  "course's tokenizer does not change text before splitting it")
    _check_post_processor(data.get("post_processor"), f"{where}: post_processor")
    pattern = _pattern(data.get("pre_tokenizer"), f"{where}: pre_tokenizer")
    specials = _specials(data, where)
    model_vocab = model.get("vocab")
    vocab = _vocab_from_json(model_vocab, f"{where}: model.vocab", specials)
    for name, i in specials.items():
        if name in model_vocab and model_vocab[name] != i:
            raise ValueError(f"{where}: added token {name!r} has id {i}, but model.vocab gives "
                             f"it id {model_vocab[name]}")
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
    return (vocab, merges, specials, pattern), ignore_merges


def read_tokenizer_json(path: _Path) -> Parts:
    """Return the parts of a Hugging Face `tokenizer.json` with a byte-level BPE model, checked.

    Added tokens become special tokens (both are matched whole in text); the pattern is the
    pre-tokenizer's (GPT-2's for a plain ByteLevel). A file with `model.ignore_merges: true`
    is refused: the parts alone would encode otherwise (use
    `BPETokenizer.from_tokenizer_json`, or `read_tokenizer_json_and_ignore_merges`).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"<|end|>"}
    ...     path = write_tokenizer_json(f"{d}/tokenizer.json", vocab, [(b"a", b"b")],
    ...                                 {"<|end|>": 257}, GPT2_SPLIT_PATTERN)
    ...     read_tokenizer_json(path)[1:3]
    ([(b'a', b'b')], {'<|end|>': 257})
    """
    parts, ignore_merges = read_tokenizer_json_and_ignore_merges(path)
    if ignore_merges:
        raise NotImplementedError(
            f"{path}: model.ignore_merges is true (a chunk that is a token is taken whole), "
            "which the four parts do not carry; read the file with "
            "BPETokenizer.from_tokenizer_json, or read_tokenizer_json_and_ignore_merges")
    return parts


def write_tokenizer_json(path: _Path, vocab: Mapping[int, bytes],
                         merges: Sequence[tuple[bytes, bytes]],
                         special_tokens: Mapping[str, int] | None, pattern: str, *,
                         ignore_merges: bool = False) -> Path:
    """Write a `tokenizer.json` that `tokenizers.Tokenizer.from_file` and `read_tokenizer_json`
    read, with the same ids; return its path. (The doctest of `read_tokenizer_json` writes one.)"""
    text = tokenizer_json_text(vocab, merges, special_tokens, pattern, ignore_merges=ignore_merges)
    return write_atomically(check_path("path", path), text)


def tokenizer_json_text(vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]],
                        special_tokens: Mapping[str, int] | None, pattern: str, *,
                        ignore_merges: bool = False) -> str:
    """The text of a `tokenizer.json` for these parts (`tokenizers.Tokenizer.from_str` reads
    it; `BPETokenizer.to_hf` does). Special tokens are in `model.vocab` as their own text, as
    `tokenizers` writes them, so that they keep their ids."""
    vocab, merges, specials, pattern = check_parts(vocab, merges, special_tokens, pattern)
    check_bool("ignore_merges", ignore_merges)
    spelled = {i: _spell(t) for i, t in vocab.items()} | {i: n for n, i in specials.items()}
    model_vocab: dict[str, int] = {}
    for i, key in sorted(spelled.items()):
        if model_vocab.setdefault(key, i) != i:
            raise ValueError(f"ids {model_vocab[key]} and {i} would both be written {key!r} in "
                             "tokenizer.json: a special token's name is the spelling of another "
                             "token (bytes_to_unicode); rename the special token")
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
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": ignore_merges,
                  "vocab": model_vocab, "merges": [[_spell(a), _spell(b)] for a, b in merges]},
    }
    return json.dumps(data, ensure_ascii=False, indent=1)
