"""generate on batches of prompts of different lengths (left padding + attention_mask): the same
tokens as transformers' generate for the course GPT, the course Llama and transformers' own
models; each row as its prompt alone; and the opt-in sliding context of the course GPT."""

from __future__ import annotations

import pytest
import torch
import test_generation as generation_tests
from test_batching import hf_llama

from course_utils.generation import NextTokenLogits, generate, left_pad
from course_utils.llama import Llama
from course_utils.model import GPT, GPTConfig

F64 = torch.float64
PROMPTS = [[3, 14, 15, 9, 2, 6, 5], [35, 8], [9, 7, 9, 3]]  # lengths 7, 2, 4
PAD = 1  # left padding; transformers' beam search treats pad_token_id=0 specially: avoid it
NEW = 10
SETTINGS = {
    "greedy": {},
    "sample": dict(temperature=0.8, top_k=8, top_p=0.9, seed=0),
    "beam": dict(num_beams=3, length_penalty=1.0),
    "beam, long": dict(num_beams=3, length_penalty=2.0, early_stopping="never"),
}


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def peaked_gpt(block_size: int = 32) -> GPT:
    """A random float64 GPT with peaked next-token distributions, like a trained model's."""
    config = GPTConfig(vocab_size=40, block_size=block_size, n_layer=2, n_head=2, n_embd=16)
    return generation_tests.peaked_gpt(config, dtype=F64, seed=3)


@pytest.fixture(scope="module")
def models():
    """name -> (the model generate drives, the transformers model whose generate it must match)"""
    gpt, llama_hf = peaked_gpt(), hf_llama()
    gpt_hf = gpt.to_hf()
    return {"course GPT": (gpt, gpt_hf), "course Llama": (Llama.from_hf(llama_hf), llama_hf),
            "GPT2LMHeadModel": (gpt_hf, gpt_hf), "LlamaForCausalLM": (llama_hf, llama_hf)}


def hf_generate(hf_model, input_ids, attention_mask, new, *, strategy="greedy", seed=0,
                top_k=None, num_beams=1, **settings):
    """transformers' generate with every setting spelled out (its defaults differ)."""
    kwargs = dict(max_new_tokens=new, attention_mask=attention_mask, num_beams=num_beams,
                  do_sample=strategy == "sample", **settings)
    if strategy == "sample":
        kwargs["top_k"] = 0 if top_k is None else top_k
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # what our seed=0 stands for
        return hf_model.generate(input_ids, **kwargs)


@pytest.mark.parametrize("strategy", list(SETTINGS))
@pytest.mark.parametrize("name", ["course GPT", "course Llama", "GPT2LMHeadModel",
                                  "LlamaForCausalLM"])
@pytest.mark.parametrize("eos", [None, "early"], ids=["no eos", "eos"])
def test_padded_batches_equal_transformers_generate(models, name, strategy, eos):
    model, hf_model = models[name]
    settings, strategy = SETTINGS[strategy], strategy.split(",")[0]
    input_ids, attention_mask = left_pad(PROMPTS, PAD)
    stopping = dict(pad_token_id=PAD, eos_token_id=None)
    if eos == "early":  # a token that row 1 writes third: rows finish at different steps
        first = generate(model, input_ids, NEW, attention_mask=attention_mask)
        stopping["eos_token_id"] = first[1, input_ids.size(1) + 2].item()
    settings = dict(settings, **stopping)
    ours = generate(model, input_ids, NEW, strategy=strategy, attention_mask=attention_mask,
                    **settings)
    theirs = hf_generate(hf_model, input_ids, attention_mask, NEW, strategy=strategy, **settings)
    assert ours.shape == theirs.shape and torch.equal(ours, theirs), (ours, theirs)
    if eos == "early" and strategy == "greedy":
        assert (ours[1, -1] == PAD) and (ours[:, -1] != PAD).any()  # one row finished early


@pytest.mark.parametrize("strategy", ["greedy", "sample", "beam"])
@pytest.mark.parametrize("name", ["course GPT", "course Llama", "GPT2LMHeadModel"])
def test_the_repetition_penalty_skips_the_padding_as_transformers_does(models, name, strategy):
    # transformers 5 does not penalise a padded row's padding (prompt_ignore_length): with the
    # pad id a token row 1 wants to write (GPT-2 pads with its EOS), penalising it changes it.
    model, hf_model = models[name]
    settings = dict(SETTINGS[strategy], repetition_penalty=3.0, eos_token_id=None)
    input_ids, attention_mask = left_pad(PROMPTS, PAD)
    first = generate(model, input_ids, 1, attention_mask=attention_mask,
                     repetition_penalty=3.0)
    pad = first[1, -1].item()  # row 1's first new token, not in its prompt
    assert pad not in PROMPTS[1]
    input_ids, attention_mask = left_pad(PROMPTS, pad)
    settings["pad_token_id"] = pad
    ours = generate(model, input_ids, NEW, strategy=strategy, attention_mask=attention_mask,
                    **settings)
    theirs = hf_generate(hf_model, input_ids, attention_mask, NEW, strategy=strategy, **settings)
    assert torch.equal(ours, theirs), (ours, theirs)
    assert ours[1, input_ids.size(1)] == pad or strategy != "greedy"


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("name", ["course GPT", "course Llama", "GPT2LMHeadModel"])
def test_each_row_of_a_batch_is_its_prompt_generated_alone(models, name, use_cache):
    model, _ = models[name]
    input_ids, attention_mask = left_pad(PROMPTS, PAD)
    batch = generate(model, input_ids, NEW, attention_mask=attention_mask, use_cache=use_cache)
    for row, prompt in enumerate(PROMPTS):
        alone = generate(model, torch.tensor([prompt]), NEW)
        padding = input_ids.size(1) - len(prompt)
        assert torch.equal(batch[row, padding:], alone[0])
        assert (batch[row, :padding] == PAD).all()


def test_no_repeat_ngram_size_counts_the_padding_as_transformers_does(models):
    # the documented exception to "row i equals prompt i alone": a row that writes the pad id
    model, hf_model = models["course GPT"]
    alone = generate(model, torch.tensor([PROMPTS[1]]), NEW, no_repeat_ngram_size=1)
    pad = alone[0, -1].item()  # a token row 1 writes, last
    input_ids, attention_mask = left_pad(PROMPTS, pad)
    settings = dict(no_repeat_ngram_size=1, pad_token_id=pad, eos_token_id=None)
    batch = generate(model, input_ids, NEW, attention_mask=attention_mask, **settings)
    assert torch.equal(batch, hf_generate(hf_model, input_ids, attention_mask, NEW, **settings))
    assert not torch.equal(batch[1, input_ids.size(1) - len(PROMPTS[1]):], alone[0])


def test_beam_search_rows_equal_their_prompts_alone(models):
    model, _ = models["course Llama"]
    input_ids, attention_mask = left_pad(PROMPTS, PAD)
    batch = generate(model, input_ids, 6, attention_mask=attention_mask, strategy="beam",
                     num_beams=3)
    for row, prompt in enumerate(PROMPTS):
        alone = generate(model, torch.tensor([prompt]), 6, strategy="beam", num_beams=3)
        assert torch.equal(batch[row, input_ids.size(1) - len(prompt):], alone[0])


def test_an_all_ones_mask_changes_nothing(models):
    model, _ = models["course GPT"]
    input_ids = torch.tensor([PROMPTS[2], PROMPTS[2][::-1]])
    assert torch.equal(generate(model, input_ids, NEW),
                       generate(model, input_ids, NEW, attention_mask=torch.ones_like(input_ids)))


@pytest.mark.parametrize("mask, match", [
    ([[1, 1, 0]], "left padding"), ([[0, 0, 0]], "no real token"), ([[0, 2, 1]], "only 0"),
    ([[1, 1]], r"\(1, 3\)"),
])
def test_bad_masks_are_refused_naming_the_fix(models, mask, match):
    model, _ = models["course GPT"]
    with pytest.raises(ValueError, match=match):
        generate(model, torch.tensor([[5, 6, 7]]), 2, attention_mask=torch.tensor(mask))


# ---------------------------------------------------------------- the sliding context


def by_hand(model, input_ids: torch.Tensor, new: int, block_size: int) -> torch.Tensor:
    """Greedy decoding where every step reads the last block_size tokens, no cache."""
    with torch.no_grad():
        for _ in range(new):
            logits = model(input_ids[:, -block_size:])[:, -1]
            input_ids = torch.cat([input_ids, logits.argmax(-1, keepdim=True)], dim=1)
    return input_ids


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_sliding_context_goes_past_block_size_like_the_loop_by_hand(use_cache, strategy):
    model = peaked_gpt(block_size=8)
    input_ids = torch.tensor([[3, 14, 15, 9, 2], [35, 8, 9, 7, 9]])
    with pytest.raises(ValueError, match="max_new_tokens <= 3"):
        generate(model, input_ids, 20)  # the default: an error
    settings = dict(num_beams=1) if strategy == "beam" else {}  # beam search of 1 is greedy
    ours = generate(model, input_ids, 20, sliding_context=True, use_cache=use_cache,
                    strategy=strategy, **settings)
    assert ours.shape == (2, 25) and torch.equal(ours, by_hand(model, input_ids, 20, 8))
    # transformers' GPT-2 driven the same way gives the same tokens
    assert torch.equal(generate(model.to_hf(), input_ids, 20, sliding_context=True), ours)


def test_sliding_context_for_the_course_llama_and_padded_rows():
    hf_model = hf_llama()  # max_position_embeddings=32
    model = Llama.from_hf(hf_model)
    input_ids = torch.tensor([PROMPTS[0] * 4])  # 28 tokens
    ours = generate(model, input_ids, 12, sliding_context=True)
    assert torch.equal(ours, by_hand(model, input_ids, 12, 32))
    # padded rows slide as their prompts alone: the window holds each row's last real tokens
    gpt = peaked_gpt(block_size=8)
    ids, mask = left_pad(PROMPTS, PAD)
    batch = generate(gpt, ids, 12, attention_mask=mask, sliding_context=True)
    for row, prompt in enumerate(PROMPTS):
        alone = generate(gpt, torch.tensor([prompt]), 12, sliding_context=True)
        assert torch.equal(batch[row, ids.size(1) - len(prompt):], alone[0])


def test_sliding_beam_search_recomputes_and_still_follows_the_beams():
    model = peaked_gpt(block_size=8)
    input_ids = torch.tensor([[3, 14, 15, 9, 2]])
    with_cache = generate(model, input_ids, 12, strategy="beam", num_beams=3,
                          sliding_context=True)
    assert torch.equal(with_cache, generate(model, input_ids, 12, strategy="beam", num_beams=3,
                                            sliding_context=True, use_cache=False))


def test_next_token_logits_sliding_window_feeds_the_last_block():
    model = peaked_gpt(block_size=8)
    next_logits = NextTokenLogits(model, sliding_context=True)
    ids = torch.arange(10)[None] % 40
    with torch.no_grad():
        torch.testing.assert_close(next_logits(ids), model(ids[:, -8:])[:, -1].float())
    assert next_logits.seen == 0  # nothing cached past the window


# ---------------------------------------------------------------- SmolLM2


@pytest.mark.slow
def test_smollm2_batched_greedy_equals_transformers(smollm2_loaded):
    hf_model, tokenizer = smollm2_loaded["model"], smollm2_loaded["tokenizer"]  # load_smollm2()
    model = Llama.from_hf(hf_model)
    texts = ["The capital of France is", "Once upon a time, in a land far away,", "def add(a, b):"]
    input_ids, mask = left_pad([tokenizer.encode(t) for t in texts], tokenizer.eos_token_id)
    settings = dict(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id)
    theirs = hf_generate(hf_model, input_ids, mask, 10, **settings)
    assert torch.equal(generate(model, input_ids, 10, attention_mask=mask, **settings), theirs)
    assert torch.equal(generate(hf_model, input_ids, 10, attention_mask=mask, **settings), theirs)
    alone = generate(model, torch.tensor([tokenizer.encode(texts[0])]), 10, **settings)
    assert torch.equal(theirs[0, input_ids.size(1) - alone.size(1) + 10:], alone[0])
