"""Attention, written out: scores, a mask, a softmax, then a weighted sum of the values.

- `causal_mask(L, S)` says which keys each query may see in a language model (True = may attend).
- `attention_weights(q, k)` is the (..., L, S) matrix softmax(q kᵀ · scale + mask): row i says
  how much query i takes from each key, and sums to 1. The notebook draws it as a heatmap.
- `scaled_dot_product_attention(q, k, v)` is `attention_weights(q, k) @ v`, with the same
  semantics as `torch.nn.functional.scaled_dot_product_attention` (the tests check it).
- `split_heads` / `merge_heads` reshape (B, T, C) <-> (B, nh, T, hs); `MultiHeadAttention`
  adds the learned projections around them, and `from_torch` copies `nn.MultiheadAttention`.

Masks follow torch's SDPA: a boolean mask is True where a query *may* attend; a float mask is
added to the scores (0 keeps, -inf removes). Careful: `nn.MultiheadAttention`'s boolean
`attn_mask` and `key_padding_mask` mean the opposite (True = may NOT attend); negate them with `~`.

A query row whose keys are all masked has nothing to attend to: the softmax of all -inf is
0/0 = NaN. torch 2.13's SDPA returns zeros for such rows, and so does this module (its weights
row is all 0, so it sums to 0, not 1, and its gradients are 0).

Left out: fused kernels (this version stores the whole (L, S) matrix; benchmarks/attention.py
shows what that costs), grouped-query attention, and the KV cache (that comes with generation).

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
from torch import Tensor, nn

__all__ = ["causal_mask", "attention_weights", "scaled_dot_product_attention", "split_heads",
           "merge_heads", "MultiHeadAttention"]


def causal_mask(L: int, S: int | None = None, device: torch.device | str | None = None) -> Tensor:
    """Return the (L, S) boolean mask of a causal model: query i may attend to keys 0..i.

    It is aligned top-left, like torch's `is_causal=True`: with S > L the last keys are seen
    by no query; with S < L the last queries see every key.

    >>> causal_mask(3).int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]], dtype=torch.int32)
    """
    S = L if S is None else S
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()


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
    L, S = _check_inputs(q, k, attn_mask, is_causal)
    scale = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
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


def _check_inputs(q: Tensor, k: Tensor, attn_mask: Tensor | None,
                  is_causal: bool) -> tuple[int, int]:
    """Return (L, S); raise TypeError/ValueError, saying what to change, for inputs that
    torch's SDPA would refuse."""
    for name, x in (("q", q), ("k", k)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}; "
                            f"use {name}.float()")
        if x.dim() < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., T, d), "
                             f"got shape {tuple(x.shape)}; for one vector use {name}[None]")
    if k.dtype != q.dtype:
        raise TypeError(f"q and k must have the same dtype, got {q.dtype} and {k.dtype}")
    if q.size(-1) != k.size(-1):
        raise ValueError(f"q and k must have the same last dimension E, got q {tuple(q.shape)} "
                         f"and k {tuple(k.shape)}")
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading (batch) dimensions of q {tuple(q.shape)} and "
                         f"k {tuple(k.shape)} do not broadcast") from None
    L, S = q.size(-2), k.size(-2)
    if attn_mask is None:
        return L, S
    if is_causal:
        raise ValueError("give attn_mask or is_causal=True, not both (torch's SDPA refuses it "
                         "too); to combine them, pass attn_mask & causal_mask(L, S)")
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"attn_mask must be a torch.Tensor, got {type(attn_mask).__name__}")
    if attn_mask.dtype not in (torch.bool, q.dtype, torch.float32):  # what torch accepts
        raise TypeError(f"attn_mask must be bool (True = may attend) or {q.dtype} (added to "
                        f"the scores), got {attn_mask.dtype}; convert it with .to({q.dtype})")
    expected = (*batch, L, S)
    try:
        fits = torch.broadcast_shapes(attn_mask.shape, expected) == expected
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to "
                         f"the scores' shape {expected} (..., L, S); e.g. use (L, S) = "
                         f"({L}, {S}), or (B, 1, 1, S) for padding")
    return L, S


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
    weights = attention_weights(q, k, attn_mask, is_causal, scale=scale)  # (..., L, S)
    if not isinstance(v, Tensor) or v.dtype != k.dtype or v.dim() < 2:
        raise TypeError(f"v must be a tensor of at least 2 dimensions with k's dtype {k.dtype}, "
                        f"got {v.dtype if isinstance(v, Tensor) else type(v).__name__}")
    if v.size(-2) != k.size(-2):
        raise ValueError(f"k and v must have the same number of keys S (dim -2), got "
                         f"k {tuple(k.shape)} and v {tuple(v.shape)}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p must be in [0, 1), got {dropout_p}")
    try:
        torch.broadcast_shapes(weights.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading (batch) dimensions of q {tuple(q.shape)}, k "
                         f"{tuple(k.shape)} and v {tuple(v.shape)} do not broadcast") from None
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v  # (..., L, S) @ (..., S, Ev) -> (..., L, Ev)


def split_heads(x: Tensor, n_head: int) -> Tensor:
    """Return x (B, T, C) as n_head heads of size C // n_head: a (B, nh, T, hs) tensor.

    >>> split_heads(torch.zeros(2, 5, 12), 3).shape
    torch.Size([2, 3, 5, 4])
    """
    B, T, C = x.shape
    return x.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)


def merge_heads(x: Tensor) -> Tensor:
    """Return the heads of x (B, nh, T, hs) side by side: a (B, T, nh * hs) tensor.

    >>> merge_heads(torch.zeros(2, 3, 5, 4)).shape
    torch.Size([2, 5, 12])
    """
    B, nh, T, hs = x.shape
    # transpose makes the memory non-contiguous; view needs it contiguous again
    return x.transpose(1, 2).contiguous().view(B, T, nh * hs)  # (B, T, C)


class MultiHeadAttention(nn.Module):
    """Multi-head attention over batch-first (B, T, C) inputs, with the same math as
    `nn.MultiheadAttention(batch_first=True)`.

    Each head attends in its own hs = C // nh dimensional subspace; the heads are concatenated
    and mixed by `out_proj`. Masks use this module's convention (True = may attend), the
    opposite of `nn.MultiheadAttention`. A query that may attend to no key gets zeros from the
    attention (so out_proj.bias as output), as `nn.MultiheadAttention` does with
    need_weights=False; with need_weights=True (its default) it gives NaN there. Weights are
    initialised from `seed` (Xavier-uniform, zero biases, like torch's); the global RNG is left
    untouched.

    >>> mha = MultiHeadAttention(embed_dim=8, num_heads=2)
    >>> x = torch.randn(1, 5, 8, generator=torch.Generator().manual_seed(0))
    >>> out, weights = mha(x, is_causal=True, need_weights=True)
    >>> out.shape, weights.shape  # weights: (B, nh, L, S), one matrix per head
    (torch.Size([1, 5, 8]), torch.Size([1, 2, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, *, bias: bool = True,
                 dropout: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim={embed_dim} must be a positive multiple of "
                             f"num_heads={num_heads}, so that every head has the same size")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global RNG
            self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
                nn.Linear(embed_dim, embed_dim, bias=bias) for _ in range(4))
        generator = torch.Generator().manual_seed(seed)
        for linear in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            nn.init.xavier_uniform_(linear.weight, generator=generator)
            if bias:
                nn.init.zeros_(linear.bias)

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None, *,
                attn_mask: Tensor | None = None, is_causal: bool = False,
                key_padding_mask: Tensor | None = None,
                need_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Return the output (B, L, C), or (output, weights (B, nh, L, S)) if need_weights.

        key defaults to query (self-attention) and value to key. attn_mask broadcasts to
        (B, nh, L, S): (L, S), (B, 1, L, S) or (B, nh, L, S); bool (True = may attend) or float
        (added). key_padding_mask is a bool (B, S) tensor, True for real tokens, False for padding.
        """
        key = query if key is None else key
        value = key if value is None else value
        for name, x in (("query", query), ("key", key), ("value", value)):
            if not isinstance(x, Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
            if x.dim() != 3 or x.size(-1) != self.embed_dim:
                raise ValueError(f"{name} must be (B, T, {self.embed_dim}), got {tuple(x.shape)}")
        if key.shape[:2] != value.shape[:2] or key.size(0) != query.size(0):
            raise ValueError(f"query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} must share B, and key and value must share S")
        if key_padding_mask is not None:
            B, L, S = query.size(0), query.size(1), key.size(1)
            attn_mask = _add_padding(attn_mask, is_causal, key_padding_mask, B, L, S)
            is_causal = False  # now part of attn_mask

        q = split_heads(self.q_proj(query), self.num_heads)  # (B, nh, L, hs)
        k = split_heads(self.k_proj(key), self.num_heads)  # (B, nh, S, hs)
        v = split_heads(self.v_proj(value), self.num_heads)  # (B, nh, S, hs)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            weights = attention_weights(q, k, attn_mask, is_causal)  # (B, nh, L, S)
            y = F.dropout(weights, p=dropout_p) @ v  # dropout after the returned weights
        else:
            y = scaled_dot_product_attention(q, k, v, attn_mask, is_causal, dropout_p=dropout_p)
        out = self.out_proj(merge_heads(y))  # (B, L, C)
        return (out, weights) if need_weights else out

    @classmethod
    def from_torch(cls, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Return a MultiHeadAttention with mha's weights; it matches mha(batch_first=True).

        torch stores the three input projections stacked in one (3C, C) `in_proj_weight`.

        >>> theirs = nn.MultiheadAttention(8, 2, batch_first=True)
        >>> ours = MultiHeadAttention.from_torch(theirs)
        >>> x = torch.randn(1, 4, 8, generator=torch.Generator().manual_seed(0))
        >>> torch.allclose(ours(x), theirs(x, x, x, need_weights=False)[0], atol=1e-6)
        True
        """
        if not isinstance(mha, nn.MultiheadAttention):
            raise TypeError(f"expected nn.MultiheadAttention, got {type(mha).__name__}")
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise NotImplementedError("kdim/vdim other than embed_dim, add_bias_kv and "
                                      "add_zero_attn are not supported")
        C, bias = mha.embed_dim, mha.in_proj_bias is not None
        ours = cls(C, mha.num_heads, bias=bias, dropout=mha.dropout)
        ours.to(device=mha.in_proj_weight.device, dtype=mha.in_proj_weight.dtype)
        with torch.no_grad():
            for i, linear in enumerate((ours.q_proj, ours.k_proj, ours.v_proj)):
                linear.weight.copy_(mha.in_proj_weight[i * C:(i + 1) * C])
                if bias:
                    linear.bias.copy_(mha.in_proj_bias[i * C:(i + 1) * C])
            ours.out_proj.weight.copy_(mha.out_proj.weight)
            if bias:
                ours.out_proj.bias.copy_(mha.out_proj.bias)
        return ours.train(mha.training)


def _add_padding(attn_mask: Tensor | None, is_causal: bool, key_padding_mask: Tensor,
                 B: int, L: int, S: int) -> Tensor:
    """Return one mask that hides what attn_mask (or is_causal) hides and the padded keys."""
    if not isinstance(key_padding_mask, Tensor) or key_padding_mask.dtype != torch.bool:
        raise TypeError("key_padding_mask must be a bool tensor, True for real tokens")
    if key_padding_mask.shape != (B, S):
        raise ValueError(f"key_padding_mask must be (B, S) = ({B}, {S}), got "
                         f"{tuple(key_padding_mask.shape)}")
    if is_causal and attn_mask is not None:
        raise ValueError("give attn_mask or is_causal=True, not both")
    if is_causal:
        attn_mask = causal_mask(L, S, device=key_padding_mask.device)
    keep = key_padding_mask[:, None, None, :]  # (B, 1, 1, S): the same keys for every query
    if attn_mask is None:
        return keep
    if attn_mask.dtype == torch.bool:
        return attn_mask & keep
    return attn_mask.masked_fill(~keep, float("-inf"))
