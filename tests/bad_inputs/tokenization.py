"""Bad inputs for the course's BPE: the algorithm (bpe), the tokenizer (regex_tokenizer,
tokenization) and its file (tokenizer_file)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from bad_inputs import bad

from course_utils import bpe
from course_utils.regex_tokenizer import RegexTokenizer
from course_utils.tokenization import FILE_NAME, BPETokenizer, merge
from course_utils.tokenizer_file import write_tokenizer

TEXT = "aaabdaaabac the cat sat on the mat " * 20
TOK = BPETokenizer.train(TEXT, 270, progress=False)  # ids 0 to 269; <|endoftext|> is 269
BYTES = {b: bytes([b]) for b in range(256)}
_FOLDER = Path(tempfile.mkdtemp(prefix="bad-inputs-tokenization-"))
_A_FILE = _FOLDER / "notes.txt"
_A_FILE.write_text("not a folder")
_LATIN1 = _FOLDER / "latin1.txt"
_LATIN1.write_bytes("café".encode("latin-1"))


def _train(**kwargs):
    return BPETokenizer.train(**({"text": TEXT, "vocab_size": 300, "progress": False} | kwargs))


def _save_over(content: bytes) -> None:
    """Save into a fresh folder whose bpe_tokenizer.json already holds `content`."""
    folder = Path(tempfile.mkdtemp(dir=_FOLDER))
    (folder / FILE_NAME).write_bytes(content)
    TOK.save(folder)


def _load_altered() -> None:
    """Save, change one byte of the file (as a careless edit or a bad disk would), load."""
    path = TOK.save(Path(tempfile.mkdtemp(dir=_FOLDER)))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    BPETokenizer.load(path.parent)


def _load_edited(**changes) -> None:
    """Save, change fields as a careless edit would, write it back as a version 1 file (no
    checksum, like the reference model's), load. `first_id` changes the first vocab entry."""
    path = TOK.save(Path(tempfile.mkdtemp(dir=_FOLDER)))
    data = json.loads(path.read_bytes())
    del data["sha256"]
    if "first_id" in changes:
        data["vocab"][0][0] = changes.pop("first_id")
    path.write_text(json.dumps(data | {"version": 1} | changes))
    BPETokenizer.load(path.parent)


def _load_text(text: str) -> None:
    """Load a bpe_tokenizer.json that holds `text`."""
    folder = Path(tempfile.mkdtemp(dir=_FOLDER))
    (folder / FILE_NAME).write_text(text)
    BPETokenizer.load(folder)


def _write(**parts) -> None:
    write_tokenizer(Path(tempfile.mkdtemp(dir=_FOLDER)) / "new",
                    **({"vocab": BYTES, "merges": [], "special_tokens": {}, "pattern": "."}
                       | parts))


CASES = [
    # decoding: ids are ints in range, not bools, floats, text or nested lists
    bad("decode([True])", lambda: TOK.decode([True]), TypeError, "ids[0]", "True", "bool"),
    bad("decode([-1])", lambda: TOK.decode([-1]), ValueError, "ids[0]", "-1", "0 to 269"),
    bad("decode([1.0])", lambda: TOK.decode([104, 1.0]), TypeError, "ids[1]", "1.0"),
    bad("decode(vocab_size)", lambda: TOK.decode([270]), ValueError, "ids[0]", "270",
        "270 ids"),
    bad("decode(str)", lambda: TOK.decode("hello"), TypeError, "ids", "'hello'", "encode"),
    bad("decode(None)", lambda: TOK.decode(None), TypeError, "ids", "None"),
    bad("decode(one int)", lambda: TOK.decode(104), TypeError, "ids", "104"),
    bad("decode_bytes(bytes)", lambda: TOK.decode_bytes(b"abc"), TypeError, "ids", "b'abc'"),
    bad("token_strings(nested)", lambda: TOK.token_strings([[104, 105]]), TypeError, "ids[0]",
        "[104, 105]"),
    # encoding and lookups
    bad("encode(bytes)", lambda: TOK.encode(b"hello"), TypeError, "text", "b'hello'",
        "decode("),
    bad("encode(None)", lambda: TOK.encode(None), TypeError, "text", "None"),
    bad("encode(list of str)", lambda: TOK.encode(["a", "b"]), TypeError, "text"),
    bad("token_id(str)", lambda: TOK.token_id(" the"), TypeError, "token", "bytes",
        "' the'.encode()"),
    bad("token_id(unknown)", lambda: TOK.token_id(b"zzz"), ValueError, "token", "b'zzz'"),
    bad("token_id(special)", lambda: TOK.token_id(b"<|endoftext|>"), ValueError, "token",
        "special_tokens['<|endoftext|>']"),
    bad("truncated(True)", lambda: TOK.truncated(True), TypeError, "vocab_size", "bool"),
    bad("truncated(too small)", lambda: TOK.truncated(256), ValueError, "vocab_size", "257"),
    bad("truncated(too big)", lambda: TOK.truncated(271), ValueError, "vocab_size", "270"),
    bad("truncated(float)", lambda: TOK.truncated(260.0), TypeError, "vocab_size", "260.0"),
    # training
    bad("train(vocab_size=300.0)", lambda: _train(vocab_size=300.0), TypeError, "vocab_size",
        "300.0"),
    bad("train(vocab_size=100)", lambda: _train(vocab_size=100), ValueError, "vocab_size",
        ">= 257", "special"),
    bad("train(vocab_size too big)", lambda: _train(text="ab ab", vocab_size=300), ValueError,
        "vocab_size", "259"),
    bad("train(text=bytes)", lambda: _train(text=b"the cat"), TypeError, "text", "b'the cat'"),
    bad("train(text='')", lambda: _train(text=""), ValueError, "text", "non-empty"),
    bad("train(method=bpe)", lambda: _train(method="bpe"), ValueError, "method", "'fast'",
        "'naive'"),
    bad("train(pattern=None)", lambda: _train(pattern=None), TypeError, "pattern", "None"),
    bad("train(pattern=broken)", lambda: _train(pattern="(\\p{L}"), ValueError, "pattern",
        "not a valid regex"),
    bad("train(pattern=bytes)", lambda: _train(pattern=rb"\w+|\s+"), TypeError, "pattern"),
    bad("train(pattern skips text)", lambda: _train(pattern=r"\w+"), ValueError,
        "split pattern", "every character"),
    bad("train(special_tokens=str)", lambda: _train(special_tokens="<|endoftext|>"),
        TypeError, "special_tokens", "['<|endoftext|>']"),
    bad("train(special_tokens repeated)", lambda: _train(special_tokens=["<a>", "<a>"]),
        ValueError, "special_tokens", "distinct"),
    bad("train(special_tokens=[''])", lambda: _train(special_tokens=[""]), ValueError,
        "special_tokens", "non-empty"),
    bad("train(special_tokens=[1])", lambda: _train(special_tokens=[1]), TypeError,
        "special_tokens"),
    bad("train(progress=yes)", lambda: _train(progress="yes"), TypeError, "progress", "'yes'"),
    # the constructor's parts
    bad("BPETokenizer(vocab=list)", lambda: BPETokenizer(list(BYTES.values()), []), TypeError,
        "vocab", "dict"),
    bad("BPETokenizer(vocab of str)", lambda: BPETokenizer({0: "a"}, []), TypeError, "vocab",
        "'a'"),
    bad("encode(a byte the vocab lacks)",
        lambda: BPETokenizer({b: bytes([b]) for b in range(128)}, []).encode("café"), ValueError,
        "'café'", "byte 0xc3", "no token", "lacks 128 of the 256 bytes"),
    bad("BPETokenizer(merges=str)", lambda: BPETokenizer(BYTES, "ab"), TypeError, "merges"),
    bad("BPETokenizer(merges of str)", lambda: BPETokenizer(BYTES, [(b"a", "b")]), TypeError,
        "merges[0]", "(b'a', b'b')"),
    bad("BPETokenizer(merge not in vocab)", lambda: BPETokenizer(BYTES, [(b"a", b"b")]),
        ValueError, "merges[0]", "b'ab'"),
    bad("BPETokenizer(special_tokens=list)",
        lambda: BPETokenizer(BYTES, [], special_tokens=["<a>"]), TypeError, "special_tokens"),
    bad("BPETokenizer(special token on another token's id)",
        lambda: BPETokenizer(BYTES, [], special_tokens={"<a>": 97}), ValueError,
        "special token '<a>'", "97"),
    bad("BPETokenizer(the same merge twice)",
        lambda: BPETokenizer(BYTES | {256: b"ab"}, [(b"a", b"b"), (b"a", b"b")]), ValueError,
        "merges[1]", "repeats merges[0]"),
    bad("BPETokenizer(two ids, one token)", lambda: BPETokenizer(BYTES | {300: b"a"}, []),
        ValueError, "vocab ids 97 and 300", "b'a'"),
    bad("BPETokenizer(negative id)", lambda: BPETokenizer(BYTES | {-1: b"ab"}, []),
        ValueError, "vocab id", "-1"),
    bad("BPETokenizer(special tokens share an id)",
        lambda: BPETokenizer(BYTES, [], special_tokens={"<a>": 300, "<b>": 300}), ValueError,
        "special tokens", "distinct ids"),
    bad("add_special_tokens(an ordinary token)",
        lambda: BPETokenizer(BYTES, []).add_special_tokens(["a"]), ValueError, "'a'",
        "ordinary token", "id 97"),
    # the special-token policy
    bad("encode(text with a special token)", lambda: TOK.encode("the<|endoftext|>"), ValueError,
        "<|endoftext|>", "prompt injection", "allowed_special", "disallowed_special=()"),
    bad("encode(allowed_special=unknown)", lambda: TOK.encode("a", allowed_special={"<x>"}),
        ValueError, "allowed_special", "'<x>'", "add_special_tokens"),
    bad("encode(allowed_special=str)", lambda: TOK.encode("a", allowed_special="<|endoftext|>"),
        TypeError, "allowed_special", '"all"'),
    bad("encode(allowed and disallowed)", lambda: TOK.encode(
        "a", allowed_special="all", disallowed_special={"<|endoftext|>"}), ValueError,
        "both allowed and disallowed"),
    bad("encode_iterable(str)", lambda: TOK.encode_iterable("the cat"), TypeError, "texts",
        "'the cat'", "encode(text)"),
    bad("encode_iterable(bytes pieces)", lambda: list(TOK.encode_iterable(["a", b"b"])),
        TypeError, "texts[1]", "b'b'"),
    bad("encode_iterable(special token across pieces)",
        lambda: list(TOK.encode_iterable(["a<|endof", "text|>"])), ValueError,
        "<|endoftext|>", "prompt injection"),
    # training from other sources
    bad("train(tie_break=max)", lambda: _train(tie_break="max"), ValueError, "tie_break",
        "'lowest_ids'", "'lexicographic'"),
    bad("train(missing file)", lambda: _train(text=_FOLDER / "missing.txt"), FileNotFoundError,
        "missing.txt", "UTF-8 file"),
    bad("train(file not UTF-8)", lambda: _train(text=_LATIN1), ValueError, "latin1.txt",
        "not UTF-8"),
    bad("train(iterable of ints)", lambda: _train(text=[1, 2]), TypeError, "texts[0]", "1"),
    bad("train(only special tokens)", lambda: _train(text=["<|endoftext|>"]), ValueError,
        "nothing to learn from"),
    bad("BPETokenizer(pattern=1)", lambda: BPETokenizer(BYTES, [], pattern=1), TypeError,
        "pattern", "1"),
    bad("RegexTokenizer(vocab=None)", lambda: RegexTokenizer(None, []), TypeError, "vocab",
        "None"),
    # the algorithm on ids
    bad("merge(pair of one)", lambda: merge([97, 97], (97,), 256), TypeError, "pair", "(97,)"),
    bad("merge(pair=str)", lambda: merge([97, 97], "aa", 256), TypeError, "pair", "'aa'"),
    bad("merge(pair of bools)", lambda: merge([1, 1], (True, True), 256), TypeError, "pair",
        "(True, True)"),
    bad("merge(new_id=-1)", lambda: merge([97, 97], (97, 97), -1), ValueError, "new_id", "-1"),
    bad("merge(ids=str)", lambda: merge("aa", (97, 97), 256), TypeError, "ids", "'aa'"),
    bad("merge(ids of floats)", lambda: merge([97.0, 97], (97, 97), 256), TypeError, "ids[0]",
        "97.0"),
    bad("train_fast(id 300)", lambda: bpe.train_fast([[97, 300]], [1], 1, progress=False),
        ValueError, "chunks[0][1]", "300", "0 to 255"),
    bad("train_naive(freq 0)", lambda: bpe.train_naive([[97, 98]], [0], 1, progress=False),
        ValueError, "freqs[0]", ">= 1"),
    bad("train_fast(freqs too short)", lambda: bpe.train_fast([[1, 2], [3, 4]], [1], 1),
        ValueError, "freqs", "2 chunks"),
    bad("train_naive(num_merges=1.5)", lambda: bpe.train_naive([[1, 2]], [1], 1.5),
        TypeError, "num_merges", "1.5"),
    bad("train_fast(chunks=text)", lambda: bpe.train_fast("the cat", [1], 1), TypeError,
        "chunks", "'the cat'"),
    # saving and loading
    bad("load(None)", lambda: BPETokenizer.load(None), TypeError, "directory", "None"),
    bad("load(123)", lambda: BPETokenizer.load(123), TypeError, "directory", "123"),
    bad("load(missing)", lambda: BPETokenizer.load(_FOLDER / "nowhere"), FileNotFoundError,
        "nowhere", FILE_NAME, "save"),
    bad("load(altered file)", _load_altered, ValueError, FILE_NAME, "altered",
        "save the tokenizer again"),
    bad("save(123)", lambda: TOK.save(123), TypeError, "directory", "123"),
    bad("save(b'bytes path')", lambda: TOK.save(b"/tmp/x"), TypeError, "directory"),
    bad("save(into a file)", lambda: TOK.save(_A_FILE), NotADirectoryError, "notes.txt",
        "is a file"),
    bad("save(over another file)", lambda: _save_over(b'{"model": "mine"}'), FileExistsError,
        FILE_NAME, "not a course tokenizer file"),
    # order matters: sets are refused where the order gives the ids
    bad("train(special_tokens=set)", lambda: _train(special_tokens={"<b>", "<a>"}), TypeError,
        "special_tokens", "a set has no order", "['<a>', '<b>']"),
    bad("decode(set)", lambda: TOK.decode({104, 105}), TypeError, "ids", "a set has no order"),
    bad("token_strings(frozenset)", lambda: TOK.token_strings(frozenset({104})), TypeError,
        "ids", "frozenset"),
    bad("merge(ids=set)", lambda: merge({97, 98}, (97, 98), 256), TypeError, "ids", "set"),
    bad("write_tokenizer(special_tokens=set)", lambda: _write(special_tokens={"<a>"}),
        TypeError, "special_tokens", "set"),
    bad("RegexTokenizer(special_tokens=set)",
        lambda: RegexTokenizer(BYTES, [], special_tokens={"<a>"}), TypeError, "special_tokens"),
    # capturing groups: findall would return the groups, not the chunks
    bad("train(pattern with nested groups)",
        lambda: _train(pattern=r"((.).)|.", special_tokens=()), ValueError, "pattern",
        "capturing groups", "(?:"),
    bad("BPETokenizer(pattern with a group)", lambda: BPETokenizer(BYTES, [], pattern=r"(\w+)|."),
        ValueError, "pattern", "capturing groups"),
    # lone surrogates have no UTF-8 bytes
    bad("encode(lone surrogate)", lambda: TOK.encode("a\udc80b"), ValueError, "text",
        "surrogate", "index 1"),
    bad("train(text with a lone surrogate)", lambda: _train(text="ab\ud800ab"), ValueError,
        "text", "surrogate", "index 2"),
    bad("train(special token a lone surrogate)", lambda: _train(special_tokens=["\ud800"]),
        ValueError, "special_tokens[0]", "surrogate"),
    bad("train(pattern with a lone surrogate)", lambda: _train(pattern="\udc80|."), ValueError,
        "pattern", "surrogate"),
    bad("BPETokenizer(special token a lone surrogate)",
        lambda: BPETokenizer(BYTES | {256: b"?"}, [], {"\udc80": 256}), ValueError,
        "special_tokens[0]", "surrogate"),
    # single ids, 0-d tensors and arrays: refused as lists, converted as elements
    bad("decode(tensor(5))", lambda: TOK.decode(torch.tensor(5)), TypeError, "ids",
        "tensor(5)", "list of one"),
    bad("decode(np.int64)", lambda: TOK.decode(np.int64(5)), TypeError, "ids", "list of one"),
    bad("check_ids(0-d array)", lambda: bpe.check_ids("ids", np.array(3)), TypeError, "ids",
        "array(3)"),
    bad("decode([tensor(104.)])", lambda: TOK.decode([torch.tensor(104.0)]), TypeError,
        "ids[0]", "tensor(104.)"),
    bad("decode([tensor([104])])", lambda: TOK.decode([torch.tensor([104])]), TypeError,
        "ids[0]", "tensor([104])"),
    bad("decode(meta tensor)", lambda: TOK.decode(torch.zeros(2, dtype=torch.long, device="meta")),
        TypeError, "ids[0]", "meta"),
    bad("decode([tensor(2**40)])", lambda: TOK.decode([torch.tensor(2**40)]), ValueError,
        "ids[0]", str(2**40), "270 ids"),
    bad("BPETokenizer(special id True)",
        lambda: BPETokenizer(BYTES | {256: b"<a>"}, [], {"<a>": True}), TypeError,
        "special_tokens['<a>']", "bool"),
    bad("BPETokenizer(vocab id 1.0)", lambda: BPETokenizer({1.0: b"a"}, []), TypeError,
        "vocab id", "1.0"),
    # damaged or edited files: ValueError naming the file and what is wrong
    bad("load(JSON nested 100,000 deep)", lambda: _load_text("[" * 100_000 + "]" * 100_000),
        ValueError, FILE_NAME, "not valid JSON", "recursion"),
    bad("load(an id of 5,000 digits)", lambda: _load_text('{"vocab": [[' + "9" * 5000 + "]]}"),
        ValueError, FILE_NAME, "not valid JSON"),
    bad("load(v1, vocab id 1e400)", lambda: _load_edited(first_id=float("inf")), ValueError,
        FILE_NAME, "vocab[0]", "inf", "not an integer"),
    bad("load(v1, vocab id 1.7)", lambda: _load_edited(first_id=1.7), ValueError, FILE_NAME,
        "vocab[0]", "1.7"),
    bad("load(v1, vocab id '0')", lambda: _load_edited(first_id="0"), ValueError, FILE_NAME,
        "vocab[0]", "'0'"),
    bad("load(v1, vocab id true)", lambda: _load_edited(first_id=True), ValueError, FILE_NAME,
        "vocab[0]", "True"),
    bad("load(v1, special id 1e400)",
        lambda: _load_edited(special_tokens={"<|endoftext|>": float("inf")}), ValueError,
        FILE_NAME, "special_tokens['<|endoftext|>']", "inf"),
    bad("load(v1, pattern null)", lambda: _load_edited(pattern=None), ValueError, FILE_NAME,
        "pattern", "None", "not a str"),
    bad("load(v1, pattern 5)", lambda: _load_edited(pattern=5), ValueError, FILE_NAME,
        "pattern", "5"),
    bad("load(v1, token not hex)", lambda: _load_edited(merges=[[" 61", "61"]]), ValueError,
        FILE_NAME, "merges[0]", "' 61'", "hex"),
    # write_tokenizer checks its arguments before it touches the disk
    bad("write_tokenizer(vocab of str)", lambda: _write(vocab={0: "a"}), TypeError, "vocab[0]",
        "'a'"),
    bad("write_tokenizer(vocab=list)", lambda: _write(vocab=[b"a"]), TypeError, "vocab",
        "dict"),
    bad("write_tokenizer(merges of str)", lambda: _write(merges=[("a", "b")]), TypeError,
        "merges[0]", "('a', 'b')"),
    bad("write_tokenizer(pattern=object)", lambda: _write(pattern=object()), TypeError,
        "pattern", "object"),
    bad("write_tokenizer(special id 1.5)", lambda: _write(special_tokens={"<a>": 1.5}),
        TypeError, "special_tokens['<a>']", "1.5"),
]
