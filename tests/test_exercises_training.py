"""The two checks of notebook 04 that compare the learner's function with PyTorch itself:
gradient clipping (torch.nn.utils.clip_grad_norm_) and Adam's L2 step (torch.optim.Adam).
Right answers pass, the typical mistakes get their own hint, junk gets one line."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils import exercises as ex
from course_utils.exercises.messages import MESSAGES
from exercise_judge import judge


def _grads(parameters):
    return [p.grad for p in parameters if p.grad is not None]


def clip(parameters, max_norm):
    total = torch.cat([g.flatten() for g in _grads(parameters)]).norm()
    for g in _grads(parameters):
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def clip_each(parameters, max_norm):
    for g in _grads(parameters):
        g.mul_(min(1.0, max_norm / g.norm().item()))
    return torch.cat([g.flatten() for g in _grads(parameters)]).norm()


def clip_always(parameters, max_norm):
    total = torch.cat([g.flatten() for g in _grads(parameters)]).norm()
    for g in _grads(parameters):
        g.mul_(max_norm / total)
    return total


def clip_a_copy(parameters, max_norm):
    total = torch.cat([g.flatten() for g in _grads(parameters)]).norm()
    _ = [g * min(1.0, max_norm / total.item()) for g in _grads(parameters)]
    return total


def clip_returns_after(parameters, max_norm):
    clip(parameters, max_norm)
    return torch.cat([g.flatten() for g in _grads(parameters)]).norm()


def adam(param, grad, m, v, step, lr, betas, eps, weight_decay, *, variant=""):
    if variant not in ("decoupled", "no_decay"):
        grad = grad + weight_decay * param
    m = betas[0] * m + (1 - betas[0]) * grad
    v = betas[1] * v + (1 - betas[1]) * grad * grad
    m_hat, v_hat = m / (1 - betas[0] ** step), v / (1 - betas[1] ** step)
    if variant == "no_bias_correction":
        m_hat, v_hat = m, v
    if variant == "decoupled":
        param = param * (1 - lr * weight_decay)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


@pytest.mark.parametrize("check, answer, code", [
    (ex.check_clip_grad_norm, clip, "all_cases_pass"),
    (ex.check_clip_grad_norm, torch.nn.utils.clip_grad_norm_, "all_cases_pass"),
    (ex.check_clip_grad_norm, clip_each, "clip_grad_norm.per_tensor"),
    (ex.check_clip_grad_norm, clip_always, "clip_grad_norm.always_scaled"),
    (ex.check_clip_grad_norm, clip_a_copy, "clip_grad_norm.not_in_place"),
    (ex.check_clip_grad_norm, clip_returns_after, "clip_grad_norm.norm"),
    (ex.check_clip_grad_norm, lambda ps, m: ps[5], "raised"),
    (ex.check_adam_l2_step, adam, "all_cases_pass"),
    (ex.check_adam_l2_step, lambda *a: adam(*a, variant="decoupled"), "adam_l2.decoupled"),
    (ex.check_adam_l2_step, lambda *a: adam(*a, variant="no_decay"), "adam_l2.no_weight_decay"),
    (ex.check_adam_l2_step, lambda *a: adam(*a, variant="no_bias_correction"),
     "adam_l2.no_bias_correction"),
    (ex.check_adam_l2_step, lambda *a: adam(*a)[:2], "adam_l2.not_a_triple"),
    (ex.check_adam_l2_step, lambda p, g, m, v, *a: (p - 0.1 * g, m, v), "adam_l2.not_quite"),
    (ex.check_heavy_ball, lambda t, p, g, lr, b: t - lr * g + b * (t - p), "heavy_ball.correct"),
    (ex.check_heavy_ball, lambda t, p, g, lr, b: torch.tensor(t + b * (t - p) - lr * g),
     "heavy_ball.correct"),
    (ex.check_heavy_ball, lambda t, p, g, lr, b: t - lr * g, "heavy_ball.no_momentum"),
    (ex.check_heavy_ball, lambda t, p, g, lr, b: t - lr * g - b * (t - p), "heavy_ball.sign"),
    (ex.check_heavy_ball, lambda t, p, g, lr, b: t - lr * (g - b * (t - p)),
     "heavy_ball.lr_on_momentum"),
    (ex.check_heavy_ball, lambda t, p, g, lr, b: t - lr * g + b * (t - p) + 1e-3,
     "heavy_ball.not_quite"),
    (ex.check_heavy_ball, lambda t, p, g, lr, b: t[0], "raised"),
])
def test_right_answers_pass_and_typical_mistakes_get_their_hint(capsys, check, answer, code):
    result = judge(capsys, check, answer)
    assert result.code == code, result.text
    assert result.outcome == ("correct" if code.endswith(("all_cases_pass", "correct"))
                              else "wrong")


@pytest.mark.parametrize("answer, code", [
    (0.08, "bowl_lr.correct"), (2 / 25, "bowl_lr.correct"), (0.5, "bowl_lr.shallow"),
    (0.04, "bowl_lr.one_step"), (2 / 29, "bowl_lr.best_single"), (0.16, "bowl_lr.half"),
    (0.2, "bowl_lr.not_quite"), ("0.08", "not_a_number"),
])
def test_the_bowl_learning_rate(capsys, answer, code):
    result = judge(capsys, ex.check_bowl_lr, answer)
    assert result.code == code, result.text


@pytest.mark.parametrize("check", [ex.check_clip_grad_norm, ex.check_adam_l2_step,
                                   ex.check_heavy_ball])
@pytest.mark.parametrize("answer", [
    None, 3, "def f(): pass", lambda *a: None, lambda *a: math.nan, lambda *a: a,
    lambda *a: torch.zeros(1000, 1000), lambda *a: 1 / 0, lambda: 1, lambda *a: (1, 2, 3),
])
def test_junk_gets_one_line_and_never_raises(capsys, check, answer):
    result = judge(capsys, check, answer)
    assert result.outcome == ("not_attempted" if answer is None else "wrong"), result.text


def test_every_code_the_new_checks_return_has_a_sentence():
    import inspect
    import re

    from course_utils.exercises import training

    pattern = r'"((?:clip_grad_norm|adam_l2|bowl_lr|heavy_ball)\.\w+)"'
    codes = set(re.findall(pattern, inspect.getsource(training)))
    assert len(codes) >= 21
    for code in codes:
        sentence = MESSAGES["en"][code]
        assert len(sentence) <= 200 and "\n" not in sentence
