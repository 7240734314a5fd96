"""Training a GPT on token ids, in the order of a run: nanoGPT's loop, one idea at a time.

`TrainConfig` holds a run's settings, `TrainHistory` what it measured. `lr_at` is the schedule
(linear warmup, then cosine decay to min_lr); `get_batch` (from `course_utils.optim`) cuts random
windows of text: inputs x, targets y (x shifted by one token); `make_optimizer` is AdamW, decaying
the weight matrices only; `train_step` (from `course_utils.optim`) is one update; `evaluate` the
mean loss on held-out batches; `train` runs it all, with early stopping and checkpoints to resume
from bit for bit.

All randomness comes from `TrainConfig.seed`; the caller's global RNG is left as it was. Left
out: mixed precision, gradient accumulation, several devices. The checkpoint format is
`course_utils.checkpoint`'s; `bits_per_byte` and `text_loss` come from `course_utils.metrics`.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from course_utils.checkpoint import check_checkpoint_folder, read_checkpoint, write_checkpoint
from course_utils.metrics import (bits_per_byte, check_block_size, check_finite_loss,
                                  check_model, check_token_stream, next_token_loss, text_loss,
                                  vocab_size_of)
from course_utils.optim import get_batch, train_step, trainable_parameters
from course_utils.progress import progress_bar
from course_utils.validation import (check_bool, check_device, check_int, check_number,
                                     check_path, check_seed, check_type)

__all__ = ["TrainConfig", "TrainHistory", "lr_at", "get_batch", "evaluate", "bits_per_byte",
           "make_optimizer", "train", "train_step", "save_checkpoint", "load_checkpoint",
           "text_loss"]

# Settings a resumed run may change: none of them alters the parameters it arrives at.
_MAY_CHANGE_ON_RESUME = ("checkpoint_dir", "checkpoint_interval", "progress", "device")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run, checked once; the defaults suit a ~1M-parameter GPT on a
    CPU. A wrong one is a TypeError/ValueError that names it. Frozen, so no change skips the
    checks: dataclasses.replace(config, lr=1e-3) makes a new, checked one."""

    batch_size: int = 32  # sequences per step
    block_size: int | None = None  # tokens per sequence; None: the model's block_size
    num_steps: int = 1000  # optimizer steps in the whole run (the schedule ends here)
    lr: float = 3e-3  # peak learning rate, reached after warmup; small models tolerate a high one
    min_lr: float = 3e-4  # where the cosine decay ends: lr / 10, as in Chinchilla
    warmup_steps: int = 100  # linear warmup: Adam's early steps are large, its moments still noisy
    weight_decay: float = 0.1  # AdamW's decoupled decay, applied to weight matrices only
    betas: tuple[float, float] = (0.9, 0.95)  # Adam's β1, β2; β2 = 0.95 (GPT-3) reacts faster
    grad_clip: float | None = 1.0  # largest global gradient norm; None turns clipping off
    eval_interval: int = 100  # evaluate every this many steps, and at the start and the end
    eval_batches: int = 20  # batches per evaluation: more is less noisy and slower
    early_stopping_patience: int | None = None  # stop after this many evals with no new best
    checkpoint_dir: str | os.PathLike[str] | None = None  # where checkpoints go; None: nowhere
    checkpoint_interval: int | None = None  # save every this many steps; None: only at the end
    seed: int = 0  # the batches, the evaluation batches and dropout all follow from it
    device: str = "cpu"  # "cuda" for a GPU; the data may stay on the CPU
    progress: bool = True  # a progress bar (TQDM_DISABLE=1 in the environment also hides it)

    def __post_init__(self) -> None:
        def keep(name: str, value: object) -> None:  # the checked value: an int, not NumPy's
            object.__setattr__(self, name, value)

        for name in ("batch_size", "num_steps", "eval_interval", "eval_batches"):
            keep(name, check_int(name, getattr(self, name), minimum=1))
        for name in ("block_size", "early_stopping_patience", "checkpoint_interval"):
            keep(name, check_int(name, getattr(self, name), minimum=1, optional=True))
        keep("warmup_steps", check_int("warmup_steps", self.warmup_steps, minimum=0,
                                       maximum=self.num_steps, fix="a tenth of num_steps is usual"))
        keep("lr", check_number("lr", self.lr, minimum=0, min_open=True, fix="e.g. lr=3e-3"))
        keep("min_lr", check_number("min_lr", self.min_lr, minimum=0, maximum=self.lr,
                                    fix="at most lr; lr / 10 is usual"))
        keep("weight_decay", check_number("weight_decay", self.weight_decay, minimum=0))
        keep("grad_clip", check_number("grad_clip", self.grad_clip, minimum=0, min_open=True,
                                       optional=True, fix="None turns clipping off"))
        if len(check_type("betas", self.betas, (tuple, list), "a pair (β1, β2)")) != 2:
            raise ValueError(f"betas must be a pair (β1, β2), got {self.betas!r}")
        keep("betas", tuple(check_number(f"betas[{i}]", beta, minimum=0, maximum=1, max_open=True)
                            for i, beta in enumerate(self.betas)))  # a list after a JSON trip
        if self.checkpoint_dir is not None:
            keep("checkpoint_dir", check_path("checkpoint_dir", self.checkpoint_dir))
        elif self.checkpoint_interval is not None:
            raise ValueError("checkpoint_interval needs a checkpoint_dir to save into")
        keep("seed", check_seed("seed", self.seed))
        keep("device", str(check_device("device", self.device)))
        check_bool("progress", self.progress)


@dataclass
class TrainHistory:
    """What a run measured. Step k's training loss and the evaluation at eval step k see the same
    parameters: those after k updates (eval step 0 is the untrained model)."""

    steps: list[int] = field(default_factory=list)  # step numbers 0, 1, ... of train_loss and lr
    train_loss: list[float] = field(default_factory=list)  # loss of that step's batch
    lr: list[float] = field(default_factory=list)  # learning rate used by that step's update
    eval_steps: list[int] = field(default_factory=list)  # updates done at each evaluation
    val_loss: list[float] = field(default_factory=list)  # mean loss on held-out batches
    train_eval_loss: list[float] = field(default_factory=list)  # same on training batches
    stopped_early: bool = False  # True if early stopping ended the run before num_steps

    def __post_init__(self) -> None:  # a list of plain ints or finite floats each, in step
        for f in fields(self)[:-1]:
            check = check_int if f.name.endswith("steps") else check_number
            setattr(self, f.name, [check(f"{f.name}[{i}]", value) for i, value in enumerate(
                check_type(f.name, getattr(self, f.name), list, "a list"))])
        if not len(self.steps) == len(self.train_loss) == len(self.lr) or not len(
                self.eval_steps) == len(self.val_loss) == len(self.train_eval_loss):
            raise ValueError("steps, train_loss and lr must have one length, and so must "
                             "eval_steps, val_loss and train_eval_loss (one entry per step/eval)")
        check_bool("stopped_early", self.stopped_early)

    @property
    def best_val_loss(self) -> float:
        """The lowest val_loss so far (inf before the first evaluation)."""
        return self._best()[0]

    def _best(self) -> tuple[float, int]:
        """(best val_loss, evaluations since it): only a strictly lower loss counts as better."""
        best, since = math.inf, 0
        for loss in self.val_loss:
            best, since = (loss, 0) if loss < best else (best, since + 1)
        return best, since


def lr_at(step: int, config: TrainConfig) -> float:
    """Return the learning rate of update `step` (0-based): linear warmup, then cosine decay.

    Warmup follows the line from 0 at step -1 to lr at step warmup_steps, so the first update
    already moves (by lr / (warmup_steps + 1)). Then half a cosine takes lr down to min_lr at
    step num_steps; later steps stay at min_lr. This is nanoGPT's schedule.

    >>> config = TrainConfig(lr=1.0, min_lr=0.1, warmup_steps=3, num_steps=13)
    >>> [lr_at(step, config) for step in (0, 1, 2, 3)]
    [0.25, 0.5, 0.75, 1.0]
    >>> lr_at(8, config), lr_at(13, config)  # half way down the cosine: (1.0 + 0.1) / 2
    (0.55, 0.1)
    """
    step = check_int("step", step, minimum=0)
    check_type("config", config, TrainConfig, "a TrainConfig")
    if step < config.warmup_steps:
        return config.lr * (step + 1) / (config.warmup_steps + 1)
    if step >= config.num_steps:
        return config.min_lr
    progress = (step - config.warmup_steps) / (config.num_steps - config.warmup_steps)  # 0 → 1
    return config.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.lr - config.min_lr)


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
    is a FloatingPointError, as in `text_loss` and `train_step`.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> config = TrainConfig(batch_size=2, eval_batches=3)  # block_size: the model's, 8
    >>> loss = evaluate(model, torch.tensor([0, 1, 2, 3] * 5), config, torch.Generator())
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
            total += next_token_loss(model, x.to(device), y.to(device)).item()
    finally:
        model.train(was_training)
    return check_finite_loss(total / config.eval_batches,  # equal batches: mean per token
                             "if training diverged, lower lr or clip the gradients (grad_clip)")


def save_checkpoint(directory: str | os.PathLike[str], model: nn.Module,
                    optimizer: torch.optim.Optimizer, step: int, history: TrainHistory,
                    generators: dict[str, torch.Generator], config: TrainConfig) -> Path:
    """Save what a run needs to resume after `step` updates; return the folder. A kill at any
    instant leaves the old or the new checkpoint whole (see `course_utils.checkpoint`)."""
    step = check_int("step", step, minimum=0)
    check_type("history", history, TrainHistory, "a TrainHistory")
    settings = asdict(check_type("config", config, TrainConfig, "a TrainConfig"))
    settings.update(betas=list(config.betas), checkpoint_dir=config.checkpoint_dir and str(
        config.checkpoint_dir))  # as JSON reads them back
    return write_checkpoint(directory, model, optimizer, generators,
                            {"step": step, "config": settings, "history": asdict(history)})


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
          resume: bool = False) -> TrainHistory:
    """Train `model` (in place, moved to config.device) on next-token prediction; return history.
    resume=True continues from the checkpoint in config.checkpoint_dir, bit for bit as if never
    stopped. The model keeps its last parameters, not the best. All is checked (the checkpoint
    folder too) before the first step: a long run does not fail at its end.

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
        history = TrainHistory()
        if resume:  # another run's checkpoint is refused before anything is loaded
            history = read_checkpoint(config.checkpoint_dir, model, optimizer, generators,
                                      parse_state=lambda state: _run_state(state, config))[1]
        if config.checkpoint_dir is not None:  # a save must not fail after hours of training
            check_checkpoint_folder(config.checkpoint_dir)
        was_training = model.training
        try:
            with progress_bar(config.num_steps, "training", enabled=config.progress,
                              initial=len(history.steps)) as bar:
                _loop(model.train(), optimizer, train_data, val_data, config, history,
                      generators, bar)
        finally:
            model.train(was_training)
    return history


def _loop(model: nn.Module, optimizer: torch.optim.Optimizer, train_data: Tensor,
          val_data: Tensor, config: TrainConfig, history: TrainHistory,
          generators: dict[str, torch.Generator], bar: Any) -> None:
    """The loop of `train`, from the step where `history` ends; it appends to `history`."""
    device, block_size = torch.device(config.device), _window(model, config)
    def evaluate_now(done: int) -> None:
        history.eval_steps.append(done)
        for losses, data in ((history.val_loss, val_data), (history.train_eval_loss, train_data)):
            losses.append(evaluate(model, data, config, generators["eval_batches"]))
        patience = config.early_stopping_patience
        history.stopped_early = patience is not None and history._best()[1] >= patience

    if not history.eval_steps:
        evaluate_now(0)  # the untrained model: a baseline near ln(vocab_size)
    for step in range(len(history.steps), config.num_steps):
        if history.stopped_early:  # also when resuming a run that had stopped
            break
        lr = lr_at(step, config)
        x, y = get_batch(train_data, config.batch_size, block_size, generators["train_batches"])
        loss = train_step(model, optimizer, x.to(device), y.to(device), lr, config.grad_clip)
        history.steps.append(step)
        history.train_loss.append(loss)
        history.lr.append(lr)
        done = step + 1  # updates so far
        if done % config.eval_interval == 0 or done == config.num_steps:
            evaluate_now(done)
        last = done == config.num_steps or history.stopped_early
        due = config.checkpoint_interval is not None and done % config.checkpoint_interval == 0
        if config.checkpoint_dir is not None and (last or due):
            save_checkpoint(config.checkpoint_dir, model, optimizer, done, history, generators,
                            config)
        bar.set_postfix(loss=f"{loss:.3f}", val=f"{history.val_loss[-1]:.3f}", refresh=False)
        bar.update()
