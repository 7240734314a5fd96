"""Tests for the tokenizer as a library (issue 12): building one from any byte-level BPE
vocabulary, the special-token policy, one merge at a time, training with document boundaries,
both tie-breaks, training from any source, and streaming with `encode_iterable`.

Each capability has a hand-worked example whose expected ids or merges are derived in a comment;
encoding is also checked against Hugging Face `tokenizers` on the same vocab and merges, and
streaming against whole-text encoding on Hypothesis-generated text cut at random points.
Nothing here is timed: speed is for benchmarks/. Loaders of files are tested elsewhere."""

from __future__ import annotations

import itertools
import random
import string

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

import course_utils
from course_utils import bpe
from course_utils.data import load_corpus
from course_utils.regex_tokenizer import RegexTokenizer
from course_utils.tokenization import (ENDOFTEXT, GPT2_SPLIT_PATTERN, BPETokenizer,
                                       bytes_to_unicode)

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None)
BYTES = {b: bytes([b]) for b in range(256)}  # id b is byte b: ids below 256 read as bytes
POLICIES = {"default": {}, "all allowed": {"allowed_special": "all"},
            "none disallowed": {"disallowed_special": ()}}
# Split patterns of other tokenizers, to check streaming with more than GPT-2's: GPT-4's
# (tiktoken's cl100k_base) and Qwen2's (one digit per chunk, newlines kept with punctuation).
OTHER_PATTERNS = {
    "gpt4": (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}|"""
             r""" ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""),
    "qwen2": (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
              r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""),
}


def shipped_patterns() -> dict[str, str]:
    """Every split pattern the course ships: module-level str constants named *PATTERN*."""
    import importlib
    import pkgutil

    found = {}
    for info in pkgutil.iter_modules(course_utils.__path__):
        if "token" not in info.name:  # the tokenizer modules; others import torch
            continue
        module = importlib.import_module(f"course_utils.{info.name}")
        for name, value in vars(module).items():
            if "PATTERN" in name and isinstance(value, str):
                found.setdefault(value, name)
    return {name: pattern for pattern, name in found.items()}


PATTERNS = {**shipped_patterns(), **OTHER_PATTERNS}


def with_tokens(*tokens: bytes, start: int = 256) -> dict[int, bytes]:
    """The 256 bytes (id = byte) and then `tokens` with ids start, start + 1, ..."""
    return {**BYTES, **{start + k: t for k, t in enumerate(tokens)}}


def train(source, vocab_size: int, **kwargs) -> BPETokenizer:
    return BPETokenizer.train(source, vocab_size, progress=False, **kwargs)


def parts(tok: RegexTokenizer) -> tuple:
    return tok.vocab, tok.merges, tok.special_tokens, tok.pattern


def hf_bpe(vocab: dict[int, bytes], merges: list[tuple[bytes, bytes]]):
    """Hugging Face `tokenizers`' byte-level BPE with these ids and merges, GPT-2's split."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    b2u = bytes_to_unicode()

    def text(token: bytes) -> str:
        return "".join(b2u[b] for b in token)

    tok = Tokenizer(models.BPE(vocab={text(t): i for i, t in vocab.items()},
                               merges=[(text(a), text(b)) for a, b in merges]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    return tok


@pytest.fixture(scope="module")
def gpt2() -> BPETokenizer:
    return BPETokenizer.from_gpt2()


# ---------------------------------------------------------------- any vocabulary as given


def test_sparse_ids_are_kept_as_given():
    # Bytes at the even ids 0, 2, ..., 510 (byte b is id 2b), "ab" at id 1001, nothing between:
    # "abc" -> (a, b) merges into 1001, then "c" is byte 99, id 198.
    vocab = {2 * b: bytes([b]) for b in range(256)} | {1001: b"ab"}
    tok = RegexTokenizer(vocab, [(b"a", b"b")])
    assert tok.vocab == vocab
    assert tok.encode("abc") == [1001, 198]
    assert tok.decode([1001, 198]) == "abc"
    assert tok.vocab_size == 1002 and len(tok.vocab) == 257  # embedding rows vs tokens
    assert tok.orphan_ids == []


def test_orphan_tokens_are_kept_decoded_and_never_produced():
    # "xyz" (300) and "abc" (301) are neither bytes, merge results nor special: orphans. The one
    # merge is (a, b) -> 256, so "abc" encodes as [256, 99], never as the orphan 301.
    vocab = with_tokens(b"ab") | {300: b"xyz", 301: b"abc"}
    tok = BPETokenizer(vocab, [(b"a", b"b")])
    assert tok.orphan_ids == [300, 301]
    assert tok.decode([300, 32, 301]) == "xyz abc"
    assert tok.encode("xyz abc") == [120, 121, 122, 32, 256, 99]
    assert tok.vocab_size == 302 and len(tok.vocab) == 259


def test_a_special_tokens_id_missing_from_vocab_is_added():
    tok = RegexTokenizer(BYTES, [], {"<|x|>": 1000})
    assert tok.vocab[1000] == b"<|x|>" and tok.vocab_size == 1001 and len(tok.vocab) == 257
    assert tok.encode("a<|x|>", allowed_special="all") == [97, 1000]
    assert tok.orphan_ids == []


def test_several_merges_may_make_the_same_token():
    # (a, b) and (b, c) both lead to "abc" = 258: "abc" -> (a, b) rank 0 -> [ab, c] -> (ab, c)
    # rank 2 -> [abc]; "bc" alone -> (b, c) rank 1 -> [257]. (a, bc) is never needed here.
    vocab = with_tokens(b"ab", b"bc", b"abc")
    merges = [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c"), (b"a", b"bc")]
    tok = RegexTokenizer(vocab, merges)
    assert tok.encode("abc bc") == [258, 32, 257]
    assert tok.orphan_ids == []


def test_gpt2_without_declaring_endoftext_gets_50256_back(gpt2):
    # GPT-2's 50,257 entries as released: <|endoftext|> is just a token nothing makes, an orphan.
    tok = BPETokenizer(dict(gpt2.vocab), list(gpt2.merges))
    assert tok.special_tokens == {} and tok.orphan_ids == [50256]
    assert tok.vocab_size == len(tok.vocab) == 50257
    assert tok.decode([15496, 50256]) == "Hello<|endoftext|>"
    # Not special, so plain text: "<|" and "|>" are chunks of punctuation, "endoftext" one of
    # letters; GPT-2's ids for them: < 27, | 91, end 437, of 1659, text 5239, > 29.
    plain = [27, 91, 437, 1659, 5239, 91, 29]
    assert tok.encode(ENDOFTEXT) == gpt2.encode_ordinary(ENDOFTEXT) == plain
    assert tok.add_special_tokens([ENDOFTEXT]) == [50256]
    assert tok.special_tokens == {ENDOFTEXT: 50256} and tok.orphan_ids == []
    assert tok.encode(ENDOFTEXT, allowed_special="all") == [50256]
    assert tok.add_special_tokens(["<|pad|>", ENDOFTEXT]) == [50257, 50256]
    assert tok.vocab_size == 50258


def test_a_vocab_without_some_bytes_refuses_only_text_that_needs_them():
    # SmolLM2's vocabulary lacks 21 bytes; so does this one byte 0. Text without it encodes;
    # text with it is a clear error naming the byte, not ids the model has no row for.
    tok = RegexTokenizer({b: bytes([b]) for b in range(1, 256)}, [])
    assert tok.encode("ab") == [97, 98]
    with pytest.raises(ValueError, match=r"'\\x00' holds the byte 0x00, which has no token"):
        tok.encode("a\x00")


@pytest.mark.parametrize(("vocab", "merges", "argument"), [
    # The merge's part "ab" is not in vocab (its result "abc" is).
    (with_tokens(b"abc"), [(b"ab", b"c")], "merges"),
    # The merge's result "ab" is not in vocab.
    (BYTES, [(b"a", b"b")], "merges"),
    # The same pair twice.
    (with_tokens(b"ab"), [(b"a", b"b"), (b"a", b"b")], "merges"),
    # Two ids with the same bytes: which id would encode give?
    (with_tokens(b"ab", b"ab"), [(b"a", b"b")], "vocab"),
    (with_tokens(b"a"), [], "vocab"),
])
def test_vocabularies_that_do_not_fit_are_refused(vocab, merges, argument):
    with pytest.raises(ValueError, match=argument):
        RegexTokenizer(vocab, merges)


# ------------------------------------------------------------------ the special-token policy


def endoftext_tokenizer() -> RegexTokenizer:
    """No merges (id = byte) and <|endoftext|> = 256: every id below is checkable by hand."""
    return RegexTokenizer(with_tokens(ENDOFTEXT.encode()), [], {ENDOFTEXT: 256})


def test_the_default_refuses_text_that_holds_a_special_token():
    tok = endoftext_tokenizer()
    with pytest.raises(ValueError) as error:
        tok.encode("a<|endoftext|>b")
    message = str(error.value)
    assert ENDOFTEXT in message and regex.search("inject", message, regex.IGNORECASE)
    assert "allowed_special" in message and "disallowed_special" in message  # the fixes
    assert tok.encode("a<|endoftext|b") == list(b"a<|endoftext|b")  # almost is plain text


def test_allowed_special_tokens_become_their_ids_and_others_plain_text():
    tok = endoftext_tokenizer()
    text = "a<|endoftext|>b"
    assert tok.encode(text, allowed_special={ENDOFTEXT}) == [97, 256, 98]
    assert tok.encode(text, allowed_special="all") == [97, 256, 98]
    assert tok.encode(text, allowed_special=[ENDOFTEXT]) == [97, 256, 98]
    assert tok.encode(text, disallowed_special=()) == list(text.encode())
    assert tok.encode_ordinary(text) == list(text.encode())


def test_special_tokens_in_neither_set_are_plain_text():
    tok = RegexTokenizer(with_tokens(b"<|endoftext|>", b"<|pad|>"), [],
                         {ENDOFTEXT: 256, "<|pad|>": 257})
    text = "<|pad|>x<|endoftext|>"
    assert tok.encode(text, allowed_special={"<|pad|>"}, disallowed_special=()) == [
        257, 120, *ENDOFTEXT.encode()]
    with pytest.raises(ValueError, match=regex.escape(ENDOFTEXT)):  # "all" = all not allowed
        tok.encode(text, allowed_special={"<|pad|>"})
    assert tok.encode("<|pad|>x", allowed_special={"<|pad|>"}) == [257, 120]


def test_overlapping_special_tokens_the_longest_match_wins():
    # "<a>" is 256 and "<a><b>" is 257. "<a><b><a>": at 0 both match, the longer wins -> 257,
    # then "<a>" -> 256. "xy"/"yz" (258/259) overlap in "xyz": the leftmost, "xy", is cut first.
    tok = RegexTokenizer(with_tokens(b"<a>", b"<a><b>", b"xy", b"yz"), [],
                         {"<a>": 256, "<a><b>": 257, "xy": 258, "yz": 259})
    assert tok.encode("<a><b><a>", allowed_special="all") == [257, 256]
    assert tok.encode("xyz", allowed_special="all") == [258, 122]
    # Only "<a>" allowed: "<a><b>" is not recognised, so its "<a>" is, and "<b>" is plain.
    assert tok.encode("<a><b>", allowed_special={"<a>"}, disallowed_special=()) == [
        256, 60, 98, 62]
    # Streamed, a cut after "<a>" must wait for what follows: "<b>" makes it "<a><b>", 257;
    # "<c>" leaves "<a>", 256, and "<c>" is plain text.
    assert list(tok.encode_iterable(["<a>", "<b>"], allowed_special="all")) == [257]
    assert list(tok.encode_iterable(["<a><", "c>"], allowed_special="all")) == [
        256, 60, 99, 62]


@pytest.mark.parametrize("policy", [{"allowed_special": {"<|nope|>"}},
                                    {"allowed_special": {ENDOFTEXT, "<|nope|>"}},
                                    {"disallowed_special": {"<|nope|>"}}])
def test_unknown_names_in_the_policy_are_refused(policy):
    tok = endoftext_tokenizer()
    with pytest.raises(ValueError, match="nope"):
        tok.encode("abc", **policy)
    with pytest.raises(ValueError, match="nope"):
        list(tok.encode_iterable(["abc"], **policy))
    # A str other than "all" is not a collection of names (its characters would be).
    with pytest.raises((TypeError, ValueError), match="everything"):
        tok.encode("abc", allowed_special="everything")


def test_gpt2_policy(gpt2):
    with pytest.raises(ValueError, match="inject"):
        gpt2.encode("Hello<|endoftext|>")
    assert gpt2.encode("Hello<|endoftext|>", allowed_special="all") == [15496, 50256]


def test_special_tokens_added_after_training():
    # "aaabdaaabac" learns aa 256, ab 257, aaab 258 (the hand example of test_tokenization.py).
    tok = train("aaabdaaabac", 259, special_tokens=())
    assert tok.add_special_tokens(["<|pad|>"]) == [259]
    assert tok.add_special_tokens(["<|pad|>", "<|im_start|>"]) == [259, 260]  # pad keeps 259
    assert tok.special_tokens == {"<|pad|>": 259, "<|im_start|>": 260}
    assert tok.vocab[260] == b"<|im_start|>" and tok.vocab_size == 261
    assert tok.encode("aaab<|pad|>", allowed_special="all") == [258, 259]
    with pytest.raises(ValueError, match="pad"):
        tok.encode("aaab<|pad|>")
    # An ordinary token that encode produces cannot also be special.
    for name in ("aa", "aaab", "a"):
        with pytest.raises(ValueError, match=name):
            tok.add_special_tokens([name])
    assert tok.special_tokens == {"<|pad|>": 259, "<|im_start|>": 260}
    # A trained tokenizer's declared special keeps its id.
    trained = train("aaabdaaabac", 260)
    assert trained.add_special_tokens([ENDOFTEXT]) == [259]


def test_a_refused_add_special_tokens_changes_nothing():
    # "xyz" (300) is an orphan that a merge uses; "xyza" (301) is that merge's result.
    vocab = with_tokens(b"ab") | {300: b"xyz", 301: b"xyza"}
    tok = RegexTokenizer(vocab, [(b"a", b"b"), (b"xyz", b"a")])

    def state():
        return (dict(tok.special_tokens), tok.orphan_ids,
                tok.encode("ab xyza", disallowed_special=()), dict(tok.vocab))

    before = state()
    # "ab" is an ordinary token (256): refused, and "<|ok|>" before it is not half-added.
    with pytest.raises(ValueError, match="ab"):
        tok.add_special_tokens(["<|ok|>", "ab"])
    assert state() == before
    try:  # either allowed, or refused without a trace
        tok.add_special_tokens(["xyz"])
    except ValueError:
        assert state() == before
    else:
        assert tok.special_tokens == {"xyz": 300}
        assert tok.encode("ab xyza", disallowed_special=()) == before[2]
    assert tok.add_special_tokens(["<|ok|>"]) == [302]


def test_an_orphan_becomes_special_with_its_id():
    vocab = with_tokens(b"ab") | {300: b"<|x|>"}
    tok = RegexTokenizer(vocab, [(b"a", b"b")])
    assert tok.encode("<|x|>") == list(b"<|x|>")
    assert tok.add_special_tokens(["<|x|>", "<|y|>"]) == [300, 301]
    assert tok.orphan_ids == [] and tok.encode("ab<|x|>", allowed_special="all") == [256, 300]
    assert 301 not in vocab  # the caller's dict is left alone


# ----------------------------------------------------------------- one merge at a time


def test_merges_apply_one_at_a_time_leftmost_first():
    # Merges: rank 0 (ab, a) -> "aba" 257, rank 1 (a, b) -> "ab" 256 (a rank may come before the
    # merge that makes its part). "ababa" = a b a b a has only (a, b) pairs, rank 1.
    #   one at a time: the leftmost (a, b) -> [ab a b a]; now (ab, a) of rank 0 exists and goes
    #   first -> [aba b a] = [257, 98, 97]; no pair left is a merge.
    #   all (a, b) at once: [ab ab a] -> (ab, a) -> [ab aba] = [256, 257], which is wrong.
    vocab = with_tokens(b"ab", b"aba")
    merges = [(b"ab", b"a"), (b"a", b"b")]
    tok = RegexTokenizer(vocab, merges)
    assert tok.encode("ababa") == [257, 98, 97]
    assert hf_bpe(vocab, merges).encode("ababa").ids == [257, 98, 97]
    # Equal ranks, leftmost first: "aaa" -> [aa a] with (a, a) -> 256, not [a aa].
    assert RegexTokenizer(with_tokens(b"aa"), [(b"a", b"a")]).encode("aaa") == [256, 97]


@st.composite
def vocab_and_merges(draw):
    """Random merges over a, b, c (each joins two tokens made so far), ranked in random order."""
    tokens, merges = [b"a", b"b", b"c"], []
    for _ in range(draw(st.integers(1, 25))):
        pair = (draw(st.sampled_from(tokens)), draw(st.sampled_from(tokens)))
        if pair not in merges:
            merges.append(pair)
            tokens += [pair[0] + pair[1]] if pair[0] + pair[1] not in tokens else []
    merges = draw(st.permutations(merges))
    return with_tokens(*tokens[3:]), merges


@SETTINGS
@given(parts=vocab_and_merges(),  # chunks longer than a few dozen bytes too
       text=st.lists(st.text(alphabet="abc", max_size=80), max_size=3).map(" ".join))
def test_ids_equal_huggingface_with_any_merge_order(parts, text):
    vocab, merges = parts
    assert RegexTokenizer(vocab, merges).encode(text) == hf_bpe(vocab, merges).encode(text).ids


# ------------------------------------------------------------------------------- training


@pytest.mark.parametrize("method", ["naive", "fast"])
@pytest.mark.parametrize("pattern", [GPT2_SPLIT_PATTERN, r"[\s\S]+"])
def test_no_merge_crosses_a_special_token(method, pattern):
    # Documents "xa" and "by", three each. Split at the special tokens: (x, a) 3, (b, y) 3,
    # tie -> smallest ids (98, 121) < (120, 97): (b, y) 256, then (x, a) 257; then every chunk
    # is one token. With the special tokens deleted, (a, b) would occur 3 times across them;
    # with [\s\S]+ and no split at all, "<|" would be merged first.
    text = ENDOFTEXT.join(["xa", "by"] * 3)
    tok = train(text, 259, method=method, pattern=pattern)
    assert tok.merges == [(b"b", b"y"), (b"x", b"a")]
    with pytest.raises(ValueError, match="vocab_size"):  # no third merge: (a, b) never forms
        train(text, 260, method=method, pattern=pattern)


# CS336's example (assignment 1): whitespace-separated words, no leading spaces.
CS336_TEXT = ("low low low low low lower lower widest widest widest "
              "newest newest newest newest newest newest")
# Counts: low 5, lower 2, widest 3, newest 6. Pairs: es 9, st 9, we 8, lo 7, ow 7, ne 6, ...
#   lexicographic (greatest bytes): s t > e s -> st; e st 9; o w > l o -> ow; l ow 7;
#     at 6: (w, est) > (n, e) > (e, w) -> west; n e vs e west: n e. (CS336's handout merges.)
#   lowest_ids: (e, s) = (101, 115) first; es t 9; (l, o) (108, 111) < (111, 119); lo w 7;
#     at 6: (e, w) (101, 119) < (110, 101) < (119, est); then (n, ew) 6 beats (ew, est) 6.
CS336_MERGES = {
    "lexicographic": [(b"s", b"t"), (b"e", b"st"), (b"o", b"w"), (b"l", b"ow"), (b"w", b"est"),
                      (b"n", b"e")],
    "lowest_ids": [(b"e", b"s"), (b"es", b"t"), (b"l", b"o"), (b"lo", b"w"), (b"e", b"w"),
                   (b"n", b"ew")],
}


@pytest.mark.parametrize("method", ["naive", "fast"])
@pytest.mark.parametrize("tie_break", ["lexicographic", "lowest_ids"])
def test_tie_break_on_the_cs336_example(method, tie_break):
    tok = train(CS336_TEXT, 262, method=method, pattern=r"\S+|\s+", special_tokens=(),
                tie_break=tie_break)
    assert tok.merges == CS336_MERGES[tie_break]
    # The same on ids: words as byte lists with their counts; merge k makes id 256 + k.
    ids = {token: b for b, token in BYTES.items()} | {b"es": 256, b"st": 256}
    chunks = [list(b"low"), list(b"lower"), list(b"widest"), list(b"newest")]
    trainer = {"naive": bpe.train_naive, "fast": bpe.train_fast}[method]
    pairs = trainer(chunks, [5, 2, 3, 6], 2, tie_break=tie_break, progress=False)
    assert pairs == [(ids[a], ids[b]) for a, b in CS336_MERGES[tie_break][:2]]


def test_default_tie_break_is_lowest_ids():
    tok = train(CS336_TEXT, 262, pattern=r"\S+|\s+", special_tokens=())
    assert tok.merges == CS336_MERGES["lowest_ids"]
    with pytest.raises(ValueError, match="tie_break"):
        train(CS336_TEXT, 262, tie_break="greatest")


@pytest.mark.parametrize("method", ["naive", "fast"])
def test_lexicographic_compares_bytes_not_ids(method):
    # "ab" x5, "ya", "abz": (a, b) 6 -> 256. Then (y, a) and (ab, z) = (256, 122) tie at 1:
    # bytes "y" > "ab", so (y, a) = (121, 97), although the greater ids are (256, 122).
    trainer = {"naive": bpe.train_naive, "fast": bpe.train_fast}[method]
    chunks, freqs = [list(b"ab"), list(b"ya"), list(b"abz")], [5, 1, 1]
    for tie_break in ("lexicographic", "lowest_ids"):
        assert trainer(chunks, freqs, 3, tie_break=tie_break, progress=False) == [
            (97, 98), (121, 97), (256, 122)]


def _outcome(text: str, vocab_size: int, method: str, tie_break: str) -> list | str:
    try:
        return train(text, vocab_size, method=method, special_tokens=(),
                     tie_break=tie_break).merges
    except ValueError as error:
        return str(error)


@SETTINGS
@given(text=st.text(alphabet="ab c\nд中", min_size=1, max_size=60), num_merges=st.integers(0, 30))
def test_naive_and_fast_agree_on_lexicographic_ties(text, num_merges):
    naive, fast = (_outcome(text, 256 + num_merges, m, "lexicographic") for m in ("naive", "fast"))
    assert naive == fast


@pytest.fixture(scope="module")
def corpus() -> str:
    """English and Chinese with a document boundary, so that files are read across both."""
    return (load_corpus("shakespeare")[:60_000] + ENDOFTEXT + load_corpus("poetry_zh")[:20_000]
            + "\r\nWindows lines\r\nend with CR LF\r\n")


def test_training_from_str_list_generator_and_file_give_the_same_tokenizer(corpus, tmp_path,
                                                                             monkeypatch):
    expected = parts(train(corpus, 400))
    at = corpus.index(ENDOFTEXT)
    # Cut anywhere: mid-word, inside the special token, inside a Chinese paragraph; one empty.
    cuts = [0, 7, 1000, 1000, at + 3, at + 9, len(corpus) - 5, len(corpus)]
    pieces = [corpus[i:j] for i, j in zip(cuts, cuts[1:])]
    assert "".join(pieces) == corpus
    path = tmp_path / "corpus.txt"
    path.write_bytes(corpus.encode("utf-8"))
    assert parts(train(corpus.splitlines(keepends=True), 400)) == expected
    assert parts(train(pieces, 400)) == expected
    assert parts(train((piece for piece in pieces), 400)) == expected
    assert parts(train(path, 400)) == expected
    # The file read in pieces of an odd size: cuts inside words, characters, the special token.
    monkeypatch.setattr("course_utils.tokenizer_training._FILE_PIECE", 997)
    assert parts(train(path, 400)) == expected


def test_encoding_an_open_file_line_by_line(gpt2, tmp_path):
    text = "Hello world\n\n  two spaces\r\n今天是个好日子\n" * 50 + "no newline at the end"
    path = tmp_path / "text.txt"
    path.write_bytes(text.encode("utf-8"))
    with open(path, encoding="utf-8", newline="") as f:
        assert list(gpt2.encode_iterable(f)) == gpt2.encode(text)


# ------------------------------------------------------------------------------ streaming


@pytest.fixture(scope="module")
def tokenizers(gpt2) -> dict[str, BPETokenizer]:
    """GPT-2, and for each split pattern a small tokenizer trained with it (two specials)."""
    text = (load_corpus("shakespeare")[:20_000] + ENDOFTEXT + load_corpus("poetry_zh")[:5_000]
            + " don't 12345 67 👋🏽 \n\n  x")
    trained = {name: train(text, 400, pattern=pattern, special_tokens=(ENDOFTEXT, "<|pad|>"))
               for name, pattern in PATTERNS.items()}
    return {"gpt2": gpt2, **trained}


FRAGMENTS = ["<|endoftext|>", "<|pad|>", "<|", "|>", "<|endoftext", "don't", " I'LL", "they're",
             "'s", " ", "  ", "   ", "\n", "\n\n", " \n ", "\t", "\r\n", "123", " 4567", "hello",
             " World", "!!", "...", ",", "今天是个好日子", "床前明月光，", "。", "👋🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈",
             "é", "e\u0301", "\u00a0", "x"]
TEXTS = st.lists(st.one_of(st.sampled_from(FRAGMENTS),
                           st.text(alphabet="ab 1\n'中😀.", max_size=8),
                           st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=4)),
                 max_size=12).map("".join)


@st.composite
def cut_texts(draw) -> list[str]:
    """A generated text cut at random points (a repeated point makes an empty piece)."""
    text = draw(TEXTS)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return [text[i:j] for i, j in zip(bounds, bounds[1:])]


def outcome(call) -> list[int] | str:
    """The ids (all of them, from a list or an iterator), or that a ValueError was raised."""
    try:
        return list(call())
    except ValueError:
        return "ValueError"


def assert_streams_like_whole(tok: RegexTokenizer, pieces: list[str], policy: dict) -> None:
    whole = outcome(lambda: tok.encode("".join(pieces), **policy))
    assert outcome(lambda: tok.encode_iterable(pieces, **policy)) == whole, pieces
    assert outcome(lambda: tok.encode_iterable(iter(pieces), **policy)) == whole, pieces


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("name", ["gpt2", *PATTERNS])
def test_streaming_equals_whole_text_on_generated_text(name, policy, tokenizers):
    tok = tokenizers[name]

    @SETTINGS
    @given(pieces=cut_texts())
    def check(pieces):
        assert_streams_like_whole(tok, pieces, POLICIES[policy])

    check()


EVERY_CUT = "Hi don't  \n\n 12345<|endoftext|>今天👨‍👩‍👧‍👦e\u0301 !!\r\n<|pad|>"


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("name", ["gpt2", *PATTERNS])
def test_streaming_cut_at_every_point(name, policy, tokenizers):
    tok, text = tokenizers[name], EVERY_CUT
    for k in range(len(text) + 1):
        assert_streams_like_whole(tok, [text[:k], "", text[k:]], POLICIES[policy])
    assert_streams_like_whole(tok, list(text), POLICIES[policy])
    assert_streams_like_whole(tok, [], POLICIES[policy])


def test_streaming_a_special_token_cut_into_characters(gpt2):
    assert list(gpt2.encode_iterable(list("Hi<|endoftext|>"), allowed_special="all")) == [
        17250, 50256]
    with pytest.raises(ValueError, match="inject"):
        list(gpt2.encode_iterable(["Hi<|endof", "text|>"]))


@pytest.fixture(scope="module")
def tiktoken_gpt2(gpt2):
    """tiktoken's GPT-2 encoding, built from the same vocabulary (GPT-2's ids are its ranks)."""
    import tiktoken

    ranks = {token: i for i, token in gpt2.vocab.items() if i != 50256}
    pattern = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
    return tiktoken.Encoding("gpt2", pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens={ENDOFTEXT: 50256})


@pytest.mark.parametrize("policy", list(POLICIES))
def test_the_policy_is_tiktokens(gpt2, tiktoken_gpt2, policy):
    @SETTINGS
    @given(text=TEXTS)
    def check(text):
        expected = outcome(lambda: tiktoken_gpt2.encode(text, **POLICIES[policy]))
        assert outcome(lambda: gpt2.encode(text, **POLICIES[policy])) == expected

    check()
    assert gpt2.encode_ordinary(EVERY_CUT) == tiktoken_gpt2.encode_ordinary(EVERY_CUT)


class Counted:
    """An iterator of lines that counts how many were pulled from it (failing, rather than
    running forever, if more than `limit` are)."""

    def __init__(self, lines, limit: int | None = None) -> None:
        self.lines, self.pulled, self.limit = iter(lines), 0, limit

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.pulled += 1
        assert self.limit is None or self.pulled <= self.limit, "read the input to its end"
        return line


@pytest.mark.parametrize("policy", list(POLICIES))
def test_streaming_is_lazy_on_an_infinite_input(gpt2, policy):
    lines = Counted(itertools.cycle(["Hello world, 今天\n", "don't stop\n"]), limit=10_000)
    first = list(itertools.islice(gpt2.encode_iterable(lines, **POLICIES[policy]), 50))
    assert first == gpt2.encode("Hello world, 今天\ndon't stop\n" * 10)[:50]
    assert lines.pulled < 30  # about 3 ids a line: a few lines ahead at most


def test_streaming_does_not_read_ahead_of_what_it_yields(gpt2):
    n = 100_000
    text = [f"{i % 1000} fox\n" for i in range(n)]
    lines = Counted(iter(text))
    ids = gpt2.encode_iterable(lines)
    first = next(ids)
    assert lines.pulled <= 10, "the first id came out only after reading ahead"
    # No chunk crosses a "\n" followed by a digit, so each line's ids are its own: the ids of
    # the first half come out with a few lines read ahead at most, not more as it goes on.
    half = len(gpt2.encode("".join(text[: n // 2])))
    middle = list(itertools.islice(ids, half - 1))
    assert lines.pulled <= n // 2 + 10
    rest = list(ids)
    assert lines.pulled == n
    assert [first, *middle, *rest] == gpt2.encode("".join(text))


# ------------------------------------------------------------------- long unbroken chunks


@pytest.mark.slow
def test_long_chunks_give_huggingfaces_ids(gpt2):
    # One chunk of 100,000 letters, and 20,000 Chinese characters (60,000 bytes) in one chunk.
    letters = "".join(random.Random(0).choices(string.ascii_letters, k=100_000))
    chinese = regex.sub(r"[^\p{Han}]", "", load_corpus("poetry_zh"))[:20_000]
    assert len(chinese) == 20_000
    reference = gpt2.to_hf()
    for text in (letters, chinese):
        assert len(regex.findall(GPT2_SPLIT_PATTERN, text)) == 1
        assert gpt2.encode(text) == reference(text)["input_ids"]


def test_shipped_patterns_are_found():
    assert GPT2_SPLIT_PATTERN in PATTERNS.values() and len(PATTERNS) >= 3
