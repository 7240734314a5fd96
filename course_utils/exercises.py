"""Feedback for the notebooks' exercises.

Each `check_*` function takes the learner's answer (a value or a function), prints one line of
feedback — "not attempted yet", a hint saying what is off, or "correct" — and returns None, so
a notebook shows only the feedback. (Strict nbval compares that line, so a solutions notebook
whose answer stops being correct fails the tests.) Expected values are worked out
by hand in the comments, or computed with the course's tested implementation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

NOT_ATTEMPTED = "not attempted yet: replace the None above with your answer"


def _report(correct: bool | None, message: str) -> None:
    mark = {None: "…", True: "✓", False: "✗"}[correct]
    print(f"{mark} {message}")


def _run_cases(
    fn: Callable | None, cases: Sequence[tuple[tuple, Any]], name: str, convert: Callable = lambda x: x
) -> None:
    """Call `fn(*args)` on each case and compare `convert(result)` with the expected value;
    report the first wrong or failing case."""
    if fn is None:
        return _report(None, NOT_ATTEMPTED)
    if not callable(fn):
        return _report(False, f"expected a function, got {type(fn).__name__}")
    for args, expected in cases:
        shown = ", ".join(repr(a) for a in args)
        try:
            got = convert(fn(*args))
        except Exception as error:  # the learner's code may raise anything; report it
            return _report(False, f"{name}({shown}) raised {type(error).__name__}: {error}")
        if got != expected:
            return _report(False, f"{name}({shown}) returned {got!r}, expected {expected!r}")
    return _report(True, f"correct: {name} passes all {len(cases)} cases")


# --- Notebook 01: tokenization -------------------------------------------------------------


def check_utf8_bytes(answer: int | None) -> None:
    """How many bytes does 今天是个好日子 take in UTF-8?

    >>> check_utf8_bytes(21)
    ✓ correct: 7 characters × 3 bytes = 21 bytes
    """
    text = "今天是个好日子"
    if answer is None:
        return _report(None, NOT_ATTEMPTED)
    if answer == len(text.encode("utf-8")):
        return _report(True, "correct: 7 characters × 3 bytes = 21 bytes")
    if answer == len(text):
        return _report(False, "that is the number of characters (code points), not bytes")
    if answer == len(text.encode("utf-16-le")):
        return _report(False, "that is UTF-16 (2 bytes per character here); UTF-8 needs more")
    return _report(False, "not quite: look at len(text.encode('utf-8')) for one character first")


def check_pretokenize(chunks: list[str] | None) -> None:
    """The chunks GPT-2's split pattern makes of "I'll pay $1,000 for 2 cats!".

    >>> check_pretokenize(["I", "'ll", " pay", " $", "1", ",", "000", " for", " 2", " cats", "!"])
    ✓ correct: 11 chunks, each word keeps the space before it
    """
    import regex

    from course_utils.tokenization import GPT2_SPLIT_PATTERN

    text = "I'll pay $1,000 for 2 cats!"
    expected = regex.findall(GPT2_SPLIT_PATTERN, text)
    if chunks is None:
        return _report(None, NOT_ATTEMPTED)
    if list(chunks) == expected:
        return _report(True, f"correct: {len(expected)} chunks, each word keeps the space before it")
    if "".join(chunks) != text:
        return _report(False, "your chunks must join back to the original text exactly")
    if any(c.endswith(" ") and c.strip() for c in chunks):
        return _report(False, "spaces attach to the start of the next chunk, not the end")
    for got, want in zip(chunks, expected, strict=False):
        if got != want:
            return _report(False, f"first difference: you have {got!r}, the pattern gives {want!r}")
    return _report(False, f"the pattern gives {len(expected)} chunks, you have {len(chunks)}")


def check_count_pairs(count_pairs: Callable[[dict[tuple[int, ...], int]], dict] | None) -> None:
    """`count_pairs(chunk_counts)`: adjacent-pair counts when each distinct chunk is stored
    once with how often it occurs — the fast trainer's bookkeeping.

    >>> from collections import Counter
    >>> def count_pairs(chunk_counts):
    ...     counts = Counter()
    ...     for chunk, n in chunk_counts.items():
    ...         for pair in zip(chunk, chunk[1:]):
    ...             counts[pair] += n
    ...     return counts
    >>> check_count_pairs(count_pairs)
    ✓ correct: count_pairs passes all 4 cases
    """
    cases = [
        # " the" ×3 and " then" ×1: (t,h) and (h,e) occur 4 times, (e,n) once
        (({(32, 116, 104, 101): 3, (32, 116, 104, 101, 110): 1},),
         {(32, 116): 4, (116, 104): 4, (104, 101): 4, (101, 110): 1}),
        (({(97, 97, 97): 2},), {(97, 97): 4}),  # overlapping pairs are all counted
        (({(7,): 5},), {}),  # a one-token chunk has no pairs
        (({},), {}),
    ]  # fmt: skip
    return _run_cases(count_pairs, cases, "count_pairs", convert=dict)


def check_bpe_encode(bpe_encode: Callable[[str, dict[tuple[int, int], int]], list[int]] | None) -> None:
    """`bpe_encode(text, merges)`: UTF-8 bytes, then repeatedly apply the learned merge with
    the lowest rank (merges maps a pair to its new id, in training order).

    >>> def bpe_encode(text, merges):
    ...     ids = list(text.encode("utf-8"))
    ...     while len(ids) >= 2:
    ...         pair = min(zip(ids, ids[1:]), key=lambda p: merges.get(p, float("inf")))
    ...         if pair not in merges:
    ...             break
    ...         out, i = [], 0
    ...         while i < len(ids):
    ...             if tuple(ids[i:i + 2]) == pair:
    ...                 out.append(merges[pair]); i += 2
    ...             else:
    ...                 out.append(ids[i]); i += 1
    ...         ids = out
    ...     return ids
    >>> check_bpe_encode(bpe_encode)
    ✓ correct: bpe_encode passes all 6 cases
    """
    # The merges learned from "aaabdaaabac": aa -> 256, ab -> 257, (aa)(ab) -> 258.
    merges = {(97, 97): 256, (97, 98): 257, (256, 257): 258}
    cases = [
        (("aaabdaaabac", merges), [258, 100, 258, 97, 99]),
        (("aaab", merges), [258]),
        (("ab", merges), [257]),
        (("aaaa", merges), [256, 256]),
        (("ba", merges), [98, 97]),
        (("", merges), []),
    ]
    return _run_cases(bpe_encode, cases, "bpe_encode")


def check_decode(decode: Callable[[list[int], dict[int, bytes]], str] | None) -> None:
    """`decode(ids, vocab)` joins the tokens' bytes and decodes them as UTF-8 (with
    errors="replace", because a cut can fall inside a character)."""
    from course_utils.tokenization import BPETokenizer

    gpt2 = BPETokenizer.from_gpt2()
    texts = ["Hello world", "今天是个好日子", "naïve café 🙂", ""]
    cases = [((gpt2.encode(t), gpt2.vocab), t) for t in texts]
    # 好 is 3 bytes split over two GPT-2 tokens; its first token alone is not valid UTF-8.
    first_of_hao = gpt2.encode("好")[:1]
    cases.append(((first_of_hao, gpt2.vocab), "\ufffd"))
    return _run_cases(decode, cases, "decode")


# --- Notebook 03: attention ----------------------------------------------------------------


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


# --- Notebook 04: gradient descent and training --------------------------------------------


def _close_number(answer: float | None, expected: float, tolerance: float, correct: str,
                  hints: Sequence[tuple[float, str]] = (), otherwise: str = "not quite") -> None:
    """Report on a numeric answer: correct within `tolerance`, else the first matching hint."""
    if answer is None:
        return _report(None, NOT_ATTEMPTED)
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _report(False, f"give a number, got {type(answer).__name__}")
    if abs(value - expected) <= tolerance:
        return _report(True, f"correct: {correct}")
    for wrong, hint in hints:
        if abs(value - wrong) <= tolerance:
            return _report(False, hint)
    return _report(False, otherwise)


def check_gd_step(answer: float | None) -> None:
    """θ after one gradient-descent step on L(θ) = (θ − 3)² from θ = 1 with α = 0.1.

    >>> check_gd_step(1.4)
    ✓ correct: ∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4
    """
    return _close_number(
        answer, 1.4, 1e-6, "∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4",
        hints=[(0.6, "you stepped along the gradient: the update subtracts α∇L, moving downhill"),
               (1.2, "the derivative of (θ − 3)² is 2(θ − 3): don't drop the factor 2")],
        otherwise="compute ∇L(1) = 2(1 − 3) first, then θ − α∇L")


def check_max_stable_lr(answer: float | None) -> None:
    """The largest learning rate for which gradient descent on L(θ) = 5θ² does not diverge.

    >>> check_max_stable_lr(0.2)
    ✓ correct: θ ← (1 − 10α)θ shrinks only while |1 − 10α| < 1, i.e. α < 2/10 = 0.2
    """
    return _close_number(
        answer, 0.2, 1e-6, "θ ← (1 − 10α)θ shrinks only while |1 − 10α| < 1, i.e. α < 2/10 = 0.2",
        hints=[(0.1, "α = 0.1 lands on the minimum in one step (1 − 10α = 0); larger α still "
                     "converges, oscillating, until |1 − 10α| reaches 1"),
               (0.4, "the curvature is L'' = 10, not 5: the limit is 2 / L''")],
        otherwise="write one step as θ ← (1 − αL'')θ with L'' = 10, and ask when |1 − αL''| < 1")


def check_bits_per_byte(answer: float | None) -> None:
    """Bits per byte of a model with loss 3.0 nats per token on text of 2.5 bytes per token.

    >>> check_bits_per_byte(1.7312)
    ✓ correct: 3.0 / (2.5 · ln 2) ≈ 1.731 bits per byte
    """
    expected = 3.0 / (2.5 * math.log(2))
    return _close_number(
        answer, expected, 2e-3, f"3.0 / (2.5 · ln 2) ≈ {expected:.3f} bits per byte",
        hints=[(3.0 / 2.5, "that is nats per byte: divide by ln 2 to get bits"),
               (3.0 / math.log(2), "that is bits per token: divide by the bytes per token too"),
               (3.0 * 2.5 / math.log(2), "divide by the bytes per token, don't multiply")],
        otherwise="bits per byte = loss per token / bytes per token / ln 2")


def check_initial_loss(answer: float | None) -> None:
    """The loss an untrained model with a 1,024-token vocabulary should start near.

    >>> check_initial_loss(6.93)
    ✓ correct: a uniform guess gives −ln(1/1024) = ln 1024 ≈ 6.93 nats
    """
    return _close_number(
        answer, math.log(1024), 0.01, "a uniform guess gives −ln(1/1024) = ln 1024 ≈ 6.93 nats",
        hints=[(10.0, "that is log₂ 1024 (bits); PyTorch's cross-entropy uses the natural log"),
               (1 / 1024, "that is the probability of each token; the loss is −ln of it")],
        otherwise="an untrained model spreads probability evenly: loss = −ln(1 / vocab_size)")


def check_momentum_step(momentum_step: Callable | None) -> None:
    """`momentum_step(param, grad, buf, lr, momentum) -> (param, buf)`: one SGD step with
    momentum as PyTorch defines it (buf is None on the first step).

    >>> def momentum_step(param, grad, buf, lr, momentum):
    ...     buf = grad if buf is None else momentum * buf + grad
    ...     return param - lr * buf, buf
    >>> check_momentum_step(momentum_step)
    ✓ correct: momentum_step passes all 3 cases
    """
    cases = [
        ((1.0, 2.0, None, 0.1, 0.9), (0.8, 2.0)),  # first step: buf = grad
        ((0.8, 1.0, 2.0, 0.1, 0.9), (0.52, 2.8)),  # buf = 0.9 · 2 + 1 = 2.8; 0.8 − 0.28
        ((0.0, -1.0, 0.5, 0.5, 0.5), (0.375, -0.75)),  # buf = 0.25 − 1 = −0.75; 0 + 0.375
    ]

    def rounded(result: Any) -> Any:
        return tuple(round(float(x), 10) for x in result)

    return _run_cases(momentum_step, cases, "momentum_step", convert=rounded)
