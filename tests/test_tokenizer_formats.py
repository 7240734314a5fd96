"""Tests for other libraries' tokenizer files (course_utils.tokenizer_formats, .tiktoken_format):
round trips through each writer and reader, the files read by `tokenizers` and tiktoken too,
the merges recovered from ranks, and a clear error for each kind of malformed file."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from course_utils.data import gpt2_vocab_files
from course_utils.regex_tokenizer import ENDOFTEXT, GPT2_SPLIT_PATTERN
from course_utils.tiktoken_format import (merges_from_ranks, read_tiktoken, read_tiktoken_ranks,
                                          tiktoken_encoding, write_tiktoken)
from course_utils.tokenization import BPETokenizer
from course_utils.tokenizer_formats import (WHOLE_TEXT_PATTERN, bytes_to_unicode,
                                            read_tokenizer_json, read_vocab_merges,
                                            write_tokenizer_json, write_vocab_merges)
from course_utils.tokenizer_json import read_tokenizer_json_and_ignore_merges

TEXT = ("It was the best of times, it was the worst of times; 1234 apples cost $5.99.\n"
        "床前明月光，疑是地上霜。 don't  stop\t\tbelieving 👋🏽") * 3
SAMPLES = ["", "the best of times", "床前明月光", "It's 1999!\n\n  x", "👋🏽 worst", TEXT]
DIGITS_PATTERN = r"""\p{N}| ?\p{L}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@pytest.fixture(scope="module")
def tok() -> BPETokenizer:
    return BPETokenizer.train(TEXT, 330, special_tokens=(ENDOFTEXT, "<|pad|>"), progress=False)


def spell(token: bytes) -> str:
    b2u = bytes_to_unicode()
    return "".join(b2u[b] for b in token)


# ------------------------------------------------------------------------------ round trips


def test_vocab_merges_round_trip(tok, tmp_path):
    vocab_path, merges_path = write_vocab_merges(tmp_path, tok.vocab, tok.merges)
    assert merges_path.read_text(encoding="utf-8").startswith("#version: 0.2\n")
    parts = read_vocab_merges(vocab_path, merges_path, special_tokens=list(tok.special_tokens))
    assert parts == (tok.vocab, tok.merges, tok.special_tokens, GPT2_SPLIT_PATTERN)
    # The "#version" line is optional, and Windows line ends are read too.
    merges_path.write_text("\r\n".join(merges_path.read_text().splitlines()[1:]) + "\r\n")
    assert read_vocab_merges(vocab_path, merges_path)[1] == tok.merges


def test_vocab_merges_writer_creates_its_folder(tok, tmp_path):
    folder = tmp_path / "new" / "tokenizer"
    paths = write_vocab_merges(folder, tok.vocab, tok.merges)
    assert paths == (folder / "vocab.json", folder / "merges.txt")
    assert read_vocab_merges(*paths)[:2] == (tok.vocab, tok.merges)


def test_vocab_json_of_tokenizers_with_special_tokens_outside_the_byte_alphabet(tmp_path):
    # `tokenizers` writes special tokens into vocab.json as their own text, not in GPT-2's
    # byte alphabet: declared special, they are read that way.
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    names = ["‹｜end｜>", "<my pad>"]
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    hf.train_from_iterator([TEXT], trainers.BpeTrainer(
        vocab_size=300, special_tokens=names, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    paths = hf.model.save(str(tmp_path))
    vocab, merges, specials, _ = read_vocab_merges(*paths, special_tokens=names)
    assert specials == {"‹｜end｜>": 0, "<my pad>": 1}
    assert vocab[0] == "‹｜end｜>".encode() and vocab[1] == b"<my pad>"
    course = BPETokenizer(vocab, merges, specials)
    for text in [*SAMPLES, "a<my pad>b ‹｜end｜>"]:
        assert course.encode(text, allowed_special="all") == hf.encode(text).ids


def test_vocab_merges_read_by_transformers(tok, tmp_path):
    from transformers import GPT2TokenizerFast

    vocab_path, merges_path = write_vocab_merges(tmp_path, tok.vocab, tok.merges)
    hf = GPT2TokenizerFast(vocab=str(vocab_path), merges=str(merges_path))
    assert [hf(s)["input_ids"] for s in SAMPLES] == [tok.encode(s) for s in SAMPLES]


def test_gpt2_files_read_as_published():
    vocab, merges, specials, pattern = read_vocab_merges(*gpt2_vocab_files(),
                                                         special_tokens=[ENDOFTEXT])
    assert len(vocab) == 50257 and vocab[0] == b"!" and vocab[50256] == ENDOFTEXT.encode()
    assert len(merges) == 50000 and merges[:2] == [(b" ", b"t"), (b" ", b"a")]
    assert specials == {ENDOFTEXT: 50256} and pattern == GPT2_SPLIT_PATTERN


@pytest.mark.parametrize("pattern", [GPT2_SPLIT_PATTERN, DIGITS_PATTERN], ids=["gpt2", "digits"])
def test_tokenizer_json_round_trip_and_read_by_tokenizers(tok, tmp_path, pattern):
    from tokenizers import Tokenizer

    path = write_tokenizer_json(tmp_path / "tokenizer.json", tok.vocab, tok.merges,
                                tok.special_tokens, pattern)
    assert read_tokenizer_json(path) == (tok.vocab, tok.merges, tok.special_tokens, pattern)
    hf = Tokenizer.from_file(str(path))
    course = BPETokenizer(tok.vocab, tok.merges, tok.special_tokens, pattern)
    for text in [*SAMPLES, f"a{ENDOFTEXT}b<|pad|>"]:
        assert hf.encode(text).ids == course.encode(text, allowed_special="all")


def test_tokenizer_json_special_tokens_keep_their_ids_in_tokenizers(tmp_path):
    # Sparse ids, special tokens first and in a gap: `tokenizers` must find each special token
    # in model.vocab, else it gives it a new id after the others.
    from tokenizers import Tokenizer

    vocab = {10 + 2 * b: bytes([b]) for b in range(256)} | {600: b"ab", 900: b" ab"}
    specials = {"<|im_start|>": 0, "<my pad>": 5, ENDOFTEXT: 700}
    merges = [(b"a", b"b"), (b" ", b"ab")]
    path = write_tokenizer_json(tmp_path / "tokenizer.json", vocab, merges, specials,
                                GPT2_SPLIT_PATTERN)
    model_vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    assert {name: model_vocab[name] for name in specials} == specials
    course = BPETokenizer(*read_tokenizer_json(path))
    assert course.special_tokens == specials
    hf = Tokenizer.from_file(str(path))
    text = "<|im_start|>user ab<my pad>x ab<|endoftext|>"
    assert hf.encode(text).ids == course.encode(text, allowed_special="all")
    assert hf.encode(text).ids[:1] == [0] and 5 in hf.encode(text).ids
    with pytest.raises(ValueError, match=r"ids 74 and 999 would both be written 'Ġ'"):
        write_tokenizer_json(tmp_path / "t.json", vocab, [], {"Ġ": 999}, GPT2_SPLIT_PATTERN)


def test_tokenizer_json_ignore_merges_round_trip(tmp_path):
    # "abc" is a token that the merges never build (ab then c: no merge (ab, c)): with
    # ignore_merges a chunk "abc" is taken whole, in `tokenizers` and in the course alike.
    from tokenizers import Tokenizer

    vocab = {b: bytes([b]) for b in range(256)} | {256: b"ab", 257: b"abc"}
    path = write_tokenizer_json(tmp_path / "tokenizer.json", vocab, [(b"a", b"b")], {},
                                GPT2_SPLIT_PATTERN, ignore_merges=True)
    parts, ignore_merges = read_tokenizer_json_and_ignore_merges(path)
    assert parts == (vocab, [(b"a", b"b")], {}, GPT2_SPLIT_PATTERN) and ignore_merges
    course = BPETokenizer.from_tokenizer_json(path)
    assert course.ignore_merges
    hf = Tokenizer.from_file(str(path))
    for text in ["abc", "abcd abc", "ab c"]:
        assert course.encode(text) == hf.encode(text).ids
    assert course.encode("abc abcd") == [257, 32, 256, 99, 100]
    with pytest.raises(NotImplementedError, match=r"ignore_merges is true .*\.from_tokenizer_json"):
        read_tokenizer_json(path)
    plain = write_tokenizer_json(tmp_path / "plain.json", vocab, [(b"a", b"b")], {},
                                 GPT2_SPLIT_PATTERN)
    assert not BPETokenizer.from_tokenizer_json(plain).ignore_merges
    assert Tokenizer.from_file(str(plain)).encode("abc").ids == [256, 99]


def test_tokenizer_json_written_by_tokenizers_is_read(tok, tmp_path):
    # to_hf builds the tokenizer with the `tokenizers` library, which writes its own file: the
    # special tokens sit in model.vocab too, merges are lists; ByteLevel brings GPT-2's regex.
    path = tmp_path / "tokenizer.json"
    tok.to_hf().backend_tokenizer.save(str(path))
    assert read_tokenizer_json(path) == (tok.vocab, tok.merges, tok.special_tokens,
                                         GPT2_SPLIT_PATTERN)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["model"]["merges"] = [pair if isinstance(pair, str) else " ".join(pair)
                               for pair in data["model"]["merges"]]  # the older spelling
    data["pre_tokenizer"]["use_regex"] = False
    path.write_text(json.dumps(data), encoding="utf-8")
    assert read_tokenizer_json(path)[1:] == (tok.merges, tok.special_tokens, WHOLE_TEXT_PATTERN)


def test_tiktoken_round_trip_recovers_the_merges(tok, tmp_path, monkeypatch):
    import tiktoken.load

    path = write_tiktoken(tmp_path / "tiny.tiktoken", tok.vocab, tok.special_tokens)
    parts = read_tiktoken(path, pattern=tok.pattern, special_tokens=tok.special_tokens)
    assert parts == (tok.vocab, tok.merges, tok.special_tokens, tok.pattern)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken's reader must not cache a copy
    ranks = tiktoken.load.load_tiktoken_bpe(str(path))
    assert ranks == read_tiktoken_ranks(path) and len(ranks) == len(tok.vocab) - 2
    enc = tiktoken_encoding("tiny", tok.vocab, tok.special_tokens, tok.pattern)
    assert [enc.encode(s) for s in SAMPLES] == [tok.encode(s) for s in SAMPLES]


def test_merges_from_ranks_gives_gpt2s_merges_exactly():
    vocab, merges, specials, _ = read_vocab_merges(*gpt2_vocab_files(),
                                                   special_tokens=[ENDOFTEXT])
    ranks = {token: i for i, token in vocab.items() if i not in specials.values()}
    assert merges_from_ranks(ranks) == merges


def test_merges_from_ranks_hand_example():
    ranks = {bytes([b]): b for b in range(256)}
    # "abc": (b, c) ranks lower than (a, b), so b + c first, then a + bc. "xyz" has no pair
    # that is a token: BPE never builds it (tiktoken takes it only as a whole chunk).
    ranks |= {b"bc": 256, b"ab": 257, b"abc": 258, b"xyz": 259}
    assert merges_from_ranks(ranks) == [(b"b", b"c"), (b"a", b"b"), (b"a", b"bc")]


# ----------------------------------------------------------------------- malformed files


@pytest.fixture
def files(tok, tmp_path) -> dict[str, Path]:
    vocab_path, merges_path = write_vocab_merges(tmp_path, tok.vocab, tok.merges)
    return {"vocab": vocab_path, "merges": merges_path,
            "json": write_tokenizer_json(tmp_path / "tokenizer.json", tok.vocab, tok.merges,
                                         tok.special_tokens, DIGITS_PATTERN),
            "tiktoken": write_tiktoken(tmp_path / "t.tiktoken", tok.vocab, tok.special_tokens)}


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_vocabulary_without_some_bytes_is_read_as_given(tmp_path):
    # SmolLM2's lacks 21 bytes. Both JSON formats are read as they are; the tokenizer then
    # refuses only text that needs a missing byte (here 0x04), naming it.
    vocab = {i: bytes([b]) for i, b in enumerate(b for b in range(256) if b != 4)}
    vocab_path, merges_path = write_vocab_merges(tmp_path, vocab, [])
    json_path = write_tokenizer_json(tmp_path / "tokenizer.json", vocab, [], {},
                                     GPT2_SPLIT_PATTERN)
    for parts in (read_vocab_merges(vocab_path, merges_path), read_tokenizer_json(json_path)):
        assert parts[0] == vocab
        tok = BPETokenizer(*parts)
        assert tok.decode(tok.encode("ab")) == "ab"
        with pytest.raises(ValueError, match="holds the byte 0x04, which has no token"):
            tok.encode("a\x04")


VOCAB_EDITS = {  # what is done to vocab.json -> what the error says
    "truncated": (lambda p: p.write_text(p.read_text()[:-40]), r"not valid JSON \(line 1.*trunc"),
    "not an object": (lambda p: p.write_text("[1, 2]"), r"must be an object \{token: id\}"),
    "id is a string": (lambda p: edit_json(p, lambda v: v.update(A="65")),
                       r"vocab.json\['A'\] must be an id \(an int >= 0\), got '65'"),
    "id is a bool": (lambda p: edit_json(p, lambda v: v.update(A=True)), r"\['A'\] must be an id"),
    "id is negative": (lambda p: edit_json(p, lambda v: v.update(A=-1)), r"got -1"),
    "two tokens, one id": (lambda p: edit_json(p, lambda v: v.update(A=v["B"])),
                           r"tokens 'A' and 'B' both have id 66"),
    "key twice": (lambda p: p.write_text(p.read_text().replace('"B"', '"A"')),
                  r"key 'A' appears twice"),
    "not the byte alphabet": (lambda p: edit_json(p, lambda v: v.update({"A ": 999})),
                              r"\['A '\]: token 'A ' has ' ', which is not in GPT-2's byte"),
}


@pytest.mark.parametrize("edit", list(VOCAB_EDITS))
def test_malformed_vocab_json(files, edit):
    change, message = VOCAB_EDITS[edit]
    change(files["vocab"])
    with pytest.raises(ValueError, match=message) as info:
        read_vocab_merges(files["vocab"], files["merges"])
    assert str(files["vocab"]) in str(info.value)


MERGES_EDITS = {  # line 2 of merges.txt (the first merge) becomes -> what the error says
    "one token": ("Ġ", r"line 2: expected two tokens separated by one space, such as 'Ġ t'"),
    "three tokens": ("a b c", r"line 2: expected two tokens"),
    "two spaces": ("a  b", r"line 2: expected two tokens"),
    "a part not in the vocab": ("Ġzzq t", r"line 2: 'Ġzzq' is not a token of the vocabulary"),
    "the result not in the vocab": ("q j", r"line 2: 'qj' is not a token of the vocabulary"),
    "not the byte alphabet": ("a b\u3000", r"line 2: token 'b\\u3000' has '\\u3000'"),
}


@pytest.mark.parametrize("edit", list(MERGES_EDITS))
def test_malformed_merges_txt(files, edit):
    line, message = MERGES_EDITS[edit]
    lines = files["merges"].read_text(encoding="utf-8").split("\n")
    files["merges"].write_text("\n".join([lines[0], line, *lines[2:]]), encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        read_vocab_merges(files["vocab"], files["merges"])
    assert str(files["merges"]) in str(info.value)


def test_repeated_merge_and_unknown_special_token(tok, files):
    text = files["merges"].read_text(encoding="utf-8")
    files["merges"].write_text(text + text.split("\n")[3] + "\n", encoding="utf-8")
    last = len(tok.merges) + 2
    with pytest.raises(ValueError, match=rf"line {last}: the merge .* is also at .* line 4"):
        read_vocab_merges(files["vocab"], files["merges"])
    with pytest.raises(ValueError, match=r"special token '<\|im_end\|>' is not in .*vocab.json"):
        read_vocab_merges(files["vocab"], files["vocab"], special_tokens=["<|im_end|>"])
    (files["vocab"].parent / "bad.txt").write_bytes(b"#version\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"bad.txt: byte 9 is not UTF-8"):
        read_vocab_merges(files["vocab"], files["vocab"].parent / "bad.txt")


def model(key, value):
    return lambda d: d["model"].update({key: value})


JSON_EDITS = {  # what is done to tokenizer.json -> (error type, what the error says)
    "truncated": (None, ValueError, r"tokenizer.json is not valid JSON"),
    "WordPiece": (model("type", "WordPiece"), NotImplementedError,
                  r"model.type is 'WordPiece'; the course reads byte-level BPE models only"),
    "dropout": (model("dropout", 0.1), NotImplementedError, r"model.dropout is 0.1"),
    "word suffix": (model("end_of_word_suffix", "</w>"), NotImplementedError,
                    r"model.end_of_word_suffix is '</w>'"),
    "ignore_merges": (model("ignore_merges", True), NotImplementedError,
                      r"model.ignore_merges is true .* BPETokenizer.from_tokenizer_json"),
    "ignore_merges a string": (model("ignore_merges", "yes"), ValueError,
                               r"model.ignore_merges must be true or false, got 'yes'"),
    "normalizer": (lambda d: d.update(normalizer={"type": "NFC"}), NotImplementedError,
                   r"normalizer is \{'type': 'NFC'\}"),
    "no ByteLevel": (lambda d: d.update(pre_tokenizer={"type": "Whitespace"}),
                     NotImplementedError, r"pre_tokenizer is \{'type': 'Whitespace'\}: only"),
    "prefix space": (lambda d: d["pre_tokenizer"]["pretokenizers"][1].update(
        add_prefix_space=True), NotImplementedError, r"adds a space before the text"),
    "Split removes": (lambda d: d["pre_tokenizer"]["pretokenizers"][0].update(
        behavior="Removed"), NotImplementedError, r"behavior Isolated"),
    "adds a BOS": (lambda d: d.update(post_processor={"type": "TemplateProcessing", "single": [
        {"SpecialToken": {"id": "<|pad|>"}}, {"Sequence": {"id": "A"}}]}),
        NotImplementedError, r"post_processor .* adds tokens"),
    "lstrip": (lambda d: d["added_tokens"][0].update(lstrip=True), NotImplementedError,
               r"added_tokens\[0\]: '<\|endoftext\|>' strips spaces"),
    "added id taken": (lambda d: (d["added_tokens"][0].update(id=300),
                                  d["model"]["vocab"].pop(ENDOFTEXT)), ValueError,
                       r"added token '<\|endoftext\|>' has id 300, which model.vocab gives to"),
    "added id not model's": (lambda d: d["added_tokens"][0].update(id=300), ValueError,
                             r"added token '<\|endoftext\|>' has id 300, but model.vocab gives "
                             r"it id \d+"),
    "added lstrip a string": (lambda d: d["added_tokens"][0].update(lstrip="no"), ValueError,
                              r"added_tokens\[0\].lstrip must be true or false, got 'no'"),
    "post_processor a string": (lambda d: d.update(post_processor="oops"), ValueError,
                                r"post_processor must be an object \{\"type\": ...\}"),
    "post_processor without type": (lambda d: d.update(post_processor={"single": []}),
                                    ValueError, r"post_processor.type must be a string"),
    "post_processor adds a token only": (lambda d: d.update(post_processor={
        "type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|pad|>"}}]}),
        NotImplementedError, r"post_processor .* adds tokens"),
    "post_processor processors not a list": (lambda d: d.update(post_processor={
        "type": "Sequence", "processors": "x"}), ValueError,
        r"post_processor.processors must be a list"),
    "pre_tokenizer a list": (lambda d: d.update(pre_tokenizer=[1]), ValueError,
                             r"pre_tokenizer must be an object"),
    "pretokenizers not a list": (lambda d: d["pre_tokenizer"].update(pretokenizers=5),
                                 ValueError, r"pre_tokenizer.pretokenizers must be a list, got 5"),
    "Split pattern a string": (lambda d: d["pre_tokenizer"]["pretokenizers"][0].update(
        pattern="x"), ValueError, r"pretokenizers\[0\].pattern must be an object"),
    "Split pattern Regex a number": (lambda d: d["pre_tokenizer"]["pretokenizers"][0].update(
        pattern={"Regex": 5}), ValueError, r"pretokenizers\[0\].pattern.Regex must be a string"),
    "Split on a String": (lambda d: d["pre_tokenizer"]["pretokenizers"][0].update(
        pattern={"String": " "}), NotImplementedError, r"pattern is \{'String': ' '\}"),
    "Split step a string": (lambda d: d["pre_tokenizer"]["pretokenizers"].__setitem__(0, "Split"),
                            ValueError, r"pretokenizers\[0\] must be an object"),
    "use_regex a string": (lambda d: d["pre_tokenizer"]["pretokenizers"][1].update(
        use_regex="false"), ValueError,
        r"pretokenizers\[1\].use_regex must be true or false, got 'false'"),
    "model.vocab a list": (model("vocab", []), ValueError, r"model.vocab must be an object"),
    "added name twice": (lambda d: d["added_tokens"][1].update(content=ENDOFTEXT), ValueError,
                         r"added_tokens\[1\].content must be a new"),
    "merge as a number": (lambda d: d["model"]["merges"].insert(3, 7), ValueError,
                          r"model.merges\[3\] must be \"a b\" or \[a, b\], got 7"),
    "merge of three": (lambda d: d["model"]["merges"].insert(0, ["a", "b", "c"]), ValueError,
                       r"model.merges\[0\] must be"),
    "merge of a stranger": (lambda d: d["model"]["merges"].insert(0, ["a", "Ġqqq"]), ValueError,
                            r"model.merges\[0\]: 'Ġqqq' is not a token of the vocabulary"),
    "id as a float": (lambda d: d["model"]["vocab"].update(a=97.0), ValueError,
                      r"model.vocab\['a'\] must be an id \(an int >= 0\), got 97.0"),
    "no model": (lambda d: d.pop("model"), ValueError, r"model must be an object, got None"),
}


@pytest.mark.parametrize("edit", list(JSON_EDITS))
def test_malformed_tokenizer_json(files, edit):
    change, error, message = JSON_EDITS[edit]
    path = files["json"]
    if change is None:
        path.write_text(path.read_text(encoding="utf-8")[:1000], encoding="utf-8")
    else:
        edit_json(path, change)
    with pytest.raises(error, match=message) as info:
        read_tokenizer_json(path)
    assert str(path) in str(info.value)


TIKTOKEN_EDITS = {  # line 3 of the rank file becomes -> what the error says
    "bad base64": (b"Ag= 2", r"line 3: 'Ag=' is not valid base64"),
    "not base64 at all": (b"@@@@ 2", r"line 3: '@@@@' is not valid base64"),
    "no rank": (b"Ag==", r"line 3: expected a token in base64, one space and its rank"),
    "rank not a number": (b"Ag== two", r"line 3: expected a token in base64"),
    "negative rank": (b"Ag== -2", r"line 3: expected a token in base64"),
    "rank twice": (b"Ag== 1", r"line 3: rank 1 is also the rank of line 2"),
    "token twice": (b"AQ== 999", r"line 3: token b'\\x01' is also on line 2"),
    "byte missing": (b"", r"has no token for byte\(s\) \[2\]"),
}


@pytest.mark.parametrize("edit", list(TIKTOKEN_EDITS))
def test_malformed_tiktoken_file(files, edit):
    line, message = TIKTOKEN_EDITS[edit]
    path = files["tiktoken"]
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([*lines[:2], line, *lines[3:]]))
    with pytest.raises(ValueError, match=message) as info:
        read_tiktoken_ranks(path)
    assert str(path) in str(info.value)


def test_tiktoken_special_token_on_a_rank(files):
    with pytest.raises(ValueError, match=re.escape("special token '<s>' has id 97, which is the "
                                                   "rank of b'a' in")):
        read_tiktoken(files["tiktoken"], pattern=".", special_tokens={"<s>": 97})
    assert base64.b64encode(b"a").decode() + " 97" in files["tiktoken"].read_text()


def test_missing_files_raise_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        read_tokenizer_json(tmp_path / "nowhere.json")
    with pytest.raises(IsADirectoryError):
        read_tiktoken_ranks(tmp_path)
    with pytest.raises(TypeError, match="path must be a path"):
        read_tokenizer_json(None)


def test_a_file_that_does_not_make_a_tokenizer_is_named(tok, tmp_path):
    # Each part is well formed, but the special token "ab" is also what merge (a, b) makes.
    vocab = {b: bytes([b]) for b in range(256)} | {256: b"ab"}
    path = write_tokenizer_json(tmp_path / "tokenizer.json", vocab, [(b"a", b"b")], {"ab": 256},
                                GPT2_SPLIT_PATTERN)
    with pytest.raises(ValueError, match=r"tokenizer.json does not make a tokenizer: merges\[0\]"):
        BPETokenizer.from_tokenizer_json(path)
