"""Bad inputs for other libraries' tokenizer files and the released tokenizers
(tokenizer_formats, tiktoken_format, released_tokenizers, BPETokenizer.from_*)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bad_inputs import bad

from course_utils import released_tokenizers, tiktoken_format, tokenizer_formats
from course_utils.tokenization import BPETokenizer

BYTES = {b: bytes([b]) for b in range(256)}
_FOLDER = Path(tempfile.mkdtemp(prefix="bad-inputs-formats-"))
_RANKS = tiktoken_format.write_tiktoken(_FOLDER / "bytes.tiktoken", BYTES)
_VOCAB, _MERGES = tokenizer_formats.write_vocab_merges(_FOLDER, BYTES, [])
_MISSING = _FOLDER / "missing.json"

CASES = [
    bad("read_vocab_merges(None, ...)", lambda: tokenizer_formats.read_vocab_merges(None, _MERGES),
        TypeError, "vocab_path", "None"),
    bad("read_vocab_merges(missing file)",
        lambda: tokenizer_formats.read_vocab_merges(_MISSING, _MERGES), FileNotFoundError,
        "missing.json", "does not exist"),
    bad("read_vocab_merges(folder)",
        lambda: tokenizer_formats.read_vocab_merges(_VOCAB, _FOLDER), OSError, "folder"),
    bad("read_vocab_merges(special_tokens=str)",
        lambda: tokenizer_formats.read_vocab_merges(_VOCAB, _MERGES, special_tokens="<s>"),
        TypeError, "special_tokens"),
    bad("read_vocab_merges(special_tokens=set)",
        lambda: tokenizer_formats.read_vocab_merges(_VOCAB, _MERGES, special_tokens={"<s>"}),
        TypeError, "special_tokens", "set"),
    bad("read_vocab_merges(pattern=5)",
        lambda: tokenizer_formats.read_vocab_merges(_VOCAB, _MERGES, pattern=5), TypeError,
        "pattern", "5"),
    bad("write_vocab_merges(vocab of str)",
        lambda: tokenizer_formats.write_vocab_merges(_FOLDER, {0: "a"}, []), TypeError,
        "vocab[0]", "'a'"),
    bad("write_vocab_merges(merges of str)",
        lambda: tokenizer_formats.write_vocab_merges(_FOLDER, BYTES, [("a", "b")]), TypeError,
        "merges[0]"),
    bad("read_tokenizer_json(5)", lambda: tokenizer_formats.read_tokenizer_json(5), TypeError,
        "path", "5"),
    bad("read_tokenizer_json(a rank file)",
        lambda: tokenizer_formats.read_tokenizer_json(_RANKS), ValueError, "bytes.tiktoken",
        "not valid JSON"),
    bad("write_tokenizer_json(special id 1.5)",
        lambda: tokenizer_formats.write_tokenizer_json(_FOLDER / "t.json", BYTES, [],
                                                       {"<s>": 1.5}, "."),
        TypeError, "special_tokens['<s>']", "1.5"),
    bad("write_tokenizer_json(pattern=None)",
        lambda: tokenizer_formats.write_tokenizer_json(_FOLDER / "t.json", BYTES, [], {}, None),
        TypeError, "pattern", "None"),
    bad("write_tokenizer_json(ignore_merges='yes')",
        lambda: tokenizer_formats.write_tokenizer_json(_FOLDER / "t.json", BYTES, [], {}, ".",
                                                       ignore_merges="yes"),
        TypeError, "ignore_merges", "'yes'"),
    bad("read_tiktoken(missing file)",
        lambda: tiktoken_format.read_tiktoken(_MISSING, pattern="."), FileNotFoundError,
        "missing.json"),
    bad("read_tiktoken(pattern='')",
        lambda: tiktoken_format.read_tiktoken(_RANKS, pattern=""), ValueError, "pattern"),
    bad("read_tiktoken(special_tokens=list)",
        lambda: tiktoken_format.read_tiktoken(_RANKS, pattern=".", special_tokens=["<s>"]),
        TypeError, "special_tokens", "dict"),
    bad("read_tiktoken(a vocab.json)", lambda: tiktoken_format.read_tiktoken_ranks(_VOCAB),
        ValueError, "vocab.json line 1", "base64"),
    bad("write_tiktoken(vocab=list)",
        lambda: tiktoken_format.write_tiktoken(_FOLDER / "x.tiktoken", [b"a"]), TypeError,
        "vocab", "dict"),
    bad("merges_from_ranks(list)", lambda: tiktoken_format.merges_from_ranks([b"a"]), TypeError,
        "ranks", "dict"),
    bad("tiktoken_encoding(name=5)",
        lambda: tiktoken_format.tiktoken_encoding(5, BYTES, None, "."), TypeError, "name", "5"),
    bad("tiktoken_reference('gpt4')", lambda: released_tokenizers.tiktoken_reference("gpt4"),
        ValueError, "name", "'gpt4'", "'qwen3.6'"),
    bad("qwen_parts('qwen3')", lambda: released_tokenizers.qwen_parts("qwen3"), ValueError,
        "name", "'qwen3'", "'qwen'"),
    bad("from_qwen(name=None)", lambda: BPETokenizer.from_qwen(None), ValueError, "name",
        "None"),
    bad("from_tiktoken(pattern=None)",
        lambda: BPETokenizer.from_tiktoken(_RANKS, pattern=None), TypeError, "pattern"),
    bad("from_tokenizer_json(missing file)",
        lambda: BPETokenizer.from_tokenizer_json(_MISSING), FileNotFoundError, "missing.json"),
    bad("from_vocab_merges(undeclared special)",
        lambda: BPETokenizer.from_vocab_merges(_VOCAB, _MERGES, special_tokens=["<s>"]),
        ValueError, "special token '<s>'", "vocab.json"),
]
