"""Bad inputs for the course's BPE: the algorithm (bpe), the tokenizer (regex_tokenizer,
tokenization) and its file (tokenizer_file)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bad_inputs import bad

from course_utils import bpe
from course_utils.regex_tokenizer import RegexTokenizer
from course_utils.tokenization import FILE_NAME, BPETokenizer, merge

TEXT = "aaabdaaabac the cat sat on the mat " * 20
TOK = BPETokenizer.train(TEXT, 270, progress=False)  # ids 0 to 269; <|endoftext|> is 269
BYTES = {b: bytes([b]) for b in range(256)}
_FOLDER = Path(tempfile.mkdtemp(prefix="bad-inputs-tokenization-"))
_A_FILE = _FOLDER / "notes.txt"
_A_FILE.write_text("not a folder")


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
    bad("BPETokenizer(vocab lacks bytes)",
        lambda: BPETokenizer({b: bytes([b]) for b in range(200)}, []), ValueError, "vocab",
        "single-byte"),
    bad("BPETokenizer(merges=str)", lambda: BPETokenizer(BYTES, "ab"), TypeError, "merges"),
    bad("BPETokenizer(merges of str)", lambda: BPETokenizer(BYTES, [(b"a", "b")]), TypeError,
        "merges[0]", "(b'a', b'b')"),
    bad("BPETokenizer(merge not in vocab)", lambda: BPETokenizer(BYTES, [(b"a", b"b")]),
        ValueError, "merges[0]", "b'ab'"),
    bad("BPETokenizer(special_tokens=list)",
        lambda: BPETokenizer(BYTES, [], special_tokens=["<a>"]), TypeError, "special_tokens"),
    bad("BPETokenizer(special token not in vocab)",
        lambda: BPETokenizer(BYTES, [], special_tokens={"<a>": 256}), ValueError,
        "special token '<a>'", "256"),
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
]
