"""Training a GPT on token ids, in the order of a run: nanoGPT's loop, one idea at a time.

`TrainConfig` holds a run's settings, `TrainHistory` what it measured, `lr_at` is the schedule
(all three from `course_utils.train_config`); `get_batch` (from `course_utils.optim`) cuts random
windows of text: inputs x, targets y (x shifted by one token); `make_optimizer` is AdamW, decaying
the weight matrices only; `train_step` (from `course_utils.optim`) is one update; `evaluate` the
mean loss on held-out batches; `train` runs it all, with early stopping (ending with the best
evaluation's parameters) and checkpoints to stop at and resume from, bit for bit.

All randomness comes from `TrainConfig.seed`; the caller's global RNG is left as it was. Under
`torchrun`, several processes share each batch (`course_utils.distributed`): the same steps as
one process, and process 0 alone saves checkpoints. Left out: mixed precision, gradient
accumulation. The checkpoint format is `course_utils.checkpoint`'s; `bits_per_byte` and
`text_loss` come from `course_utils.metrics`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from course_utils import distributed
from course_utils.checkpoint import check_checkpoint_folder, read_checkpoint, write_checkpoint
from course_utils.metrics import (bits_per_byte, check_block_size, check_finite_loss,
                                  check_model, check_token_stream, next_token_loss, text_loss,
                                  vocab_size_of)
from course_utils.optim import get_batch, train_step, trainable_parameters
from course_utils.progress import progress_bar
from course_utils.train_config import TrainConfig, TrainHistory, lr_at
from course_utils.validation import check_bool, check_int, check_type

__all__ = ["TrainConfig", "TrainHistory", "lr_at", "get_batch", "evaluate", "bits_per_byte",
           "make_optimizer", "train", "train_step", "save_checkpoint", "load_checkpoint",
           "text_loss"]

# Settings a resumed run may change: none of them alters the parameters it arrives at.
_MAY_CHANGE_ON_RESUME = ("checkpoint_dir", "checkpoint_interval", "progress", "device")


def _window(model: nn.Module, config: TrainConfig, **streams: object) -> int:
    """The window (config.block_size or the model's); each stream must hold one, in the vocab."""
    block_size = check_block_size("config.block_size", config.block_size, model)
    for name, data in streams.items():
        check_token_stream(name, data, block_size + 1, fix=f"{block_size} tokens and the next",
                           vocab_size=vocab_size_of(model))
    return block_size


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """Return AdamW over the model's parameters, with weight decay on ≥ 2-D ones only.

    Decay pulls weights towards 0. For the matrices (Linear weights, embeddings) that keeps them
    small; biases and LayerNorm gains (1-D) have no such role, and a gain's neutral value is 1.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> [group["weight_decay"] for group in make_optimizer(model, TrainConfig()).param_groups]
    [0.1, 0.0]
    """
    check_model("model", model)
    check_type("config", config, TrainConfig, "a TrainConfig")
    params = trainable_parameters(model)  # a tied matrix comes once
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


@torch.no_grad()
def evaluate(model: nn.Module, data: Tensor, config: TrainConfig,
             generator: torch.Generator) -> float:
    """Return the mean cross-entropy (nats per token) on config.eval_batches random batches, in
    eval mode (no dropout); the model goes back to the mode it was in. A NaN or infinite loss
    is a FloatingPointError, as in `text_loss` and `train_step`. Several processes each score
    their share of every batch and average: the same batches and loss as one process.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> config = TrainConfig(batch_size=2, eval_batches=3)  # block_size: the model's, 8
    >>> loss = evaluate(model, torch.tensor([0, 1, 2, 3] * 5), config, torch.Generator())
    >>> import math
    >>> abs(loss - math.log(4)) < 0.05  # untrained: about uniform over 4 tokens
    True
    """
    device = check_model("model", model)
    block_size = _window(model, check_type("config", config, TrainConfig, "a TrainConfig"),
                         data=data)
    was_training, total = model.training, 0.0
    model.eval()
    try:
        for _ in range(config.eval_batches):
            x, y = get_batch(data, config.batch_size, block_size, generator)
            x, y = distributed.share(x), distributed.share(y)  # this process's rows
            total += next_token_loss(model, x.to(device), y.to(device)).item()
    finally:
        model.train(was_training)
    total = distributed.mean(total)  # equal shares: the mean over the whole batches
    return check_finite_loss(total / config.eval_batches,  # equal batches: mean per token
                             "if training diverged, lower lr or clip the gradients (grad_clip)")


def save_checkpoint(directory: str | os.PathLike[str], model: nn.Module,
                    optimizer: torch.optim.Optimizer, step: int, history: TrainHistory,
                    generators: dict[str, torch.Generator], config: TrainConfig,
                    best: dict[str, Tensor] | None = None) -> Path:
    """Save what a run needs to resume after `step` updates (and `best`, the state_dict of its
    best evaluation, if early stopping keeps one); return the folder. A kill at any instant
    leaves the old or the new checkpoint whole (see `course_utils.checkpoint`)."""
    step = check_int("step", step, minimum=0)
    check_type("history", history, TrainHistory, "a TrainHistory")
    settings = asdict(check_type("config", config, TrainConfig, "a TrainConfig"))
    settings.update(betas=list(config.betas), checkpoint_dir=config.checkpoint_dir and str(
        config.checkpoint_dir))  # as JSON reads them back
    return write_checkpoint(directory, model, optimizer, generators,
                            {"step": step, "config": settings, "history": asdict(history)}, best)


def _run_state(state: dict[str, Any],
               resuming: TrainConfig | None = None) -> tuple[int, TrainHistory, TrainConfig]:
    """Decode what save_checkpoint stored; with `resuming`, refuse another run's settings."""
    settings = dict(state["config"])
    if str(settings.get("device")).startswith("cuda") and not torch.cuda.is_available():
        settings["device"] = "cpu"  # a run saved on a GPU may resume on a machine without one
    step, history, config = state["step"], TrainHistory(**state["history"]), TrainConfig(**settings)
    if check_int("step", step, minimum=0) != len(history.steps) or step > config.num_steps:
        raise ValueError(f"step {step} does not match the history")
    changed = [f"{f.name}={getattr(config, f.name)!r} → {getattr(resuming, f.name)!r}"
               for f in fields(TrainConfig) if resuming and f.name not in _MAY_CHANGE_ON_RESUME
               and getattr(config, f.name) != getattr(resuming, f.name)]
    if changed:
        raise ValueError(f"it is from a run with other settings ({', '.join(changed)}); resume "
                         f"with the same config")
    return step, history, config


def load_checkpoint(directory: str | os.PathLike[str], model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    generators: dict[str, torch.Generator] | None = None,
                    ) -> tuple[int, TrainHistory, TrainConfig]:
    """Load a checkpoint into model (and optimizer, generators); return (step, history, config).
    Another model's checkpoint, or altered bytes: a ValueError saying so.

    >>> import tempfile
    >>> model, other, config = nn.Linear(2, 2), nn.Linear(2, 2), TrainConfig()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = save_checkpoint(tmp, model, make_optimizer(model, config), 0, TrainHistory(), {},
    ...                         config)
    ...     step, history, saved = load_checkpoint(tmp, other)
    >>> torch.equal(other.weight, model.weight), saved == config
    (True, True)
    """
    return read_checkpoint(directory, model, optimizer, generators, parse_state=_run_state)


def train(model: nn.Module, train_data: Tensor, val_data: Tensor, config: TrainConfig, *,
          resume: bool = False, stop_after: int | None = None) -> TrainHistory:
    """Train `model` (in place, moved to config.device) on next-token prediction; return history.

    stop_after=k stops after k updates in all (the schedule stays num_steps long) and saves a
    checkpoint there; resume=True continues from the checkpoint in config.checkpoint_dir, bit
    for bit as if never stopped. With early stopping (and restore_best, the default) the model
    ends with the parameters of its best evaluation, else with its last ones. All is checked
    (the checkpoint folder too) before the first step: a long run does not fail at its end.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> data = torch.tensor([0, 1, 2, 3] * 20)
    >>> config = TrainConfig(batch_size=4, num_steps=30, warmup_steps=3, eval_interval=10,
    ...                      eval_batches=2, lr=1e-2, progress=False)
    >>> history = train(model, data, data, config)
    >>> history.eval_steps, history.val_loss[-1] < history.val_loss[0]
    ([0, 10, 20, 30], True)
    """
    check_model("model", model)
    check_type("config", config, TrainConfig, "a TrainConfig")
    _window(model, config, train_data=train_data, val_data=val_data)
    if check_bool("resume", resume) and config.checkpoint_dir is None:
        raise ValueError("resume=True needs config.checkpoint_dir, the checkpoint to resume from")
    stop_after = check_int("stop_after", stop_after, minimum=1, maximum=config.num_steps,
                           optional=True, fix="None runs all num_steps")
    if stop_after is not None and config.checkpoint_dir is None:
        raise ValueError("stop_after needs config.checkpoint_dir, to save the run for resume=True")
    # several processes: equal shares of each batch
    distributed.local_batch_size(config.batch_size, name="config.batch_size")
    device = torch.device(config.device)
    optimizer = make_optimizer(model.to(device), config)
    # Dropout draws from the global generator of the model's device; fork_rng gives it back to
    # the caller as it was. Three streams from one seed: evaluating never shifts the batches.
    cuda = [torch.cuda.current_device() if device.index is None else device.index
            ] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        seeds = torch.randint(2**62, (3,), generator=torch.Generator().manual_seed(config.seed))
        generators = {"train_batches": torch.Generator(), "eval_batches": torch.Generator(),
                      "dropout": torch.cuda.default_generators[cuda[0]] if cuda
                      else torch.default_generator}
        for generator, seed in zip(generators.values(), seeds.tolist()):
            generator.manual_seed(seed)
        history, best = TrainHistory(), {}  # best: the state_dict of the best evaluation
        if resume:  # another run's checkpoint is refused before anything is loaded
            history = read_checkpoint(config.checkpoint_dir, model, optimizer, generators,
                                      parse_state=lambda state: _run_state(state, config),
                                      snapshot=best)[1]
        if config.checkpoint_dir is not None and distributed.is_main():
            # process 0 saves, and a save must not fail after hours of training
            check_checkpoint_folder(config.checkpoint_dir)
        was_training = model.training
        try:
            with progress_bar(config.num_steps, "training", initial=len(history.steps),
                              enabled=config.progress and distributed.is_main()) as bar:
                _loop(model.train(), optimizer, train_data, val_data, config, history,
                      generators, bar, best, stop_after or config.num_steps)
            if best and (history.stopped_early or len(history.steps) == config.num_steps):
                model.load_state_dict(best)  # the run is over: end at its best
        finally:
            model.train(was_training)
    return history


def _loop(model: nn.Module, optimizer: torch.optim.Optimizer, train_data: Tensor,
          val_data: Tensor, config: TrainConfig, history: TrainHistory,
          generators: dict[str, torch.Generator], bar: Any, best: dict[str, Tensor],
          stop_after: int) -> None:
    """The loop of `train`, from the step where `history` ends to stop_after; it appends to
    `history` and keeps in `best` the parameters of the best evaluation (with early stopping)."""
    device, block_size = torch.device(config.device), _window(model, config)
    stepped = distributed.wrap(model, device)  # several processes: DDP averages the gradients
    def evaluate_now(done: int) -> None:
        history.eval_steps.append(done)
        for losses, data in ((history.val_loss, val_data), (history.train_eval_loss, train_data)):
            losses.append(evaluate(model, data, config, generators["eval_batches"]))
        patience = config.early_stopping_patience
        history.stopped_early = patience is not None and history._best()[1] >= patience
        if patience is not None and config.restore_best and history._best()[1] == 0:
            best.clear()  # a new best: remember these parameters
            best.update({name: t.detach().clone() for name, t in model.state_dict().items()})

    if not history.eval_steps:
        evaluate_now(0)  # the untrained model: a baseline near ln(vocab_size)
    for step in range(len(history.steps), stop_after):
        if history.stopped_early:  # also when resuming a run that had stopped
            break
        lr = lr_at(step, config)
        x, y = get_batch(train_data, config.batch_size, block_size, generators["train_batches"])
        x, y = distributed.share(x), distributed.share(y)  # this process's rows of the batch
        loss = train_step(stepped, optimizer, x.to(device), y.to(device), lr, config.grad_clip)
        loss = distributed.mean(loss)  # the whole batch's loss: a mean of equal shares' means
        history.steps.append(step)
        history.train_loss.append(loss)
        history.lr.append(lr)
        done = step + 1  # updates so far
        if done % config.eval_interval == 0 or done == config.num_steps:
            evaluate_now(done)
        last = done in (config.num_steps, stop_after) or history.stopped_early
        due = config.checkpoint_interval is not None and done % config.checkpoint_interval == 0
        if config.checkpoint_dir is not None and (last or due) and distributed.is_main():
            save_checkpoint(config.checkpoint_dir, model, optimizer, done, history, generators,
                            config, best or None)
        bar.set_postfix(loss=f"{loss:.3f}", val=f"{history.val_loss[-1]:.3f}", refresh=False)
        bar.update()
