"""Bad inputs for attention (notebook 03): the math, multi-head attention, the KV cache, GPT."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from bad_inputs import bad
from torch import nn

from course_utils.attention import (attention_weights, causal_mask, merge_heads,
                                    scaled_dot_product_attention, split_heads)
from course_utils.model import GPT, GPTConfig, KVCache, check_token_ids, gelu_new
from course_utils.multihead import MultiHeadAttention

NAN, INF = float("nan"), float("inf")
TINY = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
_MODELS: dict[str, GPT] = {}


def _model(n_layer: int = 2, n_head: int = 2) -> GPT:
    key = f"{n_layer}-{n_head}"
    if key not in _MODELS:
        _MODELS[key] = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=n_layer,
                                     n_head=n_head, n_embd=8)).eval()
    return _MODELS[key]


def _ids(*rows: list[int]) -> torch.Tensor:
    return torch.tensor(rows)


def _qkv(q=(3, 4), k=(5, 4), v=(5, 2)) -> tuple[torch.Tensor, ...]:
    return torch.ones(q), torch.ones(k), torch.ones(v)


def _sdpa(**kwargs: object) -> object:
    q, k, v = kwargs.pop("q", None), kwargs.pop("k", None), kwargs.pop("v", None)
    default_q, default_k, default_v = _qkv()
    return scaled_dot_product_attention(default_q if q is None else q,
                                        default_k if k is None else k,
                                        default_v if v is None else v, **kwargs)


def _filled_cache(model: GPT, batch_size: int = 1) -> KVCache:
    cache = KVCache()
    with torch.no_grad():
        model(torch.zeros(batch_size, 3, dtype=torch.long), kv_cache=cache)
    return cache


def _meta_gpt(config: GPTConfig) -> GPT:
    with torch.device("meta"):  # shapes only: no memory needed, but sizes must fit in torch
        return GPT(config)


def _on_meta(input_ids: torch.Tensor) -> object:
    with torch.device("meta"):
        model = GPT(TINY)
    return model(input_ids)


def _cache_update(k_dtype=torch.float32, v_dtype=torch.float32, v_device="cpu") -> object:
    return KVCache().update(0, torch.ones(1, 2, 3, 4, dtype=k_dtype),
                            torch.ones(1, 2, 3, 4, dtype=v_dtype, device=v_device))


_X = torch.ones(2, 5, 8)
_MHA = MultiHeadAttention(8, 2)
HUGE = 2**70

CASES = [
    # causal_mask
    bad("causal_mask(L=-1)", lambda: causal_mask(-1), ValueError, "L", ">= 0", "-1"),
    bad("causal_mask(L=2.5)", lambda: causal_mask(2.5), TypeError, "L", "2.5"),
    bad("causal_mask(L=True)", lambda: causal_mask(True), TypeError, "L", "bool"),
    bad("causal_mask(S=-2)", lambda: causal_mask(3, -2), ValueError, "S", "-2"),
    bad("causal_mask(S=str)", lambda: causal_mask(3, "4"), TypeError, "S", "'4'"),
    bad("causal_mask(device=gpu)", lambda: causal_mask(3, device="gpu"), ValueError, "device"),
    bad("causal_mask(device=meta)", lambda: causal_mask(3, device="meta"), ValueError, "device",
        "meta"),
    bad("causal_mask(2**24): beyond memory", lambda: causal_mask(2**24), MemoryError,
        "causal_mask(L=16777216, S=16777216)", "GB", "shorter"),
    bad("causal_mask(2**40): beyond torch", lambda: causal_mask(2**40), ValueError,
        "L=1099511627776", "64-bit"),
    bad("causal_mask(2**70, 0)", lambda: causal_mask(HUGE, 0), ValueError, f"L={HUGE}",
        "64-bit"),
    bad("causal_mask(S=2**70)", lambda: causal_mask(1, HUGE), ValueError, f"S={HUGE}"),
    # attention_weights / scaled_dot_product_attention
    bad("attention_weights(q=list)", lambda: attention_weights([[1.0]], torch.ones(2, 2)),
        TypeError, "q", "torch.Tensor"),
    bad("attention_weights(q=long)",
        lambda: attention_weights(torch.ones(3, 4, dtype=torch.long), torch.ones(5, 4)),
        TypeError, "q", "torch.int64", "q.float()"),
    bad("attention_weights(q=1-D)", lambda: attention_weights(torch.ones(4), torch.ones(5, 4)),
        ValueError, "q", "at least 2 dimensions", "q[None]"),
    bad("attention_weights(k=numpy)",
        lambda: attention_weights(torch.ones(3, 4), np.ones((5, 4))), TypeError, "k"),
    bad("attention_weights(k float64)",
        lambda: attention_weights(torch.ones(3, 4), torch.ones(5, 4, dtype=torch.float64)),
        TypeError, "k", "torch.float64"),
    bad("attention_weights(scale=nan)",
        lambda: attention_weights(torch.ones(3, 4), torch.ones(5, 4), scale=NAN), ValueError,
        "scale", "nan"),
    bad("attention_weights(scale=inf)",
        lambda: attention_weights(torch.ones(3, 4), torch.ones(5, 4), scale=INF), ValueError,
        "scale", "inf"),
    bad("attention_weights(scale=str)",
        lambda: attention_weights(torch.ones(3, 4), torch.ones(5, 4), scale="0.5"), TypeError,
        "scale", "'0.5'"),
    bad("attention_weights(E=0)", lambda: attention_weights(torch.ones(2, 0), torch.ones(3, 0)),
        ValueError, "q and k", "E >= 1", "(2, 0)"),
    bad("sdpa(E=0)", lambda: _sdpa(q=torch.ones(3, 0), k=torch.ones(5, 0)), ValueError, "E >= 1"),
    bad("attention_weights(scale=10**400)",
        lambda: attention_weights(torch.ones(3, 4), torch.ones(5, 4), scale=10**400), ValueError,
        "scale", "float's range"),
    bad("attention_weights(scores beyond memory)",
        lambda: attention_weights(torch.ones(1, 2**22, 1), torch.ones(1, 2**22, 1)), MemoryError,
        "q (1, 4194304, 1)", "k (1, 4194304, 1)", "(1, 4194304, 4194304)", "GB"),
    bad("sdpa(broadcast scores beyond memory)",
        lambda: _sdpa(q=torch.ones(3, 4).expand(2**30, 3, 4), k=torch.ones(5, 4)), MemoryError,
        "(1073741824, 3, 5)", "GB"),
    bad("mha(sequence beyond memory)", lambda: MultiHeadAttention(2, 1)(torch.ones(1, 2**22, 2)),
        MemoryError, "scores", "GB"),
    bad("attention_weights(q on meta)",
        lambda: attention_weights(torch.ones(3, 4, device="meta"), torch.ones(5, 4)), ValueError,
        "q", "meta"),
    bad("sdpa(v on meta)", lambda: _sdpa(v=torch.ones(5, 2, device="meta")), ValueError, "v",
        "meta"),
    bad("sdpa(attn_mask on meta)",
        lambda: _sdpa(attn_mask=torch.ones(3, 5, dtype=torch.bool, device="meta")), ValueError,
        "attn_mask", "meta"),
    bad("attention_weights(is_causal=1)",
        lambda: attention_weights(torch.ones(3, 4), torch.ones(5, 4), is_causal=1), TypeError,
        "is_causal", "1"),
    bad("sdpa(dropout_p=nan)", lambda: _sdpa(dropout_p=NAN), ValueError, "dropout_p", "nan"),
    bad("sdpa(dropout_p=True)", lambda: _sdpa(dropout_p=True), TypeError, "dropout_p", "bool"),
    bad("sdpa(dropout_p=-0.1)", lambda: _sdpa(dropout_p=-0.1), ValueError, "dropout_p", "[0, 1)"),
    bad("sdpa(attn_mask=int64)", lambda: _sdpa(attn_mask=torch.ones(3, 5, dtype=torch.long)),
        TypeError, "attn_mask", "torch.int64", ".to(torch.float32)"),
    bad("sdpa(attn_mask=float16)",
        lambda: _sdpa(attn_mask=torch.zeros(3, 5, dtype=torch.float16)), TypeError,
        "attn_mask", "torch.float16"),
    bad("sdpa(attn_mask wrong shape)",
        lambda: _sdpa(attn_mask=torch.ones(4, 5, dtype=torch.bool)), ValueError, "attn_mask",
        "(4, 5)", "(3, 5)"),
    bad("sdpa(attn_mask=list)", lambda: _sdpa(attn_mask=[[True] * 5] * 3), TypeError,
        "attn_mask", "torch.Tensor"),
    bad("sdpa(attn_mask and is_causal)",
        lambda: _sdpa(attn_mask=torch.ones(3, 5, dtype=torch.bool), is_causal=True), ValueError,
        "attn_mask", "is_causal", "not both"),
    bad("sdpa(v float64)", lambda: _sdpa(v=torch.ones(5, 2, dtype=torch.float64)), TypeError,
        "v", "torch.float64"),
    bad("sdpa(v rows != keys)", lambda: _sdpa(v=torch.ones(6, 2)), ValueError, "v", "S=5"),
    bad("sdpa(k width != q width)", lambda: _sdpa(k=torch.ones(5, 3)), ValueError, "k", "E=4"),
    bad("sdpa(batch dims clash)",
        lambda: _sdpa(q=torch.ones(2, 3, 4), k=torch.ones(3, 5, 4), v=torch.ones(3, 5, 2)),
        ValueError, "q, k", "do not broadcast"),
    # split_heads / merge_heads
    bad("split_heads(width not divisible)", lambda: split_heads(torch.ones(2, 5, 12), 5),
        ValueError, "n_head=5", "C=12", "[1, 2, 3, 4, 6, 12]"),
    bad("split_heads(2-D x)", lambda: split_heads(torch.ones(5, 12), 3), ValueError, "x",
        "(B, T, C)", "x[None]"),
    bad("split_heads(n_head=0)", lambda: split_heads(torch.ones(2, 5, 12), 0), ValueError,
        "n_head", ">= 1"),
    bad("split_heads(n_head=True)", lambda: split_heads(torch.ones(2, 5, 12), True), TypeError,
        "n_head", "bool"),
    bad("split_heads(x=list)", lambda: split_heads([[[1.0]]], 1), TypeError, "x",
        "torch.Tensor"),
    bad("merge_heads(3-D x)", lambda: merge_heads(torch.ones(2, 5, 12)), ValueError, "x",
        "(B, nh, T, hs)"),
    # MultiHeadAttention
    bad("MultiHeadAttention(10, 3)", lambda: MultiHeadAttention(10, 3), ValueError,
        "embed_dim=10", "num_heads=3"),
    bad("MultiHeadAttention(num_heads=0)", lambda: MultiHeadAttention(8, 0), ValueError,
        "num_heads", ">= 1"),
    bad("MultiHeadAttention(embed_dim=8.0)", lambda: MultiHeadAttention(8.0, 2), TypeError,
        "embed_dim", "8.0"),
    bad("MultiHeadAttention(dropout=nan)", lambda: MultiHeadAttention(8, 2, dropout=NAN),
        ValueError, "dropout", "nan"),
    bad("MultiHeadAttention(bias='yes')", lambda: MultiHeadAttention(8, 2, bias="yes"),
        TypeError, "bias", "'yes'"),
    bad("MultiHeadAttention(2**20, 1): beyond memory", lambda: MultiHeadAttention(2**20, 1),
        MemoryError, "embed_dim=1048576", "GB", "smaller embed_dim"),
    bad("MultiHeadAttention(2**40, 1): beyond torch", lambda: MultiHeadAttention(2**40, 1),
        ValueError, "embed_dim=1099511627776", "64-bit"),
    bad("MultiHeadAttention(2**70, 1)", lambda: MultiHeadAttention(HUGE, 1), ValueError,
        f"embed_dim={HUGE}"),
    bad("MultiHeadAttention(seed=np.float64)",
        lambda: MultiHeadAttention(8, 2, seed=np.float64(1)), TypeError, "seed"),
    bad("mha(query on meta)", lambda: _MHA(torch.ones(2, 5, 8, device="meta")), ValueError,
        "query", "meta"),
    bad("mha(key_padding_mask on meta)",
        lambda: _MHA(_X, key_padding_mask=torch.ones(2, 5, dtype=torch.bool, device="meta")),
        ValueError, "key_padding_mask", "meta"),
    bad("MultiHeadAttention(seed=2**70)", lambda: MultiHeadAttention(8, 2, seed=2**70),
        ValueError, "seed", "2**64 - 1"),
    bad("mha(query float64)", lambda: _MHA(_X.double()), TypeError, "query", "torch.float64",
        "query.to(torch.float32)"),
    bad("mha(query wrong width)", lambda: _MHA(torch.ones(2, 5, 6)), ValueError, "query",
        "embed_dim", "(2, 5, 6)"),
    bad("mha(query 2-D)", lambda: _MHA(torch.ones(5, 8)), ValueError, "query", "(B, T, 8)"),
    bad("mha(key other batch)", lambda: _MHA(_X, torch.ones(3, 5, 8)), ValueError, "query",
        "key", "share B"),
    bad("mha(kv_cache with key)", lambda: _MHA(_X, _X.clone(), kv_cache=KVCache()), ValueError,
        "kv_cache", "self-attention"),
    bad("mha(kv_cache=dict)", lambda: _MHA(_X, kv_cache={}), TypeError, "kv_cache", "KVCache"),
    bad("mha(key_padding_mask float)", lambda: _MHA(_X, key_padding_mask=torch.ones(2, 5)),
        TypeError, "key_padding_mask", "bool"),
    bad("mha(key_padding_mask shape)",
        lambda: _MHA(_X, key_padding_mask=torch.ones(2, 4, dtype=torch.bool)), ValueError,
        "key_padding_mask", "(2, 5)", "(2, 4)"),
    bad("mha(attn_mask per head wrong)",
        lambda: _MHA(_X, attn_mask=torch.ones(2, 3, 5, 5, dtype=torch.bool)), ValueError,
        "attn_mask", "(2, 2, 5, 5)"),
    bad("mha(need_weights=1)", lambda: _MHA(_X, need_weights=1), TypeError, "need_weights"),
    bad("mha(layer=-1)", lambda: _MHA(_X, kv_cache=KVCache(), layer=-1), ValueError, "layer"),
    bad("from_torch(nn.Linear)", lambda: MultiHeadAttention.from_torch(nn.Linear(2, 2)),
        TypeError, "mha", "nn.MultiheadAttention", "Linear"),
    bad("from_torch(None)", lambda: MultiHeadAttention.from_torch(None), TypeError, "mha"),
    # KVCache
    bad("KVCache.update(v shape != k shape)",
        lambda: KVCache().update(0, torch.ones(1, 2, 3, 4), torch.ones(1, 2, 2, 4)), ValueError,
        "v", "(1, 2, 3, 4)", "(1, 2, 2, 4)"),
    bad("KVCache.update(layer skipped)",
        lambda: KVCache().update(2, torch.ones(1, 2, 3, 4), torch.ones(1, 2, 3, 4)), ValueError,
        "layer", "[0, 0]", "filled in order"),
    bad("KVCache.update(k 3-D)", lambda: KVCache().update(0, torch.ones(2, 3, 4),
                                                          torch.ones(2, 3, 4)),
        ValueError, "k", "(B, nh, T, hs)"),
    bad("KVCache.update(other batch)",
        lambda: _filled_cache(_model()).update(0, torch.ones(2, 2, 1, 4), torch.ones(2, 2, 1, 4)),
        ValueError, "k", "(2, 2, 1, 4)", "new KVCache()"),
    bad("KVCache.update(other device)",
        lambda: _filled_cache(_model()).update(0, torch.ones(1, 2, 1, 4, device="meta"),
                                               torch.ones(1, 2, 1, 4, device="meta")),
        ValueError, "k", "meta", "cpu"),
    bad("KVCache.update(int64 k and v)", lambda: _cache_update(torch.long, torch.long),
        TypeError, "k", "floating-point", "torch.int64"),
    bad("KVCache.update(int64 v)", lambda: _cache_update(v_dtype=torch.long), TypeError, "v",
        "floating-point"),
    bad("KVCache.update(v on meta)", lambda: _cache_update(v_device="meta"), ValueError, "v",
        "meta"),
    bad("KVCache.update(layer=2**70)",
        lambda: KVCache().update(HUGE, torch.ones(1, 2, 3, 4), torch.ones(1, 2, 3, 4)),
        ValueError, "layer"),
    bad("KVCache.check_fits(dtype=str)", lambda: KVCache().check_fits(1, 2, 2, 4, "float32"),
        TypeError, "dtype", "'float32'", "torch.float32"),
    bad("KVCache.check_fits(dtype=None)", lambda: KVCache().check_fits(1, 2, 2, 4, None),
        TypeError, "dtype", "torch.dtype"),
    bad("KVCache.reorder(int16)",
        lambda: _filled_cache(_model(), 2).reorder(torch.tensor([0, 1], dtype=torch.int16)),
        TypeError, "index", "torch.int16", "index.long()"),
    bad("KVCache.reorder(on meta)",
        lambda: _filled_cache(_model(), 2).reorder(torch.tensor([0, 1], device="meta")),
        ValueError, "index", "meta"),
    bad("KVCache.check_fits(batch_size=True)",
        lambda: KVCache().check_fits(True, 2, 2, 4, torch.float32), TypeError, "batch_size"),
    bad("KVCache.length(layer=-1)", lambda: KVCache().length(-1), ValueError, "layer"),
    bad("KVCache.reorder(out of range)",
        lambda: _filled_cache(_model(), 2).reorder(torch.tensor([0, 2])), ValueError, "index",
        "0..1"),
    bad("KVCache.reorder(float)", lambda: KVCache().reorder(torch.tensor([0.0])), TypeError,
        "index", "integer"),
    # GPTConfig
    bad("GPTConfig(dropout=True)", lambda: GPTConfig(dropout=True), TypeError, "dropout", "bool"),
    bad("GPTConfig(dropout=nan)", lambda: GPTConfig(dropout=NAN), ValueError, "dropout", "nan"),
    bad("GPTConfig(layer_norm_epsilon=inf)", lambda: GPTConfig(layer_norm_epsilon=INF),
        ValueError, "layer_norm_epsilon", "inf"),
    bad("GPTConfig(layer_norm_epsilon=nan)", lambda: GPTConfig(layer_norm_epsilon=NAN),
        ValueError, "layer_norm_epsilon", "nan"),
    bad("GPTConfig(layer_norm_epsilon=True)", lambda: GPTConfig(layer_norm_epsilon=True),
        TypeError, "layer_norm_epsilon", "bool"),
    bad("GPTConfig(n_head=True)", lambda: GPTConfig(n_head=True), TypeError, "n_head", "bool"),
    bad("GPTConfig(n_layer=0)", lambda: GPTConfig(n_layer=0), ValueError, "n_layer", ">= 1"),
    bad("GPTConfig(bias=1)", lambda: GPTConfig(bias=1), TypeError, "bias", "True or False"),
    bad("GPTConfig(n_embd % n_head)", lambda: GPTConfig(n_embd=10, n_head=4), ValueError,
        "n_embd=10", "n_head=4"),
    bad("GPTConfig(huge n_embd % n_head)", lambda: GPTConfig(n_embd=10**12 + 1, n_head=2),
        ValueError, "n_embd", "n_head=2"),
    bad("GPTConfig(n_embd=np.float64)", lambda: GPTConfig(n_embd=np.float64(8.0)), TypeError,
        "n_embd"),
    bad("GPTConfig(dropout=10**400)", lambda: GPTConfig(dropout=10**400), ValueError,
        "dropout"),
    bad("GPTConfig changed by dataclasses.replace",
        lambda: dataclasses.replace(TINY, n_head=3), ValueError, "n_embd=8", "n_head=3"),
    # GPT
    bad("GPT(vocab_size=2**40): beyond memory",
        lambda: GPT(GPTConfig(vocab_size=2**40, n_layer=1, n_head=1, n_embd=4)), MemoryError,
        "vocab_size=1099511627776", "n_embd=4", "GB"),
    bad("GPT(vocab_size=2**62): beyond torch",
        lambda: GPT(GPTConfig(vocab_size=2**62, n_layer=1, n_head=1, n_embd=4)), ValueError,
        "vocab_size=4611686018427387904", "64-bit"),
    bad("GPT(n_embd=2**70)", lambda: GPT(GPTConfig(n_embd=HUGE, n_head=1)), ValueError,
        f"n_embd={HUGE}"),
    bad("GPT(n_layer=2**70)", lambda: GPT(GPTConfig(n_layer=HUGE)), ValueError,
        f"n_layer={HUGE}"),
    bad("GPT(block_size=2**70) on meta", lambda: _meta_gpt(GPTConfig(block_size=HUGE)),
        ValueError, f"block_size={HUGE}", "64-bit"),
    bad("GPT(seed=np.float32)", lambda: GPT(TINY, seed=np.float32(1)), TypeError, "seed"),
    bad("GPT.init_weights(seed=2**70)", lambda: _model().init_weights(HUGE), ValueError, "seed"),
    bad("GPT(seed=2**70)", lambda: GPT(TINY, seed=2**70), ValueError, "seed", "2**64 - 1"),
    bad("GPT(seed=-1)", lambda: GPT(TINY, seed=-1), ValueError, "seed", "-1"),
    bad("GPT(config=dict)", lambda: GPT(dict(n_layer=2)), TypeError, "config", "GPTConfig"),
    bad("GPT.init_weights(seed=1.5)", lambda: _model().init_weights(1.5), TypeError, "seed"),
    bad("GPT.num_parameters(1)", lambda: _model().num_parameters(1), TypeError,
        "non_embedding"),
    bad("model(bool input_ids)", lambda: _model()(torch.ones(1, 3, dtype=torch.bool)),
        TypeError, "input_ids", "torch.bool"),
    bad("model(float input_ids)", lambda: _model()(torch.ones(1, 3)), TypeError, "input_ids",
        "torch.float32", "dtype=torch.long"),
    bad("model(list input_ids)", lambda: _model()([[1, 2]]), TypeError, "input_ids",
        "[[1, 2]]"),
    bad("model(1-D input_ids)", lambda: _model()(torch.tensor([1, 2])), ValueError,
        "input_ids", "(B, T)", "input_ids[None]"),
    bad("model(id = vocab_size)", lambda: _model()(_ids([1, 11])), ValueError, "input_ids",
        "11", "vocab_size=11"),
    bad("model(negative id)", lambda: _model()(_ids([-1, 2])), ValueError, "input_ids", "-1"),
    bad("model(T > block_size)", lambda: _model()(torch.zeros(1, 9, dtype=torch.long)),
        ValueError, "input_ids", "T=9", "block_size=8"),
    bad("model(input_ids on cpu, model on meta)", lambda: _on_meta(_ids([1, 2])), ValueError,
        "input_ids", "meta"),
    bad("model(kv_cache of a 1-layer model)",
        lambda: _model()(_ids([1]), kv_cache=_filled_cache(_model(n_layer=1))), ValueError,
        "kv_cache", "1 layers", "new KVCache()"),
    bad("model(kv_cache of a 4-head model)",
        lambda: _model()(_ids([1]), kv_cache=_filled_cache(_model(n_head=4))), ValueError,
        "kv_cache", "4 heads"),
    bad("model(kv_cache of another batch)",
        lambda: _model()(_ids([1], [2]), kv_cache=_filled_cache(_model())), ValueError,
        "batch size 2", "kv_cache holds 1"),
    bad("model(kv_cache full)",
        lambda: _model()(torch.zeros(1, 6, dtype=torch.long), kv_cache=_filled_cache(_model())),
        ValueError, "input_ids", "3 cached + 6 new", "block_size=8"),
    bad("model(kv_cache=dict)", lambda: _model()(_ids([1]), kv_cache={}), TypeError,
        "kv_cache", "KVCache"),
    bad("check_token_ids(bool)", lambda: check_token_ids(torch.ones(2, 3, dtype=torch.bool)),
        TypeError, "input_ids", "torch.bool"),
    bad("check_token_ids(on meta)",
        lambda: check_token_ids(torch.zeros(1, 1, dtype=torch.long, device="meta"), vocab_size=5),
        ValueError, "input_ids", "meta"),
    bad("check_token_ids(vocab_size='5')",
        lambda: check_token_ids(torch.zeros(1, 1, dtype=torch.long), vocab_size="5"), TypeError,
        "vocab_size", "'5'"),
    bad("check_token_ids(vocab_size=0)",
        lambda: check_token_ids(torch.zeros(1, 1, dtype=torch.long), vocab_size=0), ValueError,
        "vocab_size", ">= 1"),
    bad("check_token_ids(vocab_size=True)",
        lambda: check_token_ids(torch.zeros(1, 1, dtype=torch.long), vocab_size=True), TypeError,
        "vocab_size", "bool"),
    bad("check_token_ids(empty)", lambda: check_token_ids(torch.ones(1, 0, dtype=torch.long)),
        ValueError, "input_ids", "T >= 1"),
    bad("GPT.from_hf(GPT)", lambda: GPT.from_hf(_model()), TypeError, "hf_model",
        "GPT2LMHeadModel"),
    bad("GPT.from_hf(a model on meta)", lambda: GPT.from_hf(_model().to_hf().to("meta")),
        ValueError, "hf_model", "meta"),
    bad("GPT.to_hf() of a model on meta", lambda: _meta_gpt(TINY).to_hf(), ValueError,
        "meta device", "real device"),
    bad("GPT.from_hf(None)", lambda: GPT.from_hf(None), TypeError, "hf_model", "None"),
    bad("gelu_new(list)", lambda: gelu_new([1.0]), TypeError, "x", "torch.Tensor"),
]

if torch.cuda.is_available():  # tensors on two real devices: only a machine with a GPU has them
    CASES += [
        bad("attention_weights(q on cpu, k on cuda)",
            lambda: attention_weights(torch.ones(3, 4), torch.ones(5, 4, device="cuda")),
            ValueError, "q and k", "cuda:0", "same device"),
        bad("sdpa(v on cuda)", lambda: _sdpa(v=torch.ones(5, 2, device="cuda")), ValueError,
            "k and v", "cuda:0"),
        bad("sdpa(attn_mask on cuda)",
            lambda: _sdpa(attn_mask=torch.ones(3, 5, dtype=torch.bool, device="cuda")),
            ValueError, "attn_mask", "cuda:0", "'cpu'"),
        bad("mha(key_padding_mask on cuda)",
            lambda: _MHA(_X, key_padding_mask=torch.ones(2, 5, dtype=torch.bool, device="cuda")),
            ValueError, "key_padding_mask", "cuda:0"),
        bad("KVCache.update(v on cuda)", lambda: _cache_update(v_device="cuda"), ValueError,
            "k and v", "cuda:0"),
        bad("KVCache.reorder(index on cuda)",
            lambda: _filled_cache(_model(), 2).reorder(torch.tensor([1, 0], device="cuda")),
            ValueError, "index", "cuda:0"),
        bad("model(input_ids on cuda, model on cpu)", lambda: _model()(_ids([1, 2]).cuda()),
            ValueError, "input_ids", "cuda:0"),
    ]
