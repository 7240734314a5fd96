"""course_utils.generation against transformers' generate: the same tokens for the same model,
prompt and settings; the KV cache changes nothing but speed; bad settings fail clearly."""

from __future__ import annotations

import dataclasses
import itertools
import math
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from course_utils.decoding import apply_temperature
from course_utils.generation import (
    GenerationConfig,
    NextTokenLogits,
    apply_repetition_penalty,
    ban_repeated_ngrams,
    beam_search,
    generate,
    generate_with,
    greedy_search,
    load_gpt2,
    sample,
    top_k_filter,
    top_p_filter,
)
from course_utils.model import GPT, GPTConfig, KVCache

TINY = GPTConfig(vocab_size=64, block_size=48, n_layer=2, n_head=2, n_embd=32)
NEW = 20  # tokens generated in the tiny-model tests
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}  # cached vs full logits, max abs error


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def peaked_gpt(config: GPTConfig = TINY, dtype=torch.float64, seed: int = 1) -> GPT:
    """A random GPT whose weights are scaled up so that its next-token distributions are
    peaked, like a trained model's (GPT-2's init gives nearly uniform ones)."""
    model = GPT(config, seed=seed).to(dtype).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=generator, dtype=dtype))
    return model


@pytest.fixture(scope="module")
def tiny():
    """(course GPT in float64, its transformers twin, prompts (2, 5)). float64 keeps the two
    models' logits within 1e-10, so both pick the same argmax and draw the same samples."""
    model = peaked_gpt()
    prompt = torch.randint(0, TINY.vocab_size, (2, 5), generator=torch.Generator().manual_seed(0))
    return model, model.to_hf(), prompt


@pytest.fixture(scope="module")
def tiny_eos(tiny):
    """An EOS id that the tiny model produces early: row 0's 4th greedy token."""
    model, _, prompt = tiny
    return generate(model, prompt, NEW)[0, prompt.size(1) + 3].item()


def hf_generate(hf_model, prompt, max_new_tokens, *, strategy="greedy", seed=0, top_k=None,
                num_beams=1, **settings):
    """transformers' generate with every setting spelled out. Its own defaults differ: top_k=50,
    and the model's generation_config (eos_token_id, ...) fills what is not given."""
    kwargs = dict(max_new_tokens=max_new_tokens, attention_mask=torch.ones_like(prompt),
                  do_sample=strategy == "sample", num_beams=num_beams, **settings)
    if strategy == "sample":
        kwargs["top_k"] = 0 if top_k is None else top_k  # 0 switches transformers' top-k off
    with torch.random.fork_rng(devices=[]):  # the test session's global RNG stays as it was
        torch.manual_seed(seed)
        return hf_model.generate(prompt, **kwargs)


def assert_same_tokens(ours, theirs):
    assert ours.shape == theirs.shape, (ours, theirs)
    assert torch.equal(ours, theirs), (ours, theirs)


# ---------------------------------------------------------------- parity with transformers


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("penalties", [
    {}, dict(repetition_penalty=1.3), dict(no_repeat_ngram_size=2),
    dict(no_repeat_ngram_size=3), dict(repetition_penalty=1.3, no_repeat_ngram_size=2),
], ids=repr)
def test_greedy_equals_transformers(tiny, penalties, use_cache):
    model, hf_model, prompt = tiny
    ours = generate(model, prompt, NEW, use_cache=use_cache, **penalties)
    assert ours.shape == (2, 5 + NEW)
    assert_same_tokens(ours, hf_generate(hf_model, prompt, NEW, use_cache=use_cache, **penalties))


@pytest.mark.parametrize("top_p", [1.0, 0.9, 0.5])
@pytest.mark.parametrize("top_k", [None, 1, 5])
@pytest.mark.parametrize("temperature", [0.7, 1.3])
def test_sampling_equals_transformers_with_the_same_seed(tiny, temperature, top_k, top_p):
    model, hf_model, prompt = tiny
    seed = int(10 * temperature) + 3 * (top_k or 0) + int(10 * top_p)  # a different seed each
    settings = dict(temperature=temperature, top_k=top_k, top_p=top_p)
    ours = generate(model, prompt, NEW, strategy="sample", seed=seed, **settings)
    theirs = hf_generate(hf_model, prompt, NEW, strategy="sample", seed=seed, **settings)
    assert_same_tokens(ours, theirs)


@pytest.mark.parametrize("penalties", [dict(repetition_penalty=1.3),
                                       dict(no_repeat_ngram_size=2)], ids=repr)
def test_sampling_with_penalties_equals_transformers(tiny, penalties):
    model, hf_model, prompt = tiny
    ours = generate(model, prompt, NEW, strategy="sample", seed=7, top_p=0.9, **penalties)
    theirs = hf_generate(hf_model, prompt, NEW, strategy="sample", seed=7, top_p=0.9,
                         **penalties)
    assert_same_tokens(ours, theirs)


def test_sampling_draws_differ_between_seeds_and_leave_the_global_rng_alone(tiny):
    model, _, prompt = tiny
    state = torch.random.get_rng_state()
    a = generate(model, prompt, NEW, strategy="sample", seed=0)
    b = generate(model, prompt, NEW, strategy="sample", seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert not torch.equal(a, b)
    assert torch.equal(a, generate(model, prompt, NEW, strategy="sample", seed=0))
    # a torch.Generator instead of a seed: its stream goes on from one call to the next
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(generate(model, prompt, NEW, strategy="sample", generator=generator), a)
    assert not torch.equal(generate(model, prompt, NEW, strategy="sample", generator=generator),
                           a)
    # no seed and no generator: seed 0, so a call is reproducible unless asked otherwise
    assert torch.equal(generate(model, prompt, NEW, strategy="sample"), a)


@pytest.mark.parametrize("early_stopping", [True, False, "never"])
@pytest.mark.parametrize("length_penalty", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("num_beams", [1, 2, 5])
def test_beam_search_equals_transformers(tiny, tiny_eos, num_beams, length_penalty,
                                         early_stopping):
    model, hf_model, prompt = tiny
    settings = dict(num_beams=num_beams, length_penalty=length_penalty,
                    early_stopping=early_stopping, eos_token_id=tiny_eos)
    ours = generate(model, prompt, NEW, strategy="beam", **settings)
    assert_same_tokens(ours, hf_generate(hf_model, prompt, NEW, **settings))


@pytest.mark.parametrize("settings", [
    dict(num_beams=3), dict(num_beams=4, repetition_penalty=1.3),
    dict(num_beams=3, no_repeat_ngram_size=2), dict(num_beams=2, use_cache=False),
], ids=repr)
def test_beam_search_without_eos_equals_transformers(tiny, settings):
    model, hf_model, prompt = tiny
    ours = generate(model, prompt, NEW, strategy="beam", **settings)
    assert ours.shape == (2, 5 + NEW)
    assert_same_tokens(ours, hf_generate(hf_model, prompt, NEW, **settings))


def test_the_beam_settings_change_the_result(tiny, tiny_eos):
    """The parity grid above would prove little if length_penalty and early_stopping had no
    effect on this model: check that they do."""
    model, _, prompt = tiny

    def beam(**settings):
        return generate(model, prompt, NEW, strategy="beam", num_beams=5, eos_token_id=tiny_eos,
                        **settings).tolist()

    assert beam(length_penalty=0.5) != beam(length_penalty=2.0)
    assert len({str(beam(length_penalty=2.0, early_stopping=stop))
                for stop in (True, False, "never")}) >= 2
    assert beam() != generate(model, prompt, NEW, eos_token_id=tiny_eos).tolist()  # != greedy


@pytest.mark.parametrize("strategy, settings", [
    ("greedy", {}), ("sample", dict(seed=4)), ("beam", dict(num_beams=3)),
])
def test_eos_stops_a_batch_and_pads_finished_rows_like_transformers(tiny, tiny_eos, strategy,
                                                                     settings):
    model, hf_model, prompt = tiny
    pad = 63 if tiny_eos != 63 else 62
    ours = generate(model, prompt, NEW, strategy=strategy, eos_token_id=tiny_eos,
                    pad_token_id=pad, **settings)
    assert_same_tokens(ours, hf_generate(hf_model, prompt, NEW, strategy=strategy,
                                         eos_token_id=tiny_eos, pad_token_id=pad, **settings))
    if strategy == "greedy":  # row 0 ends at its 4th token (see tiny_eos), then only padding
        assert ours[0, 5 + 3].item() == tiny_eos
        assert (ours[0, 5 + 4:] == pad).all()
        alone = generate(model, prompt[:1], NEW, eos_token_id=tiny_eos, pad_token_id=pad)
        assert torch.equal(alone, ours[:1, :5 + 4])  # every row finished: the loop ends


def test_eos_can_be_several_ids_and_pad_defaults_to_the_first(tiny, tiny_eos):
    model, hf_model, prompt = tiny
    eos = [tiny_eos, 0]
    ours = generate(model, prompt, NEW, eos_token_id=eos)
    assert_same_tokens(ours, hf_generate(hf_model, prompt, NEW, eos_token_id=eos))
    assert (ours[0, 5 + 4:] == tiny_eos).all()  # padded with eos[0]


def test_transformers_models_work_through_the_same_call(tiny):
    """generate() also drives a transformers model (here the twin), with its DynamicCache."""
    model, hf_model, prompt = tiny
    for settings in (dict(strategy="greedy"), dict(strategy="sample", seed=3),
                     dict(strategy="beam", num_beams=3)):
        ours_on_hf = generate(hf_model, prompt, NEW, **settings)
        assert torch.equal(ours_on_hf, generate(model, prompt, NEW, **settings))
        assert torch.equal(ours_on_hf, generate(hf_model, prompt, NEW, use_cache=False,
                                                **settings))


def test_generate_leaves_the_model_mode_alone():
    model = peaked_gpt(GPTConfig(vocab_size=16, block_size=16, n_layer=1, n_head=1, n_embd=8,
                                 dropout=0.5))
    model.train()
    prompt = torch.tensor([[1, 2]])
    state = torch.random.get_rng_state()
    a = generate(model, prompt, 8)
    assert model.training and torch.equal(torch.random.get_rng_state(), state)  # no dropout ran
    assert torch.equal(a, generate(model.eval(), prompt, 8))


# ---------------------------------------------------------------- the KV cache


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cached_logits_equal_full_logits_token_by_token(dtype):
    model = peaked_gpt(dtype=dtype)
    idx = torch.randint(0, TINY.vocab_size, (3, TINY.block_size),
                        generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        full = model(idx)  # (B, T, V)
        cache = KVCache()
        prefill = model(idx[:, :5], kv_cache=cache)
        steps = [prefill] + [model(idx[:, t:t + 1], kv_cache=cache)
                             for t in range(5, TINY.block_size)]
    assert len(cache) == TINY.block_size
    cached = torch.cat(steps, dim=1)
    assert (cached - full).abs().max().item() <= TOL[dtype]


def test_cache_fed_in_chunks_uses_the_bottom_right_causal_mask():
    model, idx = peaked_gpt(), torch.arange(20)[None] % TINY.vocab_size
    with torch.no_grad():
        cache = KVCache()
        chunks = [model(idx[:, a:b], kv_cache=cache) for a, b in [(0, 3), (3, 7), (7, 8),
                                                                  (8, 20)]]
        torch.testing.assert_close(torch.cat(chunks, dim=1), model(idx), atol=1e-10, rtol=0)


def test_cache_reorder_follows_the_rows():
    model = peaked_gpt()
    idx = torch.randint(0, TINY.vocab_size, (3, 6), generator=torch.Generator().manual_seed(3))
    rows = torch.tensor([2, 2, 0])
    with torch.no_grad():
        cache = KVCache()
        model(idx[:, :5], kv_cache=cache)
        cache.reorder(rows)
        last = model(idx[rows, 5:], kv_cache=cache)[:, -1]
        torch.testing.assert_close(last, model(idx[rows])[:, -1], atol=1e-10, rtol=0)


@pytest.mark.parametrize("strategy, settings", [
    ("greedy", dict(repetition_penalty=1.3)), ("sample", dict(seed=5, top_k=5)),
    ("beam", dict(num_beams=4, length_penalty=0.5)),
])
def test_generate_is_the_same_with_and_without_the_cache(tiny, strategy, settings):
    model, _, prompt = tiny
    with_cache = generate(model, prompt, NEW, strategy=strategy, use_cache=True, **settings)
    without = generate(model, prompt, NEW, strategy=strategy, use_cache=False, **settings)
    assert torch.equal(with_cache, without)


def test_next_token_logits_feeds_only_new_tokens(monkeypatch):
    model = peaked_gpt()
    lengths = []
    forward = model.forward
    monkeypatch.setattr(model, "forward",
                        lambda idx, **kw: lengths.append(idx.size(1)) or forward(idx, **kw))
    generate(model, torch.tensor([[1, 2, 3, 4]]), 5)
    assert lengths == [4, 1, 1, 1, 1]
    lengths.clear()
    generate(model, torch.tensor([[1, 2, 3, 4]]), 5, use_cache=False)
    assert lengths == [4, 5, 6, 7, 8]


@pytest.mark.parametrize("twin", [False, True], ids=["course GPT", "transformers"])
def test_a_call_interrupted_half_way_through_the_layers_leaves_no_cache_to_continue(tiny, twin):
    """Ctrl-C inside the second layer: the first layer's cache has the new token, the others
    not. The next call must not continue that cache (transformers' would give wrong logits
    silently, the course GPT's a KVCache error the caller cannot act on)."""
    model = tiny[1] if twin else tiny[0]
    blocks = model.transformer.h
    next_logits, fresh = NextTokenLogits(model), NextTokenLogits(model, use_cache=False)
    ids = torch.tensor([[1, 2, 3]])
    longer = torch.cat([ids, torch.tensor([[4]])], dim=1)

    def interrupt(module, args):
        raise KeyboardInterrupt

    next_logits(ids)
    hook = blocks[1].register_forward_pre_hook(interrupt)
    with pytest.raises(KeyboardInterrupt):
        next_logits(longer)
    hook.remove()
    torch.testing.assert_close(next_logits(longer), fresh(longer), atol=1e-10, rtol=0)


@pytest.mark.parametrize("use_cache", [True, False])
def test_a_transformers_model_without_a_kv_cache_is_recomputed(use_cache):
    """Mamba keeps a recurrent state, not keys and values: its forward takes no
    past_key_values. generate recomputes each step, with transformers' generate's tokens."""
    from transformers import MambaConfig, MambaForCausalLM

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = MambaForCausalLM(MambaConfig(vocab_size=20, hidden_size=8, num_hidden_layers=1,
                                             state_size=4, expand=2, conv_kernel=2)).eval()
    prompt = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    theirs = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=5,
                            do_sample=False, pad_token_id=0, eos_token_id=None)
    assert torch.equal(generate(model, prompt, 5, use_cache=use_cache), theirs)


def test_the_cache_cannot_grow_beyond_block_size():
    model = peaked_gpt()
    cache = KVCache()
    with torch.no_grad():
        model(torch.zeros(1, TINY.block_size - 1, dtype=torch.long), kv_cache=cache)
        model(torch.zeros(1, 1, dtype=torch.long), kv_cache=cache)
        with pytest.raises(ValueError, match=r"48 cached \+ 1 new tokens exceed block_size=48"):
            model(torch.zeros(1, 1, dtype=torch.long), kv_cache=cache)
        one_row = KVCache()
        model(torch.zeros(1, 2, dtype=torch.long), kv_cache=one_row)
        with pytest.raises(ValueError, match="batch size 2 but kv_cache holds 1"):
            model(torch.zeros(2, 1, dtype=torch.long), kv_cache=one_row)


@pytest.mark.parametrize("twin", [False, True], ids=["course GPT", "transformers"])
def test_a_call_that_does_not_extend_the_last_one_gets_the_logits_of_its_own_ids(tiny, twin):
    """A new text, a shorter one, another batch, or ids changed in place: the cache of the
    last call does not apply, so the adapter starts again (it used to return wrong logits)."""
    model = tiny[1] if twin else tiny[0]
    next_logits, fresh = NextTokenLogits(model), NextTokenLogits(model, use_cache=False)
    ids = torch.tensor([[1, 2, 3]])
    calls = [ids, torch.tensor([[9, 9, 9, 4]]), torch.tensor([[9, 9, 9, 4, 5]]),
             torch.tensor([[1, 2]]), torch.tensor([[1, 2, 3], [4, 5, 6]]),
             torch.tensor([[1, 2, 3, 7], [4, 5, 6, 8]]), torch.tensor([[4, 5, 6, 8, 1]])]
    for call in calls:
        torch.testing.assert_close(next_logits(call), fresh(call), atol=1e-10, rtol=0)
    ids = torch.tensor([[1, 2, 3]])
    next_logits(ids)
    ids[0, 0] = 9  # changed in place: the adapter kept its own copy
    longer = torch.cat([ids, torch.tensor([[4]])], dim=1)
    torch.testing.assert_close(next_logits(longer), fresh(longer), atol=1e-10, rtol=0)
    assert next_logits.seen == 4


@pytest.mark.parametrize("twin", [False, True], ids=["course GPT", "transformers"])
def test_reorder_follows_the_rows_and_checks_them(tiny, twin):
    model = tiny[1] if twin else tiny[0]
    next_logits, fresh = NextTokenLogits(model), NextTokenLogits(model, use_cache=False)
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    next_logits(ids)
    with pytest.raises(ValueError, match=r"rows must hold row numbers .* in 0\.\.1, got \[2\]"):
        next_logits.reorder(torch.tensor([2]))
    next_logits.reorder(torch.tensor([1, 1, 0]))  # three rows now: two continue row 1
    longer = torch.cat([ids[[1, 1, 0]], torch.tensor([[7], [8], [9]])], dim=1)
    torch.testing.assert_close(next_logits(longer), fresh(longer), atol=1e-10, rtol=0)
    assert next_logits.seen == 4  # fed only the new tokens


def exhaustive_best(P: torch.Tensor, eos: int, max_new_tokens: int, length_penalty: float):
    """The prompt [0] followed by the best of every text beam search can finish: score
    sum(log p) / length ** length_penalty, computed exactly (Decimal: 3 ** 1000 fits)."""
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    best = None
    for length in range(1, max_new_tokens + 1):
        for text in itertools.product(range(P.size(0)), repeat=length):
            if eos in text[:-1] or (length < max_new_tokens and text[-1] != eos):
                continue
            total = sum(P[a, b].log().item() for a, b in zip((0,) + text, text))
            score = Decimal(total) / Decimal(length) ** Decimal(length_penalty)
            if best is None or score > best[0]:
                best = (score, [0, *text])
    return best[1]


@pytest.mark.parametrize("length_penalty", [-1000.0, -30.0, -1.0, 0.0, 0.5, 1.0, 2.0, 30.0,
                                            1000.0])
def test_length_penalties_of_any_size_rank_the_texts_exactly(length_penalty):
    """3 ** 1000 overflows a float (it raised OverflowError), and -1000 made every text -inf
    (an arbitrary text won): the texts are ranked by an equivalent order that cannot."""
    P = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.3, 0.3, 0.4]])  # token 2 is EOS
    bigram = lambda ids: P[ids[:, -1]].log()  # noqa: E731
    ours = beam_search(bigram, torch.tensor([[0]]), 3, num_beams=16, eos_token_id=2,
                       length_penalty=length_penalty, early_stopping="never")
    assert ours.tolist() == [exhaustive_best(P, 2, 3, length_penalty)]


def test_huge_length_penalties_choose_the_longest_or_the_shortest_text():
    P = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.3, 0.3, 0.4]])
    bigram = lambda ids: P[ids[:, -1]].log()  # noqa: E731
    run = lambda lp: beam_search(bigram, torch.tensor([[0]]), 3, num_beams=4,  # noqa: E731
                                 eos_token_id=2, length_penalty=lp, early_stopping="never")
    for huge in (1000.0, 1e308):
        assert run(-huge).tolist() == [[0, 2]]  # the shortest: EOS at once
        assert run(huge).size(1) == 4 and run(huge).tolist() == run(30.0).tolist()


# ---------------------------------------------------------------- worked examples


def how_to_generate_bigram():
    """Hugging Face's "How to generate" example as a bigram table. Tokens: 0 The, 1 nice,
    2 dog, 3 car, 4 woman, 5 house, 6 guy, 7 has. Unlisted continuations get 0.01."""
    P = torch.full((8, 8), 0.01)
    P[0, 1:4] = torch.tensor([0.5, 0.4, 0.1])
    P[1, 4:7] = torch.tensor([0.4, 0.3, 0.3])
    P[2, 7] = 0.9
    return lambda ids: P[ids[:, -1]].log()


def test_beam_search_finds_the_likelier_text_that_greedy_misses():
    bigram, prompt = how_to_generate_bigram(), torch.tensor([[0]])
    assert greedy_search(bigram, prompt, 2).tolist() == [[0, 1, 4]]  # The nice woman: 0.2
    assert beam_search(bigram, prompt, 2, num_beams=2).tolist() == [[0, 2, 7]]  # dog has: 0.36
    assert beam_search(bigram, prompt, 2, num_beams=1).tolist() == [[0, 1, 4]]


def test_processors_by_hand():
    scores = torch.tensor([[2.0, -1.0, 0.5, 0.0]])
    assert apply_repetition_penalty(scores, torch.tensor([[0, 1, 1]]), 2.0).tolist() == \
        [[1.0, -2.0, 0.5, 0.0]]
    assert ban_repeated_ngrams(scores, torch.tensor([[0, 1, 2, 0, 1]]), 3).tolist() == \
        [[2.0, -1.0, -math.inf, 0.0]]  # "0 1" was followed by 2
    assert top_k_filter(scores, 2).tolist() == [[2.0, -math.inf, 0.5, -math.inf]]
    probs = torch.tensor([[0.1, 0.6, 0.3]])
    assert top_p_filter(probs.log(), 0.6).isfinite().tolist() == [[False, True, False]]
    assert top_p_filter(probs.log(), 0.61).isfinite().tolist() == [[False, True, True]]
    assert top_p_filter(probs.log(), 1e-9).isfinite().tolist() == [[False, True, False]]


@pytest.mark.parametrize("seed", range(3))
def test_processors_equal_transformers(seed):
    from transformers import (NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor,
                              TopKLogitsWarper, TopPLogitsWarper)

    g = torch.Generator().manual_seed(seed)
    scores = 3 * torch.randn(4, 50, generator=g)
    ids = torch.randint(0, 10, (4, 30), generator=g)  # small ids: many repeated n-grams
    for ours, theirs in [
        (apply_repetition_penalty(scores, ids, 1.3), RepetitionPenaltyLogitsProcessor(1.3)),
        (ban_repeated_ngrams(scores, ids, 2), NoRepeatNGramLogitsProcessor(2)),
        (ban_repeated_ngrams(scores, ids, 3), NoRepeatNGramLogitsProcessor(3)),
        (top_k_filter(scores, 7), TopKLogitsWarper(7)),
        (top_p_filter(scores, 0.8), TopPLogitsWarper(0.8)),
    ]:
        assert torch.equal(ours, theirs(ids, scores.clone())), type(theirs).__name__


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(strategy="sample", temperature=0.0), ValueError,
     "temperature must be a finite number > 0"),
    (dict(strategy="sample", temperature=-1.0), ValueError, "strategy='greedy'"),
    (dict(strategy="sample", top_k=0), ValueError, r"top_k must be an int >= 1 or None"),
    (dict(strategy="sample", top_p=0.0), ValueError, r"top_p must be a number in \(0, 1\]"),
    (dict(strategy="sample", top_p=1.5), ValueError, r"top_p must be a number in \(0, 1\]"),
    (dict(strategy="beam", num_beams=0), ValueError, "num_beams must be an int >= 1"),
    (dict(strategy="beam"), ValueError, "num_beams is needed for strategy='beam'"),
    (dict(strategy="beam", num_beams=2, early_stopping="sometimes"), ValueError,
     "early_stopping must be one of True, False, 'never'"),
    (dict(strategy="topk"), ValueError, r"strategy must be one of 'greedy', 'sample', 'beam'"),
    (dict(temperature=0.5), ValueError, "temperature only applies to strategy='sample'"),
    (dict(num_beams=3), ValueError, "num_beams only applies to strategy='beam'"),
    (dict(seed=3), ValueError, "seed only applies to strategy='sample'"),
    (dict(repetition_penalty=0.0), ValueError, r"repetition_penalty must be a finite number > 0"),
    (dict(no_repeat_ngram_size=-1), ValueError, "no_repeat_ngram_size must be an int >= 0"),
    (dict(eos_token_id="</s>"), TypeError, "eos_token_id must be an int >= 0"),
    (dict(strategy="sample", seed=1.5), TypeError, "seed must be an int >= 0 or None"),
    (dict(max_new_tokens=-1), ValueError, "max_new_tokens must be an int >= 0"),
    (dict(max_new_tokens=44), ValueError,
     r"T=5 prompt tokens \+ max_new_tokens=44 exceed the model's context of 48 positions; "
     r"use max_new_tokens <= 43"),
])
def test_bad_settings_are_rejected(kwargs, error, match):
    model, prompt = GPT(TINY), torch.zeros(1, 5, dtype=torch.long)
    kwargs = {"max_new_tokens": 4, **kwargs}
    with pytest.raises(error, match=match):
        generate(model, prompt, **kwargs)


@pytest.mark.parametrize("input_ids, error, match", [
    (torch.zeros(1, 0, dtype=torch.long), ValueError, r"the prompt is empty \(T = 0\)"),
    (torch.zeros(1, 49, dtype=torch.long), ValueError,
     r"T=49 tokens, more than the model's context of 48; keep its last tokens"),
    (torch.zeros(1, 3), TypeError, "LongTensor"),
    ([[1, 2, 3]], TypeError, "LongTensor"),
    (torch.zeros(3, dtype=torch.long), ValueError, r"shape \(B, T\).*input_ids\[None\]"),
    (torch.full((1, 3), 64), ValueError, r"input_ids must hold token ids in 0\.\.63 "
                                         r"\(vocab_size=64\), got 64"),
])
def test_bad_prompts_are_rejected(input_ids, error, match):
    with pytest.raises(error, match=match):
        generate(GPT(TINY), input_ids, max_new_tokens=0)


def test_other_models_are_rejected():
    with pytest.raises(TypeError, match="the course GPT or Llama or a transformers causal LM"):
        generate(torch.nn.Linear(2, 2), torch.zeros(1, 2, dtype=torch.long), 2)


def test_zero_new_tokens_returns_the_prompt():
    prompt = torch.tensor([[1, 2, 3]])
    for settings in (dict(), dict(strategy="sample"), dict(strategy="beam", num_beams=2)):
        assert torch.equal(generate(GPT(TINY), prompt, 0, **settings), prompt)


def test_importing_generation_does_not_import_transformers():
    code = "import sys, course_utils.generation; print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- degenerate numbers


def nan_at_step(step: int, vocab_size: int = 4):
    """next_logits that return finite logits, then NaN (row 1 only) from `step` on."""
    def next_logits(ids):
        logits = torch.zeros(ids.size(0), vocab_size)
        if ids.size(1) - 2 >= step:  # the prompts below have 2 tokens
            logits[1] = float("nan")
        return logits
    return next_logits


@pytest.mark.parametrize("run", [
    lambda f, ids: greedy_search(f, ids, 5),
    lambda f, ids: sample(f, ids, 5, generator=torch.Generator().manual_seed(0)),
    lambda f, ids: beam_search(f, ids[:1].repeat(2, 1), 5, num_beams=1),
    lambda f, ids: beam_search(f, ids, 5, num_beams=2),
], ids=["greedy", "sample", "beam-1", "beam-2"])
def test_nan_logits_are_an_error_naming_the_step(run):
    """transformers' greedy search silently emits token 0 for NaN logits, and its sampling
    fails inside torch.multinomial; the course's strategies stop with the step and the row."""
    ids = torch.tensor([[0, 1], [2, 3]])
    with pytest.raises(ValueError, match=r"NaN or infinite logits at step 2, row 1"):
        run(nan_at_step(2), ids)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_model_with_broken_weights_is_an_error(value):
    model = GPT(TINY)
    with torch.no_grad():
        model.transformer.ln_f.bias[0] = value
    for settings in (dict(), dict(strategy="sample"), dict(strategy="beam", num_beams=2)):
        with pytest.raises(ValueError, match="check its weights"):
            generate(model, torch.tensor([[1, 2]]), 3, **settings)


def test_a_step_that_bans_every_token_is_an_error():
    """Four tokens, each already in the prompt, and no_repeat_ngram_size=1: nothing is left."""
    model = GPT(GPTConfig(vocab_size=4, block_size=16, n_layer=1, n_head=1, n_embd=4))
    prompt = torch.tensor([[0, 1, 2], [0, 1, 1]])
    for settings in (dict(), dict(strategy="sample"), dict(strategy="beam", num_beams=2)):
        # step 0 leaves token 3 to both rows; step 1 leaves nothing
        with pytest.raises(ValueError, match="every token is banned at step 1, row 0"):
            generate(model, prompt, 3, no_repeat_ngram_size=1, **settings)


@pytest.mark.parametrize("strategy", ["greedy", "sample"])
def test_a_finished_row_may_have_every_token_banned(strategy):
    """Row 0 stops (EOS = 2) at once; its later steps ban everything, but it is only padded."""
    scores = torch.tensor([0.0, 2.0, 1.0])  # token 1 is the favourite, then 2
    next_logits = lambda ids: scores.repeat(ids.size(0), 1)  # noqa: E731
    prompt = torch.tensor([[0, 1], [0, 0]])
    settings = dict(no_repeat_ngram_size=1, eos_token_id=2)
    if strategy == "greedy":
        out = greedy_search(next_logits, prompt, 3, **settings)
    else:
        out = sample(next_logits, prompt, 3, generator=torch.Generator(), top_k=1, **settings)
    assert out.tolist() == [[0, 1, 2, 2], [0, 0, 1, 2]]


def test_a_temperature_that_overflows_is_greedy(tiny):
    model, hf_model, prompt = tiny
    greedy = generate(model, prompt, NEW)
    for settings in (dict(), dict(top_k=5), dict(top_p=0.9), dict(repetition_penalty=1.3)):
        tokens = generate(model, prompt, NEW, strategy="sample", temperature=1e-40, seed=3,
                          **settings)
        assert torch.equal(tokens, generate(model, prompt, NEW, **{
            k: v for k, v in settings.items() if k == "repetition_penalty"})), settings
    assert torch.equal(greedy, generate(model, prompt, NEW, strategy="sample", temperature=1e-40))
    with pytest.raises(RuntimeError, match="probability tensor contains"):  # transformers
        hf_generate(hf_model, prompt, NEW, strategy="sample", temperature=1e-40)


@pytest.mark.parametrize("temperature", [1e-3, 1e-30])
def test_tiny_temperatures_that_do_not_overflow_still_equal_transformers(tiny, temperature):
    model, hf_model, prompt = tiny
    ours = generate(model, prompt, NEW, strategy="sample", temperature=temperature, seed=5)
    theirs = hf_generate(hf_model, prompt, NEW, strategy="sample", temperature=temperature,
                         seed=5)
    assert_same_tokens(ours, theirs)


def test_apply_temperature_makes_only_the_overflowing_rows_greedy():
    scores = torch.tensor([[50.0, 49.0, -1.0],  # 50 / 1e-37 overflows float32: greedy
                           [-50.0, -40.0, -60.0],  # all -inf after the division: greedy
                           [1e-30, 0.0, 2e-30],  # small enough to stay finite: divided
                           [float("-inf")] * 3])  # every token banned: left to the strategy
    out = apply_temperature(scores, 1e-37)
    inf = math.inf
    assert out[:2].tolist() == [[0.0, -inf, -inf], [-inf, 0.0, -inf]]
    torch.testing.assert_close(out[2], scores[2] / 1e-37)
    assert out[3].isneginf().all()
    assert torch.equal(apply_temperature(scores[2:3], 1e-37), scores[2:3] / 1e-37)


# ---------------------------------------------------------------- seeds, generators, config


def test_seed_and_generator_are_separate_settings(tiny):
    model, _, prompt = tiny
    with pytest.raises(TypeError, match="pass it as generator="):
        generate(model, prompt, 2, strategy="sample", seed=torch.Generator())
    with pytest.raises(ValueError, match="seed=0 and a generator were both given"):
        generate(model, prompt, 2, strategy="sample", seed=0, generator=torch.Generator())
    with pytest.raises(ValueError, match=r"seed must be an int from 0 to 2\*\*64 - 1"):
        generate(model, prompt, 2, strategy="sample", seed=2**70)
    top = generate(model, prompt, 2, strategy="sample", seed=2**64 - 1)  # the largest seed
    assert top.shape == (2, 7)


def test_numpy_numbers_are_stored_as_plain_ints_and_floats(tiny):
    """A NumPy seed used to pass the check and then fail inside torch.Generator.manual_seed."""
    model, _, prompt = tiny
    config = GenerationConfig(max_new_tokens=np.int64(4), strategy="sample", seed=np.uint64(3),
                              temperature=np.float32(0.5), top_k=np.int64(5),
                              top_p=np.float64(0.9), eos_token_id=[np.int64(1)],
                              pad_token_id=np.int32(0), repetition_penalty=np.float64(1.2))
    for name in ("max_new_tokens", "seed", "top_k", "pad_token_id"):
        assert type(getattr(config, name)) is int, name
    for name in ("temperature", "top_p", "repetition_penalty"):
        assert type(getattr(config, name)) is float, name
    assert config.eos_token_id == [1] and type(config.eos_token_id[0]) is int
    assert GenerationConfig(eos_token_id=np.int64(7)).eos_token_id == 7
    assert GenerationConfig(strategy="beam", num_beams=np.int8(2)).num_beams == 2
    assert torch.equal(generate(model, prompt, 4, strategy="sample", seed=np.int64(3)),
                       generate(model, prompt, 4, strategy="sample", seed=3))


def test_generation_config_is_checked_once_and_drives_generate(tiny):
    model, _, prompt = tiny
    config = GenerationConfig(max_new_tokens=NEW, strategy="beam", num_beams=3,
                              length_penalty=0.5, eos_token_id=[5, 7])
    assert torch.equal(generate_with(model, prompt, config),
                       generate(model, prompt, NEW, strategy="beam", num_beams=3,
                                length_penalty=0.5, eos_token_id=[5, 7]))
    with pytest.raises(TypeError, match="config must be a GenerationConfig"):
        generate_with(model, prompt, dict(strategy="greedy"))
    with pytest.raises(dataclasses.FrozenInstanceError):  # what was checked cannot change
        config.num_beams = 0
    with pytest.raises(ValueError, match="num_beams must be an int >= 1"):  # a copy is checked
        dataclasses.replace(config, num_beams=0)


def test_every_public_name_is_importable_from_generation():
    import course_utils.generation as generation

    for name in ("generate", "greedy_search", "sample", "beam_search", "NextTokenLogits",
                 "apply_repetition_penalty", "ban_repeated_ngrams", "top_k_filter",
                 "top_p_filter", "load_gpt2", "load_smollm2", "STRATEGIES", "GenerationConfig"):
        assert name in generation.__all__ and hasattr(generation, name), name
    assert generation.STRATEGIES == ("greedy", "sample", "beam")


# ---------------------------------------------------------------- the reference model


@pytest.fixture
def offline_without_gpt2(monkeypatch, tmp_path):
    """Offline, and a hub cache without GPT-2 in it, even on a machine that has it cached."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))


def test_load_gpt2_offline_falls_back_to_the_reference_model_quickly_and_quietly(
        offline_without_gpt2, capfd):
    import transformers  # noqa: F401  (its import time is not load_gpt2's)

    capfd.readouterr()
    start = time.perf_counter()
    model, tokenizer, source = load_gpt2()
    seconds = time.perf_counter() - start
    assert capfd.readouterr() == ("", "")
    assert seconds < 10, f"{seconds:.1f} s"
    assert source == "course reference model (data/reference_model)"
    assert type(model).__name__ == "GPT2LMHeadModel" and not model.training
    assert model.config.n_positions == 128 and tokenizer.decode(tokenizer.encode("KING")) == "KING"


@pytest.fixture(scope="module")
def reference():
    """(transformers reference model, the course GPT with its weights, a Shakespeare prompt)."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    from course_utils.data import reference_model_path

    path = reference_model_path()
    hf_model = GPT2LMHeadModel.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    prompt = torch.tensor([tokenizer.encode("KING HENRY:\nWhat say you, my lord?\n")[:12],
                           tokenizer.encode("ROMEO:\nBut soft, what light through yonder")[:12]])
    return hf_model, GPT.from_hf(hf_model), prompt


@pytest.mark.parametrize("strategy, settings", [
    ("greedy", {}), ("greedy", dict(repetition_penalty=1.3, no_repeat_ngram_size=3)),
    ("sample", dict(seed=0, temperature=0.8, top_k=50, top_p=0.95)),
    ("beam", dict(num_beams=4, length_penalty=1.0)),
])
def test_the_reference_model_generates_like_transformers(reference, strategy, settings):
    """Realistic distributions, float32: the course GPT and transformers' model of the same
    weights, and generate() on transformers' model, all give transformers' tokens."""
    hf_model, model, prompt = reference
    new = 100  # 12 + 100 of the 128 positions
    theirs = hf_generate(hf_model, prompt, new, strategy=strategy, **settings)
    assert_same_tokens(generate(hf_model, prompt, new, strategy=strategy, **settings), theirs)
    assert_same_tokens(generate(model, prompt, new, strategy=strategy, **settings), theirs)


def test_the_reference_model_cannot_generate_past_its_context(reference):
    _, model, prompt = reference
    with pytest.raises(ValueError, match="use max_new_tokens <= 116"):
        generate(model, prompt, 117)
    assert generate(model, prompt, 116).shape == (2, 128)


# ---------------------------------------------------------------- SmolLM2 (a Llama)

@pytest.fixture(scope="module")
def smollm2(smollm2_loaded):
    """SmolLM2 as load_smollm2 gives it (loaded once per test process, recording what the load
    printed and how long it took: conftest.py), and two 5-token prompts."""
    tokenizer = smollm2_loaded["tokenizer"]
    prompts = ["The capital of France is", "Once upon a time, there"]
    return dict(smollm2_loaded,
                prompt=torch.tensor([tokenizer.encode(p)[:5] for p in prompts]))


def test_the_gguf_progress_bar_is_hidden_during_a_load_and_given_back():
    """In a notebook, transformers' GGUF bar is a widget that no redirect of stdout catches."""
    import transformers.modeling_gguf_pytorch_utils as gguf

    from course_utils.pretrained import _no_gguf_progress_bar

    drawn = gguf.tqdm
    with _no_gguf_progress_bar():
        assert gguf.tqdm(range(3)).disable
    assert gguf.tqdm is drawn


@pytest.mark.slow
def test_smollm2_loads_quietly(smollm2):
    assert smollm2["printed"] == ("", "")
    model = smollm2["model"]
    assert type(model).__name__ == "LlamaForCausalLM" and not model.training
    assert model.dtype == torch.float32
    print(f"load_smollm2: {smollm2['seconds']:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("strategy, settings", [
    ("greedy", {}),
    ("greedy", dict(repetition_penalty=1.3)),
    ("sample", dict(seed=0, temperature=0.8, top_k=50, top_p=0.95)),
    ("beam", dict(num_beams=3, length_penalty=2.0, early_stopping="never")),
])
def test_smollm2_generates_like_transformers(smollm2, strategy, settings):
    model, tokenizer, prompt = smollm2["model"], smollm2["tokenizer"], smollm2["prompt"]
    settings = dict(settings, eos_token_id=tokenizer.eos_token_id)  # its generation_config's
    ours = generate(model, prompt, 12, strategy=strategy, **settings)
    assert_same_tokens(ours, hf_generate(model, prompt, 12, strategy=strategy, **settings))


@pytest.mark.slow
def test_smollm2_with_and_without_the_cache(smollm2):
    model, prompt = smollm2["model"], smollm2["prompt"][:1]
    with_cache = generate(model, prompt, 8)
    assert torch.equal(with_cache, generate(model, prompt, 8, use_cache=False))
    assert smollm2["tokenizer"].decode(with_cache[0, :5]) == "The capital of France is"


def test_next_token_logits_is_float32_for_any_model_dtype(tiny):
    model, _, prompt = tiny
    assert model.lm_head.weight.dtype == torch.float64
    assert NextTokenLogits(model)(prompt).dtype == torch.float32
