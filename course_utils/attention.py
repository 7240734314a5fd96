"""Attention, written out: scores, a mask, a softmax, then a weighted sum of the values.

- `causal_mask(L, S)` says which keys each query may see in a language model (True = may attend).
- `attention_weights(q, k)` is the (..., L, S) matrix softmax(q kᵀ · scale + mask): row i says
  how much query i takes from each key, and sums to 1. The notebook draws it as a heatmap.
- `scaled_dot_product_attention(q, k, v)` is `attention_weights(q, k) @ v`, with the same
  semantics as `torch.nn.functional.scaled_dot_product_attention` (the tests check it).
- `split_heads` / `merge_heads` reshape (B, T, C) <-> (B, nh, T, hs) for multi-head attention.

L is the number of queries and S the number of keys (both are T, the sequence length, in
self-attention without a cache). Masks follow torch's SDPA: a boolean mask is True where a query
*may* attend; a float mask is added to the scores (0 keeps, -inf removes). Careful:
`nn.MultiheadAttention`'s boolean `attn_mask` and `key_padding_mask` mean the opposite (True =
may NOT attend); negate them with `~`.

Degenerate cases, decided as torch 2.13's SDPA decides them: a query row whose keys are all
masked has nothing to attend to (the softmax of all -inf is 0/0 = NaN), so it gets zeros (its
weights row is all 0, it sums to 0, not 1, and its gradients are 0); NaN or inf inside q, k or v
propagate to the output, as in torch, and are not checked (that would cost a pass over the data).
So does a score that overflows: a huge `scale` (1e308) or huge q, k make q·kᵀ·scale = inf, and
that row's softmax is inf - inf = NaN, as in torch. Refused: E = 0 (no features to compare; the
default scale 1/√E would divide by 0), tensors on different devices or on the meta device, and
scores too big for this machine's memory (a MemoryError before torch tries to allocate them).

Left out: the learned projections and the KV cache (`course_utils.multihead`, which re-exports
here as `MultiHeadAttention`), fused kernels (this version stores the whole (L, S) matrix;
benchmarks/attention.py shows what that costs) and grouped-query attention.

A worked example (the tests derive it by hand): k_j = 2·e_j and d = 4, so scale = 1/√4 = 1/2
and score_ij = q_i[j]. Row 0 may see only key 0; row 1 scores (1, 1), so it splits evenly;
row 2 scores (2, 0, 0), so it gives e²/(e²+2) ≈ 0.787 to key 0.

>>> q = torch.tensor([[0., 0, 0, 0], [1, 1, 0, 0], [2, 0, 0, 0]])
>>> k = 2 * torch.eye(3, 4)
>>> attention_weights(q, k, is_causal=True)
tensor([[1.0000, 0.0000, 0.0000],
        [0.5000, 0.5000, 0.0000],
        [0.7870, 0.1065, 0.1065]])
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.validation import (check_bool, check_device, check_int, check_memory,
                                     check_number, check_same_device, check_tensor)

__all__ = ["causal_mask", "attention_weights", "scaled_dot_product_attention", "split_heads",
           "merge_heads", "MultiHeadAttention"]

_MAX_BYTES = 2**63 - 1  # torch counts sizes and bytes in 64-bit ints


def causal_mask(L: int, S: int | None = None, device: torch.device | str | None = None) -> Tensor:
    """Return the (L, S) boolean mask of a causal model: query i may attend to keys 0..i.

    It is aligned top-left, like torch's `is_causal=True`: with S > L the last keys are seen
    by no query; with S < L the last queries see every key. For L new queries that come after
    S - L cached keys (the KV cache), take the last L rows of the full mask:
    causal_mask(S)[S - L:].

    >>> causal_mask(3).int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]], dtype=torch.int32)
    """
    L = check_int("L", L, minimum=0)
    S = L if S is None else check_int("S", S, minimum=0, optional=True)
    device = None if device is None else check_device("device", device)
    # (a size alone must fit too: torch cannot make a (2**70, 0) tensor)
    _check_storable(f"causal_mask(L={L}, S={S})", max(L * S, L, S), "use shorter sequences",
                    itemsize=1, device=device)
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()


def _check_storable(what: str, count: int, fix: str, *, itemsize: int | None = None,
                    device: torch.device | None = None) -> None:
    """Raise before allocating `count` elements (of `itemsize` bytes, default: torch's default
    dtype's) that cannot exist: ValueError beyond torch's 64-bit sizes; MemoryError beyond this
    machine's memory, unless the device (default: torch's default device) is "meta" (shapes
    only, e.g. to count parameters)."""
    itemsize = itemsize or torch.get_default_dtype().itemsize
    if count * itemsize > _MAX_BYTES:
        raise ValueError(f"{what} would be too large for torch's 64-bit sizes; {fix}")
    if (device or torch.get_default_device()).type != "meta":
        check_memory(what, count * itemsize, fix)


def attention_weights(q: Tensor, k: Tensor, attn_mask: Tensor | None = None,
                      is_causal: bool = False, *, scale: float | None = None) -> Tensor:
    """Return softmax(q kᵀ · scale + mask) over the keys: a (..., L, S) tensor.

    q is (..., L, E) and k is (..., S, E); their leading dimensions broadcast. `scale` defaults
    to 1/√E, which keeps the scores' variance near 1 whatever E is, so the softmax does not
    saturate. Rows sum to 1, except fully masked rows, which are all 0 (see the module doc).

    >>> attention_weights(torch.zeros(2, 4), torch.zeros(3, 4))  # equal scores: uniform
    tensor([[0.3333, 0.3333, 0.3333],
            [0.3333, 0.3333, 0.3333]])
    """
    L, S, scale = _check_inputs(q, k, attn_mask, is_causal, scale)
    scores = (q @ k.transpose(-2, -1)) * scale  # (..., L, E) @ (..., E, S) -> (..., L, S)
    if is_causal:
        attn_mask = causal_mask(L, S, device=q.device)
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        scores = scores.masked_fill(~attn_mask, float("-inf"))  # exp(-inf) = 0: no weight
    elif attn_mask is not None:
        scores = scores + attn_mask.to(scores.dtype)
    # subtle: the softmax of a row of -inf is 0/0 = NaN, and in the backward pass that NaN would
    # reach the gradient of every key. So softmax a harmless row of zeros instead, then zero it.
    blocked = (scores == float("-inf")).all(dim=-1, keepdim=True)  # (..., L, 1)
    weights = scores.masked_fill(blocked, 0.0).softmax(dim=-1)  # (..., L, S)
    return weights.masked_fill(blocked, 0.0)


def _check_inputs(q: Tensor, k: Tensor, attn_mask: Tensor | None, is_causal: bool,
                  scale: float | None) -> tuple[int, int, float]:
    """Return (L, S, scale); raise TypeError/ValueError, saying what to change, for inputs that
    torch's SDPA would refuse (and for E = 0 or a NaN or infinite scale, which it would not)."""
    for name, x in (("q", q), ("k", k)):
        _check_at_least_2d(name, x, "(..., L, E)" if name == "q" else "(..., S, E)")
    check_bool("is_causal", is_causal)
    scale = check_number("scale", scale, optional=True, fix="leave it None for 1/√E")
    check_same_device(q=q, k=k)
    if k.dtype != q.dtype:
        raise TypeError(f"k must have q's dtype {q.dtype}, got {k.dtype}; use k.to(q.dtype)")
    if q.size(-1) != k.size(-1):
        raise ValueError(f"k must have q's last dimension E={q.size(-1)}, got k "
                         f"{tuple(k.shape)} for q {tuple(q.shape)}")
    if q.size(-1) == 0:
        raise ValueError(f"q and k must have E >= 1 features (last dimension), got q "
                         f"{tuple(q.shape)}: with none there is nothing to compare")
    batch = _broadcast("q, k", q.shape[:-2], k.shape[:-2])
    L, S = q.size(-2), k.size(-2)
    _check_storable(f"attention of q {tuple(q.shape)} to k {tuple(k.shape)}, whose scores are "
                    f"{(*batch, L, S)} (..., L, S),", math.prod(batch) * L * S,
                    "use shorter sequences, or fewer at a time", itemsize=q.element_size(),
                    device=q.device)
    scale = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
    if attn_mask is None:
        return L, S, scale
    if is_causal:
        raise ValueError("attn_mask and is_causal=True: give one, not both (torch's SDPA refuses "
                         "it too); to combine them, pass attn_mask & causal_mask(L, S)")
    _check_mask(attn_mask, q, (*batch, L, S))
    return L, S, scale


def _check_mask(attn_mask: object, q: Tensor, expected: tuple[int, ...]) -> None:
    """Raise unless attn_mask is a bool or float mask on q's device that broadcasts to
    `expected` (..., L, S), and if float, has q's dtype (or float32, as torch allows).

    (`course_utils.multihead` calls it too, to check a mask before the KV cache changes.)"""
    check_tensor("attn_mask", attn_mask, fix="e.g. attn_mask=causal_mask(L, S)")
    if attn_mask.device != q.device:
        raise ValueError(f"attn_mask must be on the queries' device {q.device}, got "
                         f"{attn_mask.device}; use attn_mask.to({str(q.device)!r})")
    if attn_mask.dtype not in (torch.bool, q.dtype, torch.float32):  # what torch accepts
        raise TypeError(f"attn_mask must be bool (True = may attend) or {q.dtype} (added to "
                        f"the scores), got {attn_mask.dtype}; convert it with .to({q.dtype})")
    try:
        fits = torch.broadcast_shapes(attn_mask.shape, expected) == expected
    except RuntimeError:
        fits = False
    if not fits:
        L, S = expected[-2:]
        raise ValueError(f"attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to "
                         f"the scores' shape {expected} (..., L, S); e.g. use (L, S) = "
                         f"({L}, {S}), or (B, 1, 1, S) for padding")


def _check_at_least_2d(name: str, x: object, shape: str) -> None:
    check_tensor(name, x)
    check_tensor(name, x, kind="floating-point", fix=f"use {name}.float()")
    if x.dim() < 2:
        raise ValueError(f"{name} must have at least 2 dimensions {shape}, got shape "
                         f"{tuple(x.shape)}; for one vector use {name}[None]")


def _broadcast(names: str, *shapes: torch.Size) -> torch.Size:
    """The leading (batch) shape that `shapes` broadcast to; a ValueError naming them if none."""
    try:
        return torch.broadcast_shapes(*shapes)
    except RuntimeError:
        raise ValueError(f"the leading (batch) dimensions of {names} do not broadcast: "
                         f"{', '.join(str(tuple(s)) for s in shapes)}; give them equal batch "
                         f"sizes, or 1 where one should be shared") from None


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None = None,
                                 is_causal: bool = False, *, scale: float | None = None,
                                 dropout_p: float = 0.0) -> Tensor:
    """Return attention_weights(q, k, attn_mask, is_causal) @ v: a (..., L, Ev) tensor.

    q (..., L, E), k (..., S, E), v (..., S, Ev). Each output row is an average of the value
    rows, weighted by how well that query matches each key. `dropout_p` > 0 zeroes weights at
    random (torch's global RNG, like `nn.Dropout`); pass it only while training.

    >>> v = torch.tensor([[1., 0], [0, 1], [1, 1]])
    >>> scaled_dot_product_attention(torch.zeros(3, 4), torch.zeros(3, 4), v, is_causal=True)
    tensor([[1.0000, 0.0000],
            [0.5000, 0.5000],
            [0.6667, 0.6667]])
    """
    _check_at_least_2d("v", v, "(..., S, Ev)")
    dropout_p = check_number("dropout_p", dropout_p, minimum=0, maximum=1, max_open=True)
    weights = attention_weights(q, k, attn_mask, is_causal, scale=scale)  # (..., L, S)
    check_same_device(k=k, v=v)
    if v.dtype != k.dtype:
        raise TypeError(f"v must have k's dtype {k.dtype}, got {v.dtype}; use v.to(k.dtype)")
    if v.size(-2) != k.size(-2):
        raise ValueError(f"v must have as many rows as k has keys, S={k.size(-2)} (dim -2), "
                         f"got v {tuple(v.shape)} for k {tuple(k.shape)}")
    _broadcast("q, k, v", q.shape[:-2], k.shape[:-2], v.shape[:-2])
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v  # (..., L, S) @ (..., S, Ev) -> (..., L, Ev)


def split_heads(x: Tensor, n_head: int) -> Tensor:
    """Return x (B, T, C) as n_head heads of size hs = C // n_head: a (B, nh, T, hs) tensor.

    Head h holds channels h·hs to (h+1)·hs - 1 of every token.

    >>> split_heads(torch.zeros(2, 5, 12), 3).shape
    torch.Size([2, 3, 5, 4])
    """
    check_tensor("x", x, ndim=3, shape="(B, T, C)", fix="for one sequence use x[None]")
    n_head = check_int("n_head", n_head, minimum=1)
    B, T, C = x.shape
    if C % n_head != 0:
        heads = [h for h in range(1, min(C, 64) + 1) if C % h == 0]
        raise ValueError(f"n_head={n_head} does not divide x's width C={C}, so the heads "
                         f"would not be equal; use n_head in {heads}")
    return x.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)


def merge_heads(x: Tensor) -> Tensor:
    """Return the heads of x (B, nh, T, hs) side by side: a (B, T, nh · hs) tensor.

    >>> merge_heads(torch.zeros(2, 3, 5, 4)).shape
    torch.Size([2, 5, 12])
    """
    check_tensor("x", x, ndim=4, shape="(B, nh, T, hs)", fix="split_heads makes such a tensor")
    B, nh, T, hs = x.shape
    # transpose makes the memory non-contiguous; view needs it contiguous again
    return x.transpose(1, 2).contiguous().view(B, T, nh * hs)  # (B, T, C)


def __getattr__(name: str) -> object:
    """`MultiHeadAttention` is built on this module in `course_utils.multihead`; it is imported
    from there on first use, so that `from course_utils.attention import MultiHeadAttention`
    keeps working without a circular import."""
    if name == "MultiHeadAttention":
        from course_utils.multihead import MultiHeadAttention

        return MultiHeadAttention
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
