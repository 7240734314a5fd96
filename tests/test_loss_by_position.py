"""loss_by_position (course_utils.metrics): the mean loss at each position of a window.

It must agree with text_loss where both measure the same predictions, put each loss at the
position it belongs to, and count only whole windows."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.metrics import loss_by_position, text_loss
from course_utils.model import GPT, GPTConfig

TINY = GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=2, n_embd=16)


class PositionModel(nn.Module):
    """Logits that depend only on the position in the window: at position t, token 0 gets the
    logit t and every other token 0, so P(0) = 1 / (1 + (V - 1) e^-t)."""

    def __init__(self, vocab_size: int = 4) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.unused = nn.Parameter(torch.zeros(1))  # a model has parameters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T = x.shape
        logits = torch.zeros(B, T, self.vocab_size)
        logits[:, :, 0] = torch.arange(T, dtype=torch.float32)
        return logits


def test_the_mean_over_positions_is_text_loss_on_windows_that_do_not_overlap():
    model = GPT(TINY, seed=0)
    data = torch.randint(0, TINY.vocab_size, (5 * TINY.block_size + 1,),
                         generator=torch.Generator().manual_seed(0))
    by_position = loss_by_position(model, data, block_size=TINY.block_size)
    expected = text_loss(model, data, block_size=TINY.block_size, stride=TINY.block_size)
    assert by_position.shape == (TINY.block_size,) and by_position.dtype == torch.float64
    assert by_position.mean().item() == pytest.approx(expected, rel=1e-6)


def test_each_position_holds_its_own_predictions_over_overlapping_windows():
    model = GPT(TINY, seed=1)
    data = torch.arange(40) % TINY.vocab_size
    stride = 3
    starts = range(0, len(data) - TINY.block_size, stride)
    with torch.no_grad():  # by hand: one window at a time
        rows = [F.cross_entropy(model(data[s:s + TINY.block_size][None])[0],
                                data[s + 1:s + TINY.block_size + 1], reduction="none")
                for s in starts]
    expected = torch.stack(rows).double().mean(dim=0)
    got = loss_by_position(model, data, block_size=TINY.block_size, stride=stride, batch_size=4)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


def test_the_loss_at_position_t_is_the_prediction_from_t_plus_one_tokens():
    vocab_size = 4
    data = torch.zeros(3 * 6 + 5, dtype=torch.long)  # three whole windows of 6, and a tail
    got = loss_by_position(PositionModel(vocab_size), data, block_size=6)
    expected = torch.tensor([math.log(1 + (vocab_size - 1) * math.exp(-t)) for t in range(6)],
                            dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-7)  # in order, none shifted


def test_only_whole_windows_count_and_the_model_s_mode_comes_back():
    model = GPT(TINY, seed=2)
    model.train()
    data = torch.arange(2 * TINY.block_size + 1) % TINY.vocab_size
    whole = loss_by_position(model, data, block_size=TINY.block_size)
    tail = torch.cat([data, torch.tensor([7, 7, 7])])  # a tail shorter than a window: left out
    torch.testing.assert_close(loss_by_position(model, tail, block_size=TINY.block_size), whole)
    assert model.training


def test_bad_input_is_refused_with_the_fix():
    model = GPT(TINY, seed=0)
    with pytest.raises(ValueError, match="block_size \\+ 1 = 9"):
        loss_by_position(model, torch.arange(8), block_size=8)
    with pytest.raises(ValueError, match="block_size=16 exceeds"):
        loss_by_position(model, torch.arange(40) % 8, block_size=16)
    with pytest.raises(ValueError, match="stride"):
        loss_by_position(model, torch.arange(40) % 8, block_size=8, stride=0)
