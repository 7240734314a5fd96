"""The four blocks that turn GPT-2 into Llama: RMSNorm, rotary positions, SwiGLU, grouped queries.

Nearly every open model of 2024-2026 (Llama, Mistral, Qwen, SmolLM2, ...) is GPT-2's decoder
(`course_utils.model`) with four parts swapped. Each class here keeps the parameter names of
transformers' Llama, so that loading weights is a matter of names (`course_utils.llama`):

- `RMSNorm` (`weight`): LayerNorm without the mean and the bias, x / rms(x) · weight.
- `rope_tables` + `apply_rotary`: rotary position embeddings (RoPE, Su et al., 2021). No
  position parameters: each pair of a head's dimensions of q and k is turned by an angle
  position · θ_j, so that q·k depends only on the distance between the two positions.
- `SwiGLU` (`gate_proj`, `up_proj`, `down_proj`): a gated MLP, silu(gate(x)) · up(x).
- `GroupedQueryAttention` (`q_proj`, `k_proj`, `v_proj`, `o_proj`): n_head query heads share
  n_kv_head key/value heads, which shrinks the KV cache by n_head / n_kv_head; built on the
  course's `split_heads`, `scaled_dot_product_attention` and `merge_heads`.

No biases anywhere. Which pairs does RoPE rotate? The paper (and Meta's first code, with complex
numbers) turns neighbours (x0, x1), (x2, x3), ... ("interleaved"). transformers turns x_j with
x_{j + hs/2} ("rotate-half"), which needs no complex numbers and no strided copies; its
conversion script permutes the rows of each head of q_proj and k_proj once
(`interleaved_to_half`), so the checkpoints on the hub expect rotate-half. The two are the same
rotation up to that permutation of a head's dimensions, and permuting q and k alike leaves
every q·k, so the attention, unchanged:

>>> g = torch.Generator().manual_seed(0)
>>> q = torch.randn(3, 4, generator=g, dtype=torch.float64)  # (T, hs): 3 positions, 2 pairs
>>> cos, sin = rope_tables(4, torch.arange(3), dtype=torch.float64)
>>> turn = torch.complex(cos[:, :2], sin[:, :2])  # e^(i·t·θ_j), one per pair
>>> paper = torch.view_as_real(torch.view_as_complex(q.unflatten(-1, (2, 2))) * turn).flatten(-2)
>>> half, _ = apply_rotary(interleaved_to_half(q), q, cos, sin)
>>> torch.allclose(half, interleaved_to_half(paper))
True

Numerics, as transformers does them so that logits agree to rounding: the rotation angles and
RMSNorm's statistic are computed in float32 whatever the model's dtype (subtle: this keeps
bfloat16 models accurate, and makes float64 ones no more accurate there than float32).
With a KV cache (`course_utils.llama_cache`), GroupedQueryAttention attends from its new
tokens to every cached one; a key padding mask leaves padding out (batches of prompts of
different lengths). Left out: RoPE scaling (longer contexts than trained).
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.attention import (causal_mask, merge_heads, scaled_dot_product_attention,
                                    split_heads)
from course_utils.validation import check_int, check_number, check_tensor

__all__ = ["RMSNorm", "rope_tables", "apply_rotary", "rotate_half", "interleaved_to_half",
           "KVStore", "SwiGLU", "GroupedQueryAttention"]


class RMSNorm(nn.Module):
    """x / √(mean(x²) + eps) · weight over the last dimension (Zhang & Sennrich, 2019).

    LayerNorm also subtracts the mean and adds a bias; RMSNorm keeps only the rescaling, which
    is what matters for training and costs one reduction instead of two.

    >>> norm = RMSNorm(2, eps=0.0)
    >>> norm(torch.tensor([[3.0, 4.0]])).detach()  # rms = √((9 + 16) / 2) ≈ 3.536
    tensor([[0.8485, 1.1314]])
    """

    def __init__(self, n_embd: int, eps: float = 1e-5) -> None:
        super().__init__()
        n_embd = check_int("n_embd", n_embd, minimum=1)
        self.eps = check_number("eps", eps, minimum=0, fix="Llama uses 1e-5 or 1e-6")
        self.weight = nn.Parameter(torch.ones(n_embd))

    def extra_repr(self) -> str:  # printed as transformers' LlamaRMSNorm is: "(576,), eps=1e-05"
        return f"{tuple(self.weight.shape)}, eps={self.eps}"

    def forward(self, x: Tensor) -> Tensor:
        x32 = x.float()  # float32 statistics whatever x's dtype, as transformers computes them
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rope_tables(head_dim: int, positions: Tensor, *, rope_theta: float = 10000.0,
                dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """Return (cos, sin), each (T, head_dim): the rotary angles of `positions` (T,); for
    positions (B, T), each row of a batch its own, (B, T, head_dim) each.

    Pair j (dimensions j and j + head_dim/2) turns by position · θ_j with θ_j =
    rope_theta^(-2j / head_dim): the first pairs turn fast (fine position), the last slowly
    (distances up to ~rope_theta). Both halves of each row hold the same angles.

    >>> cos, sin = rope_tables(4, torch.arange(2))  # θ = (1, 0.01)
    >>> sin
    tensor([[0.0000, 0.0000, 0.0000, 0.0000],
            [0.8415, 0.0100, 0.8415, 0.0100]])
    """
    head_dim = check_int("head_dim", head_dim, minimum=2)
    if head_dim % 2:
        raise ValueError(f"head_dim={head_dim} must be even: RoPE turns pairs of dimensions")
    check_tensor("positions", positions, ndim=(1, 2), shape="(T,) or (B, T)")
    rope_theta = check_number("rope_theta", rope_theta, minimum=1, min_open=True,
                              fix="Llama 2 uses 10000.0")
    # subtle: float32 even for float64 models, as transformers does (see the module doc)
    inv_freq = 1.0 / (rope_theta ** (torch.arange(0, head_dim, 2, dtype=torch.float,
                                                  device=positions.device) / head_dim))
    angles = positions.float()[..., None] * inv_freq  # (T, head_dim / 2) or (B, T, ...)
    angles = torch.cat((angles, angles), dim=-1)  # (..., T, head_dim): rotate-half layout
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x: Tensor) -> Tensor:
    """Return (-x2, x1) for x = (x1, x2) split in halves: x turned by 90° in every pair.

    >>> rotate_half(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor([-3., -4.,  1.,  2.])
    """
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(q: Tensor, k: Tensor, cos: Tensor, sin: Tensor) -> tuple[Tensor, Tensor]:
    """Return q and k turned by the angles of their positions (rotate-half convention).

    q (..., T, hs) and k (..., T, hs), with cos and sin (T, hs) from `rope_tables` (or any shape
    that broadcasts). Each pair (x_j, x_{j+hs/2}) becomes (x_j cos - x_{j+hs/2} sin,
    x_{j+hs/2} cos + x_j sin): a 2-D rotation.

    >>> cos, sin = rope_tables(2, torch.tensor([1]))  # one pair, turned by 1 radian
    >>> apply_rotary(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), cos, sin)
    (tensor([[0.5403, 0.8415]]), tensor([[-0.8415,  0.5403]]))
    """
    for name, x in (("q", q), ("k", k), ("cos", cos), ("sin", sin)):
        check_tensor(name, x, kind="floating-point")
    if q.size(-1) != cos.size(-1) or k.size(-1) != cos.size(-1):
        raise ValueError(f"q {tuple(q.shape)}, k {tuple(k.shape)} and cos {tuple(cos.shape)} "
                         f"must share the head size (last dimension); make the tables with "
                         f"rope_tables(head_dim={q.size(-1)}, ...)")
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def interleaved_to_half(x: Tensor) -> Tensor:
    """Reorder the last dimension from the paper's pairs (0,1), (2,3), ... to rotate-half's
    (0, hs/2), (1, hs/2+1), ...: the permutation transformers applies to Meta's q and k weights.

    >>> interleaved_to_half(torch.tensor([0, 1, 2, 3, 4, 5]))
    tensor([0, 2, 4, 1, 3, 5])
    """
    check_tensor("x", x)
    return torch.cat((x[..., 0::2], x[..., 1::2]), dim=-1)


class KVStore(Protocol):
    """What attention needs of a KV cache (`course_utils.llama_cache.StaticKVCache`)."""

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store k, v (B, nkv, T_new, hs) of `layer`; return the cached ones and these."""
        ...


class SwiGLU(nn.Module):
    """down(silu(gate(x)) · up(x)) (Shazeer, 2020): the gate decides, per hidden unit, how much
    of up(x) passes. Three matrices instead of GPT-2's two, so Llama makes the hidden layer
    ~8/3 · n_embd wide (not 4 ·) to keep the parameter count.

    >>> SwiGLU(8, 24)(torch.zeros(1, 3, 8)).shape
    torch.Size([1, 3, 8])
    """

    def __init__(self, n_embd: int, intermediate_size: int) -> None:
        super().__init__()
        n_embd = check_int("n_embd", n_embd, minimum=1)
        intermediate_size = check_int("intermediate_size", intermediate_size, minimum=1)
        self.gate_proj = nn.Linear(n_embd, intermediate_size, bias=False)
        self.up_proj = nn.Linear(n_embd, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, n_embd, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # (B, T, I) inside


class GroupedQueryAttention(nn.Module):
    """Causal self-attention with n_head query heads and n_kv_head key/value heads, and RoPE.

    Query heads g·j .. g·j + g - 1 (g = n_head / n_kv_head) share key/value head j. n_kv_head =
    n_head is multi-head attention; n_kv_head = 1 is multi-query attention (Shazeer, 2019).
    The sharing needs no copies: q is viewed as (B, n_kv_head, g, T, hs) and k, v as
    (B, n_kv_head, 1, T, hs), and the course's attention broadcasts over the group.

    >>> attn = GroupedQueryAttention(n_embd=12, n_head=6, n_kv_head=2)
    >>> cos, sin = rope_tables(2, torch.arange(5))
    >>> attn(torch.zeros(1, 5, 12), cos, sin).shape, attn.k_proj.weight.shape  # 2 heads of 2
    (torch.Size([1, 5, 12]), torch.Size([4, 12]))
    """

    def __init__(self, n_embd: int, n_head: int, n_kv_head: int) -> None:
        super().__init__()
        n_embd = check_int("n_embd", n_embd, minimum=1)
        n_head = check_int("n_head", n_head, minimum=1)
        n_kv_head = check_int("n_kv_head", n_kv_head, minimum=1)
        if n_embd % n_head:
            raise ValueError(f"n_embd={n_embd} must be a multiple of n_head={n_head}, so that "
                             f"every head has the same size")
        if n_head % n_kv_head:
            raise ValueError(f"n_kv_head={n_kv_head} must divide n_head={n_head}: each key/value "
                             f"head serves a group of n_head // n_kv_head query heads")
        self.n_head, self.n_kv_head, self.head_dim = n_head, n_kv_head, n_embd // n_head
        self.q_proj = nn.Linear(n_embd, n_embd, bias=False)
        self.k_proj = nn.Linear(n_embd, n_kv_head * self.head_dim, bias=False)
        self.v_proj = nn.Linear(n_embd, n_kv_head * self.head_dim, bias=False)
        self.o_proj = nn.Linear(n_embd, n_embd, bias=False)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, kv_cache: KVStore | None = None,
                layer: int = 0, key_padding: Tensor | None = None) -> Tensor:
        """Return the attention output (B, T, C) of x (B, T, C); cos, sin (T, hs) place x's
        tokens (from `rope_tables`; (B, 1, T, hs) for positions per row). With a `kv_cache`,
        x's tokens follow the cached ones (cos and sin must place them there): their keys and
        values are stored as `layer`'s, and each new token attends to every cached token and
        to the new ones up to itself. key_padding (B, S) bool, False for padding: those keys
        get no attention (a query left with no key gets zeros, as in torch's SDPA)."""
        check_tensor("x", x, ndim=3, kind="floating-point", shape="(B, T, C)")
        if x.size(-1) != self.q_proj.in_features:
            raise ValueError(f"x must be (B, T, {self.q_proj.in_features}), got {tuple(x.shape)}")
        if x.dtype != self.q_proj.weight.dtype:
            raise TypeError(f"x must have the module's dtype {self.q_proj.weight.dtype}, got "
                            f"{x.dtype}; use x.to({self.q_proj.weight.dtype})")
        B, T, _ = x.shape
        q = split_heads(self.q_proj(x), self.n_head)  # (B, nh, T, hs)
        k = split_heads(self.k_proj(x), self.n_kv_head)  # (B, nkv, T, hs)
        v = split_heads(self.v_proj(x), self.n_kv_head)  # (B, nkv, T, hs)
        q, k = apply_rotary(q, k, cos, sin)  # positions enter here, and only here
        if kv_cache is not None:  # keys are cached rotated: a token's position never changes
            k, v = kv_cache.update(layer, k, v)  # (B, nkv, S, hs): S = cached + T
        S = k.size(2)
        # subtle: causal masks align top-left; new queries come after S - T cached keys
        mask = None  # S == T and no padding: is_causal does it
        if S > T or key_padding is not None:
            mask = causal_mask(S, device=x.device)[S - T:]  # (T, S)
        if key_padding is not None:  # & (B, 1, 1, 1, S): the same keys out for every query
            mask = mask & key_padding[:, None, None, None]  # (B, 1, 1, T, S)
        group = self.n_head // self.n_kv_head
        q = q.view(B, self.n_kv_head, group, T, self.head_dim)  # (B, nkv, g, T, hs)
        y = scaled_dot_product_attention(q, k[:, :, None], v[:, :, None], attn_mask=mask,
                                         is_causal=mask is None)  # (B, nkv, g, T, hs)
        return self.o_proj(merge_heads(y.view(B, self.n_head, T, self.head_dim)))  # (B, T, C)
