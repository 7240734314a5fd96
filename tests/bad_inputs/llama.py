"""Bad inputs for the course's Llama (notebook 03): its blocks, its config, the model, loading."""

from __future__ import annotations

import torch
from bad_inputs import bad

from course_utils.llama import Llama, LlamaConfig, gpt2_vs_llama, kv_cache_bytes_per_token
from course_utils.llama_blocks import (GroupedQueryAttention, RMSNorm, SwiGLU, apply_rotary,
                                       interleaved_to_half, rope_tables)
from course_utils.llama_cache import StaticKVCache
from course_utils.model import GPTConfig
from course_utils.multihead import KVCache

NAN = float("nan")
TINY = LlamaConfig(vocab_size=11, block_size=8, n_layer=1, n_head=4, n_kv_head=2, n_embd=16,
                   intermediate_size=24)
_MODELS: list[Llama] = []


def _model() -> Llama:
    if not _MODELS:
        _MODELS.append(Llama(TINY).eval())
    return _MODELS[0]


def _hf_llama(**changes: object) -> object:
    from transformers import LlamaConfig as HFLlamaConfig, LlamaForCausalLM

    settings = dict(vocab_size=11, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8)
    with torch.random.fork_rng(devices=[]):
        return LlamaForCausalLM(HFLlamaConfig(**(settings | changes)))


def _cached(cache: StaticKVCache, *steps: int, batch_size: int = 1) -> object:
    """Feed the model steps of that many tokens with the cache; the last should fail."""
    with torch.no_grad():
        for T in steps:
            _model()(torch.zeros(batch_size, T, dtype=torch.long), kv_cache=cache)
    return cache


def _cache(**changes: object) -> StaticKVCache:
    settings = dict(n_layer=1, batch_size=1, n_kv_head=2, max_len=6, head_dim=4)
    return StaticKVCache(**(settings | changes))


_KV = torch.ones(1, 2, 3, 4)
_Q = torch.ones(1, 2, 3, 4)
_COS, _SIN = rope_tables(4, torch.arange(3))
_GQA = GroupedQueryAttention(16, 4, 2)

CASES = [
    # the blocks
    bad("RMSNorm(0)", lambda: RMSNorm(0), ValueError, "n_embd", ">= 1"),
    bad("RMSNorm(eps=-1)", lambda: RMSNorm(4, eps=-1.0), ValueError, "eps", "-1"),
    bad("rope_tables(head_dim=3)", lambda: rope_tables(3, torch.arange(2)), ValueError,
        "head_dim=3", "even"),
    bad("rope_tables(positions=list)", lambda: rope_tables(4, [0, 1]), TypeError, "positions"),
    bad("rope_tables(positions 0-D)", lambda: rope_tables(4, torch.tensor(3)), ValueError,
        "positions", "(T,)"),
    bad("rope_tables(rope_theta=1)", lambda: rope_tables(4, torch.arange(2), rope_theta=1.0),
        ValueError, "rope_theta", "10000"),
    bad("apply_rotary(head sizes differ)",
        lambda: apply_rotary(torch.ones(1, 2, 3, 6), _Q, _COS, _SIN), ValueError, "head size",
        "rope_tables(head_dim=6"),
    bad("apply_rotary(q long)", lambda: apply_rotary(_Q.long(), _Q, _COS, _SIN), TypeError, "q",
        "floating-point"),
    bad("interleaved_to_half(list)", lambda: interleaved_to_half([0, 1]), TypeError, "x"),
    bad("SwiGLU(intermediate_size=0)", lambda: SwiGLU(8, 0), ValueError, "intermediate_size"),
    bad("GroupedQueryAttention(n_kv_head=3)", lambda: GroupedQueryAttention(16, 4, 3),
        ValueError, "n_kv_head=3", "n_head=4"),
    bad("GroupedQueryAttention(n_embd % n_head)", lambda: GroupedQueryAttention(10, 4, 2),
        ValueError, "n_embd=10", "n_head=4"),
    bad("GroupedQueryAttention(x 2-D)", lambda: _GQA(torch.ones(3, 16), _COS, _SIN), ValueError,
        "x", "(B, T, C)"),
    bad("GroupedQueryAttention(x width)", lambda: _GQA(torch.ones(1, 3, 8), _COS, _SIN),
        ValueError, "x", "(B, T, 16)"),
    bad("GroupedQueryAttention(x float64)",
        lambda: _GQA(torch.ones(1, 3, 16, dtype=torch.float64), _COS, _SIN), TypeError, "x",
        "torch.float32"),
    # the config
    bad("LlamaConfig(n_kv_head=2)", lambda: LlamaConfig(n_kv_head=2), ValueError, "n_kv_head=2",
        "n_head=9", "[1, 3, 9]"),
    bad("LlamaConfig(n_kv_head=0)", lambda: LlamaConfig(n_kv_head=0), ValueError, "n_kv_head",
        ">= 1"),
    bad("LlamaConfig(n_embd % n_head)", lambda: LlamaConfig(n_embd=577), ValueError,
        "n_embd=577", "n_head=9"),
    bad("LlamaConfig(odd head size)", lambda: LlamaConfig(n_embd=27), ValueError, "n_embd=27",
        "even"),
    bad("LlamaConfig(n_layer=True)", lambda: LlamaConfig(n_layer=True), TypeError, "n_layer",
        "bool"),
    bad("LlamaConfig(vocab_size=2.0)", lambda: LlamaConfig(vocab_size=2.0), TypeError,
        "vocab_size"),
    bad("LlamaConfig(rope_theta=nan)", lambda: LlamaConfig(rope_theta=NAN), ValueError,
        "rope_theta", "nan"),
    bad("LlamaConfig(rms_norm_eps=0)", lambda: LlamaConfig(rms_norm_eps=0.0), ValueError,
        "rms_norm_eps", "1e-5"),
    bad("LlamaConfig(tie_word_embeddings=1)", lambda: LlamaConfig(tie_word_embeddings=1),
        TypeError, "tie_word_embeddings"),
    # the model
    bad("Llama(dict)", lambda: Llama({}), TypeError, "config", "LlamaConfig"),
    bad("Llama(GPTConfig)", lambda: Llama(GPTConfig()), TypeError, "config", "LlamaConfig"),
    bad("Llama(seed=1.5)", lambda: Llama(TINY, seed=1.5), TypeError, "seed"),
    bad("Llama(vocab_size=2**40)", lambda: Llama(LlamaConfig(vocab_size=2**40, n_layer=1)),
        MemoryError, "Llama", "smaller"),
    bad("llama(float input_ids)", lambda: _model()(torch.ones(1, 3)), TypeError, "input_ids",
        "torch.long"),
    bad("llama(bool input_ids)", lambda: _model()(torch.ones(1, 3, dtype=torch.bool)),
        TypeError, "input_ids"),
    bad("llama(int16 input_ids)", lambda: _model()(torch.ones(1, 3, dtype=torch.int16)),
        TypeError, "input_ids", "int16"),
    bad("llama(1-D input_ids)", lambda: _model()(torch.tensor([1, 2])), ValueError,
        "input_ids", "input_ids[None]"),
    bad("llama(id = vocab_size)", lambda: _model()(torch.tensor([[1, 11]])), ValueError,
        "input_ids", "11", "vocab_size=11"),
    bad("llama(negative id)", lambda: _model()(torch.tensor([[-1, 2]])), ValueError,
        "input_ids", "-1"),
    bad("llama(T > block_size)", lambda: _model()(torch.zeros(1, 9, dtype=torch.long)),
        ValueError, "T=9", "block_size=8", "input_ids[:, -8:]"),
    # the KV cache
    bad("llama(kv_cache overflows)", lambda: _cached(_cache(), 4, 3), ValueError, "kv_cache",
        "max_len=6", "overflow", "max_len >= 7", "reset()"),
    bad("llama(kv_cache of another batch)", lambda: _cached(_cache(), 2, batch_size=2),
        ValueError, "batch size 2", "1 sequences", "batch_size=2"),
    bad("llama(kv_cache of another model)", lambda: _cached(_cache(n_kv_head=4), 1),
        ValueError, "kv_cache", "4 key/value heads", "make_kv_cache"),
    bad("llama(kv_cache float64)", lambda: _cached(_cache(dtype=torch.float64), 1), ValueError,
        "kv_cache", "torch.float64", "make_kv_cache"),
    bad("llama(kv_cache=KVCache)", lambda: _model()(torch.zeros(1, 2, dtype=torch.long),
                                                    kv_cache=KVCache()), TypeError,
        "kv_cache", "StaticKVCache"),
    bad("llama(cached T > block_size)",
        lambda: _cached(_cache(max_len=12), 6, 3), ValueError,
        "T=3 after 6 cached", "block_size=8"),
    bad("make_kv_cache(max_len > block_size)",
        lambda: _model().make_kv_cache(batch_size=1, max_len=9), ValueError, "max_len",
        "block_size=8"),
    bad("make_kv_cache(batch_size=0)", lambda: _model().make_kv_cache(batch_size=0, max_len=4),
        ValueError, "batch_size", ">= 1"),
    bad("StaticKVCache(dtype=long)", lambda: _cache(dtype=torch.long), TypeError, "dtype",
        "floating-point"),
    bad("StaticKVCache(max_len=2**60)", lambda: _cache(max_len=2**60), ValueError,
        "KV cache", "max_len", "64-bit"),
    bad("StaticKVCache.update(layer=1)", lambda: _cache().update(1, _KV, _KV), ValueError,
        "layer", "0..0"),
    bad("StaticKVCache.update(k 3-D)", lambda: _cache().update(0, _KV[0], _KV), ValueError,
        "k", "(B, nkv, T, hs)"),
    bad("StaticKVCache.update(k heads)", lambda: _cache().update(0, torch.ones(1, 3, 1, 4),
                                                                 torch.ones(1, 3, 1, 4)),
        ValueError, "k", "(1, 2, T, 4)"),
    bad("StaticKVCache.update(v shape)", lambda: _cache().update(0, _KV, _KV[:, :, :2]),
        ValueError, "v", "(1, 2, T, 4)"),
    bad("StaticKVCache.update(k float64)", lambda: _cache().update(0, _KV.double(), _KV),
        TypeError, "k", "torch.float64", "torch.float32"),
    bad("StaticKVCache.update(overflow)",
        lambda: _cache(max_len=2).update(0, _KV, _KV), ValueError, "max_len=2", "overflow"),
    bad("StaticKVCache.reorder(list)", lambda: _cache().reorder([0]), TypeError, "index"),
    bad("StaticKVCache.reorder(row 1)", lambda: _cache().reorder(torch.tensor([1])),
        ValueError, "index", "0..0"),
    bad("StaticKVCache.reorder(2 rows)", lambda: _cache().reorder(torch.tensor([0, 0])),
        ValueError, "index", "1 rows"),
    # loading and the table
    bad("Llama.from_hf(str)", lambda: Llama.from_hf("HuggingFaceTB/SmolLM2-135M"), TypeError,
        "hf_model", "LlamaForCausalLM"),
    bad("Llama.from_hf(attention_bias)", lambda: Llama.from_hf(_hf_llama(attention_bias=True)),
        ValueError, "attention_bias"),
    bad("Llama.from_hf(rope scaling)", lambda: Llama.from_hf(_hf_llama(rope_parameters={
        "rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0})), ValueError, "rope_type"),
    bad("Llama.from_hf(gelu)", lambda: Llama.from_hf(_hf_llama(hidden_act="gelu")), ValueError,
        "hidden_act='gelu'"),
    bad("kv_cache_bytes_per_token(dict)", lambda: kv_cache_bytes_per_token({}), TypeError,
        "config"),
    bad("kv_cache_bytes_per_token(dtype=str)",
        lambda: kv_cache_bytes_per_token(TINY, "float32"), TypeError, "dtype", "torch.float32"),
    bad("gpt2_vs_llama(llama=GPTConfig)", lambda: gpt2_vs_llama(llama=GPTConfig()), TypeError,
        "llama", "LlamaConfig"),
]
