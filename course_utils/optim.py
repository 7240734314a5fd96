"""How parameters move: SGD written out by hand (equal to `torch.optim.SGD` bit for bit), and
`train_step`, one update of a language model with any optimizer.

`SGD` is a `torch.optim.Optimizer`, so it plugs into any PyTorch training loop, but its `step`
spells out every operation: weight decay, momentum (optionally Nesterov's) and the update itself,
in the order PyTorch's single-tensor implementation uses. Same order, same roundings: the
parameters after every step are identical to `torch.optim.SGD`'s, and the state (one
`momentum_buffer` per parameter) is stored under the same names, so the two load each other's
`state_dict()`. Left out: `maximize`, sparse gradients, tensor learning rates, and the
`foreach`/`fused` kernels (faster, same mathematics). `train_step` computes a batch's loss,
its gradients, clips them and lets the optimizer step; a whole training run, with AdamW and a
learning-rate schedule, is `course_utils.training`'s.

>>> p = torch.tensor([1.0], requires_grad=True)
>>> opt = SGD([p], lr=0.1)
>>> (p ** 2).sum().backward()  # dL/dp = 2p = 2
>>> _ = opt.step()
>>> p  # 1 - 0.1 · 2
tensor([0.8000], requires_grad=True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from course_utils.metrics import check_model, next_token_loss
from course_utils.validation import check_bool, check_number, check_tensor, check_type

__all__ = ["SGD", "train_step"]


class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, weight decay and Nesterov.

    For each parameter p with gradient g = ∇L(p), one step does, in this order:

        d = g + weight_decay·p                  (skipped when weight_decay = 0)
        b = d                                   momentum buffer, at p's first step
        b = momentum·b + (1 − dampening)·d      at later steps (no buffer when momentum = 0)
        d = d + momentum·b  (Nesterov)          or d = b (plain momentum)
        p = p − lr·d

    ∇L is the gradient itself, not its negative: it points uphill, towards larger loss, and
    the last line *subtracts* it, so every step goes against the gradient, downhill.

    The first buffer is the step itself, not zero, so dampening starts at step 2 (as in PyTorch).
    Every setting must be a finite number (nesterov a bool): lr > 0, momentum ≥ 0, dampening in
    [0, 1], weight_decay ≥ 0, and nesterov needs momentum and no dampening.

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
        if isinstance(params, (Tensor, nn.Module)):
            raise TypeError(f"params must be an iterable of parameters, got a "
                            f"{type(params).__name__}; pass model.parameters() or [tensor]")
        params = list(check_type("params", params, Iterable, "an iterable of parameters"))
        if not params:
            raise ValueError("params is empty: there is nothing to optimize; pass "
                             "model.parameters() of a model that has parameters")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))
        for group in self.param_groups:  # a group may override the defaults: check every one
            check_number("lr", group["lr"], minimum=0, min_open=True, fix="1e-3 to 1e-1 is usual")
            check_number("momentum", group["momentum"], minimum=0, fix="0 turns it off")
            check_number("dampening", group["dampening"], minimum=0, maximum=1)
            check_number("weight_decay", group["weight_decay"], minimum=0, fix="0 turns it off")
            if check_bool("nesterov", group["nesterov"]) and (group["momentum"] <= 0
                                                              or group["dampening"] != 0):
                raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, got "
                                 f"momentum={group['momentum']}, dampening={group['dampening']}")

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


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor,
               lr: float, grad_clip: float | None) -> float:
    """One update at learning rate `lr`: forward, backward, clip, optimizer step; return the
    batch's loss (nats per token, before the update). `x` and `y` are (B, T) token ids, y the
    next token of each of x's. A NaN or infinite loss means training diverged: it raises
    FloatingPointError before the update, so the parameters stay as they were.

    >>> model = nn.Sequential(nn.Embedding(3, 3))  # logits of the next token: a table
    >>> opt = SGD(model.parameters(), lr=1.0)
    >>> x, y = torch.tensor([[0, 1, 2]]), torch.tensor([[1, 2, 0]])
    >>> losses = [train_step(model, opt, x, y, lr=1.0, grad_clip=None) for _ in range(50)]
    >>> losses[-1] < losses[0] / 10
    True
    """
    check_model("model", model)
    check_type("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    for name, ids in (("x", x), ("y", y)):
        check_tensor(name, ids, ndim=2, kind="integer", shape="(B, T)")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have one shape (B, T), got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}; y is x shifted by one token")
    lr = check_number("lr", lr, minimum=0, min_open=True)
    grad_clip = check_number("grad_clip", grad_clip, minimum=0, min_open=True, optional=True)
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss = next_token_loss(model, x, y)
    if not math.isfinite(value := loss.item()):
        raise FloatingPointError(f"the loss is {value}: training diverged; lower lr (it is "
                                 f"{lr:g}) or clip the gradients (grad_clip)")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip is not None:  # one rare huge gradient should not undo the progress
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return value
