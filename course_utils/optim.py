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
learning-rate schedule, is `course_utils.training`'s. `get_batch` cuts the batches: random
windows of a text's token ids, the targets shifted by one token. `check_optimizer` refuses an
optimizer of another model's parameters; `optimizer_tensors` and `optimizer_state` are how a
checkpoint stores an optimizer's state and gives it back.

>>> p = torch.tensor([1.0], requires_grad=True)
>>> opt = SGD([p], lr=0.1)
>>> (p ** 2).sum().backward()  # dL/dp = 2p = 2
>>> _ = opt.step()
>>> p  # 1 - 0.1 · 2
tensor([0.8000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from course_utils.metrics import (check_finite_loss, check_model, check_token_stream,
                                  next_token_loss)
from course_utils.validation import (check_bool, check_int, check_memory, check_number,
                                     check_tensor, check_type, short_repr)

__all__ = ["SGD", "train_step", "get_batch", "check_optimizer", "trainable_parameters",
           "optimizer_tensors", "optimizer_state"]


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
        if isinstance(params, (Tensor, nn.Module, dict)) or not isinstance(params, Iterable):
            raise TypeError(f"params must be an iterable of parameters (or of dicts, one per "
                            f"group), got {short_repr(params)} ({type(params).__name__}); pass "
                            f"model.parameters() or [tensor]")
        params = list(params)
        if not params:
            raise ValueError("params is empty: there is nothing to optimize; pass "
                             "model.parameters() of a model that has parameters")
        # torch's constructor passes each group to add_param_group, which checks it
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own settings, checked as the constructor's are."""
        check_type("param_group", param_group, dict, "a dict such as {'params': [tensor]}")
        params = param_group.get("params")
        params = [params] if isinstance(params, Tensor) else params
        if isinstance(params, (dict, str, bytes)) or not isinstance(params, Iterable):
            raise TypeError(f"params must be tensors, got {short_repr(params)}; pass "
                            f"model.parameters() or [tensor]")
        params = list(params)
        for i, p in enumerate(params):
            if not check_tensor(f"params[{i}]", p, kind="floating-point").is_leaf:
                raise ValueError(f"params[{i}] is computed from other tensors (not a leaf): "
                                 f"optimize the tensors it is computed from")
        settings = _check_settings({**self.defaults, **param_group})  # plain floats, a bool
        super().add_param_group({**param_group, **settings, "params": params})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state_dict (this class's or torch.optim.SGD's) after checking its settings."""
        groups = check_type("state_dict", state_dict, dict, "a dict from state_dict()").get(
            "param_groups")
        for i, group in enumerate(check_type("state_dict['param_groups']", groups, list,
                                             "a list of dicts")):
            check_type(f"state_dict['param_groups'][{i}]", group, dict, "a dict")
        super().load_state_dict({**state_dict, "param_groups": [
            {**group, **_check_settings({**self.defaults, **group})} for group in groups]})

    @torch.no_grad()  # the update itself must not become part of the autograd graph
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:  # type: ignore
        """Update every parameter that has a gradient; return closure()'s loss if one is given."""
        loss = None
        if closure is not None and not callable(closure):
            raise TypeError(f"closure must be a function that returns the loss, or None, got "
                            f"{short_repr(closure)}")
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


def get_batch(data: Tensor, batch_size: int, block_size: int,
              generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Return inputs x and targets y, both (batch_size, block_size), from random windows of data:
    y is x shifted by one token, y[b, t] the token that follows x[b, :t+1].

    >>> x, y = get_batch(torch.arange(100), 2, 4, torch.Generator().manual_seed(0))
    >>> x[0], y[0]
    (tensor([44, 45, 46, 47]), tensor([45, 46, 47, 48]))
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    block_size = check_int("block_size", block_size, minimum=1)
    check_token_stream("data", data, block_size + 1, fix="block_size tokens and the next",
                       check_ids=False)  # every step calls this: read only the ids it takes
    check_type("generator", generator, torch.Generator, "a torch.Generator",
               fix="use torch.Generator().manual_seed(seed)")
    check_memory("a batch", 3 * batch_size * (block_size + 1) * 8, "lower batch_size")
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)  # (B,)
    window = data[starts[:, None] + torch.arange(block_size + 1)]  # (B, T+1)
    if window.min() < 0:
        raise ValueError(f"data holds ids down to {int(data.min())}, and token ids are never "
                         "negative; encode the text with its tokenizer")
    return window[:, :-1].contiguous(), window[:, 1:].contiguous()  # (B, T) each


def _check_settings(group: dict[str, Any]) -> dict[str, Any]:
    """SGD's settings, in a group or the defaults, as plain floats in range and a bool."""
    settings = dict(
        lr=check_number("lr", group["lr"], minimum=0, min_open=True, fix="1e-3 to 1e-1 is usual"),
        momentum=check_number("momentum", group["momentum"], minimum=0, fix="0 turns it off"),
        dampening=check_number("dampening", group["dampening"], minimum=0, maximum=1),
        weight_decay=check_number("weight_decay", group["weight_decay"], minimum=0,
                                  fix="0 turns it off"),
        nesterov=check_bool("nesterov", group["nesterov"]))
    if settings["nesterov"] and (settings["momentum"] <= 0 or settings["dampening"] != 0):
        raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, got "
                         f"momentum={group['momentum']}, dampening={group['dampening']}")
    return settings


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that require a gradient (a tied one once); ValueError if there are none."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"model ({type(model).__name__}) has no trainable parameters "
                         f"(requires_grad is False for all); unfreeze some with "
                         f"p.requires_grad_(True)")
    return params


def check_optimizer(model: nn.Module, optimizer: object) -> torch.optim.Optimizer:
    """Return `optimizer` if it holds exactly the model's trainable parameters: an optimizer of
    another model would step that model and leave this one as it was, silently."""
    check_type("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    trainable = {id(p) for p in trainable_parameters(model)}
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if held != trainable:
        raise ValueError(f"optimizer must hold the model's trainable parameters, but "
                         f"{len(held - trainable)} of its {len(held)} are not the model's and "
                         f"{len(trainable - held)} of the model's {len(trainable)} are missing; "
                         f"build it from this model, e.g. SGD(model.parameters())")
    return optimizer


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, Tensor]:
    """The optimizer's per-parameter state as {"<index>.<name>": tensor}, e.g. "3.exp_avg", the
    way a checkpoint stores it. Only tensors are supported (SGD, Adam, AdamW; not LBFGS)."""
    tensors = {}
    for i, per_param in optimizer.state_dict()["state"].items():
        for name, value in per_param.items():
            if not isinstance(value, Tensor) or not isinstance(i, int):
                raise ValueError(f"optimizer {type(optimizer).__name__} keeps its state "
                                 f"{name!r} as {type(value).__name__}, not as a tensor: a "
                                 f"checkpoint stores optimizers whose state is tensors (SGD, "
                                 f"Adam, AdamW)")
            tensors[f"{i}.{name}"] = value.detach().cpu().contiguous()
    return tensors


def optimizer_state(optimizer: torch.optim.Optimizer, saved: dict[str, Any],
                    tensors: dict[str, Tensor]) -> dict[str, Any]:
    """The state_dict to load into `optimizer` from a checkpoint's `saved` class and param_groups
    and the tensors of `optimizer_tensors`; ValueError if they are another optimizer's, or a
    tensor does not fit its parameter (the moments of another model's parameters)."""
    param_groups, sizes = saved["param_groups"], [len(g["params"]) for g in optimizer.param_groups]
    if saved["class"] != type(optimizer).__name__ or [len(g["params"]) for g in param_groups
                                                      ] != sizes:
        raise ValueError(f"it holds the state of optimizer {saved['class']} (groups of "
                         f"{[len(g['params']) for g in param_groups]} parameters), not of this "
                         f"{type(optimizer).__name__} (groups of {sizes})")
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        index, _, name = key.partition(".")
        i = int(index) if index.isdigit() else -1
        if not 0 <= i < len(params) or (value.dim() and value.shape != params[i].shape):
            shape = list(params[i].shape) if 0 <= i < len(params) else "absent"
            raise ValueError(f"its optimizer state {key!r} has shape {list(value.shape)}, but "
                             f"parameter {index} of this optimizer has shape {shape}")
        state.setdefault(i, {})[name] = value
    return {"state": state, "param_groups": [
        {k: tuple(v) if k == "betas" else v for k, v in group.items()} for group in param_groups]}


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor,
               lr: float, grad_clip: float | None) -> float:
    """One update at learning rate `lr`: forward, backward, clip, optimizer step; return the
    batch's loss (nats per token, before the update). `x` and `y` are (B, T) token ids, y the
    next token of each of x's, every one in the vocab (no ignore_index). The optimizer must hold
    the model's trainable parameters. A NaN or infinite loss means training diverged: it raises
    FloatingPointError before the update, so the parameters stay as they were.

    >>> model = nn.Sequential(nn.Embedding(3, 3))  # logits of the next token: a table
    >>> opt = SGD(model.parameters(), lr=1.0)
    >>> x, y = torch.tensor([[0, 1, 2]]), torch.tensor([[1, 2, 0]])
    >>> losses = [train_step(model, opt, x, y, lr=1.0, grad_clip=None) for _ in range(50)]
    >>> losses[-1] < losses[0] / 10
    True
    """
    check_model("model", model)
    check_optimizer(model, optimizer)
    lr = check_number("lr", lr, minimum=0, min_open=True)
    grad_clip = check_number("grad_clip", grad_clip, minimum=0, min_open=True, optional=True)
    loss = next_token_loss(model, x, y)  # checks x and y: (B, T) ids in the vocab
    value = check_finite_loss(loss.item(), f"if training diverged, lower lr (it is {lr:g}) or "
                              f"clip the gradients (grad_clip)")
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip is not None:  # one rare huge gradient should not undo the progress
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return value
