"""A training run's settings, its record and its learning-rate schedule: `TrainConfig` (checked
once, frozen), `TrainHistory` (what a run measured, step by step) and `lr_at` (linear warmup,
then cosine decay to min_lr, as in nanoGPT). `course_utils.training` runs the loop that uses them
and re-exports all three. Left out: other schedules (constant, linear decay, warmup-stable-decay).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields

from course_utils.validation import (check_bool, check_device, check_int, check_number,
                                     check_path, check_seed, check_type)

__all__ = ["TrainConfig", "TrainHistory", "lr_at"]


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
    restore_best: bool = True  # with early stopping: end with the best evaluation's parameters
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
        check_bool("restore_best", self.restore_best)


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
