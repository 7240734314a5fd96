"""Smoke test of benchmarks/bpe.py's helpers: they must compare right answers, quickly.

The benchmark itself runs for about a minute (`make benchmarks`); these check, on small inputs,
that its three GPT-2 encoders agree, that its long-input timing checks ids and extrapolates,
and that its comparison of two trainers' merges finds the first difference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from course_utils.tokenization import BPETokenizer

BENCHMARKS = str(Path(__file__).resolve().parent.parent / "benchmarks")


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, BENCHMARKS)
    try:
        import bpe
    finally:
        sys.path.remove(BENCHMARKS)
    return bpe


def test_gpt2_encoders_agree(bench):
    text = "Hello world, it's 2024!\n\n  Spaces   and 你好，世界。" + "abc" * 50
    ids = {who: make()(text) for who, make in bench.encoders().items()}
    assert ids["course"] == ids["HF"] == ids["tiktoken"]
    assert ids["course"][:2] == [15496, 995]  # "Hello", " world" in GPT-2


def test_course_long_checks_ids_and_extrapolates(bench, monkeypatch):
    monkeypatch.setattr(bench, "REPEATS", 1)  # one fresh tokenizer for the whole text: fast
    tiktoken_encode = bench.tiktoken_gpt2().encode
    seconds, ids, growth = bench.course_long("ab" * 64, tiktoken_encode)
    assert ids == tiktoken_encode("ab" * 64) and seconds > 0 and "EXTRAPOLATED" not in growth
    with pytest.raises(AssertionError, match="differ"):
        bench.course_long("ab" * 64, lambda text: [0])
    monkeypatch.setattr(bench, "LONG_BUDGET_S", 0.0)  # only the two shortest prefixes
    seconds, ids, growth = bench.course_long("ab" * 64, tiktoken_encode)
    assert ids is None and "EXTRAPOLATED to 128" in growth


def test_compare_merges_finds_the_first_difference(bench):
    text = "aaabdaaabac"
    tok = BPETokenizer.train(text, vocab_size=259, special_tokens=(), progress=False)
    assert tok.merges == [(b"a", b"a"), (b"a", b"b"), (b"aa", b"ab")]
    assert "the same 3 in the same order" in bench.compare_merges(tok, tok.merges, text)
    # (b"a", b"b") occurs twice after the first merge, (b"b", b"d") once: not a tie.
    other = [(b"a", b"a"), (b"b", b"d"), (b"aa", b"ab")]
    line = bench.compare_merges(tok, other, text)
    assert "2 in common, the same order up to merge 1" in line
    assert "(b'a', b'b') (2 times) vs tokenizers (b'b', b'd') (1 times): NOT a tie" in line
