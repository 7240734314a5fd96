"""Prompt-lookup decoding: the drafts of transformers' PromptLookupCandidateGenerator, greedy
search's tokens (course generate and transformers' prompt-lookup generate), fewer forward passes
where the text repeats, for the course GPT, the course Llama and transformers models."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_generation import TINY, peaked_gpt
from test_llama import _hf_model

from course_utils.generation import generate
from course_utils.llama import Llama
from course_utils.llama_cache import StaticKVCache
from course_utils.multihead import KVCache
from course_utils.prompt_lookup import PromptLookupResult, find_draft, prompt_lookup_generate

REPETITIVE = torch.tensor([[3, 7, 9, 11, 3, 7, 9, 11, 3, 7, 9, 11, 3, 7]])
DISTINCT = torch.tensor([[10, 9, 35, 20, 42, 45]])  # `tiny` goes on 28 56 52 25 49 39: new
WIDE = dataclasses.replace(TINY, block_size=128)


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


@pytest.fixture(scope="module")
def tiny():
    """(course GPT in float64, its transformers twin): the logits agree to 1e-10. A context
    of 128: transformers' drafts may reach max_new_tokens + num_draft_tokens past the prompt
    (and beyond GPT-2's position embeddings, an IndexError); this module's stop in time."""
    model = peaked_gpt(WIDE)
    return model, model.to_hf()


@pytest.fixture(scope="module")
def llama_pair():
    """(transformers LlamaForCausalLM in float64, the course Llama with its weights)."""
    hf_model = _hf_model()
    return hf_model, Llama.from_hf(hf_model).eval()


def hf_prompt_lookup(hf_model, prompt, max_new_tokens, *, num_draft_tokens=10,
                     max_ngram_size=2, eos_token_id=None):
    """transformers' prompt-lookup generate, and the forward passes it made."""
    calls = []
    hook = hf_model.register_forward_hook(lambda *args: calls.append(1))
    try:
        ids = hf_model.generate(prompt, attention_mask=torch.ones_like(prompt),
                                max_new_tokens=max_new_tokens, do_sample=False,
                                prompt_lookup_num_tokens=num_draft_tokens,
                                max_matching_ngram_size=max_ngram_size,
                                eos_token_id=eos_token_id,
                                pad_token_id=eos_token_id[0] if isinstance(eos_token_id, list)
                                else eos_token_id)
    finally:
        hook.remove()
    return ids, len(calls)


# ---------------------------------------------------------------- the draft


def test_find_draft_by_hand():
    assert find_draft([5, 1, 2, 3, 9, 1, 2]) == [3, 9, 1, 2]  # after the earlier "1 2"
    assert find_draft([1, 2, 3, 4, 7, 2, 3, 5, 2, 3], num_draft_tokens=2) == [4, 7]  # the first
    assert find_draft([4, 8, 6, 9, 8]) == [6, 9, 8]  # no "9 8" before: the 1-gram "8"
    assert find_draft([4, 8, 6, 9, 8], max_ngram_size=1, num_draft_tokens=1) == [6]
    assert find_draft([1, 2, 3]) == [] and find_draft([7]) == [] and find_draft([]) == []
    assert find_draft([2, 2]) == [2]  # the window before the last one
    assert find_draft([4, 8, 6, 9, 8], eos_token_id=9) == [6]  # cut before EOS
    assert find_draft([4, 8, 9, 6, 8, 7, 8], eos_token_id=[9]) == []  # the first match wins
    assert find_draft(torch.tensor([[5, 1, 2, 3, 1, 2]])) == find_draft([5, 1, 2, 3, 1, 2])


@pytest.mark.parametrize("seed", range(6))
def test_find_draft_equals_transformers_prompt_lookup_candidates(seed):
    from transformers.generation.candidate_generator import PromptLookupCandidateGenerator

    g = torch.Generator().manual_seed(seed)
    for T in (1, 2, 3, 5, 12, 40):
        ids = torch.randint(0, 2 + seed, (1, T), generator=g)  # small vocabularies: repeats
        for n, k, eos in [(2, 10, None), (1, 3, None), (3, 1, None), (4, 5, [1]), (2, 10, [0])]:
            generator = PromptLookupCandidateGenerator(
                eos_token_id=None if eos is None else torch.tensor(eos), num_output_tokens=k,
                max_matching_ngram_size=n, max_length=10_000)
            candidates, _ = generator.get_candidates(ids)
            expected = candidates[0, T:].tolist()
            assert find_draft(ids, max_ngram_size=n, num_draft_tokens=k,
                              eos_token_id=eos) == expected, (ids, n, k, eos)


# ---------------------------------------------------------------- the tokens of greedy search


@pytest.mark.parametrize("settings", [
    dict(), dict(num_draft_tokens=3, max_ngram_size=1), dict(num_draft_tokens=1, max_ngram_size=3),
    dict(num_draft_tokens=20, max_ngram_size=4),
], ids=repr)
@pytest.mark.parametrize("prompt", [REPETITIVE, DISTINCT, torch.tensor([[5]])],
                         ids=["repetitive", "distinct", "one token"])
def test_the_tokens_are_greedy_searchs_and_transformers(tiny, prompt, settings):
    model, hf_model = tiny
    new = 30
    result = prompt_lookup_generate(model, prompt, new, **settings)
    assert isinstance(result, PromptLookupResult) and result.ids.shape == (1, prompt.size(1) + new)
    assert torch.equal(result.ids, generate(model, prompt, new))
    theirs, passes = hf_prompt_lookup(hf_model, prompt, new, **settings)
    assert torch.equal(result.ids, theirs)
    assert result.forward_passes == passes  # the same drafts, accepted the same way
    through_hf = prompt_lookup_generate(hf_model, prompt, new, **settings)
    assert torch.equal(through_hf.ids, theirs) and through_hf.forward_passes == passes
    assert result.new_tokens == new == result.forward_passes + result.draft_tokens_accepted
    assert result.draft_tokens_accepted <= result.draft_tokens_proposed


def test_a_repetitive_text_takes_fewer_forward_passes(tiny):
    model, _ = tiny
    result = prompt_lookup_generate(model, REPETITIVE, 30)
    assert result.forward_passes < 30 and result.draft_tokens_accepted > 0
    assert result.tokens_per_pass == 30 / result.forward_passes


def test_a_text_without_repeats_takes_one_pass_per_token(tiny):
    model, _ = tiny
    result = prompt_lookup_generate(model, DISTINCT, 6)
    written = result.ids[0].tolist()
    assert len(set(written)) == len(written)  # nothing to copy from, at any step
    assert (result.forward_passes, result.draft_tokens_proposed) == (6, 0)
    assert torch.equal(result.ids, generate(model, DISTINCT, 6))


@pytest.mark.parametrize("eos_position", [0, 3, 12])
def test_eos_stops_it_where_greedy_stops(tiny, eos_position):
    model, hf_model = tiny
    eos = generate(model, REPETITIVE, 20)[0, REPETITIVE.size(1) + eos_position].item()
    ours = prompt_lookup_generate(model, REPETITIVE, 20, eos_token_id=eos)
    expected = generate(model, REPETITIVE, 20, eos_token_id=eos)
    assert torch.equal(ours.ids, expected) and ours.ids[0, -1].item() == eos
    assert ours.new_tokens == expected.size(1) - REPETITIVE.size(1) <= eos_position + 1
    assert torch.equal(ours.ids, hf_prompt_lookup(hf_model, REPETITIVE, 20, eos_token_id=eos)[0])


def test_eos_in_the_prompt_cuts_the_drafts(tiny):
    """11 is in the repeated part: drafts stop before it, greedy search's tokens stay."""
    model, hf_model = tiny
    ours = prompt_lookup_generate(model, REPETITIVE, 15, eos_token_id=[11, 63])
    assert torch.equal(ours.ids, generate(model, REPETITIVE, 15, eos_token_id=[11, 63]))
    assert torch.equal(ours.ids, hf_prompt_lookup(hf_model, REPETITIVE, 15,
                                                  eos_token_id=[11, 63])[0])
    assert find_draft(REPETITIVE, eos_token_id=11) == [9]


def test_the_course_llama_equals_transformers(llama_pair):
    hf_model, model = llama_pair
    prompt = torch.tensor([[3, 8, 1, 4, 3, 8, 1, 4, 3, 8]])
    new = 32 - prompt.size(1)  # up to the context, max_position_embeddings=32
    ours = prompt_lookup_generate(model, prompt, new, num_draft_tokens=4)
    theirs, passes = hf_prompt_lookup(hf_model, prompt, new, num_draft_tokens=4)
    greedy = hf_model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                               max_new_tokens=new, eos_token_id=None, pad_token_id=None)
    assert torch.equal(ours.ids, theirs) and torch.equal(ours.ids, greedy)
    assert torch.equal(ours.ids, generate(model, prompt, new))
    assert ours.forward_passes == passes < new
    through_hf = prompt_lookup_generate(hf_model, prompt, new, num_draft_tokens=4)
    assert torch.equal(through_hf.ids, theirs) and through_hf.forward_passes == passes


def test_it_runs_up_to_the_context_and_refuses_more():
    model = peaked_gpt()  # block_size=48
    room = TINY.block_size - REPETITIVE.size(1)
    assert torch.equal(prompt_lookup_generate(model, REPETITIVE, room).ids,
                       generate(model, REPETITIVE, room))
    with pytest.raises(ValueError, match=f"use max_new_tokens <= {room}"):
        prompt_lookup_generate(model, REPETITIVE, room + 1)


def test_zero_new_tokens_and_the_model_mode(tiny):
    model, _ = tiny
    model.train()
    try:
        result = prompt_lookup_generate(model, REPETITIVE, 0)
        assert model.training  # given back
    finally:
        model.eval()
    assert torch.equal(result.ids, REPETITIVE) and result.forward_passes == 0


def test_an_int32_prompt_gives_long_ids_as_generate_does(tiny):
    model, _ = tiny
    prompt = REPETITIVE.int()
    result, greedy = prompt_lookup_generate(model, prompt, 6), generate(model, prompt, 6)
    assert result.ids.dtype == greedy.dtype == torch.long and torch.equal(result.ids, greedy)


def test_a_batch_is_refused(tiny):
    model, _ = tiny
    with pytest.raises(ValueError, match=r"one prompt, input_ids of shape \(1, T\)"):
        prompt_lookup_generate(model, REPETITIVE.repeat(2, 1), 4)


# ---------------------------------------------------------------- cropping the caches


def test_a_cropped_kv_cache_continues_like_a_fresh_one(tiny):
    model, _ = tiny
    ids = REPETITIVE
    cache = KVCache()
    with torch.no_grad():
        model(ids, kv_cache=cache)
        cache.crop(9)
        assert len(cache) == 9 and all(k.size(2) == 9 for k in cache.keys + cache.values)
        after_crop = model(ids[:, 9:], kv_cache=cache)
        torch.testing.assert_close(after_crop, model(ids)[:, 9:], atol=1e-10, rtol=0)
    cache.crop(9)  # the same length: nothing to drop
    with pytest.raises(ValueError, match=r"length must be an int in \[0, 9\]"):
        cache.crop(10)


def test_a_cropped_static_cache_continues_like_a_fresh_one(llama_pair):
    _, model = llama_pair
    ids = torch.tensor([[3, 8, 1, 4, 3, 8, 1, 4, 9, 2]])
    cache = model.make_kv_cache(batch_size=1, max_len=12)
    with torch.no_grad():
        model(ids, kv_cache=cache)
        cache.crop(6)
        assert len(cache) == 6 and not cache.keys[:, :, :, 6:].any()
        torch.testing.assert_close(model(ids[:, 6:], kv_cache=cache), model(ids)[:, 6:],
                                   atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match=r"length must be an int in \[0, 10\]"):
        cache.crop(11)
    with pytest.raises(TypeError, match="length must be an int"):
        StaticKVCache(n_layer=1, batch_size=1, n_kv_head=1, max_len=2, head_dim=1).crop(0.0)


# ---------------------------------------------------------------- SmolLM2


@pytest.mark.slow
def test_smollm2_copies_a_repetitive_prompt_in_fewer_passes(smollm2_loaded):
    hf_model, tokenizer = smollm2_loaded["model"], smollm2_loaded["tokenizer"]  # load_smollm2()
    model = Llama.from_hf(hf_model)
    prompt = tokenizer("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,", return_tensors="pt").input_ids
    new, eos = 24, tokenizer.eos_token_id
    greedy = hf_model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                               max_new_tokens=new, eos_token_id=eos, pad_token_id=eos)
    _, passes = hf_prompt_lookup(hf_model, prompt, new, eos_token_id=eos)
    for m in (hf_model, model):
        result = prompt_lookup_generate(m, prompt, new, eos_token_id=eos)
        assert torch.equal(result.ids, greedy)
        assert result.forward_passes == passes < result.new_tokens
    assert tokenizer.decode(result.ids[0, prompt.size(1):]).startswith(" 13, 14, 15,")
    print(f"SmolLM2, {prompt.size(1)}-token prompt: {result.new_tokens} tokens in "
          f"{result.forward_passes} forward passes ({result.draft_tokens_accepted} of "
          f"{result.draft_tokens_proposed} draft tokens accepted)")
