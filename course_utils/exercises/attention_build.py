"""Exercise checks of notebook 03 in which the learner builds attention, checked against PyTorch.

`check_chunked_attention`: attention over the keys a chunk at a time with a running maximum and
sum (the online softmax of FlashAttention), against `F.scaled_dot_product_attention`.
`check_multihead_attention`: multi-head attention from `torch.nn.MultiheadAttention`'s own weights,
with its mask conventions, against the module itself. Torch loads only when a check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_utils.exercises.answers import call
from course_utils.exercises.feedback import Verdict, correct, exercise, wrong


def _max_error(got: Any, expected: Any) -> float | None:
    """max |got − expected| as a float; None if they cannot be compared."""
    import torch

    try:
        return float((got.to(expected.dtype) - expected).abs().max())
    except Exception:  # another shape, device or kind of object
        return None


def _close(got: Any, expected: Any) -> bool:
    error = _max_error(got, expected)
    return error is not None and error < 1e-6


def _shape_problem(got: Any, expected: Any) -> str | None:
    """A description of `got` if it is not a finite tensor of expected's shape, else None."""
    import torch

    if not isinstance(got, torch.Tensor):
        return type(got).__name__
    if tuple(got.shape) != tuple(expected.shape):
        return str(tuple(got.shape))
    return None


@exercise
def check_chunked_attention(attention_in_chunks: Callable[..., Any] | None) -> Verdict:
    """`attention_in_chunks(q, k, v, chunk_size)`: softmax(q kᵀ/√d) v for q (L, d), k (S, d),
    v (S, d_v), reading the keys and values `chunk_size` at a time.

    >>> import torch
    >>> def attention_in_chunks(q, k, v, chunk_size):
    ...     w = torch.softmax(q @ k.T / q.shape[-1] ** 0.5, dim=-1)  # not chunked, but equal
    ...     return w @ v
    >>> check_chunked_attention(attention_in_chunks)
    ✓ correct: attention_in_chunks equals F.scaled_dot_product_attention in all 3 cases
    """
    import torch
    import torch.nn.functional as F

    if not callable(attention_in_chunks):
        return wrong("not_a_function", type=type(attention_in_chunks).__name__)
    gen = torch.Generator().manual_seed(0)
    cases = [(4, 6, 8, 3, 6, 1.0), (4, 10, 8, 3, 3, 1.0), (3, 9, 4, 2, 2, 30.0)]
    for L, S, d, d_v, chunk_size, size in cases:  # one chunk; several; scores in the thousands
        q = torch.randn(L, d, generator=gen, dtype=torch.float64) * size
        k = torch.randn(S, d, generator=gen, dtype=torch.float64) * size
        v = torch.randn(S, d_v, generator=gen, dtype=torch.float64)
        expected = F.scaled_dot_product_attention(q, k, v)
        got, _ = call(attention_in_chunks, "attention_in_chunks", (q, k, v, chunk_size))
        problem = _shape_problem(got, expected)
        if problem is not None:
            return wrong("chunked.shape", chunk_size=chunk_size, shape=problem,
                         expected=str(tuple(expected.shape)))
        if _close(got, expected):
            continue
        if not bool(torch.isfinite(got).all()):
            return wrong("chunked.not_finite")
        if _close(got, F.scaled_dot_product_attention(q, k, v, scale=1.0)):
            return wrong("chunked.unscaled")
        if chunk_size < S:
            return wrong("chunked.rescale")
        return wrong("chunked.wrong", chunk_size=chunk_size, error=_max_error(got, expected))
    return correct("chunked.correct", count=len(cases))


def _multihead(x: Any, mha: Any, padding: Any, *, causal: bool = True, use_padding: bool = True,
               head_scale: bool = True, out_proj: bool = True) -> Any:
    """nn.MultiheadAttention's self-attention from its weights, or one of the common slips."""
    import torch

    B, T, C = x.shape
    n_head = mha.num_heads
    q, k, v = (x @ mha.in_proj_weight.T + mha.in_proj_bias).split(C, dim=-1)
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
    scores = q @ k.transpose(-2, -1) / ((C // n_head if head_scale else C) ** 0.5)
    blocked = torch.zeros(B, 1, T, T, dtype=torch.bool)
    if causal:
        blocked = blocked | torch.ones(T, T, dtype=torch.bool).triu(1)
    if use_padding:
        blocked = blocked | padding[:, None, None, :]
    y = scores.masked_fill(blocked, float("-inf")).softmax(dim=-1) @ v
    y = y.transpose(1, 2).reshape(B, T, C)
    return y @ mha.out_proj.weight.T + mha.out_proj.bias if out_proj else y


@exercise
def check_multihead_attention(multihead_attention: Callable[..., Any] | None) -> Verdict:
    """`multihead_attention(x, mha, padding)` with x (B, T, C), mha a
    `torch.nn.MultiheadAttention(C, n_head, batch_first=True)` and padding a (B, T) boolean
    tensor, True at padding: what `mha(x, x, x, attn_mask=causal, key_padding_mask=padding)`
    returns with a causal mask, computed from mha's weights.

    >>> import torch
    >>> def multihead_attention(x, mha, padding):
    ...     T = x.shape[1]
    ...     future = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = blocked, as mha wants
    ...     return mha(x, x, x, attn_mask=future, key_padding_mask=padding)[0]
    >>> check_multihead_attention(multihead_attention)
    ✓ correct: your multi-head attention equals torch.nn.MultiheadAttention in all 2 cases
    """
    import torch

    if not callable(multihead_attention):
        return wrong("not_a_function", type=type(multihead_attention).__name__)
    cases = [(12, 3, (6, 4)), (8, 1, (5, 5))]  # C, n_head, the two sequences' lengths
    for case, (C, n_head, lengths) in enumerate(cases):
        T = max(lengths)
        with torch.random.fork_rng(devices=[]):  # the learner's random stream stays untouched
            torch.manual_seed(case)  # nn.MultiheadAttention draws its weights from the global RNG
            mha = torch.nn.MultiheadAttention(C, n_head, batch_first=True).double().eval()
            x = torch.randn(2, T, C, dtype=torch.float64)
        padding = torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]  # True = padding
        with torch.no_grad():
            future = torch.ones(T, T, dtype=torch.bool).triu(1)
            expected = mha(x, x, x, attn_mask=future, key_padding_mask=padding,
                           need_weights=False)[0]
            got, _ = call(multihead_attention, "multihead_attention", (x, mha, padding))
            problem = _shape_problem(got, expected)
            if problem is not None:
                return wrong("mha.shape", shape=problem, expected=str(tuple(expected.shape)))
            if _close(got, expected):
                continue
            if not bool(torch.isfinite(got).all()):
                return wrong("mha.not_finite")
            for slip, code in [({"causal": False}, "mha.no_causal"),
                               ({"use_padding": False}, "mha.no_padding"),
                               ({"head_scale": False}, "mha.scale"),
                               ({"out_proj": False}, "mha.out_proj")]:
                if _close(got, _multihead(x, mha, padding, **slip)):
                    return wrong(code)
        return wrong("mha.wrong", error=_max_error(got, expected), n_head=n_head)
    return correct("mha.correct", count=len(cases))
