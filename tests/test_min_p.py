"""Min-p sampling: `min_p_filter` equals transformers' MinPLogitsWarper bit for bit, and
`generate(..., strategy="sample", min_p=...)` writes the same tokens as `model.generate`."""

from __future__ import annotations

import math

import pytest
import torch
from test_generation import NEW, TINY, assert_same_tokens, hf_generate, peaked_gpt

from course_utils.decoding import ScoreSteps, min_p_filter, top_p_filter
from course_utils.generation import GenerationConfig, generate

INF = math.inf


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


@pytest.fixture(scope="module")
def tiny():
    model = peaked_gpt()
    prompt = torch.randint(0, TINY.vocab_size, (2, 5), generator=torch.Generator().manual_seed(0))
    return model, model.to_hf(), prompt


def warper(scores: torch.Tensor, min_p: float) -> torch.Tensor:
    from transformers import MinPLogitsWarper

    return MinPLogitsWarper(min_p=min_p)(None, scores.clone())


def test_min_p_by_hand():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05], [0.25, 0.25, 0.25, 0.25]])
    kept = min_p_filter(probs.log(), 0.2).isfinite().tolist()
    assert kept == [[True, True, True, False], [True, True, True, True]]  # cut 0.1, 0.05
    assert min_p_filter(probs.log(), 0.7).isfinite().tolist() == [
        [True, False, False, False], [True, True, True, True]]  # cut 0.35: a flat row stays
    assert min_p_filter(probs.log(), 0.0).isfinite().all()  # 0 keeps every token
    assert min_p_filter(probs.log(), 1.0).isfinite().sum().item() == 1 + 4  # top and its ties


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("seed", range(4))
def test_min_p_filter_equals_transformers_on_random_scores(seed, dtype):
    g = torch.Generator().manual_seed(seed)
    scores = (4 * torch.randn(6, 100, generator=g)).to(dtype)
    scores[0, :30] = -INF  # banned tokens
    for min_p in (0.0, 1e-6, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 0.999, 1.0):
        ours = min_p_filter(scores, min_p)
        assert ours.dtype == dtype
        assert torch.equal(ours, warper(scores, min_p)), min_p


@pytest.mark.parametrize("scores", [
    [[1.0, 1.0, 1.0, 0.0]],  # ties at the top
    [[0.0, 0.0, 0.0, 0.0]],  # a uniform row
    [[3.0]],  # one token
    [[-INF, 2.0, -INF, 1.0]],  # banned tokens
    [[-INF, -INF, 5.0, -INF]],  # one token left
    [[100.0, 0.0, -100.0, 99.0]],  # probabilities that underflow to 0
    [[-1e30, 1e30, 0.0, 1e30]],  # huge but finite
    [[2.0, 1.0, 0.5], [-INF, 0.0, 0.0]],  # rows differ
], ids=repr)
@pytest.mark.parametrize("min_p", [0.0, 0.1, 0.5, 1.0])
def test_min_p_filter_equals_transformers_on_edge_scores(scores, min_p):
    scores = torch.tensor(scores)
    ours = min_p_filter(scores, min_p)
    assert torch.equal(ours, warper(scores, min_p))
    assert ours.isfinite().any(dim=-1).all()  # the most likely token always stays


def test_min_p_comes_after_top_p_as_in_transformers():
    """Order matters: top-p measures cumulative probability, which min-p's cut would change
    if it came first; steps.reshape must equal the two warpers in transformers' order."""
    from transformers import TopPLogitsWarper

    g = torch.Generator().manual_seed(5)
    scores = 2 * torch.randn(4, 50, generator=g)
    steps = ScoreSteps(top_p=0.8, min_p=0.2)
    theirs = warper(TopPLogitsWarper(0.8)(None, scores.clone()), 0.2)
    assert torch.equal(steps.reshape(scores), theirs)
    assert torch.equal(steps.reshape(scores), min_p_filter(top_p_filter(scores, 0.8), 0.2))
    assert not torch.equal(steps.reshape(scores), top_p_filter(min_p_filter(scores, 0.2), 0.8))


@pytest.mark.parametrize("settings", [
    dict(min_p=0.05), dict(min_p=0.3), dict(min_p=0.0), dict(min_p=1.0),
    dict(min_p=0.1, temperature=1.5), dict(min_p=0.2, temperature=0.6),
    dict(min_p=0.1, top_k=5), dict(min_p=0.1, top_p=0.9),
    dict(min_p=0.15, temperature=1.3, top_k=8, top_p=0.95),
    dict(min_p=0.1, repetition_penalty=1.3, no_repeat_ngram_size=2),
], ids=repr)
def test_sampling_with_min_p_equals_transformers(tiny, settings):
    model, hf_model, prompt = tiny
    seed = 11 + int(100 * settings["min_p"])
    ours = generate(model, prompt, NEW, strategy="sample", seed=seed, **settings)
    theirs = hf_generate(hf_model, prompt, NEW, strategy="sample", seed=seed, **settings)
    assert_same_tokens(ours, theirs)


def test_min_p_changes_what_is_drawn(tiny):
    """The comparisons above could pass with min_p ignored on both sides; it must matter."""
    model, _, prompt = tiny
    plain = generate(model, prompt, NEW, strategy="sample", seed=1, temperature=2.0)
    cut = generate(model, prompt, NEW, strategy="sample", seed=1, temperature=2.0, min_p=0.5)
    assert not torch.equal(plain, cut)
    greedy = generate(model, prompt, NEW)
    assert torch.equal(generate(model, prompt, NEW, strategy="sample", seed=1, min_p=1.0),
                       greedy)  # only the top token is left (the tiny model has no ties)


@pytest.mark.parametrize("min_p, error, match", [
    (-0.1, ValueError, r"min_p must be a number in \[0, 1\] or None"),
    (1.5, ValueError, r"min_p must be a number in \[0, 1\]"),
    (math.nan, ValueError, "min_p must be"),
    ("0.1", TypeError, "min_p must be"),
    (True, TypeError, "min_p must be"),
])
def test_bad_min_p_is_refused(min_p, error, match):
    with pytest.raises(error, match=match):
        GenerationConfig(strategy="sample", min_p=min_p)
    with pytest.raises(error, match=match.replace(" or None", "")):
        min_p_filter(torch.zeros(1, 3), min_p)


def test_min_p_is_for_sampling_only():
    with pytest.raises(ValueError, match="min_p only applies to strategy='sample'"):
        GenerationConfig(min_p=0.1)
    assert GenerationConfig(strategy="sample", min_p=0).min_p == 0.0  # stored as a float
