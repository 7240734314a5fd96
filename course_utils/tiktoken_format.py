"""tiktoken's rank files, read and written, and the merges they imply.

A rank file (GPT-4's cl100k_base.tiktoken, Qwen's qwen.tiktoken) lists one token per line as
`base64(token bytes) rank`, and nothing else: no merges, no special tokens, no split pattern.
tiktoken encodes a chunk by merging, again and again, the adjacent pair whose concatenation is
the token of lowest rank. The course's BPE applies a list of merges instead, and
`merges_from_ranks` recovers that list: BPE, tiktoken's way, on a token's own bytes stops with
two parts (every other pair in it makes a shorter token); the merge of those two parts is the
token's merge, at the token's rank. GPT-2's 50,000 merges come back exactly this way.

`read_tiktoken` checks the file and names the line and what was expected (two fields, valid
base64, a rank used once, a token for each byte); `write_tiktoken` writes one; `tiktoken_encoding`
builds tiktoken's own `Encoding` from the same parts, the reference the course checks ids with.

A token that BPE never builds from its bytes (201 of Qwen3.6's 248,044, words such as 加拿大
added to the vocabulary after its merges were learned) gets no merge: it is kept in the vocab as
an orphan, and tiktoken produces it only for a chunk that is exactly that token — the rule that
`ignore_merges=True` gives the course's tokenizer (`BPETokenizer.from_tiktoken` sets it).

Left out: tiktoken's special-token files (its `Encoding` takes them as a dict, as
`read_tiktoken` does) and the encodings it downloads by name (`get_encoding`).

>>> ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256, b"abc": 257}
>>> merges_from_ranks(ranks)
[(b'a', b'b'), (b'ab', b'c')]
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from course_utils.files import check_regular_file, write_atomically
from course_utils.tokenizer_file import Parts, check_parts
from course_utils.validation import check_path, check_str, check_type, short_repr

if TYPE_CHECKING:
    import tiktoken

__all__ = ["read_tiktoken", "read_tiktoken_ranks", "write_tiktoken", "merges_from_ranks",
           "tiktoken_encoding"]


def merges_from_ranks(ranks: Mapping[bytes, int]) -> list[tuple[bytes, bytes]]:
    """Return the merges that give tiktoken's ids for `ranks` ({token bytes: rank}), in order.

    One merge per token that BPE on its own bytes builds, ordered by the token's rank; a few
    milliseconds per thousand tokens.

    >>> ranks = {bytes([b]): b for b in range(256)} | {b"bc": 256, b"ab": 257, b"abc": 258}
    >>> merges_from_ranks(ranks)  # "abc": b, c merge first (rank 256), then a + bc
    [(b'b', b'c'), (b'a', b'b'), (b'a', b'bc')]
    """
    check_type("ranks", ranks, Mapping, "a dict {token bytes: rank}")
    found: list[tuple[int, bytes, bytes]] = []
    get = ranks.get
    for token, rank in ranks.items():
        if len(token) < 2:
            continue
        if len(token) == 2:
            found.append((rank, token[:1], token[1:]))
            continue
        parts = [token[i:i + 1] for i in range(len(token))]
        while len(parts) > 2:
            # tiktoken's rule: merge the adjacent pair whose concatenation ranks lowest (the
            # leftmost on a tie). No pair of three or more parts makes the token itself.
            best, best_rank = -1, None
            for i in range(len(parts) - 1):
                r = get(parts[i] + parts[i + 1])
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best < 0:
                break  # stuck: BPE never builds this token (it gets no merge)
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        if len(parts) == 2:
            found.append((rank, parts[0], parts[1]))
    found.sort(key=lambda merge: merge[0])
    return [(a, b) for _, a, b in found]


def read_tiktoken_ranks(path: str | os.PathLike[str]) -> dict[bytes, int]:
    """Return {token bytes: rank} from a tiktoken rank file, checked (ValueError naming the line).

    >>> from course_utils.data import qwen_tiktoken_path
    >>> len(read_tiktoken_ranks(qwen_tiktoken_path("qwen")))
    151643
    """
    path = check_regular_file("path", path)
    ranks: dict[bytes, int] = {}
    line_of: dict[int, int] = {}
    for n, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if not line:  # tiktoken skips empty lines
            continue
        fields = line.split()
        where = f"{path} line {n}"
        if len(fields) != 2 or not fields[1].isdigit():
            raise ValueError(f"{where}: expected a token in base64, one space and its rank (an "
                             f"int >= 0), such as 'IQ== 0', got {short_repr(line)}")
        try:
            token = base64.b64decode(fields[0], validate=True)
        except binascii.Error as error:
            raise ValueError(f"{where}: {short_repr(fields[0].decode('latin-1'))} is not "
                             f"valid base64 ({error})") from None
        rank = int(fields[1])
        if not token:
            raise ValueError(f"{where}: the token is empty; each line holds a token of 1 byte "
                             "or more")
        if rank in line_of:
            raise ValueError(f"{where}: rank {rank} is also the rank of line {line_of[rank]}; "
                             "each rank belongs to one token")
        if token in ranks:
            raise ValueError(f"{where}: token {token!r} is also on line {line_of[ranks[token]]}; "
                             "each token appears once")
        ranks[token], line_of[rank] = rank, n
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise ValueError(f"{path} has no token for byte(s) {short_repr(missing, 40)}: a "
                         "byte-level vocabulary has a token for each of the 256 bytes")
    return ranks


def read_tiktoken(path: str | os.PathLike[str], *, pattern: str,
                  special_tokens: Mapping[str, int] | None = None) -> Parts:
    """Return the parts of a tokenizer from a tiktoken rank file, with merges recovered.

    The file holds neither the split `pattern` nor the `special_tokens` ({name: id}, ids that
    are not ranks): they are given, as they are to `tiktoken.Encoding`.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     ranks = {b: bytes([b]) for b in range(256)} | {256: b"ab", 257: b"abc"}
    ...     path = write_tiktoken(f"{d}/abc.tiktoken", ranks)
    ...     read_tiktoken(path, pattern=r"\\S+|\\s+", special_tokens={"<s>": 258})[1:3]
    ([(b'a', b'b'), (b'ab', b'c')], {'<s>': 258})
    """
    check_str("pattern", pattern, nonempty=True, fix="e.g. the pattern tiktoken is given")
    specials = check_parts({}, [], special_tokens, pattern)[2]
    ranks = read_tiktoken_ranks(path)
    vocab = {rank: token for token, rank in ranks.items()}
    for name, i in specials.items():
        if i in vocab:
            raise ValueError(f"special token {name!r} has id {i}, which is the rank of "
                             f"{vocab[i]!r} in {path}; give special tokens ids after the ranks")
        vocab[i] = name.encode("utf-8")
    return vocab, merges_from_ranks(ranks), specials, pattern


def write_tiktoken(path: str | os.PathLike[str], vocab: Mapping[int, bytes],
                   special_tokens: Mapping[str, int] | None = None) -> Path:
    """Write the non-special tokens of `vocab` as a tiktoken rank file; return its path.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_tiktoken(f"{d}/bytes.tiktoken", {b: bytes([b]) for b in range(256)})
    ...     path.read_text().splitlines()[:2]
    ['AA== 0', 'AQ== 1']
    """
    vocab, _, specials, _ = check_parts(vocab, [], special_tokens, ".")
    special_ids = set(specials.values())
    lines = [f"{base64.b64encode(token).decode()} {i}\n"
             for i, token in sorted(vocab.items()) if i not in special_ids]
    return write_atomically(check_path("path", path), "".join(lines))


def tiktoken_encoding(name: str, vocab: Mapping[int, bytes],
                      special_tokens: Mapping[str, int] | None, pattern: str
                      ) -> tiktoken.Encoding:
    """Return tiktoken's `Encoding` of a vocabulary: its tokens' ids are their ranks.

    Merges are not needed (tiktoken ranks pairs by the token they make). The ranks must be in
    merge order, as GPT-2's ids are and a trained course tokenizer's are.

    >>> vocab = {b: bytes([b]) for b in range(256)} | {256: b"ab"}
    >>> tiktoken_encoding("tiny", vocab, None, r"\\S+|\\s+").encode("abc")
    [256, 99]
    """
    import tiktoken

    check_str("name", name, nonempty=True, fix="e.g. 'gpt2'")
    vocab, _, specials, pattern = check_parts(vocab, [], special_tokens, pattern)
    special_ids = set(specials.values())
    ranks = {token: i for i, token in vocab.items() if i not in special_ids}
    return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens=specials)
