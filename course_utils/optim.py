"""Stochastic gradient descent written out by hand, equal to `torch.optim.SGD` bit for bit.

`SGD` is a `torch.optim.Optimizer`, so it plugs into any PyTorch training loop, but its `step`
spells out every operation: weight decay, momentum (optionally Nesterov's) and the update itself,
in the order PyTorch's single-tensor implementation uses. Same order, same roundings: the
parameters after every step are identical to `torch.optim.SGD`'s, and the state (one
`momentum_buffer` per parameter) is stored under the same names, so the two load each other's
`state_dict()`. Left out: `maximize`, sparse gradients, tensor learning rates, and the
`foreach`/`fused` kernels (faster, same mathematics). Training itself, with AdamW, is in
`course_utils.training`.

>>> p = torch.tensor([1.0], requires_grad=True)
>>> opt = SGD([p], lr=0.1)
>>> (p ** 2).sum().backward()  # dL/dp = 2p = 2
>>> _ = opt.step()
>>> p  # 1 - 0.1 · 2
tensor([0.8000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any

import torch
from torch import Tensor

__all__ = ["SGD"]


class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, weight decay and Nesterov.

    For each parameter p with gradient g = ∇L(p), one step does, in this order:

        d = g + λ·p                     weight decay λ (skipped when λ = 0)
        b = d                           momentum buffer, at p's first step (skipped when μ = 0)
        b = μ·b + (1 − τ)·d             at later steps (momentum μ, dampening τ)
        d = d + μ·b  (Nesterov)         or d = b (plain momentum)
        p = p − η·d                     learning rate η

    ∇L is the gradient itself, not its negative: it points uphill, towards larger loss, and
    the last line *subtracts* it, so every step goes against the gradient, downhill.

    The first buffer is the step itself, not zero, so dampening starts at step 2 (as in PyTorch).
    Raises ValueError for lr ≤ 0, momentum < 0, dampening outside [0, 1], weight_decay < 0, or
    nesterov without momentum or with dampening.

    >>> p = torch.tensor([1.0], requires_grad=True)
    >>> opt = SGD([p], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (p ** 2).sum().backward()
    ...     _ = opt.step()
    >>> round(p.item(), 4)  # step 1: b = 2, p = 0.8; step 2: b = 0.9·2 + 1.6 = 3.4, p = 0.46
    0.46
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        for name, value in (("lr", lr), ("momentum", momentum), ("dampening", dampening),
                            ("weight_decay", weight_decay)):
            if not isinstance(value, Real) or isinstance(value, bool):
                raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}; typical values are 1e-3 to 1e-1")
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}; 0 turns it off, 0.9 is usual")
        if not 0 <= dampening <= 1:
            raise ValueError(f"dampening must be in [0, 1], got {dampening}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}; 0 turns it off")
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool, got {type(nesterov).__name__}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={momentum}, dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    @torch.no_grad()  # the update itself must not become part of the autograd graph
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:  # type: ignore
        """Update every parameter that has a gradient; return closure()'s loss if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():  # the closure recomputes the loss and its gradients
                loss = closure()
        for group in self.param_groups:
            # A state_dict from torch.optim.SGD brings its extra options; refuse the ones that
            # would change the result instead of silently ignoring them.
            if group.get("maximize", False):
                raise NotImplementedError("maximize=True is not implemented; negate the loss")
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:  # not used in this loss: no step, no momentum update
                    continue
                if p.grad.is_sparse:
                    raise NotImplementedError("sparse gradients are not implemented")
                d_p = p.grad
                if weight_decay != 0:
                    d_p = d_p.add(p, alpha=weight_decay)  # a new tensor: p.grad stays as it was
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = d_p.detach().clone()  # a copy: it must outlive this step's d_p
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
                    # Nesterov looks ahead: the current step plus the momentum it will add.
                    d_p = d_p.add(buf, alpha=momentum) if nesterov else buf
                p.add_(d_p, alpha=-lr)  # against the gradient: downhill
        return loss
