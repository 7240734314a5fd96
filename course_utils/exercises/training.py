"""Exercise checks of notebook 04 (gradient descent and training): numbers and small functions
checked on worked cases, and three functions checked against PyTorch itself — gradient clipping
against torch.nn.utils.clip_grad_norm_, Adam's L2 step against torch.optim.Adam, the heavy-ball
step against torch.optim.SGD's trajectory. (check_max_stable_lr and check_momentum_step are the
earlier versions of exercises 2 and 4, kept for anyone who calls them.)"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from course_utils.exercises.answers import Case, call, close_number, number, run_cases
from course_utils.exercises.feedback import Verdict, correct, describe, exercise, wrong


@exercise
def check_gd_step(answer: float | None) -> Verdict:
    """θ after one gradient-descent step on L(θ) = (θ − 3)² from θ = 1 with lr = 0.1.

    >>> check_gd_step(1.4)
    ✓ correct: ∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4
    """
    return close_number(
        answer, 1.4, 1e-6, "gd_step.correct",
        hints=[(0.6, "gd_step.along_gradient"), (1.2, "gd_step.factor_two")],
        otherwise="gd_step.not_quite")


@exercise
def check_max_stable_lr(answer: float | None) -> Verdict:
    """The largest learning rate for which gradient descent on L(θ) = 5θ² does not diverge.

    >>> check_max_stable_lr(0.2)
    ✓ correct: θ ← (1 − 10·lr)θ shrinks only while |1 − 10·lr| < 1, i.e. lr < 2/10 = 0.2
    """
    return close_number(
        answer, 0.2, 1e-6, "max_stable_lr.correct",
        hints=[(0.1, "max_stable_lr.one_step"), (0.4, "max_stable_lr.curvature")],
        otherwise="max_stable_lr.not_quite")


@exercise
def check_bits_per_byte(answer: float | None) -> Verdict:
    """Bits per byte of a model with loss 3.0 nats per token on text of 2.5 bytes per token.

    >>> check_bits_per_byte(1.7312)
    ✓ correct: 3.0 / (2.5 · ln 2) ≈ 1.731 bits per byte
    """
    expected = 3.0 / (2.5 * math.log(2))
    return close_number(
        answer, expected, 2e-3, "bits_per_byte.correct",
        hints=[(3.0 / 2.5, "bits_per_byte.nats"), (3.0 / math.log(2), "bits_per_byte.per_token"),
               (3.0 * 2.5 / math.log(2), "bits_per_byte.multiplied")],
        otherwise="bits_per_byte.not_quite")


@exercise
def check_initial_loss(answer: float | None) -> Verdict:
    """The loss an untrained model with a 1,024-token vocabulary should start near.

    >>> check_initial_loss(6.93)
    ✓ correct: a uniform guess gives −ln(1/1024) = ln 1024 ≈ 6.93 nats
    """
    return close_number(
        answer, math.log(1024), 0.01, "initial_loss.correct",
        hints=[(10.0, "initial_loss.bits"), (1 / 1024, "initial_loss.probability")],
        otherwise="initial_loss.not_quite")


def _rounded(result: object) -> object:
    """A (param, buf) pair as a tuple of floats rounded to 10 decimals (else as it is)."""
    if isinstance(result, (str, bytes, Mapping)) or len(result) != 2:  # type: ignore[arg-type]
        return result
    return tuple(round(float(x), 10) for x in result)  # type: ignore[union-attr]


@exercise
def check_momentum_step(momentum_step: Callable | None) -> Verdict:
    """`momentum_step(param, grad, buf, lr, momentum) -> (param, buf)`: one SGD step with
    momentum as PyTorch defines it (buf is None on the first step).

    >>> def momentum_step(param, grad, buf, lr, momentum):
    ...     buf = grad if buf is None else momentum * buf + grad
    ...     return param - lr * buf, buf
    >>> check_momentum_step(momentum_step)
    ✓ correct: momentum_step passes all 3 cases
    """
    cases = [
        Case((1.0, 2.0, None, 0.1, 0.9), (0.8, 2.0)),  # first step: buf = grad
        Case((0.8, 1.0, 2.0, 0.1, 0.9), (0.52, 2.8)),  # buf = 0.9 · 2 + 1 = 2.8; 0.8 − 0.28
        Case((0.0, -1.0, 0.5, 0.5, 0.5), (0.375, -0.75)),  # buf = 0.25 − 1 = −0.75; 0 + 0.375
    ]
    return run_cases(momentum_step, cases, "momentum_step", convert=_rounded)


def _tensors_close(got: object, expected: object) -> bool:
    """got is a tensor (or number) equal to `expected` (a tensor) up to float rounding."""
    import torch

    try:
        value = torch.as_tensor(got, dtype=torch.float64)
        return value.shape == expected.shape and bool(torch.allclose(  # type: ignore[union-attr]
            value, expected.double(), rtol=1e-5, atol=1e-8))
    except KeyboardInterrupt:  # the stop button
        raise
    except BaseException:  # junk is simply not the expected value
        return False


@exercise
def check_clip_grad_norm(my_clip_grad_norm: Callable | None) -> Verdict:
    """`my_clip_grad_norm(parameters, max_norm) -> total_norm`: as torch.nn.utils.clip_grad_norm_
    (the 2-norm of all gradients together; if above max_norm, every p.grad scaled in place to
    bring it to max_norm; parameters without a gradient skipped), checked against torch.

    >>> import torch
    >>> def my_clip_grad_norm(parameters, max_norm):
    ...     grads = [p.grad for p in parameters if p.grad is not None]
    ...     total_norm = torch.cat([g.flatten() for g in grads]).norm()
    ...     for g in grads:
    ...         g.mul_(min(1.0, max_norm / total_norm.item()))
    ...     return total_norm
    >>> check_clip_grad_norm(my_clip_grad_norm)
    ✓ correct: my_clip_grad_norm passes all 3 cases
    """
    import torch

    if not callable(my_clip_grad_norm):
        return wrong("not_a_function", type=type(my_clip_grad_norm).__name__)
    gen = torch.Generator().manual_seed(0)
    cases = [([(2, 3), (3,)], 1.0, 3.0), ([(4,), (2, 2)], 10.0, 1.0),
             ([(3,), (2,), (5,)], 0.5, 2.0)]
    for number, (shapes, max_norm, scale) in enumerate(cases, start=1):
        params = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in shapes]
        for i, p in enumerate(params):
            p.grad = None if number == 3 and i == 1 else scale * torch.randn(
                p.shape, generator=gen, dtype=torch.float64)
        grads = [None if p.grad is None else p.grad.clone() for p in params]
        reference = [p.detach().clone().requires_grad_() for p in params]
        for r, g in zip(reference, grads):
            r.grad = None if g is None else g.clone()
        expected_norm = torch.nn.utils.clip_grad_norm_(reference, max_norm)
        shown = f"{len(shapes)} parameters, max_norm={max_norm}"
        got_norm, _ = call(lambda: my_clip_grad_norm(list(params), max_norm),
                           "my_clip_grad_norm", (), shown)
        got = [p.grad for p in params]
        if not all(_tensors_close(a, r.grad) if r.grad is not None else a is None
                   for a, r in zip(got, reference)):
            present = [g for g in grads if g is not None]
            per_tensor = [g * min(1.0, max_norm / (g.norm().item() + 1e-12)) for g in present]
            if all(_tensors_close(a, b) for a, b in zip([g for g in got if g is not None],
                                                          per_tensor)) and number != 2:
                return wrong("clip_grad_norm.per_tensor")
            if number == 2:
                return wrong("clip_grad_norm.always_scaled")
            if all(_tensors_close(a, b) for a, b in zip([g for g in got if g is not None],
                                                          present)):
                return wrong("clip_grad_norm.not_in_place")
            return wrong("clip_grad_norm.not_quite", case=number)
        if not _tensors_close(got_norm, expected_norm):
            return wrong("clip_grad_norm.norm", got=describe(got_norm),
                         expected=round(expected_norm.item(), 6))
    return correct("all_cases_pass", name="my_clip_grad_norm", count=len(cases))


def _adam_reference(grads: list, lr: float, betas: tuple, eps: float, weight_decay: float,
                    variant: str) -> list:
    """(param, m, v) after each step of Adam with L2 decay, by formula, or a likely mistake."""
    import torch

    param = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    m, v, states = torch.zeros_like(param), torch.zeros_like(param), []
    for step, grad in enumerate(grads, start=1):
        g = grad if variant in ("decoupled", "no_weight_decay") else grad + weight_decay * param
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        c1, c2 = (1.0, 1.0) if variant == "no_bias_correction" else (1 - betas[0] ** step,
                                                                      1 - betas[1] ** step)
        base = param * (1 - lr * weight_decay) if variant == "decoupled" else param
        param = base - lr * (m / c1) / ((v / c2).sqrt() + eps)
        states.append((param, m, v))
    return states


@exercise
def check_adam_l2_step(my_adam_step: Callable | None) -> Verdict:
    """`my_adam_step(param, grad, m, v, step, lr, betas, eps, weight_decay) -> (param, m, v)`:
    one step of torch.optim.Adam with weight_decay (an L2 term added to the gradient), step
    counted from 1, m and v zero before the first; checked against torch.optim.Adam.

    >>> def my_adam_step(param, grad, m, v, step, lr, betas, eps, weight_decay):
    ...     grad = grad + weight_decay * param
    ...     m = betas[0] * m + (1 - betas[0]) * grad
    ...     v = betas[1] * v + (1 - betas[1]) * grad**2
    ...     m_hat, v_hat = m / (1 - betas[0]**step), v / (1 - betas[1]**step)
    ...     return param - lr * m_hat / (v_hat.sqrt() + eps), m, v
    >>> check_adam_l2_step(my_adam_step)
    ✓ correct: my_adam_step passes all 3 cases
    """
    import torch

    if not callable(my_adam_step):
        return wrong("not_a_function", type=type(my_adam_step).__name__)
    lr, betas, eps, weight_decay = 0.1, (0.9, 0.99), 1e-8, 0.5
    grads = [torch.tensor(g, dtype=torch.float64) for g in
             ([0.3, -1.0, 2.0], [0.1, 0.5, -1.5], [-0.2, 0.0, 0.4])]
    param = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([param], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    expected = []
    for grad in grads:  # the library's steps: the reference
        param.grad = grad.clone()
        adam.step()
        state = adam.state[param]
        expected.append((param.detach().clone(), state["exp_avg"].clone(),
                         state["exp_avg_sq"].clone()))
    mistakes = {code: _adam_reference(grads, lr, betas, eps, weight_decay, code.split(".")[1])
                for code in ("adam_l2.decoupled", "adam_l2.no_weight_decay",
                             "adam_l2.no_bias_correction")}
    state = (torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64),
             torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    for step, (grad, want) in enumerate(zip(grads, expected), start=1):
        shown = f"param, grad, m, v, step={step}, lr={lr}, betas={betas}, eps={eps}, " \
                f"weight_decay={weight_decay}"
        got, _ = call(my_adam_step, "my_adam_step",
                      (state[0], grad, state[1], state[2], step, lr, betas, eps, weight_decay),
                      shown)
        try:
            triple = tuple(got) if isinstance(got, (tuple, list)) and len(got) == 3 else None
        except KeyboardInterrupt:
            raise
        except BaseException:
            triple = None
        if triple is None:
            return wrong("adam_l2.not_a_triple", got=describe(got))
        for i, name in enumerate(("param", "m", "v")):
            if not _tensors_close(triple[i], want[i]):
                for code, states in mistakes.items():
                    if _tensors_close(triple[0], states[step - 1][0]):
                        return wrong(code)
                return wrong("adam_l2.not_quite", step=step, name=name, got=describe(triple[i]),
                             expected=describe([round(x, 6) for x in want[i].tolist()]))
        state = tuple(torch.as_tensor(x, dtype=torch.float64) for x in triple)
    return correct("all_cases_pass", name="my_adam_step", count=len(grads))


@exercise
def check_bowl_lr(answer: float | None) -> Verdict:
    """The largest learning rate for which gradient descent on L = ½(4θ₁² + 25θ₂²) does not
    diverge.

    >>> check_bowl_lr(0.08)
    ✓ correct: θ₂ ← (1 − 25·lr)θ₂ shrinks only while lr < 2/25 = 0.08; θ₁ would allow 2/4
    """
    return close_number(
        answer, 0.08, 1e-6, "bowl_lr.correct",
        hints=[(0.5, "bowl_lr.shallow"), (0.04, "bowl_lr.one_step"),
               (2 / 29, "bowl_lr.best_single"), (0.16, "bowl_lr.half")],
        otherwise="bowl_lr.not_quite")


def _heavy_ball_path(step: Callable, theta0: float, curvature: float, lr: float,
                     momentum: float, steps: int) -> list[float]:
    """θ₁ … θ_steps of `step(theta, theta_prev, grad, lr, momentum)` on L = ½·curvature·θ²,
    starting with θ₋₁ = θ₀ (no velocity yet)."""
    path, previous, theta = [], theta0, theta0
    for _ in range(steps):
        got, _ = call(step, "heavy_ball_step", (theta, previous, curvature * theta, lr, momentum))
        previous, theta = theta, number(got)
        path.append(theta)
    return path


def _same_path(got: list[float], expected: list[float]) -> bool:
    """Equal up to rounding (the learner may add the terms in another order, or in float32)."""
    return all(abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in zip(got, expected))


@exercise
def check_heavy_ball(heavy_ball_step: Callable | None) -> Verdict:
    """`heavy_ball_step(theta, theta_prev, grad, lr, momentum) -> new theta`: Polyak's form
    θ − lr·g + momentum·(θ − θ_prev), run for 10 steps on L = ½·4·θ² (θ_prev = θ₀ at the start)
    and compared with torch.optim.SGD(lr, momentum)'s trajectory.

    >>> check_heavy_ball(lambda theta, prev, grad, lr, momentum:
    ...                  theta - lr * grad + momentum * (theta - prev))
    ✓ correct: 10 steps of heavy_ball_step follow torch.optim.SGD's trajectory
    """
    import torch

    if not callable(heavy_ball_step):
        return wrong("not_a_function", type=type(heavy_ball_step).__name__)
    theta0, curvature, lr, momentum, steps = 1.5, 4.0, 0.1, 0.8, 10
    theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    sgd, expected = torch.optim.SGD([theta], lr=lr, momentum=momentum), []
    for _ in range(steps):
        sgd.zero_grad()
        (0.5 * curvature * theta**2).backward()
        sgd.step()
        expected.append(theta.item())
    got = _heavy_ball_path(heavy_ball_step, theta0, curvature, lr, momentum, steps)
    if _same_path(got, expected):
        return correct("heavy_ball.correct", count=steps)
    mistakes = {"heavy_ball.no_momentum": lambda t, p, g, a, b: t - a * g,
                "heavy_ball.sign": lambda t, p, g, a, b: t - a * g - b * (t - p),
                "heavy_ball.lr_on_momentum": lambda t, p, g, a, b: t - a * g + a * b * (t - p)}
    for code, mistake in mistakes.items():
        if _same_path(got, _heavy_ball_path(mistake, theta0, curvature, lr, momentum, steps)):
            return wrong(code)
    first = next(i for i, (a, b) in enumerate(zip(got, expected)) if not _same_path([a], [b]))
    return wrong("heavy_ball.not_quite", step=first + 1, got=describe(got[first]),
                 expected=round(expected[first], 6))
