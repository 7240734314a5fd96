"""Exercise checks of notebook 03 (attention)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from course_utils.exercises._feedback import NOT_ATTEMPTED, _report


def check_attention_weights(weights: Sequence[float] | None) -> None:
    """The attention weights of the third token ("sat") in the notebook's hand-worked example.

    Its scaled scores are [0.5, 0.5, 1.0], so the weights are softmax([0.5, 0.5, 1.0]).

    >>> check_attention_weights([0.274, 0.274, 0.452])
    ✓ correct: softmax([0.5, 0.5, 1.0]) = [0.274, 0.274, 0.452]
    """
    import math

    if weights is None:
        return _report(None, NOT_ATTEMPTED)
    def softmax(scores: list[float]) -> list[float]:
        return [math.exp(s) / sum(math.exp(t) for t in scores) for s in scores]

    expected = softmax([0.5, 0.5, 1.0])  # (q3 · k_j) / sqrt(4) for j = 1, 2, 3
    unscaled = softmax([1.0, 1.0, 2.0])  # the common slip: q3 · k_j without the scaling
    try:
        got = [float(w) for w in weights]
    except (TypeError, ValueError):
        return _report(False, "give three numbers, one weight per token")
    if len(got) != 3:
        return _report(False, f"give three weights (one per token), got {len(got)}")

    def matches(reference: list[float]) -> bool:
        return all(abs(g - r) < 0.005 for g, r in zip(got, reference, strict=True))

    if matches(expected):
        shown = ", ".join(f"{e:.3f}" for e in expected)
        return _report(True, f"correct: softmax([0.5, 0.5, 1.0]) = [{shown}]")
    if matches(unscaled):
        return _report(False, "you used the unscaled scores q·k: divide them by sqrt(d_k) = 2 first")
    if abs(sum(got) - 1) > 0.01:
        return _report(False, f"attention weights sum to 1; yours sum to {sum(got):.3f}")
    return _report(False, "not quite: scale the scores [1, 1, 2] by 1/sqrt(4), then apply softmax")


def check_stable_softmax(softmax: Callable | None) -> None:
    """`softmax(x)` over the last axis of a NumPy array, without overflow.

    >>> import numpy as np
    >>> def softmax(x):
    ...     z = np.exp(x - x.max(axis=-1, keepdims=True))
    ...     return z / z.sum(axis=-1, keepdims=True)
    >>> check_stable_softmax(softmax)
    ✓ correct: softmax passes all 5 cases
    """
    import numpy as np

    def close(expected):  # compare arrays, not lists: a learner's answer is an array
        return lambda got: bool(np.allclose(np.asarray(got, dtype=float), expected, atol=1e-6))

    e = np.exp(1.0)
    cases = [
        (np.array([0.0, 0.0]), [0.5, 0.5]),
        (np.array([1.0, 0.0, 1.0]), [e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1)]),
        (np.array([1000.0, 1000.0]), [0.5, 0.5]),  # exp(1000) overflows: subtract the max first
        (np.array([0.0, -np.inf]), [1.0, 0.0]),  # a masked score gets weight 0
        (np.array([[0.0, 0.0], [1000.0, 0.0]]), [[0.5, 0.5], [1.0, 0.0]]),  # each row separately
    ]
    if softmax is None:
        return _report(None, NOT_ATTEMPTED)
    for x, expected in cases:
        try:
            with np.errstate(all="ignore"):
                got = softmax(x.copy())
        except Exception as error:  # the learner's code may raise anything; report it
            return _report(False, f"softmax({x.tolist()}) raised {type(error).__name__}: {error}")
        if not close(expected)(got):
            return _report(False, f"softmax({x.tolist()}) returned {np.asarray(got).round(4).tolist()}, "
                                  f"expected {np.round(expected, 4).tolist()}")
    return _report(True, f"correct: softmax passes all {len(cases)} cases")


def check_causal_mask(causal_mask: Callable[[int], Any] | None) -> None:
    """`causal_mask(T)`: a (T, T) boolean tensor, True where position i may attend to j.

    >>> import torch
    >>> check_causal_mask(lambda T: torch.ones(T, T, dtype=torch.bool).tril())
    ✓ correct: causal_mask passes all 3 sizes
    """
    import torch

    if causal_mask is None:
        return _report(None, NOT_ATTEMPTED)
    sizes = (1, 4, 7)
    for size in sizes:
        expected = torch.ones(size, size, dtype=torch.bool).tril()
        try:
            got = causal_mask(size)
        except Exception as error:  # the learner's code may raise anything; report it
            return _report(False, f"causal_mask({size}) raised {type(error).__name__}: {error}")
        if not isinstance(got, torch.Tensor):
            return _report(False, f"return a torch tensor, got {type(got).__name__}")
        if got.dtype != torch.bool:
            return _report(False, f"return a boolean tensor (True = may attend), got {got.dtype}")
        if tuple(got.shape) != (size, size):
            return _report(False, f"causal_mask({size}) has shape {tuple(got.shape)}, expected ({size}, {size})")
        if torch.equal(got, expected.T) and size > 1:
            return _report(False, "transposed: row i is the query; it may attend to columns j <= i")
        if torch.equal(got, ~expected):
            return _report(False, "inverted: True must mean 'may attend' (the diagonal and below)")
        if not torch.equal(got, expected):
            return _report(False, f"causal_mask({size}) is wrong: row i must be True in columns 0..i")
    return _report(True, f"correct: causal_mask passes all {len(sizes)} sizes")


def check_split_heads(split_heads: Callable | None) -> None:
    """`split_heads(x, n_head)`: (B, T, C) -> (B, n_head, T, C // n_head), each head a slice
    of the channels.

    >>> check_split_heads(lambda x, n: x.view(x.shape[0], x.shape[1], n, -1).transpose(1, 2))
    ✓ correct: split_heads gives (B, n_head, T, head_size) with each head's channels in place
    """
    import torch

    if split_heads is None:
        return _report(None, NOT_ATTEMPTED)
    x = torch.arange(2 * 3 * 8, dtype=torch.float32).view(2, 3, 8)  # B=2, T=3, C=8
    expected = x.view(2, 3, 4, 2).transpose(1, 2)  # n_head=4, head_size=2
    try:
        got = split_heads(x, 4)
    except Exception as error:  # the learner's code may raise anything; report it
        return _report(False, f"split_heads raised {type(error).__name__}: {error}")
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (2, 4, 3, 2):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return _report(False, f"expected shape (B, n_head, T, head_size) = (2, 4, 3, 2), got {shape}")
    if torch.equal(got, x.view(2, 4, 3, 2)):
        return _report(False, "right shape, wrong values: view as (B, T, n_head, head_size) first, "
                              "then swap T and n_head; viewing straight to (B, n_head, T, hs) mixes tokens")
    if not torch.equal(got, expected):
        return _report(False, "right shape, wrong values: head h must hold channels h*hs .. (h+1)*hs - 1 "
                              "of every token")
    return _report(True, "correct: split_heads gives (B, n_head, T, head_size) with each head's channels in place")


def check_gpt2_parameters(answer: int | None) -> None:
    """How many parameters has GPT-2 small (vocab 50,257, block 1,024, 12 layers, 12 heads, 768)?

    >>> check_gpt2_parameters(124_439_808)
    ✓ correct: 124,439,808 parameters (the LM head shares the token embedding)
    """
    if answer is None:
        return _report(None, NOT_ATTEMPTED)
    V, T, L, C = 50257, 1024, 12, 768
    embeddings = V * C + T * C
    block = 2 * 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C)
    expected = embeddings + L * block + 2 * C  # + the final LayerNorm
    if answer == expected:
        return _report(True, f"correct: {expected:,} parameters (the LM head shares the token embedding)")
    if answer == expected + V * C:
        return _report(False, "the LM head is tied to the token embedding wte: count that matrix once")
    if answer == expected - T * C:
        return _report(False, "don't forget the position embedding wpe (block_size × n_embd)")
    if answer == expected - 2 * C * (2 * L + 1):
        return _report(False, "don't forget the LayerNorms: a weight and a bias of n_embd each, 2 per block + ln_f")
    return _report(False, f"not quite ({answer:,}): count wte, wpe, 12 blocks (2 LayerNorms, c_attn, "
                          "c_proj, c_fc, mlp c_proj, with biases) and ln_f")
