"""The tokenization exercises that build something real: a BPE trainer whose separator no
merge may cross (checked against BPETokenizer.train), and bpe_encode on the package's merges."""

from __future__ import annotations

from collections import Counter

import pytest
import regex

from course_utils import bpe
from course_utils import exercises as ex
from exercise_judge import judge
from course_utils.tokenization import GPT2_SPLIT_PATTERN, BPETokenizer


def trainer(*, cut=True, pretokenize=True, weighted=True, first_max=False, as_ids=False):
    """A separator BPE trainer, right by default; each flag is one typical mistake."""
    def train(text, num_merges, separator):
        pieces = text.split(separator) if cut else [text]
        chunk_counts = Counter(c for piece in pieces for c in (
            regex.findall(GPT2_SPLIT_PATTERN, piece) if pretokenize else [piece]))
        chunks = [list(c.encode("utf-8")) for c in chunk_counts]
        freqs = list(chunk_counts.values()) if weighted else [1] * len(chunks)
        if first_max:  # minbpe's tie-break: the first pair counted among the most frequent
            pairs = []
            for new_id in range(256, 256 + num_merges):
                stats = Counter()
                for ids, n in zip(chunks, freqs):
                    for pair in zip(ids, ids[1:]):
                        stats[pair] += n
                pairs.append(max(stats, key=stats.get))
                chunks = [bpe.merge(ids, pairs[-1], new_id) for ids in chunks]
        else:
            pairs = bpe.train_naive(chunks, freqs, num_merges, progress=False)
        if as_ids:
            return pairs
        vocab = {i: bytes([i]) for i in range(256)}
        for new_id, (a, b) in enumerate(pairs, start=256):
            vocab[new_id] = vocab[a] + vocab[b]
        return [(vocab[a], vocab[b]) for a, b in pairs]
    return train


def package(text, num_merges, separator):
    return BPETokenizer.train(text, 256 + num_merges + 1, special_tokens=(separator,),
                              progress=False).merges


def test_the_right_trainer_and_the_package_are_correct(capsys):
    for answer in (trainer(), package):
        result = judge(capsys, ex.check_bpe_separator, answer)
        assert result.code == "bpe_separator.correct" and result.outcome == "correct"
        assert result.text.startswith("✓ correct: your 30 merges")


@pytest.mark.parametrize(("answer", "code", "params"), [
    (trainer(cut=False), "bpe_separator.crosses", {"index": 12, "token": "b'<|'"}),
    (trainer(pretokenize=False), "bpe_separator.pretokenize", {"index": 2}),
    (trainer(weighted=False), "bpe_separator.unweighted", {"index": 0}),
    (trainer(first_max=True), "bpe_separator.tie_break", {"index": 2}),
    (trainer(as_ids=True), "bpe_separator.ids", {}),
    (lambda text, n, sep: package(text, n, sep)[:-1], "bpe_separator.count", {"count": 29}),
    # the separator of the first text, hard-coded: the second text's separator is merged
    (lambda text, n, sep: package(text, n, "<|endoftext|>"), "bpe_separator.crosses",
     {"separator": "'<|poem|>'"}),
    (lambda text, n, sep: package(text, n, sep)[::-1], "bpe_separator.first_difference",
     {"index": 0}),
    (lambda text, n, sep: "merges", "bpe_separator.not_merges", {"got": "'merges'"}),
    (lambda text, n, sep: [b"ab"] * n, "bpe_separator.not_merges", {}),
    (lambda text, n, sep: 1 / 0, "raised", {"error": "ZeroDivisionError: division by zero"}),
    (42, "not_a_function", {"type": "int"}),
])
def test_typical_mistakes_get_their_hint(capsys, answer, code, params):
    result = judge(capsys, ex.check_bpe_separator, answer)
    assert (result.code, result.outcome) == (code, "wrong"), result.text
    assert params.items() <= result.params.items(), result.params


class Junk:
    def __eq__(self, other):
        raise RuntimeError("no ==")

    __hash__ = None

    def __iter__(self):
        raise RuntimeError("no iter")


@pytest.mark.parametrize("answer", [
    "text", b"bytes", 3.5, True, [], {}, Junk(), print,
    lambda *a: Junk(), lambda *a: [Junk()], lambda *a: [(Junk(), Junk())] * 30,
    lambda *a: [(b"a", b"b", b"c")] * 30, lambda *a: None, lambda *a: {"a": 1},
    lambda *a: [(b"\xff" * 10**6, b"x")] * 30,
])
def test_garbage_gets_one_short_wrong_line(capsys, answer):
    result = judge(capsys, ex.check_bpe_separator, answer)
    assert result.outcome == "wrong", result.text


def test_bpe_encode_is_checked_against_the_package_too(capsys):
    def encode_whole_words(text, merges):  # right on the hand cases, wrong on real text
        if text.startswith("that"):
            return list(text.encode("utf-8"))
        ids = list(text.encode("utf-8"))
        while len(ids) >= 2:
            pair = min(zip(ids, ids[1:]), key=lambda p: merges.get(p, float("inf")))
            if pair not in merges:
                break
            ids = bpe.merge(ids, pair, merges[pair])
        return ids

    result = judge(capsys, ex.check_bpe_encode, encode_whole_words)
    assert result.code == "returned" and result.params["args"].startswith("'that hat sat")
