"""The tokenizer's file: one JSON file that no kill, full disk or altered byte turns into a
wrong tokenizer.

`BPETokenizer.save(directory)` writes `directory/bpe_tokenizer.json` with `write_tokenizer`;
`BPETokenizer.load` reads it back with `read_tokenizer`. The file holds the tokenizer's four
parts, with tokens as hex (a token is bytes, and JSON holds only text):

    {"format": "course_utils.BPETokenizer", "version": 2, "sha256": "5f1e…",
     "pattern": "…", "special_tokens": {"<|endoftext|>": 1023},
     "vocab": [[0, "00"], [1, "01"], …, [1022, "206d7573"]], "merges": [["20", "74"], …]}

What this adds to a plain `json.dump`:
- the file is replaced in one step (`course_utils.files.write_atomically`), so a kill at any
  instant leaves the old tokenizer or the new one, never half of one; the partial files of
  killed saves are removed by the next save or load;
- `sha256` is the checksum of the file's own bytes, taken with those 64 characters written as
  zeros: a byte changed anywhere (a flipped bit, a careless edit) is refused on load, instead of
  silently giving a tokenizer with other ids;
- a save replaces a course tokenizer file, never another file that happens to have its name;
- every failure names the path: OSError for the disk (missing, full, read-only), ValueError
  for the contents, with what to do;
- the parts are checked before anything is written (`check_parts`, which `RegexTokenizer` uses
  too) and again when read: an id is a JSON integer (not 1.7, "2", true or 1e400) and a token
  is lowercase hex, so an edited file never loads as something else.

Version 1 files, written before the checksum (such as the reference model's tokenizer), still
load. Left out: compression. Other libraries' tokenizer files are read and written by
`tokenizer_formats` (GPT-2's vocab.json + merges.txt), `tokenizer_json` (Hugging Face's
tokenizer.json) and `tiktoken_format` (tiktoken's rank files).

>>> import tempfile
>>> byte_vocab = {b: bytes([b]) for b in range(256)}
>>> with tempfile.TemporaryDirectory() as folder:
...     path = write_tokenizer(folder, byte_vocab, [], {}, "[^ ]+| +")
...     path.name, read_tokenizer(folder)[1]["vocab"] == byte_vocab
('bpe_tokenizer.json', True)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from course_utils.files import check_writable_folder, tidy_partial_files, write_atomically
from course_utils.validation import (check_bool, check_int, check_path, check_str, check_type,
                                     short_repr)

__all__ = ["FILE_NAME", "FORMAT", "VERSION", "write_tokenizer", "read_tokenizer", "check_parts",
           "check_special_names"]

FILE_NAME = "bpe_tokenizer.json"  # what a save writes inside its directory
FORMAT = "course_utils.BPETokenizer"
VERSION = 2  # 1: the same fields without "sha256" (still read)
_HEADER = f'{{"format": "{FORMAT}"'.encode()  # how every version of the file begins
_UNSET = "0" * 64  # the checksum's place while the checksum is taken
_AGAIN = "save the tokenizer again (or restore the file from where you got it)"
_HEX = re.compile("(?:[0-9a-f]{2})+")  # a token's bytes as `bytes.hex` writes them
Parts = tuple[dict[int, bytes], list[tuple[bytes, bytes]], dict[str, int], str]


def check_special_names(special_tokens: object) -> list[str]:
    """Return the names of `special_tokens` (a list of strs, or a dict {name: id}), checked.

    The names must be distinct, non-empty and UTF-8; a set is refused, because the order of
    the names gives their ids and a set's order changes from one run of Python to the next.

    >>> check_special_names(["<a>", "<a>"])
    Traceback (most recent call last):
    ...
    ValueError: special_tokens must be distinct, got ['<a>', '<a>']
    """
    if isinstance(special_tokens, (set, frozenset)):
        example = sorted(special_tokens, key=str)[:3]
        raise TypeError("special_tokens must be a list (a set has no order, and the order gives "
                        f"the ids), got {short_repr(special_tokens)}; e.g. "
                        f"special_tokens={short_repr(example)}")
    if not isinstance(special_tokens, Iterable) or isinstance(special_tokens, (str, bytes)):
        raise TypeError(f"special_tokens must be a list of strs, got {short_repr(special_tokens)};"
                        " e.g. special_tokens=['<|endoftext|>'], or () for none")
    names = [check_str(f"special_tokens[{k}]", name, nonempty=True, utf8=True)
             for k, name in enumerate(special_tokens)]
    if len(set(names)) != len(names):
        raise ValueError(f"special_tokens must be distinct, got {short_repr(names)}")
    return names


def check_parts(vocab: object, merges: object, special_tokens: object, pattern: object) -> Parts:
    """Return a tokenizer's four parts as plain Python values, each checked for its type.

    `vocab` is a dict {id: token bytes}, `merges` a list of pairs of bytes, `special_tokens` a
    dict {name: id} (or None for none) and `pattern` a str. NumPy integers become ints.
    Whether the parts fit together is `RegexTokenizer`'s check, not this one.

    >>> check_parts({0: "a"}, [], {}, ".")
    Traceback (most recent call last):
    ...
    TypeError: vocab[0] must be bytes (the token), got 'a' (str)
    """
    check_type("vocab", vocab, Mapping, "a dict {id: token bytes}")
    plain_vocab: dict[int, bytes] = {}
    for i, token in vocab.items():
        if not isinstance(token, bytes):  # the message is built only for a token that fails
            check_type(f"vocab[{short_repr(i)}]", token, bytes, "bytes (the token)")
        plain_vocab[check_int("each vocab id", i, minimum=0)] = token
    check_type("merges", merges, (list, tuple), "a list of pairs of bytes")
    for rank, pair in enumerate(merges):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                and all(isinstance(t, bytes) for t in pair)):
            raise TypeError(f"merges[{rank}] must be a pair of bytes such as (b'a', b'b'), "
                            f"got {short_repr(pair)}")
    special_tokens = {} if special_tokens is None else special_tokens
    check_type("special_tokens", special_tokens, Mapping, "a dict {name: id}, or None")
    specials = {name: check_int(f"special_tokens[{name!r}]", special_tokens[name], minimum=0)
                for name in check_special_names(special_tokens)}
    if len(set(specials.values())) != len(specials):
        raise ValueError(f"special tokens must have distinct ids, got {short_repr(specials)}")
    check_str("pattern", pattern, nonempty=True, utf8=True,
              fix="e.g. pattern=GPT2_SPLIT_PATTERN")
    return plain_vocab, [(a, b) for a, b in merges], specials, pattern


def _file_bytes(parts: dict[str, Any]) -> bytes:
    """The file's contents: the header, the checksum and the parts, as ASCII JSON."""
    text = json.dumps({"format": FORMAT, "version": VERSION, "sha256": _UNSET, **parts})
    # The first 64 zeros are the checksum's place: "format" and "version" come before it.
    return text.replace(_UNSET, hashlib.sha256(text.encode()).hexdigest(), 1).encode()


def _checksum_holds(raw: bytes, stored: object) -> bool:
    """Whether `stored` is the sha256 of `raw` with the stored checksum written as zeros."""
    if not isinstance(stored, str) or not re.fullmatch("[0-9a-f]{64}", stored):
        return False
    unset = raw.replace(stored.encode(), _UNSET.encode(), 1)
    return hashlib.sha256(unset).hexdigest() == stored


def write_tokenizer(directory: str | os.PathLike[str], vocab: dict[int, bytes],
                    merges: list[tuple[bytes, bytes]], special_tokens: dict[str, int],
                    pattern: str, *, ignore_merges: bool = False) -> Path:
    """Write a tokenizer's four parts to directory/bpe_tokenizer.json; return the file's path.

    Checks the parts' types first (`check_parts`), and creates the directory if needed.
    `ignore_merges` (tiktoken's rule, `course_utils.merge_table`) is written only when true, so
    that the files of every other tokenizer stay as they were.
    Refuses (FileExistsError) to replace a file of that name that is not a course tokenizer;
    raises OSError naming the path if the disk is full or the folder read-only, and then the
    old file is still there, complete.
    """
    vocab, merges, special_tokens, pattern = check_parts(vocab, merges, special_tokens, pattern)
    folder = check_writable_folder(check_path("directory", directory), "tokenizer folder")
    path = folder / FILE_NAME
    tidy_partial_files(folder)
    if path.exists() or path.is_symlink():
        head = b""
        if path.is_file():
            with open(path, "rb") as f:
                head = f.read(len(_HEADER))
        if head != _HEADER:
            raise FileExistsError(f"{path} exists and is not a course tokenizer file, so save() "
                                  "will not replace it; move it away, or save elsewhere")
    return write_atomically(path, _file_bytes({
        "pattern": pattern, "special_tokens": special_tokens,
        "vocab": [[i, token.hex()] for i, token in sorted(vocab.items())],
        "merges": [[a.hex(), b.hex()] for a, b in merges],
        **({"ignore_merges": True} if check_bool("ignore_merges", ignore_merges) else {})}))


def read_tokenizer(directory: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """Read what `write_tokenizer` wrote; return (the file's path, its parts).

    `directory` may also be the file itself, as `save` returns it. The checksum is verified
    before anything else is believed; a file that does not hold is a ValueError that says so.
    """
    path = check_path("directory", directory)
    if path.is_dir() or path.name != FILE_NAME:
        path = path / FILE_NAME
    tidy_partial_files(path.parent)
    if not path.is_file():
        raise FileNotFoundError(f"no tokenizer at {path}; expected the {FILE_NAME} that "
                                "BPETokenizer.save(directory) writes")
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:  # RecursionError: "[[[[…" nested too deeply
        raise ValueError(f"{path} is not valid JSON ({error}): it was cut short or altered "
                         f"after it was saved; {_AGAIN}") from None
    # A changed byte anywhere, even in "format" or "version", must read as a changed file.
    if isinstance(data, dict) and "sha256" in data and not _checksum_holds(raw, data["sha256"]):
        raise ValueError(f"{path} was altered after it was saved: its sha256 does not match "
                         f"the one stored in it; {_AGAIN}")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} file; {_AGAIN}")
    version = data.get("version")
    if version not in (1, VERSION):
        raise ValueError(f"{path} has format version {version!r}; this course_utils reads "
                         f"versions 1 and {VERSION} (a newer course_utils may have written it)")
    if (version == VERSION) != ("sha256" in data):
        raise ValueError(f"{path} was altered after it was saved: version {version} files "
                         f"{'hold' if version == VERSION else 'have no'} a sha256; {_AGAIN}")
    try:
        vocab = {_id(i, f"vocab[{k}]"): _token(t, f"vocab[{k}]")
                 for k, (i, t) in enumerate(data["vocab"])}
        if len(vocab) != len(data["vocab"]):
            raise ValueError("the vocab lists an id twice")
        if not isinstance(data["pattern"], str):
            raise ValueError(f"the pattern is {short_repr(data['pattern'])}, not a str")
        if data.get("ignore_merges", True) is not True:  # written only when true
            raise ValueError(f"ignore_merges is {short_repr(data['ignore_merges'])}, not true")
        return path, {
            "vocab": vocab,
            "merges": [(_token(a, f"merges[{k}]"), _token(b, f"merges[{k}]"))
                       for k, (a, b) in enumerate(data["merges"])],
            "special_tokens": {s: _id(i, f"special_tokens[{s!r}]")
                               for s, i in data["special_tokens"].items()},
            "pattern": data["pattern"],
            **({"ignore_merges": data["ignore_merges"]} if "ignore_merges" in data else {}),
        }
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path} is inconsistent ({type(error).__name__}: {error}); "
                         f"{_AGAIN}") from None


def _id(value: object, where: str) -> int:
    """An id read from the file: a JSON integer (JSON's 1e400 reads as inf, true as True)."""
    if type(value) is not int:
        raise ValueError(f"{where} has the id {short_repr(value)}, not an integer")
    return value


def _token(value: object, where: str) -> bytes:
    """A token read from the file: its bytes in lowercase hex, as `write_tokenizer` wrote them."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise ValueError(f"{where} has the token {short_repr(value)}, not bytes in hex")
    return bytes.fromhex(value)
