"""course_utils.attention and .multihead against torch: SDPA and nn.MultiheadAttention, forward
and gradients; the KV cache against attention over the whole sequence."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.attention import (
    MultiHeadAttention,
    attention_weights,
    causal_mask,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)
from course_utils.multihead import KVCache

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}  # max abs error allowed, per dtype
DTYPES = list(TOL)


def assert_close(actual, expected, dtype):
    torch.testing.assert_close(actual, expected, atol=TOL[dtype], rtol=0)


def randn(*shape, dtype=torch.float64, seed=0, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype).requires_grad_(requires_grad)


# (batch dims, L, S, E, Ev): no batch, 1, 2 dims; L != S; E != Ev; small and larger T
SHAPES = [((), 3, 3, 4, 4), ((1,), 5, 7, 8, 3), ((2, 3), 6, 4, 16, 16),
          ((2, 4), 64, 64, 32, 32), ((3,), 96, 128, 8, 12)]


def make_mask(kind, batch, L, S, dtype, seed):
    """Return (attn_mask, is_causal) of the given kind; no row is fully masked."""
    g = torch.Generator().manual_seed(seed)
    keep_first = torch.zeros(S, dtype=torch.bool)
    keep_first[0] = True  # key 0 always visible, so every row attends to something
    if kind == "none":
        return None, False
    if kind == "causal":
        return None, True
    if kind == "bool":
        return (torch.rand(*batch, L, S, generator=g) > 0.5) | keep_first, False
    if kind == "float":
        return torch.randn(*batch, L, S, generator=g, dtype=dtype), False
    if kind == "bool (L, S)":
        return (torch.rand(L, S, generator=g) > 0.5) | keep_first, False
    if kind == "float (1, 1, L, S)":  # as many leading 1s as q has batch dims (torch wants no more)
        return torch.randn(*[1] * len(batch), L, S, generator=g, dtype=dtype), False
    if kind == "padding (B, 1, 1, S)":  # the same keys hidden from every query
        shape = (*batch[:1], *[1] * (len(batch) - 1), 1, S)  # (1, S), (B, 1, S), (B, 1, 1, S)
        return (torch.rand(shape, generator=g) > 0.3) | keep_first, False
    raise AssertionError(kind)


MASKS = ["none", "causal", "bool", "float", "bool (L, S)", "float (1, 1, L, S)",
         "padding (B, 1, 1, S)"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sdpa_equals_torch(shape, mask_kind, dtype):
    batch, L, S, E, Ev = shape
    seed = 10 * SHAPES.index(shape) + MASKS.index(mask_kind)
    q, k, v = (randn(*batch, n, d, dtype=dtype, seed=seed + i)
               for i, (n, d) in enumerate([(L, E), (S, E), (S, Ev)]))
    attn_mask, is_causal = make_mask(mask_kind, batch, L, S, dtype, seed)
    ours = scaled_dot_product_attention(q, k, v, attn_mask, is_causal)
    assert ours.shape == (*batch, L, Ev)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask, is_causal=is_causal)
    assert_close(ours, theirs, dtype)


@pytest.mark.parametrize("mask_kind", ["none", "causal", "bool", "float", "padding (B, 1, 1, S)"])
@pytest.mark.parametrize("shape", SHAPES[1:4], ids=str)
def test_sdpa_gradients_equal_torch(shape, mask_kind):
    batch, L, S, E, Ev = shape
    q, k, v = (randn(*batch, n, d, seed=i, requires_grad=True)
               for i, (n, d) in enumerate([(L, E), (S, E), (S, Ev)]))
    attn_mask, is_causal = make_mask(mask_kind, batch, L, S, torch.float64, seed=7)
    weights = randn(*batch, L, Ev, seed=9)  # a loss that weighs every output differently
    out = scaled_dot_product_attention(q, k, v, attn_mask, is_causal)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask, is_causal=is_causal)
    ours = torch.autograd.grad((out * weights).sum(), (q, k, v))
    theirs = torch.autograd.grad((expected * weights).sum(), (q, k, v))
    for a, b in zip(ours, theirs):
        assert_close(a, b, torch.float64)


def test_scale_and_broadcast_batch_dims_equal_torch():
    q, k, v = randn(2, 1, 5, 8, seed=1), randn(1, 3, 6, 8, seed=2), randn(3, 6, 4, seed=3)
    ours = scaled_dot_product_attention(q, k, v, scale=0.3)
    assert ours.shape == (2, 3, 5, 4)
    assert_close(ours, F.scaled_dot_product_attention(q, k, v, scale=0.3), torch.float64)


def test_float32_mask_with_float64_inputs_is_accepted_like_torch():
    q, k, v = randn(4, 8, seed=1), randn(6, 8, seed=2), randn(6, 3, seed=3)
    mask = randn(4, 6, seed=4, dtype=torch.float32)
    assert_close(scaled_dot_product_attention(q, k, v, mask),
                 F.scaled_dot_product_attention(q, k, v, mask), torch.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fully_masked_rows_give_zeros_like_torch(dtype):
    # torch 2.13's SDPA returns 0 (not NaN) for a query that may attend to nothing; so do we,
    # and the gradients stay finite (0 for that row) instead of spreading NaN.
    q, k, v = (randn(2, n, 4, dtype=dtype, seed=i, requires_grad=True)
               for i, n in enumerate([3, 5, 5]))
    bool_mask = torch.ones(3, 5, dtype=torch.bool)
    bool_mask[1] = False
    float_mask = torch.zeros(3, 5, dtype=dtype).masked_fill(~bool_mask, float("-inf"))
    for mask in (bool_mask, float_mask):
        ours = scaled_dot_product_attention(q, k, v, mask)
        theirs = F.scaled_dot_product_attention(q, k, v, mask)
        assert_close(ours, theirs, dtype)
        assert torch.equal(ours[:, 1], torch.zeros(2, 4, dtype=dtype))
        assert torch.equal(attention_weights(q, k, mask)[:, 1], torch.zeros(2, 5, dtype=dtype))
        grads = torch.autograd.grad(ours.sum(), (q, k, v))
        expected = torch.autograd.grad(theirs.sum(), (q, k, v))
        for a, b in zip(grads, expected):
            assert torch.isfinite(a).all()
            assert_close(a, b, dtype)
    # no keys at all (S = 0): every row is fully masked
    empty = scaled_dot_product_attention(q, k[:, :0], v[:, :0])
    assert torch.equal(empty, F.scaled_dot_product_attention(q, k[:, :0], v[:, :0]))


def test_a_score_that_overflows_gives_nan_like_torch():
    # Decided (see the module doc): scale is checked to be finite, not the scores; a scale so
    # large that q·kᵀ·scale overflows makes the row's softmax inf - inf = NaN, as torch's does.
    q, k, v = torch.ones(2, 4), torch.ones(3, 4), torch.ones(3, 2)
    ours = scaled_dot_product_attention(q, k, v, scale=1e308)
    assert ours.isnan().all() and F.scaled_dot_product_attention(q, k, v, scale=1e308).isnan().all()
    big = scaled_dot_product_attention(torch.eye(2, 4), 2 * torch.eye(3, 4), torch.eye(3),
                                       scale=1e30)
    assert torch.equal(big, torch.eye(2, 3))  # large but finite scores: a hard maximum


def test_scale_of_any_real_number_type_gives_the_same_weights():
    q, k = randn(3, 4), randn(5, 4, seed=1)
    expected = attention_weights(q, k, scale=0.5)
    for scale in (Fraction(1, 2), np.float64(0.5), np.float32(0.5), 0.5):
        assert torch.equal(attention_weights(q, k, scale=scale), expected)


def test_empty_sequences_are_computed_and_empty_features_refused():
    assert scaled_dot_product_attention(torch.ones(0, 4), torch.ones(3, 4),
                                        torch.ones(3, 2)).shape == (0, 2)
    no_keys = scaled_dot_product_attention(torch.ones(2, 4), torch.ones(0, 4), torch.ones(0, 2))
    assert torch.equal(no_keys, torch.zeros(2, 2))  # nothing to attend to: zeros, like torch
    with pytest.raises(ValueError, match=r"E >= 1 features.*\(2, 0\)"):
        attention_weights(torch.ones(2, 0), torch.ones(3, 0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_tensors_on_two_devices_are_refused_and_one_device_works():
    q, k, v = randn(3, 4), randn(5, 4, seed=1), randn(5, 2, seed=2)
    on_gpu = scaled_dot_product_attention(q.cuda(), k.cuda(), v.cuda(), is_causal=True)
    assert_close(on_gpu.cpu(), scaled_dot_product_attention(q, k, v, is_causal=True),
                 torch.float64)
    with pytest.raises(ValueError, match="q and k must be on the same device"):
        attention_weights(q, k.cuda())
    with pytest.raises(ValueError, match="k and v must be on the same device"):
        scaled_dot_product_attention(q, k, v.cuda())
    with pytest.raises(ValueError, match="attn_mask must be on the queries' device cpu"):
        attention_weights(q, k, torch.ones(3, 5, dtype=torch.bool, device="cuda"))
    mha, x = MultiHeadAttention(8, 2), torch.ones(2, 5, 8)
    with pytest.raises(ValueError, match="query and key_padding_mask"):
        mha(x, key_padding_mask=torch.ones(2, 5, dtype=torch.bool, device="cuda"))
    with pytest.raises(ValueError, match="attn_mask must be on the queries' device"):
        mha(x, attn_mask=torch.ones(5, 5, dtype=torch.bool, device="cuda"))
    cache = KVCache()
    with pytest.raises(ValueError, match="k and v must be on the same device"):
        cache.update(0, torch.ones(1, 2, 3, 4), torch.ones(1, 2, 3, 4, device="cuda"))
    cache.update(0, torch.ones(2, 2, 3, 4), torch.ones(2, 2, 3, 4))
    with pytest.raises(ValueError, match="index must be on the cache's device cpu"):
        cache.reorder(torch.tensor([1, 0], device="cuda"))


def test_hand_worked_example():
    # Three tokens, d_k = 4, so scale = 1/√4 = 1/2. Each key is 2 times a one-hot vector:
    #   k_0 = (2,0,0,0), k_1 = (0,2,0,0), k_2 = (0,0,2,0)
    # so q_i · k_j / 2 = q_i[j]: the scores are just the first three entries of each query.
    q = torch.tensor([[0., 0, 0, 0],
                      [1., 1, 0, 0],
                      [2., 0, 0, 0]])
    k = 2 * torch.eye(3, 4)
    v = torch.tensor([[1., 0], [0, 1], [1, 1]])
    # Scores (row i = query i, column j = key j); the causal mask hides j > i (-inf):
    #   [[0, -inf, -inf],
    #    [1,    1, -inf],
    #    [2,    0,    0]]
    scores = torch.tensor([[0., 0, 0], [1, 1, 0], [2, 0, 0]])
    assert torch.equal(q @ k.T / 2, scores)
    # Softmax of each row over the visible keys:
    #   row 0: e⁰/e⁰ = 1                                   -> (1, 0, 0)
    #   row 1: e¹/(e¹ + e¹) = 1/2                           -> (1/2, 1/2, 0)
    #   row 2: e²/(e² + 1 + 1) = 7.389/9.389 ≈ 0.787, and 1/9.389 ≈ 0.1065 for the other two
    e2 = math.exp(2)
    expected_weights = torch.tensor([[1., 0, 0],
                                     [0.5, 0.5, 0],
                                     [e2 / (e2 + 2), 1 / (e2 + 2), 1 / (e2 + 2)]])
    weights = attention_weights(q, k, is_causal=True)
    torch.testing.assert_close(weights, expected_weights, atol=1e-7, rtol=0)
    assert torch.equal(weights[:2], expected_weights[:2])  # 1 and 1/2 are exact in floating point
    # Output row = weights @ v, with v_0 = (1, 0), v_1 = (0, 1), v_2 = (1, 1):
    #   row 0: v_0 = (1, 0)
    #   row 1: (v_0 + v_1)/2 = (0.5, 0.5)
    #   row 2: 0.787·(1, 0) + 0.1065·(0, 1) + 0.1065·(1, 1)
    #          = ((e²+1)/(e²+2), 2/(e²+2)) ≈ (0.8935, 0.2130)
    expected_out = torch.tensor([[1., 0], [0.5, 0.5], [(e2 + 1) / (e2 + 2), 2 / (e2 + 2)]])
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, expected_out, atol=1e-7, rtol=0)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), torch.float32)
    # Without the mask, query 0 (all zeros) scores 0 against every key: uniform 1/3 each.
    torch.testing.assert_close(attention_weights(q, k)[0], torch.full((3,), 1 / 3))


@pytest.mark.parametrize("L, S", [(5, 5), (3, 6), (6, 3)])
def test_attention_weights_rows_sum_to_one_and_causal_upper_triangle_is_zero(L, S):
    weights = attention_weights(randn(2, L, 8, seed=1), randn(2, S, 8, seed=2), is_causal=True)
    assert_close(weights.sum(-1), torch.ones(2, L, dtype=torch.float64), torch.float64)
    assert torch.equal(weights * ~causal_mask(L, S), torch.zeros(2, L, S, dtype=torch.float64))
    assert (weights[..., causal_mask(L, S)] > 0).all()


def test_causal_mask_matches_torch_is_causal_alignment():
    # torch aligns is_causal top-left: torch.ones(L, S).tril()
    for L, S in [(4, 4), (2, 5), (5, 2)]:
        assert torch.equal(causal_mask(L, S), torch.ones(L, S).tril().bool())
    assert causal_mask(3).dtype == torch.bool


def test_split_and_merge_heads_are_inverse():
    x = randn(2, 5, 12)
    heads = split_heads(x, 3)
    assert heads.shape == (2, 3, 5, 4)
    assert torch.equal(heads[:, 1], x[..., 4:8])  # head 1 is channels 4..7
    assert torch.equal(merge_heads(heads), x)


# ---------------------------------------------------------------- MultiHeadAttention


def make_pair(embed_dim, num_heads, dtype, bias=True, seed=0):
    torch.manual_seed(seed)  # nn.MultiheadAttention only draws from the global RNG
    theirs = nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True, dtype=dtype)
    with torch.no_grad():  # make the (zero-initialised) biases non-zero so they are tested too
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return MultiHeadAttention.from_torch(theirs), theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cross", [False, True], ids=["self", "cross"])
@pytest.mark.parametrize("mask_kind",
                         ["none", "causal", "bool", "float", "padding", "bool+padding"])
def test_multihead_attention_equals_torch(mask_kind, cross, bias, dtype):
    B, L, C, nh = 3, 5, 16, 4
    S = 7 if cross else L
    ours, theirs = make_pair(C, nh, dtype, bias=bias)
    query = randn(B, L, C, dtype=dtype, seed=1)
    key, value = randn(B, S, C, dtype=dtype, seed=2), randn(B, S, C, dtype=dtype, seed=3)
    if not cross:
        key = value = query
    g = torch.Generator().manual_seed(4)
    keep = torch.rand(L, S, generator=g) > 0.4
    keep[:, 0] = True  # no fully masked rows: torch's MHA gives NaN there, SDPA gives 0
    pad = torch.rand(B, S, generator=g) > 0.3
    pad[:, 0] = True
    kwargs, torch_kwargs = {}, {}
    # nn.MultiheadAttention's boolean masks mean the opposite: True = may NOT attend
    if mask_kind == "causal":
        kwargs = dict(is_causal=True)
        torch_kwargs = dict(attn_mask=~causal_mask(L, S), is_causal=True)
    if mask_kind in ("bool", "bool+padding"):
        kwargs["attn_mask"], torch_kwargs["attn_mask"] = keep, ~keep
    if mask_kind == "float":
        float_mask = torch.randn(L, S, generator=g, dtype=dtype)
        kwargs["attn_mask"] = torch_kwargs["attn_mask"] = float_mask
    if mask_kind in ("padding", "bool+padding"):
        kwargs["key_padding_mask"], torch_kwargs["key_padding_mask"] = pad, ~pad
    out, weights = ours(query, key if cross else None, value if cross else None,
                        need_weights=True, **kwargs)
    expected, expected_weights = theirs(query, key, value, need_weights=True,
                                        average_attn_weights=False, **torch_kwargs)
    assert_close(out, expected, dtype)
    assert_close(weights, expected_weights, dtype)
    assert_close(ours(query, key, value, **kwargs), expected, dtype)  # need_weights=False path


def test_multihead_attention_causal_with_padding_combines_both():
    ours, theirs = make_pair(8, 2, torch.float64)
    x = randn(2, 5, 8, seed=1)
    pad = torch.tensor([[True] * 5, [True, True, True, False, False]])
    combined = ~causal_mask(5) | ~pad[:, None, :]  # (B, L, S), torch's True = hidden
    per_head = combined.repeat_interleave(2, dim=0)  # torch wants (B·nh, L, S)
    expected = theirs(x, x, x, attn_mask=per_head, need_weights=False)[0]
    assert_close(ours(x, is_causal=True, key_padding_mask=pad), expected, torch.float64)


def test_multihead_attention_fully_masked_row_gives_the_bias():
    ours, theirs = make_pair(8, 2, torch.float64)
    x = randn(1, 3, 8, seed=1)
    keep = torch.ones(3, 3, dtype=torch.bool)
    keep[1] = False  # query 1 may attend to nothing
    out = ours(x, attn_mask=keep)
    assert torch.equal(out[0, 1], ours.c_proj.bias)  # zero attention output, then c_proj
    # torch agrees when it goes through SDPA (need_weights=False); its need_weights=True path
    # takes the softmax of a row of -inf and returns NaN there
    assert_close(out, theirs(x, x, x, attn_mask=~keep, need_weights=False)[0], torch.float64)
    assert torch.isnan(theirs(x, x, x, attn_mask=~keep)[0][0, 1]).all()


def test_multihead_attention_per_head_mask_equals_torch_3d_mask():
    B, nh, L, C = 2, 4, 5, 16
    ours, theirs = make_pair(C, nh, torch.float64)
    x = randn(B, L, C, seed=1)
    keep = torch.rand(B, nh, L, L, generator=torch.Generator().manual_seed(0)) > 0.5
    keep[..., 0] = True
    expected = theirs(x, x, x, attn_mask=~keep.reshape(B * nh, L, L), need_weights=False)[0]
    assert_close(ours(x, attn_mask=keep), expected, torch.float64)


def test_multihead_attention_gradients_equal_torch():
    ours, theirs = make_pair(8, 2, torch.float64)
    x = randn(2, 4, 8, seed=1)
    ours(x, is_causal=True).pow(2).sum().backward()
    theirs(x, x, x, attn_mask=~causal_mask(4), need_weights=False)[0].pow(2).sum().backward()
    # c_attn stacks q, k and v like torch's in_proj_weight; c_proj is its out_proj
    assert_close(ours.c_attn.weight.grad, theirs.in_proj_weight.grad, torch.float64)
    assert_close(ours.c_attn.bias.grad, theirs.in_proj_bias.grad, torch.float64)
    assert_close(ours.c_proj.weight.grad, theirs.out_proj.weight.grad, torch.float64)


def test_multihead_attention_init_is_seeded_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = (MultiHeadAttention(8, 2, seed=seed) for seed in (1, 1, 2))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.c_attn.weight, c.c_attn.weight)


# ---------------------------------------------------------------- bad input


def qkv(q=(3, 4), k=(5, 4), v=(5, 2), dtype=torch.float32):
    return torch.ones(q, dtype=dtype), torch.ones(k), torch.ones(v)


BOOL = torch.bool


@pytest.mark.parametrize("args, kwargs, error, match", [
    (([[1.0]], torch.ones(2, 2), torch.ones(2, 2)), {}, TypeError,
     "q must be a torch.Tensor"),
    (qkv(dtype=torch.long), {}, TypeError, "q must be a floating-point torch.Tensor"),
    (qkv(dtype=torch.float64), {}, TypeError, "k must have q's dtype"),
    (qkv(q=(4,), k=(4,), v=(4,)), {}, ValueError, "at least 2 dimensions"),
    (qkv(k=(5, 3)), {}, ValueError, "k must have q's last dimension E=4"),
    (qkv(v=(6, 2)), {}, ValueError, "v must have as many rows as k has keys, S=5"),
    (qkv(q=(2, 3, 4), k=(3, 5, 4), v=(3, 5, 2)), {}, ValueError, "do not broadcast"),
    (qkv(q=(2, 3, 4), k=(1, 5, 4), v=(3, 5, 2)), {}, ValueError, "of q, k, v do not broadcast"),
    (qkv(), dict(attn_mask=torch.ones(4, 5, dtype=BOOL)), ValueError,
     r"\(4, 5\) does not broadcast to the scores' shape \(3, 5\)"),
    (qkv(), dict(attn_mask=torch.ones(1, 1, 3, 5, dtype=BOOL)), ValueError, "does not broadcast"),
    (qkv(), dict(attn_mask=torch.ones(3, 5).long()), TypeError, "attn_mask must be bool"),
    (qkv(), dict(attn_mask=[[True]]), TypeError, "attn_mask must be a torch.Tensor"),
    (qkv(), dict(attn_mask=torch.ones(3, 5, dtype=BOOL), is_causal=True), ValueError, "not both"),
    (qkv(), dict(dropout_p=1.0), ValueError, r"dropout_p must be a number in \[0, 1\)"),
])
def test_sdpa_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        scaled_dot_product_attention(*args, **kwargs)


def test_multihead_attention_rejects_bad_input():
    with pytest.raises(ValueError, match="multiple of num_heads=3"):
        MultiHeadAttention(8, 3)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"\(B, T, 8\), the module's embed_dim, got \(2, 5, 6"):
        mha(torch.ones(2, 5, 6))
    with pytest.raises(ValueError, match="share B"):
        mha(torch.ones(2, 5, 8), torch.ones(3, 5, 8))
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(B, S\) = \(2, 5\)"):
        mha(torch.ones(2, 5, 8), key_padding_mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="key_padding_mask must be a bool torch.Tensor"):
        mha(torch.ones(2, 5, 8), key_padding_mask=torch.ones(2, 5))
    with pytest.raises(TypeError, match="query must be a floating-point torch.Tensor"):
        mha([[1.0] * 8])
    with pytest.raises(TypeError, match="nn.MultiheadAttention"):
        MultiHeadAttention.from_torch(nn.Linear(2, 2))
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, add_bias_kv=True))


# ---------------------------------------------------------------- KV cache


@pytest.mark.parametrize("chunks", [[(0, 7)], [(0, 3), (3, 7)], [(0, 1), (1, 2), (2, 5), (5, 7)]])
def test_multihead_attention_with_a_cache_equals_the_whole_sequence(chunks):
    ours, _ = make_pair(16, 4, torch.float64)
    x = randn(2, 7, 16, seed=1)
    cache = KVCache()
    parts = [ours(x[:, a:b], is_causal=True, kv_cache=cache, layer=0) for a, b in chunks]
    assert_close(torch.cat(parts, dim=1), ours(x, is_causal=True), torch.float64)
    assert len(cache) == 7 and cache.keys[0].shape == (2, 4, 7, 4)


def test_cached_queries_use_the_bottom_right_causal_mask():
    # 2 new queries after 3 cached keys: query 0 sees keys 0..3, query 1 sees keys 0..4
    ours, _ = make_pair(8, 2, torch.float64)
    x = randn(1, 5, 8, seed=1)
    cache = KVCache()
    ours(x[:, :3], is_causal=True, kv_cache=cache)
    _, weights = ours(x[:, 3:], is_causal=True, kv_cache=cache, need_weights=True)
    assert weights.shape == (1, 2, 2, 5)
    assert torch.equal(weights[0, :, 0, 4], torch.zeros(2, dtype=torch.float64))
    assert (weights[0, :, 0, :4] > 0).all() and (weights[0, :, 1] > 0).all()
    assert torch.equal(causal_mask(5)[-2:], weights[0, 0] > 0)


def test_cache_with_padding_hides_padded_keys_from_new_queries():
    ours, _ = make_pair(8, 2, torch.float64)
    x = randn(2, 5, 8, seed=1)
    pad = torch.tensor([[True] * 5, [False, True, True, True, True]])  # row 1 is left-padded
    cache = KVCache()
    first = ours(x[:, :3], is_causal=True, key_padding_mask=pad[:, :3], kv_cache=cache)
    last = ours(x[:, 3:], is_causal=True, key_padding_mask=pad, kv_cache=cache)
    expected = ours(x, is_causal=True, key_padding_mask=pad)
    assert_close(torch.cat([first, last], dim=1), expected, torch.float64)


def test_a_refused_call_leaves_the_cache_as_it_was():
    mha = MultiHeadAttention(8, 2)
    cache = KVCache()
    mha(torch.ones(1, 3, 8), is_causal=True, kv_cache=cache)
    keys = cache.keys[0].clone()
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(torch.ones(1, 2, 8), key_padding_mask=torch.ones(1, 2, dtype=torch.bool),
            kv_cache=cache)  # S is 3 cached + 2 new = 5
    with pytest.raises(ValueError, match="attn_mask"):
        mha(torch.ones(1, 2, 8), attn_mask=causal_mask(2), kv_cache=cache)
    assert len(cache) == 3 and torch.equal(cache.keys[0], keys)


def test_kv_cache_update_reorder_and_check_fits():
    cache = KVCache()
    assert len(cache) == 0 and cache.length(3) == 0
    assert cache.check_fits(5, n_layer=2, n_head=2, head_size=4, dtype=torch.float32) == 0
    for layer in range(2):
        k = torch.arange(2.0)[:, None, None, None].expand(2, 2, 3, 4)  # row b holds b
        cache.update(layer, k, k + 10)
    assert cache.check_fits(2, n_layer=2, n_head=2, head_size=4, dtype=torch.float32) == 3
    cache.reorder(torch.tensor([1, 1, 0]))
    assert [row.item() for row in cache.keys[1][:, 0, 0, 0]] == [1, 1, 0]
    assert torch.equal(cache.values[0], cache.keys[0] + 10)
    with pytest.raises(ValueError, match="batch size 2 but kv_cache holds 3"):
        cache.check_fits(2, n_layer=2, n_head=2, head_size=4, dtype=torch.float32)
    with pytest.raises(ValueError, match="2 layers of 2 heads of size 4"):
        cache.check_fits(3, n_layer=3, n_head=2, head_size=4, dtype=torch.float32)
    with pytest.raises(ValueError, match="layer 2 would start with 1 positions"):
        cache.update(2, torch.ones(3, 2, 1, 4), torch.ones(3, 2, 1, 4))
    with pytest.raises(ValueError, match="torch.float64"):
        cache.update(0, torch.ones(3, 2, 1, 4).double(), torch.ones(3, 2, 1, 4).double())


def test_from_torch_is_a_plain_copy_and_init_follows_torch():
    theirs = nn.MultiheadAttention(12, 3, batch_first=True)
    ours = MultiHeadAttention.from_torch(theirs)
    assert torch.equal(ours.c_attn.weight, theirs.in_proj_weight)
    assert torch.equal(ours.c_proj.weight, theirs.out_proj.weight)
    fresh = MultiHeadAttention(64, 4, seed=3)
    # Xavier-uniform over the stacked (3C, C) matrix, like torch's in_proj_weight; c_proj has
    # nn.Linear's own bound 1/√C; biases start at 0
    assert fresh.c_attn.weight.abs().max() <= math.sqrt(6 / (64 + 3 * 64))
    assert fresh.c_attn.weight.abs().max() > 0.9 * math.sqrt(6 / (64 + 3 * 64))
    assert 0.9 / 8 < fresh.c_proj.weight.abs().max() <= 1 / 8
    assert not fresh.c_attn.bias.any() and not fresh.c_proj.bias.any()


def test_multihead_attention_is_importable_from_attention():
    import course_utils.attention as attention

    assert attention.MultiHeadAttention is MultiHeadAttention
    with pytest.raises(AttributeError, match="no attribute 'MultiHeadAttentions'"):
        attention.MultiHeadAttentions  # noqa: B018
