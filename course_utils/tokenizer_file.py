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
  for the contents, with what to do.

Version 1 files, written before the checksum (such as the reference model's tokenizer), still
load. Left out: compression, and other tokenizer formats (`BPETokenizer.to_hf` writes Hugging
Face's).

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
from pathlib import Path
from typing import Any

from course_utils.files import check_writable_folder, tidy_partial_files, write_atomically
from course_utils.validation import check_path

__all__ = ["FILE_NAME", "FORMAT", "VERSION", "write_tokenizer", "read_tokenizer"]

FILE_NAME = "bpe_tokenizer.json"  # what a save writes inside its directory
FORMAT = "course_utils.BPETokenizer"
VERSION = 2  # 1: the same fields without "sha256" (still read)
_HEADER = f'{{"format": "{FORMAT}"'.encode()  # how every version of the file begins
_UNSET = "0" * 64  # the checksum's place while the checksum is taken
_AGAIN = "save the tokenizer again (or restore the file from where you got it)"


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
                    pattern: str) -> Path:
    """Write a tokenizer's four parts to directory/bpe_tokenizer.json; return the file's path.

    Creates the directory if needed. Refuses (FileExistsError) to replace a file of that name
    that is not a course tokenizer; raises OSError naming the path if the disk is full or the
    folder read-only, and then the old file is still there, complete.
    """
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
        "merges": [[a.hex(), b.hex()] for a, b in merges]}))


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
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
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
        vocab = {int(i): bytes.fromhex(token) for i, token in data["vocab"]}
        if len(vocab) != len(data["vocab"]):
            raise ValueError("the vocab lists an id twice")
        return path, {
            "vocab": vocab,
            "merges": [(bytes.fromhex(a), bytes.fromhex(b)) for a, b in data["merges"]],
            "special_tokens": {str(s): int(i) for s, i in data["special_tokens"].items()},
            "pattern": str(data["pattern"]),
        }
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path} is inconsistent ({type(error).__name__}: {error}); "
                         f"{_AGAIN}") from None
