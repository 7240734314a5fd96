"""The course's Llama equals transformers' module for module, and on SmolLM2's weights."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig as HFLlamaConfig
from transformers.models.llama import modeling_llama as hf

from course_utils.llama import (Llama, LlamaConfig, _num_parameters, gpt2_vs_llama,
                             kv_cache_bytes_per_token)
from course_utils.llama_blocks import (GroupedQueryAttention, RMSNorm, SwiGLU, apply_rotary,
                                       interleaved_to_half, rope_tables)

F64 = torch.float64
TOL64 = dict(atol=1e-10, rtol=0)  # float64 parity: rounding only


def _hf_config(**changes: object) -> HFLlamaConfig:
    settings = dict(vocab_size=50, hidden_size=24, intermediate_size=40, num_hidden_layers=2,
                    num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=32,
                    rms_norm_eps=1e-5, tie_word_embeddings=False,
                    rope_parameters={"rope_type": "default", "rope_theta": 500.0})
    config = HFLlamaConfig(**(settings | changes))
    config._attn_implementation = "sdpa"  # causal without a mask; eager softmaxes in float32
    return config


def _randomize(*modules: torch.nn.Module, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in modules:
            for p in module.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * 0.3 + 0.1)


def _x(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_rms_norm_equals_transformers():
    ours, theirs = RMSNorm(24, eps=1e-5).to(F64), hf.LlamaRMSNorm(24, eps=1e-5).to(F64)
    _randomize(ours)
    theirs.load_state_dict(ours.state_dict())
    x = _x(2, 7, 24) * 3
    torch.testing.assert_close(ours(x), theirs(x), **TOL64)


def test_rope_tables_and_rotation_equal_transformers():
    config = _hf_config()
    x, q, k = _x(2, 7, 24), _x(2, 6, 7, 4, seed=2), _x(2, 6, 7, 4, seed=3)
    positions = torch.arange(3, 10)
    cos_hf, sin_hf = hf.LlamaRotaryEmbedding(config)(x, positions[None])  # (1, T, hs)
    cos, sin = rope_tables(4, positions, rope_theta=500.0, dtype=F64)
    torch.testing.assert_close((cos, sin), (cos_hf[0], sin_hf[0]), atol=0, rtol=0)
    theirs = hf.apply_rotary_pos_emb(q, k, cos_hf, sin_hf)
    torch.testing.assert_close(apply_rotary(q, k, cos, sin), theirs, **TOL64)


def test_rotate_half_is_the_papers_interleaved_rotation_permuted():
    """Meta's RoPE, with complex numbers, on pairs (0, 1), (2, 3), ...: the same rotation once
    the head's dimensions are permuted, and the same attention scores q·k."""
    hs, T = 8, 6
    q, k = _x(T, hs, seed=4), _x(T, hs, seed=5)
    positions = torch.arange(T)
    theta = 10000.0 ** (-torch.arange(0, hs, 2, dtype=F64) / hs)
    turn = torch.polar(torch.ones(T, hs // 2, dtype=F64), positions[:, None] * theta)

    def paper(x: torch.Tensor) -> torch.Tensor:
        return torch.view_as_real(torch.view_as_complex(x.unflatten(-1, (-1, 2))) * turn
                                  ).flatten(-2)

    cos, sin = torch.cat([turn.real] * 2, -1), torch.cat([turn.imag] * 2, -1)  # float64 angles
    q_half, k_half = apply_rotary(interleaved_to_half(q), interleaved_to_half(k), cos, sin)
    torch.testing.assert_close(q_half, interleaved_to_half(paper(q)), **TOL64)
    torch.testing.assert_close(k_half, interleaved_to_half(paper(k)), **TOL64)
    torch.testing.assert_close(q_half @ k_half.T, paper(q) @ paper(k).T, **TOL64)
    # and the scores depend only on the distance: shifting every position changes nothing
    cos3, sin3 = rope_tables(hs, positions + 3, dtype=F64)
    cos0, sin0 = rope_tables(hs, positions, dtype=F64)
    (a, b), (c, d) = apply_rotary(q, k, cos0, sin0), apply_rotary(q, k, cos3, sin3)
    torch.testing.assert_close(a @ b.T, c @ d.T, atol=1e-5, rtol=0)  # float32 angles


def test_swiglu_equals_transformers():
    ours, theirs = SwiGLU(24, 40).to(F64), hf.LlamaMLP(_hf_config()).to(F64)
    _randomize(ours)
    theirs.load_state_dict(ours.state_dict())
    x = _x(2, 7, 24)
    torch.testing.assert_close(ours(x), theirs(x), **TOL64)


@pytest.mark.parametrize("n_kv_head", [1, 2, 6])
def test_grouped_query_attention_equals_transformers(n_kv_head):
    config = _hf_config(num_key_value_heads=n_kv_head)
    ours = GroupedQueryAttention(24, 6, n_kv_head).to(F64)
    theirs = hf.LlamaAttention(config, layer_idx=0).to(F64)
    _randomize(ours)
    theirs.load_state_dict(ours.state_dict())
    x = _x(2, 7, 24)
    cos_hf, sin_hf = hf.LlamaRotaryEmbedding(config)(x, torch.arange(7)[None])
    cos, sin = rope_tables(4, torch.arange(7), rope_theta=500.0, dtype=F64)
    expected, _ = theirs(x, position_embeddings=(cos_hf, sin_hf), attention_mask=None)
    torch.testing.assert_close(ours(x, cos, sin), expected, **TOL64)


def test_grouped_query_attention_is_causal():
    attn = GroupedQueryAttention(24, 6, 2).to(F64)
    x = _x(1, 7, 24)
    cos, sin = rope_tables(4, torch.arange(7), dtype=F64)
    changed = x.clone()
    changed[:, 4:] += 1.0  # the future must not change positions 0..3
    torch.testing.assert_close(attn(x, cos, sin)[:, :4], attn(changed, cos, sin)[:, :4],
                               atol=0, rtol=0)


# The whole model ------------------------------------------------------------------------------

def _hf_model(**changes: object) -> hf.LlamaForCausalLM:
    with torch.random.fork_rng(devices=[]):
        hf_model = hf.LlamaForCausalLM(_hf_config(**changes)).to(F64).eval()
    _randomize(hf_model, seed=7)  # also the norms, so that a misplaced weight shows
    return hf_model


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("n_kv_head", [2, 6], ids=["grouped", "multi-head"])
def test_llama_logits_equal_transformers_in_float64(tied, n_kv_head):
    hf_model = _hf_model(tie_word_embeddings=tied, num_key_value_heads=n_kv_head)
    model = Llama.from_hf(hf_model)
    assert model.config == LlamaConfig(vocab_size=50, block_size=32, n_layer=2, n_head=6,
                                       n_kv_head=n_kv_head, n_embd=24, intermediate_size=40,
                                       rope_theta=500.0, tie_word_embeddings=tied)
    assert (model.lm_head.weight is model.model.embed_tokens.weight) == tied
    assert model.num_parameters() == hf_model.num_parameters() == _num_parameters(model.config)
    input_ids = torch.randint(0, 50, (3, 32), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids), hf_model(input_ids).logits, **TOL64)


def test_a_new_llama_is_seeded_and_leaves_the_global_rng_alone():
    config = LlamaConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_kv_head=1,
                         n_embd=8, intermediate_size=16)
    state = torch.random.get_rng_state()
    a, b, c = Llama(config, seed=1), Llama(config, seed=1), Llama(config, seed=2)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a.model.layers[0].self_attn.k_proj.weight,
                       b.model.layers[0].self_attn.k_proj.weight)
    assert not torch.equal(a.lm_head.weight, c.lm_head.weight)


def test_gpt2_vs_llama_rows_are_read_off_the_models():
    rows = {what: (gpt2, llama) for what, gpt2, llama in gpt2_vs_llama()}
    assert rows["positions"][0].startswith("learned: wpe (1024, 768), 786,432 parameters")
    assert rows["normalisation"] == ("LayerNorm (weight + bias)", "RMSNorm (weight)")
    assert rows["MLP"] == ("GELU, 3072 wide, 2 matrices", "SwiGLU, 1536 wide, 3 matrices")
    assert rows["attention"][1] == "grouped-query: 9 query, 3 key/value heads"
    assert rows["bias parameters"][1] == "0" and rows["bias parameters"][0] != "0"
    assert rows["lm_head tied to the embedding"] == ("yes", "yes")
    assert rows["parameters"][1] == f"{_num_parameters(LlamaConfig()):,}"
    untied = gpt2_vs_llama(llama=LlamaConfig(tie_word_embeddings=False, n_kv_head=9),
                           dtype=torch.bfloat16)
    assert untied[5][2] == "no" and untied[-1] == ("KV cache per token (bfloat16)",
                                                   "36,864 bytes", "69,120 bytes")


# SmolLM2-135M ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smollm2(smollm2_loaded):
    hf_model, tokenizer = smollm2_loaded["model"], smollm2_loaded["tokenizer"]  # see conftest.py
    return hf_model, tokenizer, Llama.from_hf(hf_model)


@pytest.mark.slow
def test_smollm2_logits_equal_transformers_in_float32(smollm2, monkeypatch):
    hf_model, tokenizer, model = smollm2
    text = ["Once upon a time, in a land far away, there lived a", "def fibonacci(n):\n    "]
    for prompt in text:
        input_ids = tokenizer(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            ours, theirs = model(input_ids), hf_model(input_ids).logits
        assert (ours - theirs).abs().max() <= 1e-4 * theirs.abs().max()
        assert torch.equal(ours.argmax(-1), theirs.argmax(-1))
    expected = LlamaConfig(rms_norm_eps=model.config.rms_norm_eps)  # 1e-5 stored in float32
    assert model.config == expected and model.num_parameters() == 134_515_008
    assert model.lm_head.weight.dtype == torch.float32
    # from_smollm2 goes through the same loading path (here: the model already loaded)
    import course_utils.pretrained

    monkeypatch.setattr(course_utils.pretrained, "load_smollm2", lambda: (hf_model, tokenizer))
    loaded = Llama.from_smollm2()
    assert torch.equal(loaded.model.layers[29].mlp.down_proj.weight,
                       hf_model.model.layers[29].mlp.down_proj.weight)


# The KV cache ---------------------------------------------------------------------------------

def _ids(B: int, T: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 50, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("chunks", [[5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [4, 6, 5], [1] * 15],
                         ids=["prompt-then-tokens", "chunks", "token-by-token"])
@pytest.mark.parametrize("n_kv_head", [2, 6], ids=["grouped", "multi-head"])
def test_cached_steps_give_the_logits_of_one_forward_pass(n_kv_head, chunks):
    hf_model = _hf_model(num_key_value_heads=n_kv_head)
    model = Llama.from_hf(hf_model)
    input_ids = _ids(2, sum(chunks))
    cache = model.make_kv_cache(batch_size=2, max_len=16)  # one position to spare
    assert (cache.keys.shape, cache.dtype) == ((2, 2, n_kv_head, 16, 4), F64)
    steps, start = [], 0
    with torch.no_grad():
        full = model(input_ids)
        for size in chunks:
            steps.append(model(input_ids[:, start:start + size], kv_cache=cache))
            start += size
            assert len(cache) == start
    torch.testing.assert_close(torch.cat(steps, dim=1), full, **TOL64)
    # the cache holds what one pass computes: layer 1's keys of every token
    with torch.no_grad():
        again = model.make_kv_cache(batch_size=2, max_len=16)
        model(input_ids, kv_cache=again)
    torch.testing.assert_close(cache.keys, again.keys, **TOL64)


@pytest.mark.parametrize("chunks", [[5, 1, 1, 1], [3, 4, 2]], ids=["tokens", "chunks"])
def test_cached_steps_equal_transformers_stepping_with_its_own_cache(chunks):
    hf_model = _hf_model()
    model = Llama.from_hf(hf_model)
    input_ids = _ids(3, sum(chunks), seed=1)
    cache, past, start = model.make_kv_cache(batch_size=3, max_len=sum(chunks)), None, 0
    with torch.no_grad():
        for size in chunks:
            step = input_ids[:, start:start + size]
            out = hf_model(step, past_key_values=past, use_cache=True)
            past, start = out.past_key_values, start + size
            torch.testing.assert_close(model(step, kv_cache=cache), out.logits, **TOL64)
    assert past.get_seq_length() == len(cache) == sum(chunks)


def test_kv_cache_memory_is_the_formula_and_allocated_once():
    config = LlamaConfig(vocab_size=20, block_size=64, n_layer=3, n_head=6, n_kv_head=2,
                         n_embd=24, intermediate_size=16)
    model = Llama(config).to(torch.bfloat16)
    cache = model.make_kv_cache(batch_size=4, max_len=50)
    assert cache.nbytes == 4 * 50 * kv_cache_bytes_per_token(config, torch.bfloat16)
    assert cache.nbytes == 2 * 3 * 4 * 2 * 50 * 4 * 2  # k and v · layers · B · nkv · T · hs · 2
    pointers = cache.keys.data_ptr(), cache.values.data_ptr()
    with torch.no_grad():
        model(torch.zeros(4, 7, dtype=torch.long), kv_cache=cache)
        model(torch.zeros(4, 1, dtype=torch.long), kv_cache=cache)
    assert (cache.keys.data_ptr(), cache.values.data_ptr()) == pointers and len(cache) == 8
    assert cache.keys[:, :, :, 8:].abs().sum() == 0 and cache.keys[:, :, :, :8].abs().sum() > 0
    cache.reset()
    assert len(cache) == 0 and cache.nbytes == 4 * 50 * kv_cache_bytes_per_token(
        config, torch.bfloat16)


def test_a_failed_step_leaves_the_cache_as_it_was():
    model = Llama.from_hf(_hf_model())
    cache = model.make_kv_cache(batch_size=1, max_len=6)
    with torch.no_grad():
        model(_ids(1, 4), kv_cache=cache)
        with pytest.raises(ValueError, match="overflow"):
            model(_ids(1, 3), kv_cache=cache)
        assert len(cache) == 4
        torch.testing.assert_close(model(_ids(1, 2, seed=3), kv_cache=cache),
                                   model(torch.cat([_ids(1, 4), _ids(1, 2, seed=3)], 1))[:, 4:],
                                   **TOL64)


@pytest.mark.slow
def test_smollm2_greedy_with_the_cache_equals_transformers_generate(smollm2):
    hf_model, tokenizer, model = smollm2
    input_ids = tokenizer("The three most important things in life are",
                          return_tensors="pt").input_ids
    T, new = input_ids.size(1), 20
    cache = model.make_kv_cache(batch_size=1, max_len=T + new)
    assert cache.nbytes == (T + new) * kv_cache_bytes_per_token(model.config)
    tokens, step = [], input_ids
    with torch.no_grad():
        for _ in range(new):
            step = model(step, kv_cache=cache)[:, -1:].argmax(-1)  # (1, 1): the next token
            tokens.append(step.item())
        expected = hf_model.generate(input_ids, attention_mask=torch.ones_like(input_ids),
                                     do_sample=False, max_new_tokens=new, min_new_tokens=new,
                                     pad_token_id=tokenizer.eos_token_id)
    assert tokens == expected[0, T:].tolist()
    assert len(cache) == T + new - 1  # the last token was chosen, not fed
