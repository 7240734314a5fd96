"""The checks of notebook 03's exercises: right answers pass, the typical slips get their own
hint, and junk never raises. Tests compare result codes, never the English sentences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_utils import exercises as ex
from course_utils.exercises.messages import MESSAGES
from exercise_judge import judge


def window_mask(T, window):
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    return (j <= i) & (i - j < window)


def chunked(q, k, v, chunk_size, rescale=True, scale=True, stable=True):
    """Online-softmax attention; the flags switch on the learner's usual slips."""
    factor = q.shape[-1] ** -0.5 if scale else 1.0
    m = torch.full((q.shape[0], 1), float("-inf") if stable else 0.0, dtype=q.dtype)
    l = torch.zeros(q.shape[0], 1, dtype=q.dtype)
    o = torch.zeros(q.shape[0], v.shape[-1], dtype=q.dtype)
    for start in range(0, k.shape[0], chunk_size):
        s = q @ k[start:start + chunk_size].T * factor
        m_new = torch.maximum(m, s.max(dim=-1, keepdim=True).values) if stable else m
        correction = torch.exp(m - m_new) if rescale else 1.0
        p = torch.exp(s - m_new)
        l = l * correction + p.sum(dim=-1, keepdim=True)
        o = o * correction + p @ v[start:start + chunk_size]
        m = m_new
    return o / l


def multihead(x, mha, padding, causal=True, use_padding=True, head_scale=True, out_proj=True,
              invert_padding=False):
    B, T, C = x.shape
    n = mha.num_heads
    q, k, v = (x @ mha.in_proj_weight.T + mha.in_proj_bias).split(C, dim=-1)
    q, k, v = (t.view(B, T, n, C // n).transpose(1, 2) for t in (q, k, v))
    scores = q @ k.transpose(-2, -1) / ((C // n if head_scale else C) ** 0.5)
    blocked = torch.zeros(B, 1, T, T, dtype=torch.bool)
    if causal:
        blocked = blocked | torch.ones(T, T, dtype=torch.bool).triu(1)
    if use_padding:
        blocked = blocked | (~padding if invert_padding else padding)[:, None, None, :]
    y = (scores.masked_fill(blocked, float("-inf")).softmax(-1) @ v).transpose(1, 2)
    y = y.reshape(B, T, C)
    return y @ mha.out_proj.weight.T + mha.out_proj.bias if out_proj else y


RIGHT = [
    (ex.check_query_weights, [0.3072, 0.1863, 0.5065]),
    (ex.check_query_weights, np.array([0.307, 0.186, 0.506])),
    (ex.check_sliding_window_mask, window_mask),
    (ex.check_chunked_attention, chunked),
    (ex.check_multihead_attention, multihead),
    (ex.check_multihead_attention,  # PyTorch itself, given the mask in its own convention
     lambda x, mha, padding: mha(x, x, x, key_padding_mask=padding, need_weights=False,
                                 attn_mask=torch.ones(x.shape[1], x.shape[1]).triu(1).bool())[0]),
    (ex.check_gpt2_medium_parameters, 354_823_168),
]


@pytest.mark.parametrize("check, answer", RIGHT)
def test_right_answers_are_correct(capsys, check, answer):
    result = judge(capsys, check, answer)
    assert result.outcome == "correct", result.text
    assert result.code in MESSAGES["en"]


@pytest.mark.parametrize(
    "check, answer, code",
    [
        (ex.check_query_weights, [0.2447, 0.0900, 0.6652], "query_weights.unscaled"),
        (ex.check_query_weights, [0.2741, 0.2741, 0.4519], "query_weights.not_quite"),
        (ex.check_query_weights, [0.5, 0.5, 0.5], "attention_weights.sum"),
        (ex.check_query_weights, [0.5, 0.5], "attention_weights.count"),
        (ex.check_sliding_window_mask, lambda T, w: window_mask(T, w).T, "window_mask.transposed"),
        (ex.check_sliding_window_mask, lambda T, w: ~window_mask(T, w), "window_mask.inverted"),
        (ex.check_sliding_window_mask, lambda T, w: window_mask(T, w + 1),
         "window_mask.one_too_many"),
        (ex.check_sliding_window_mask,
         lambda T, w: (torch.arange(T)[:, None] - torch.arange(T)).abs() < w,
         "window_mask.not_causal"),
        (ex.check_sliding_window_mask, lambda T, w: window_mask(T, w).int(),
         "window_mask.not_bool"),
        (ex.check_sliding_window_mask, lambda T, w: window_mask(T, w).tolist(),
         "window_mask.not_a_tensor"),
        (ex.check_sliding_window_mask, lambda T, w: torch.ones(T, T, dtype=torch.bool).tril(),
         "window_mask.wrong"),
        (ex.check_chunked_attention, lambda q, k, v, c: chunked(q, k, v, c, rescale=False),
         "chunked.rescale"),
        (ex.check_chunked_attention, lambda q, k, v, c: chunked(q, k, v, c, scale=False),
         "chunked.unscaled"),
        (ex.check_chunked_attention, lambda q, k, v, c: chunked(q, k, v, c, stable=False),
         "chunked.not_finite"),
        (ex.check_chunked_attention, lambda q, k, v, c: chunked(q, k, v, c).T, "chunked.shape"),
        (ex.check_chunked_attention, lambda q, k, v, c: 2 * chunked(q, k, v, c), "chunked.wrong"),
        (ex.check_multihead_attention, lambda x, m, p: multihead(x, m, p, causal=False),
         "mha.no_causal"),
        (ex.check_multihead_attention, lambda x, m, p: multihead(x, m, p, use_padding=False),
         "mha.no_padding"),
        (ex.check_multihead_attention, lambda x, m, p: multihead(x, m, p, head_scale=False),
         "mha.scale"),
        (ex.check_multihead_attention, lambda x, m, p: multihead(x, m, p, out_proj=False),
         "mha.out_proj"),
        (ex.check_multihead_attention, lambda x, m, p: multihead(x, m, p, invert_padding=True),
         "mha.not_finite"),
        (ex.check_multihead_attention, lambda x, m, p: multihead(x, m, p)[:, :-1], "mha.shape"),
        (ex.check_multihead_attention, lambda x, m, p: multihead(x, m, p) + 1, "mha.wrong"),
        (ex.check_gpt2_medium_parameters, 354_823_168 + 50257 * 1024, "gpt2_parameters.lm_head"),
        (ex.check_gpt2_medium_parameters, 354_823_168 - 1024 * 1024, "gpt2_parameters.wpe"),
        (ex.check_gpt2_medium_parameters, 354_823_168 - 2 * 1024 * 49,
         "gpt2_parameters.layernorms"),
        (ex.check_gpt2_medium_parameters, 124_439_808, "medium_parameters.small"),
        (ex.check_gpt2_medium_parameters, 350_000_000, "medium_parameters.not_quite"),
    ],
)  # fmt: skip
def test_wrong_answers_get_their_hint(capsys, check, answer, code):
    result = judge(capsys, check, answer)
    assert (result.code, result.outcome) == (code, "wrong"), result.text
    assert result.code in MESSAGES["en"]


JUNK = [None, "0.3", math.nan, 10**400, [None] * 3, lambda *args: 1 / 0, lambda *args: "x",
        lambda *args: torch.full((2, 2), math.nan), object()]


@pytest.mark.parametrize("check", [ex.check_query_weights, ex.check_sliding_window_mask,
                                   ex.check_chunked_attention, ex.check_multihead_attention,
                                   ex.check_gpt2_medium_parameters])
@pytest.mark.parametrize("answer", JUNK, ids=range(len(JUNK)))
def test_junk_never_raises(capsys, check, answer):
    result = judge(capsys, check, answer)
    expected = "not_attempted" if answer is None else "wrong"
    assert result.outcome == expected, result.text
    assert len(result.text) <= 300


def test_the_multihead_check_leaves_the_global_random_stream_alone(capsys):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    judge(capsys, ex.check_multihead_attention, multihead)
    assert torch.equal(torch.rand(3), expected)
