"""Byte-level BPE, built from scratch: train it, encode and decode with it, load GPT-2's.

`BPETokenizer` is the tokenizer of the course. It is four things: a split `pattern` (a regex
that cuts text into chunks, so that no merge crosses from a word into a space or a comma), a
`vocab` (id -> bytes), the `merges` (pairs of tokens, in the order they were learned) and the
`special_tokens` (strings such as "<|endoftext|>" that get one reserved id each).

- `BPETokenizer.train` learns merges from text. `method="naive"` recounts every pair after
  every merge (the obvious version); `method="fast"` updates only the counts that a merge
  changes. Both learn the same merges.
- `encode` / `decode` turn text into ids and back, for any vocab, including GPT-2's, whose ids
  are not in byte order (`from_gpt2` builds it from OpenAI's released files, offline).
- `save` / `load` keep a tokenizer in one JSON file; `to_hf` makes a Hugging Face tokenizer
  that gives the same ids.

Left out on purpose: Unicode normalization, BPE dropout, unknown tokens (every byte has a
token, so nothing is unknown), choosing which special tokens may appear in text (all are always
recognised), and speed beyond what a cache of encoded chunks gives.

>>> tok = BPETokenizer.train("aaabdaaabac", vocab_size=259, special_tokens=(), progress=False)
>>> tok.merges
[(b'a', b'a'), (b'a', b'b'), (b'aa', b'ab')]
>>> tok.encode("aaabdaaabac")
[258, 100, 258, 97, 99]
"""

from __future__ import annotations

import heapq
import json
import operator
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import regex

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

# GPT-2's split pattern: English contractions, runs of letters, of digits, of other symbols (each
# may take one leading space, which is why GPT-2 tokens look like " the"), then whitespace.
# `\s+(?!\S)` keeps the last space of a run for the word after it. `\p{L}` needs the `regex`
# package; the standard `re` module does not know Unicode properties.
GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
ENDOFTEXT = "<|endoftext|>"
FILE_NAME = "bpe_tokenizer.json"  # what `save` writes inside its directory
_FORMAT, _FORMAT_VERSION = "course_utils.BPETokenizer", 1
_CACHE_SIZE = 100_000  # encoded chunks remembered; a corpus has far fewer distinct words
_NO_MERGE = (float("inf"), -1)  # (rank, id) of a pair that is not a merge: ranks after all merges

Pair = tuple[int, int]


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


def merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Return `ids` with each occurrence of `pair` replaced by `new_id`, left to right.

    Occurrences do not overlap: in "aaa" the first two a's merge and the third stays.

    >>> merge([97, 97, 97, 98], (97, 97), 256)
    [256, 97, 98]
    """
    a, b = pair
    out, i, n = [], 0, len(ids)
    while i < n:
        if ids[i] == a and i + 1 < n and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _compile(pattern: str) -> regex.Pattern[str]:
    """Compile a split pattern; a broken one is a ValueError that shows it."""
    try:
        return regex.compile(pattern)
    except regex.error as error:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {error}") from None


def _chunks(split: regex.Pattern[str], text: str) -> list[str]:
    """Cut `text` into chunks with a split pattern, which must match every character."""
    chunks = split.findall(text)
    # findall skips what no alternative matches; that text would silently vanish from the ids.
    if sum(map(len, chunks)) != len(text):
        raise ValueError(f"the split pattern skips part of {text[:40]!r}: it must match every "
                         "character (adding |\\s+|. at its end catches the rest)")
    return chunks


def _special_regex(special_tokens: Iterable[str]) -> regex.Pattern[str] | None:
    """A regex that splits text around special tokens (kept, as the odd items of `split`)."""
    # Longest first, so that a special token that contains a shorter one wins.
    names = sorted(special_tokens, key=len, reverse=True)
    return regex.compile("(" + "|".join(map(regex.escape, names)) + ")") if names else None


def _progress_bar(steps: range, progress: bool) -> Iterable[int]:
    """`steps` with a tqdm bar when `progress`; TQDM_DISABLE=1 in the environment (as under
    the tests) still silences it, which an explicit `disable=False` would override."""
    from tqdm import tqdm

    return tqdm(steps, desc="BPE merges") if progress else steps


def _train_naive(chunks: list[list[int]], freqs: list[int], num_merges: int,
                 progress: bool) -> list[Pair]:
    """Learn up to `num_merges` merges, recounting every pair of every chunk for each one."""
    merged = []
    for new_id in _progress_bar(range(256, 256 + num_merges), progress):
        counts: Counter[Pair] = Counter()
        for ids, freq in zip(chunks, freqs):
            for pair in zip(ids, ids[1:]):
                counts[pair] += freq  # a chunk seen `freq` times adds its pairs `freq` times
        if not counts:
            break  # every chunk is a single token: nothing left to merge
        # The most frequent pair; among equals, the smallest ids, so the result is unique.
        best = min(counts, key=lambda p: (-counts[p], p))
        chunks = [merge(ids, best, new_id) for ids in chunks]
        merged.append(best)
    return merged


def _train_fast(chunks: list[list[int]], freqs: list[int], num_merges: int,
                progress: bool) -> list[Pair]:
    """Learn the same merges as `_train_naive`, touching only the chunks that each merge changes.

    `counts` holds every pair's weighted count and `where` the chunks that contain it (and maybe
    some that lost it since, which a merge then leaves as they are). After a merge, each changed
    chunk takes back all its old pairs and adds all its new ones: redoing the whole chunk is
    simpler than patching neighbours and stays right when pairs overlap ("aaaa"). The most
    frequent pair comes from a heap of (-count, id_a, id_b), whose order is the naive
    tie-break; a count that changes gets a fresh entry, and outdated entries are skipped.
    """
    counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)
    for c, (ids, freq) in enumerate(zip(chunks, freqs)):
        for pair in zip(ids, ids[1:]):
            counts[pair] += freq
            where[pair].add(c)
    heap = [(-n, a, b) for (a, b), n in counts.items()]
    heapq.heapify(heap)

    merged = []
    for new_id in _progress_bar(range(256, 256 + num_merges), progress):
        # Pop until the top entry still tells the truth about its pair's count.
        while heap and counts.get((heap[0][1], heap[0][2])) != -heap[0][0]:
            heapq.heappop(heap)
        if not heap:
            break
        _, a, b = heapq.heappop(heap)
        best = (a, b)
        merged.append(best)
        change: dict[Pair, int] = defaultdict(int)
        for c in where.pop(best):
            old, freq = chunks[c], freqs[c]
            new = merge(old, best, new_id)
            if len(new) == len(old):
                continue  # the chunk lost this pair to an earlier merge
            chunks[c] = new
            for pair in zip(old, old[1:]):
                change[pair] -= freq
            for pair in zip(new, new[1:]):
                change[pair] += freq
                where[pair].add(c)  # pairs that vanished keep a stale entry: cheaper than removing
        for pair, delta in change.items():
            if delta == 0:
                continue
            count = counts[pair] + delta
            if count:
                counts[pair] = count
                heapq.heappush(heap, (-count, *pair))
            else:  # the pair is gone from every chunk (always true for `best`)
                del counts[pair]
                where.pop(pair, None)
    return merged


class BPETokenizer:
    """A byte-level BPE tokenizer: `vocab`, `merges`, `special_tokens` and a split `pattern`.

    Build one with `train`, `from_gpt2` or `load`; the constructor takes the four parts and
    checks that they fit together (ValueError otherwise). The vocab holds the 256 single bytes,
    one token per merge (the concatenation of its two parts) and the special tokens (their UTF-8
    bytes). Ids may be in any order: GPT-2 gives the byte "!" id 0 and the byte "a" id 64.

    >>> tok = BPETokenizer.train("hello hello world", vocab_size=260, progress=False)
    >>> tok.token_strings(tok.encode("hello<|endoftext|>"))
    ['hel', 'lo', '<|endoftext|>']
    """

    def __init__(self, vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]],
                 special_tokens: Mapping[str, int] | None = None,
                 pattern: str = GPT2_SPLIT_PATTERN) -> None:
        self.vocab: dict[int, bytes] = dict(vocab)
        self.merges: list[tuple[bytes, bytes]] = [(a, b) for a, b in merges]
        self.special_tokens: dict[str, int] = dict(special_tokens or {})
        self.pattern: str = pattern
        self._split, self._special_split = _compile(pattern), _special_regex(self.special_tokens)

        # Check the parts fit together, and derive the int-level tables that encode() uses.
        if sorted(self.vocab) != list(range(len(self.vocab))):
            raise ValueError(f"vocab ids must be 0 to {len(self.vocab) - 1}, each used once")
        for name, i in self.special_tokens.items():
            if not name or self.vocab.get(i) != name.encode("utf-8"):
                raise ValueError(f"special token {name!r} must be in the vocab as id {i}")
        special_ids = set(self.special_tokens.values())
        id_of: dict[bytes, int] = {}
        for i, token in self.vocab.items():
            if i in special_ids:
                continue
            if token in id_of:
                raise ValueError(f"ids {id_of[token]} and {i} are the same token {token!r}")
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
                raise ValueError(f"merge {rank} {(a, b)} uses a token that no earlier merge made")
            if a + b in made or a + b not in id_of:
                raise ValueError(f"merge {rank} {(a, b)} must make a new vocab token {a + b!r}")
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
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={list(self.special_tokens)})")

    def token_id(self, token: bytes) -> int:
        """Return the id of a non-special token given as bytes.

        >>> BPETokenizer.from_gpt2().token_id(b" the")
        262
        """
        if not isinstance(token, bytes):
            raise TypeError(f"token must be bytes, got {type(token).__name__}")
        if token not in self._id_of:
            raise ValueError(f"{token!r} is not a token of this vocab")
        return self._id_of[token]

    def truncated(self, vocab_size: int) -> BPETokenizer:
        """Return the tokenizer made of the 256 bytes, the first merges and the special tokens.

        BPE training is greedy, so this is exactly what training on the same text with the
        smaller `vocab_size` gives (same merges, same ids) — a whole vocabulary-size sweep from
        one training run. The special tokens move to the ids right after the kept merges.

        >>> tok = BPETokenizer.train("aaabdaaabac", vocab_size=260, progress=False)
        >>> small = tok.truncated(258)
        >>> small.merges, small.special_tokens
        ([(b'a', b'a')], {'<|endoftext|>': 257})
        """
        minimum = 256 + len(self.special_tokens)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
        if not minimum <= vocab_size <= self.vocab_size:
            raise ValueError(f"vocab_size must be between {minimum} and {self.vocab_size}, "
                             f"got {vocab_size}")
        merges = self.merges[: vocab_size - minimum]
        kept = {bytes([b]) for b in range(256)} | {a + b for a, b in merges}
        vocab = {i: t for i, t in self.vocab.items() if t in kept and i not in self._special_ids}
        if sorted(vocab) != list(range(len(vocab))):
            raise ValueError("truncated() needs merge i to have id 256 + i, as trained "
                             "tokenizers and GPT-2 do")
        specials = {name: len(vocab) + j for j, name in enumerate(self.special_tokens)}
        vocab.update({i: name.encode("utf-8") for name, i in specials.items()})
        return BPETokenizer(vocab, merges, specials, self.pattern)

    # ----------------------------------------------------------------------------- training

    @classmethod
    def train(cls, text: str, vocab_size: int, *, method: Literal["fast", "naive"] = "fast",
              pattern: str = GPT2_SPLIT_PATTERN,
              special_tokens: Sequence[str] = (ENDOFTEXT,),
              progress: bool = True) -> BPETokenizer:
        """Learn `vocab_size - 256 - len(special_tokens)` merges from `text`; return the tokenizer.

        The text is cut around special tokens (which are never merged into anything), then into
        chunks by `pattern`; identical chunks are counted once, with their frequency. Each step
        merges the most frequent adjacent pair inside chunks, breaking ties by the smallest ids.
        Merge i gets id 256 + i; the special tokens get the ids after the last merge.

        >>> tok = BPETokenizer.train("low lower lowest", vocab_size=259, progress=False)
        >>> tok.merges, tok.special_tokens
        ([(b'l', b'o'), (b'lo', b'w')], {'<|endoftext|>': 258})
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text is empty; BPE needs text to learn merges from")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
        if method not in ("fast", "naive"):
            raise ValueError(f"unknown method {method!r}; use 'fast' or 'naive'")
        special_tokens = list(special_tokens)
        if (any(not isinstance(s, str) or not s for s in special_tokens)
                or len(set(special_tokens)) != len(special_tokens)):
            raise ValueError(f"special_tokens must be distinct non-empty strs: {special_tokens}")
        minimum = 256 + len(special_tokens)
        if vocab_size < minimum:
            raise ValueError(f"vocab_size must be at least {minimum} (256 byte tokens + "
                             f"{len(special_tokens)} special tokens), got {vocab_size}")
        num_merges = vocab_size - minimum

        # Chunks that occur many times ("the", " and") are counted once, with a frequency.
        split, special_split = _compile(pattern), _special_regex(special_tokens)
        parts = special_split.split(text)[::2] if special_split else [text]
        chunk_counts = Counter(chunk for part in parts for chunk in _chunks(split, part))
        chunks = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
        freqs = list(chunk_counts.values())

        trainer = _train_fast if method == "fast" else _train_naive
        pairs = trainer(chunks, freqs, num_merges, progress)
        if len(pairs) < num_merges:
            raise ValueError(
                f"the text is too small for vocab_size={vocab_size}: every chunk is a single "
                f"token after {len(pairs)} merges, so the largest vocab_size it supports is "
                f"{minimum + len(pairs)}; use more text or a smaller vocab_size")

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
            ids = merge(ids, pair, ranks[pair][1])
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()  # crude but bounded; the common chunks come back quickly
        self._cache[chunk] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """Return the token ids of `text`. Special tokens are recognised anywhere in it.

        >>> gpt2 = BPETokenizer.from_gpt2()
        >>> gpt2.encode("Hello world<|endoftext|>")
        [15496, 995, 50256]
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
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
        """Return the bytes that `ids` stand for, concatenated.

        >>> BPETokenizer.from_gpt2().decode_bytes([20015])
        b'\\xe4\\xbb'
        """
        parts = []
        for i in ids:
            try:
                token = self.vocab.get(operator.index(i))  # accepts NumPy/torch ints, not 1.0
            except TypeError:
                raise TypeError(f"token ids must be ints, got {type(i).__name__}: {i!r}") from None
            if token is None:
                raise ValueError(f"unknown token id {i}: the vocab has {self.vocab_size} ids, "
                                 f"0 to {self.vocab_size - 1}")
            parts.append(token)
        return b"".join(parts)

    def decode(self, ids: Iterable[int]) -> str:
        """Return the text that `ids` stand for.

        Bytes that are not valid UTF-8 become "�" rather than an error: a slice of ids can end
        in the middle of a character (GPT-2 spends two or three tokens on one Chinese character).

        >>> gpt2 = BPETokenizer.from_gpt2()
        >>> ids = gpt2.encode("你好")
        >>> gpt2.decode(ids), gpt2.decode(ids[:1])
        ('你好', '�')
        """
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_strings(self, ids: Iterable[int]) -> list[str]:
        """Return each token as readable text; bytes that are not whole characters show as \\x...

        >>> BPETokenizer.from_gpt2().token_strings([15496, 995, 20015])
        ['Hello', ' world', '\\\\xe4\\\\xbb']
        """
        return [self.decode_bytes([i]).decode("utf-8", errors="backslashreplace") for i in ids]

    # ------------------------------------------------------------------------------- GPT-2

    @classmethod
    def from_gpt2(cls) -> BPETokenizer:
        """Return GPT-2's tokenizer (50,257 ids), read from OpenAI's released files, offline.

        encoder.json maps each token, written with `bytes_to_unicode`, to its id; vocab.bpe lists
        the 50,000 merges in order, one "Ġ t" pair per line after a "#version" line.

        >>> BPETokenizer.from_gpt2().vocab_size
        50257
        """
        from course_utils.data import gpt2_vocab_files

        encoder_path, merges_path = gpt2_vocab_files()
        byte_of = {char: b for b, char in bytes_to_unicode().items()}

        def to_bytes(token: str) -> bytes:
            return bytes(byte_of[char] for char in token)

        encoder: dict[str, int] = json.loads(encoder_path.read_text(encoding="utf-8"))
        specials = {ENDOFTEXT: encoder.pop(ENDOFTEXT)}
        vocab = {i: to_bytes(token) for token, i in encoder.items()}
        vocab[specials[ENDOFTEXT]] = ENDOFTEXT.encode("utf-8")
        lines = merges_path.read_text(encoding="utf-8").splitlines()
        merges = [(to_bytes(a), to_bytes(b)) for a, b in (line.split() for line in lines[1:])]
        return cls(vocab, merges, specials, GPT2_SPLIT_PATTERN)

    # ------------------------------------------------------------------------ save and load

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the tokenizer to `directory/bpe_tokenizer.json` (tokens as hex); return its path.

        The file is written next to its final name and then renamed over it, so a save that
        fails half way leaves an earlier file intact.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data = {
            "format": _FORMAT, "version": _FORMAT_VERSION, "pattern": self.pattern,
            "special_tokens": self.special_tokens,
            "vocab": [[i, token.hex()] for i, token in sorted(self.vocab.items())],
            "merges": [[a.hex(), b.hex()] for a, b in self.merges],
        }
        path = directory / FILE_NAME
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{FILE_NAME}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> BPETokenizer:
        """Read a tokenizer written by `save` from its directory (or from the file itself).

        >>> import tempfile
        >>> tok = BPETokenizer.train("to be or not to be", vocab_size=262, progress=False)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = tok.save(d)
        ...     BPETokenizer.load(d).merges == tok.merges
        True
        """
        path = Path(directory)
        if path.is_dir() or path.name != FILE_NAME:  # also take the path that save() returns
            path = path / FILE_NAME
        if not path.is_file():
            raise FileNotFoundError(f"no tokenizer at {path}; expected the {FILE_NAME} that "
                                    "BPETokenizer.save(directory) writes")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is not valid JSON ({error}); save the tokenizer again")
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a {_FORMAT} file; save the tokenizer again")
        if data.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{path} has format version {data.get('version')!r}; this "
                             f"course_utils reads version {_FORMAT_VERSION}")
        try:
            vocab = {int(i): bytes.fromhex(token) for i, token in data["vocab"]}
            if len(vocab) != len(data["vocab"]):
                raise ValueError("the vocab lists an id twice")
            merges = [(bytes.fromhex(a), bytes.fromhex(b)) for a, b in data["merges"]]
            specials = {str(s): int(i) for s, i in data["special_tokens"].items()}
            return cls(vocab, merges, specials, str(data["pattern"]))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"{path} is inconsistent ({type(error).__name__}: {error}); "
                             "save the tokenizer again") from None

    # ------------------------------------------------------------------------ Hugging Face

    def to_hf(self) -> PreTrainedTokenizerFast:
        """Return a `transformers` tokenizer that gives the same ids as `encode`.

        Vocab and merges are written in GPT-2's `bytes_to_unicode` alphabet for a `tokenizers`
        BPE model; the pre-tokenizer applies `pattern`. Ids match for all text except code points
        first assigned in Unicode 17, which `regex` knows as letters and `tokenizers` does not.

        >>> BPETokenizer.from_gpt2().to_hf()("Hello world")["input_ids"]
        [15496, 995]
        """
        from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast

        b2u = bytes_to_unicode()

        def as_text(token: bytes) -> str:
            return "".join(b2u[b] for b in token)

        special_ids = set(self.special_tokens.values())
        vocab = {as_text(t): i for i, t in self.vocab.items() if i not in special_ids}
        # Special tokens sit in the model's vocab too, so that they keep their ids.
        vocab.update(self.special_tokens)
        merges = [(as_text(a), as_text(b)) for a, b in self.merges]
        tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
        if self.pattern == GPT2_SPLIT_PATTERN:  # ByteLevel's built-in regex is GPT-2's
            tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False,
                                                               use_regex=True)
        else:
            tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(self.pattern), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ])
        tokenizer.decoder = decoders.ByteLevel()
        tokenizer.add_special_tokens([AddedToken(name, special=True, normalized=False)
                                      for name in self.special_tokens])
        # GPT-2 uses <|endoftext|> as beginning, end and unknown token alike; none is added
        # to encoded text, since the tokenizer has no post-processor.
        roles = ({"bos_token": ENDOFTEXT, "eos_token": ENDOFTEXT, "unk_token": ENDOFTEXT}
                 if ENDOFTEXT in self.special_tokens else {})
        return PreTrainedTokenizerFast(tokenizer_object=tokenizer,
                                       clean_up_tokenization_spaces=False, **roles)
