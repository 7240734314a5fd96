"""Batches of prompts of different lengths: the course GPT and Llama with attention_mask and
position_ids equal transformers' models given the same, and a padded row equals its prompt
alone."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig as HFLlamaConfig
from transformers import LlamaForCausalLM

from course_utils.batching import (check_attention_mask, check_left_padded, left_pad,
                                   padding_and_positions, position_ids_from_mask)
from course_utils.llama import Llama
from course_utils.model import GPT, GPTConfig, KVCache

F64 = torch.float64
TOL64 = dict(atol=1e-10, rtol=0)
PROMPTS = [[3, 14, 15, 9, 2, 6, 5], [35, 8], [9, 7, 9, 3]]  # lengths 7, 2, 4
PAD = 0


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def course_gpt() -> GPT:
    return GPT(GPTConfig(vocab_size=40, block_size=32, n_layer=2, n_head=2, n_embd=16),
               seed=3).to(F64).eval()


def hf_llama() -> LlamaForCausalLM:
    config = HFLlamaConfig(vocab_size=40, hidden_size=24, intermediate_size=40,
                           num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2,
                           max_position_embeddings=32, tie_word_embeddings=False,
                           rope_parameters={"rope_type": "default", "rope_theta": 500.0})
    config._attn_implementation = "sdpa"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = LlamaForCausalLM(config).to(F64).eval()
    with torch.no_grad():  # transformers' init is nearly uniform: make the logits differ
        generator = torch.Generator().manual_seed(1)
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=generator, dtype=F64))
    return model


@pytest.fixture(scope="module", params=["gpt", "llama"])
def twins(request):
    """(course model, transformers model with the same weights), float64."""
    if request.param == "gpt":
        model = course_gpt()
        return model, model.to_hf()
    hf_model = hf_llama()
    return Llama.from_hf(hf_model), hf_model


def test_left_pad_by_hand():
    input_ids, mask = left_pad([[5, 6, 7], torch.tensor([8])], pad_token_id=1)
    assert input_ids.tolist() == [[5, 6, 7], [1, 1, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]] and mask.dtype == torch.long
    assert position_ids_from_mask(mask).tolist() == [[0, 1, 2], [0, 0, 0]]


def test_padded_rows_give_each_prompt_alone_logits(twins):
    model, _ = twins
    input_ids, mask = left_pad(PROMPTS, PAD)
    with torch.no_grad():
        batch = model(input_ids, attention_mask=mask)
        for row, prompt in enumerate(PROMPTS):
            alone = model(torch.tensor([prompt]))
            torch.testing.assert_close(batch[row, -len(prompt):], alone[0], **TOL64)


@pytest.mark.parametrize("with_cache", [False, True], ids=["one pass", "prompt then steps"])
def test_logits_equal_transformers_with_the_same_mask_and_positions(twins, with_cache):
    model, hf_model = twins
    input_ids, mask = left_pad(PROMPTS, PAD)
    steps = torch.tensor([[11, 4], [12, 5], [13, 6]])  # two more tokens per row
    full_ids, full_mask = torch.cat([input_ids, steps], 1), torch.cat([mask, mask[:, -2:]], 1)
    positions = position_ids_from_mask(full_mask)
    with torch.no_grad():
        theirs = hf_model(full_ids, attention_mask=full_mask, position_ids=positions).logits
        if not with_cache:
            ours = model(full_ids, attention_mask=full_mask, position_ids=positions)
        else:
            T = input_ids.size(1)
            cache = (model.make_kv_cache(batch_size=3, max_len=T + 2) if isinstance(model, Llama)
                     else KVCache())
            ours = [model(input_ids, cache, attention_mask=mask)]  # the prompts, then one by one
            for i in range(2):
                step = steps[:, i:i + 1]
                ours.append(model(step, cache, attention_mask=full_mask[:, :T + i + 1]))
            ours = torch.cat(ours, dim=1)
    real = full_mask.bool()
    torch.testing.assert_close(ours[real], theirs[real], **TOL64)
    torch.testing.assert_close(ours, theirs, **TOL64)  # padded queries too: zeros from attention


def test_without_the_new_arguments_nothing_changes(twins):
    model, _ = twins
    input_ids = torch.tensor(PROMPTS[0])[None].repeat(2, 1)
    with torch.no_grad():
        plain = model(input_ids)
        ones = model(input_ids, attention_mask=torch.ones_like(input_ids))
        arange = model(input_ids, position_ids=torch.arange(input_ids.size(1))[None])
    assert torch.equal(plain, ones) and torch.equal(plain, arange)


def test_position_ids_alone_move_the_positions(twins):
    model, hf_model = twins
    input_ids = torch.tensor([PROMPTS[0]])
    positions = torch.tensor([[0, 2, 3, 5, 6, 8, 9]])  # gaps: RoPE ignores a constant shift
    with torch.no_grad():
        ours = model(input_ids, position_ids=positions)
        theirs = hf_model(input_ids, position_ids=positions).logits
        assert not torch.allclose(ours, model(input_ids))
        shift = (model(input_ids, position_ids=torch.arange(3, 10)[None]) - model(input_ids))
    torch.testing.assert_close(ours, theirs, **TOL64)
    # rotary positions are relative: moving every token by 3 changes only the rounding (of
    # angles computed in float32); learned positions are not
    assert (shift.abs().max() < 1e-5) == isinstance(model, Llama)


def test_padding_and_positions_checks_the_mask():
    ids = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match=r"\(B, cached \+ new tokens\) = \(2, 5\)"):
        padding_and_positions(ids, 2, torch.ones(2, 3), None)
    with pytest.raises(ValueError, match="only 0 .padding. and 1"):
        padding_and_positions(ids, 0, torch.full((2, 3), 2), None)
    with pytest.raises(ValueError, match="block_size=4"):
        padding_and_positions(ids, 0, None, torch.tensor([[0, 1, 4]]), max_position=4)
    assert check_attention_mask(torch.tensor([[0.0, 1.0]]), (1, 2)).dtype == torch.bool
    with pytest.raises(ValueError, match="left padding"):
        check_left_padded(torch.tensor([[True, True, False]]))
    with pytest.raises(ValueError, match="no real token"):
        check_left_padded(torch.tensor([[False, False]]))
