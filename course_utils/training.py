"""Training a GPT on token ids: batches, the learning-rate schedule, AdamW, evaluation, checkpoints.

The loop is nanoGPT's, one idea at a time:

- `get_batch` cuts random windows of block_size + 1 tokens out of a 1-D tensor of ids: the first
  block_size are the input x, the last block_size (x shifted by one) are the targets y.
- The loss is the cross-entropy of the next token, in nats per token; `bits_per_byte` converts it
  into a measure that does not depend on the tokenizer.
- `lr_at` is the schedule: linear warmup, then cosine decay to min_lr.
- `make_optimizer` is AdamW with weight decay on the weight matrices only.
- `train` runs it, with gradient clipping, periodic `evaluate` on held-out data, early stopping,
  and checkpoints (`save_checkpoint` / `load_checkpoint`) from which `train(..., resume=True)`
  continues exactly as if it had never stopped.

All randomness (batches, evaluation batches, dropout) comes from `TrainConfig.seed`; the
caller's global RNG is left as it was. Left out: mixed precision, gradient accumulation and
multiple devices. The optimizer written by hand is `course_utils.optim.SGD`.
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.metrics import bits_per_byte, text_loss  # re-exported: notebook 02 uses them too

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["TrainConfig", "TrainHistory", "lr_at", "get_batch", "evaluate", "bits_per_byte",
           "make_optimizer", "train", "train_step", "save_checkpoint", "load_checkpoint",
           "text_loss"]

FORMAT_VERSION = 1  # of the checkpoint files; bump it when their layout changes
MODEL_FILE = "model.safetensors"  # the parameters
OPTIMIZER_FILE = "optimizer.safetensors"  # AdamW's per-parameter tensors
STATE_FILE = "trainer_state.json"  # everything else: step, history, generators, config
# Settings a resumed run may change: none of them alters the parameters it arrives at.
_MAY_CHANGE_ON_RESUME = ("checkpoint_dir", "checkpoint_interval", "progress", "device")


def _check_int(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_real(name: str, value: object) -> None:
    if not isinstance(value, Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")


@dataclass
class TrainConfig:
    """Settings of one training run; the defaults suit a ~1M-parameter GPT on a CPU.

    >>> TrainConfig(num_steps=500, warmup_steps=50).lr
    0.003
    """

    batch_size: int = 32  # sequences per step
    block_size: int = 128  # tokens per sequence; at most the model's block_size
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
    progress: bool = True  # a tqdm bar (TQDM_DISABLE=1 in the environment also hides it)

    def __post_init__(self) -> None:
        for name in ("batch_size", "block_size", "num_steps", "eval_interval", "eval_batches"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("warmup_steps", self.warmup_steps, minimum=0)
        _check_int("seed", self.seed, minimum=0)
        for name in ("early_stopping_patience", "checkpoint_interval"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        for name in ("lr", "min_lr", "weight_decay"):
            _check_real(name, getattr(self, name))
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"min_lr must be in [0, lr={self.lr}], got {self.min_lr}")
        if self.warmup_steps > self.num_steps:
            raise ValueError(f"warmup_steps={self.warmup_steps} exceeds num_steps="
                             f"{self.num_steps}; a tenth of num_steps is usual")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if len(self.betas) != 2 or not all(isinstance(b, Real) and 0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        self.betas = (self.betas[0], self.betas[1])  # a JSON round trip brings back a list
        if self.grad_clip is not None:
            _check_real("grad_clip", self.grad_clip)
            if not self.grad_clip > 0:
                raise ValueError(f"grad_clip must be positive or None, got {self.grad_clip}")
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = Path(self.checkpoint_dir)
        elif self.checkpoint_interval is not None:
            raise ValueError("checkpoint_interval needs a checkpoint_dir to save into")
        try:
            self.device = str(torch.device(self.device))
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"device {self.device!r} is not a torch device; use 'cpu' or "
                             f"'cuda'") from err
        if not isinstance(self.progress, bool):
            raise TypeError(f"progress must be a bool, got {self.progress!r}")


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

    @property
    def best_val_loss(self) -> float:
        """The lowest val_loss so far (inf before the first evaluation)."""
        return _best(self.val_loss)[0]


def _best(val_loss: list[float]) -> tuple[float, int]:
    """Return (best loss, evaluations since it); only a strictly lower loss counts as better."""
    best, since = math.inf, 0
    for loss in val_loss:
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
    _check_int("step", step, minimum=0)
    if step < config.warmup_steps:
        return config.lr * (step + 1) / (config.warmup_steps + 1)
    if step >= config.num_steps:
        return config.min_lr
    progress = (step - config.warmup_steps) / (config.num_steps - config.warmup_steps)  # 0 → 1
    return config.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.lr - config.min_lr)


def _check_tokens(data: object, name: str, block_size: int) -> None:
    if not isinstance(data, Tensor) or data.dtype != torch.long:
        what = data.dtype if isinstance(data, Tensor) else type(data).__name__
        raise TypeError(f"{name} must be a LongTensor of token ids, got {what}; "
                        f"use torch.tensor(ids, dtype=torch.long)")
    if data.dim() != 1:
        raise ValueError(f"{name} must be 1-D (one long stream of ids), got shape "
                         f"{tuple(data.shape)}; flatten it with {name}.view(-1)")
    if len(data) < block_size + 1:
        raise ValueError(f"{name} has {len(data)} tokens; a window of block_size={block_size} "
                         f"plus its next token needs {block_size + 1}: use more text or a "
                         f"smaller block_size")


def get_batch(data: Tensor, batch_size: int, block_size: int,
              generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Return inputs x and targets y, both (batch_size, block_size), from random windows of data.

    y is x shifted by one token: y[b, t] is the token that follows x[b, :t+1].

    >>> x, y = get_batch(torch.arange(100), 2, 4, torch.Generator().manual_seed(0))
    >>> x
    tensor([[44, 45, 46, 47],
            [15, 16, 17, 18]])
    >>> y
    tensor([[45, 46, 47, 48],
            [16, 17, 18, 19]])
    """
    _check_int("batch_size", batch_size, minimum=1)
    _check_int("block_size", block_size, minimum=1)
    _check_tokens(data, "data", block_size)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}; "
                        f"use torch.Generator().manual_seed(seed)")
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)  # (B,)
    window = data[starts[:, None] + torch.arange(block_size + 1)]  # (B, T+1)
    return window[:, :-1].contiguous(), window[:, 1:].contiguous()  # (B, T) each


def _loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    logits = model(x)  # (B, T, V)
    return F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))  # mean over B·T tokens


@torch.no_grad()
def evaluate(model: nn.Module, data: Tensor, config: TrainConfig,
             generator: torch.Generator) -> float:
    """Return the mean cross-entropy (nats per token) over config.eval_batches random batches.

    The model runs in eval mode (no dropout) and goes back to the mode it was in.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> config = TrainConfig(batch_size=2, block_size=8, eval_batches=3)
    >>> loss = evaluate(model, torch.tensor([0, 1, 2, 3] * 5), config, torch.Generator())
    >>> abs(loss - math.log(4)) < 0.05  # untrained: about uniform over 4 tokens
    True
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        total = 0.0
        for _ in range(config.eval_batches):
            x, y = get_batch(data, config.batch_size, config.block_size, generator)
            total += _loss(model, x.to(device), y.to(device)).item()
    finally:
        model.train(was_training)
    return total / config.eval_batches  # batches have equal size: this is the mean per token


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """Return AdamW over the model's parameters, with weight decay on ≥ 2-D ones only.

    Decay pulls weights towards 0. For the matrices (Linear weights, embeddings) that keeps them
    small; biases and LayerNorm gains (1-D) have no such role, and a gain's neutral value is 1.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> [group["weight_decay"] for group in make_optimizer(model, TrainConfig()).param_groups]
    [0.1, 0.0]
    """
    params = [p for p in model.parameters() if p.requires_grad]  # a tied matrix comes once
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def _config_dict(config: TrainConfig) -> dict[str, object]:
    out = asdict(config)
    out["checkpoint_dir"] = None if config.checkpoint_dir is None else str(config.checkpoint_dir)
    return out


def save_checkpoint(directory: str | os.PathLike[str], model: nn.Module,
                    optimizer: torch.optim.Optimizer, step: int, history: TrainHistory,
                    generators: dict[str, torch.Generator], config: TrainConfig) -> Path:
    """Save everything needed to resume a run into `directory` and return its path.

    Files: model.safetensors (parameters; a tied matrix once), optimizer.safetensors (AdamW's
    moments) and trainer_state.json (step, history, generator states, config). They are written
    into a new directory beside `directory`, which replaces the old one only when complete, so a
    failed save leaves the previous checkpoint whole. Example: see `load_checkpoint`.
    """
    from safetensors.torch import save_file, save_model

    directory = Path(os.path.abspath(directory))
    if directory.is_dir() and not {p.name for p in directory.iterdir()} <= {
            MODEL_FILE, OPTIMIZER_FILE, STATE_FILE}:
        raise ValueError(f"{directory} holds files other than a checkpoint; saving replaces the "
                         f"whole directory, so choose a new or empty one")
    directory.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    old = new.with_name(new.name + ".old")
    try:
        save_model(model, str(new / MODEL_FILE))
        state = optimizer.state_dict()
        # {parameter index: {"exp_avg": tensor, ...}} flattened to {"3.exp_avg": tensor, ...}
        save_file({f"{i}.{name}": torch.as_tensor(value) for i, per_param in state["state"].items()
                   for name, value in per_param.items()}, str(new / OPTIMIZER_FILE))
        trainer_state = {
            "format_version": FORMAT_VERSION, "step": step, "config": _config_dict(config),
            "history": asdict(history), "optimizer_param_groups": state["param_groups"],
            "generators": {name: base64.b64encode(g.get_state().numpy().tobytes()).decode()
                           for name, g in generators.items()}}
        (new / STATE_FILE).write_text(json.dumps(trainer_state, indent=1), encoding="utf-8")
        # No rename replaces a non-empty directory in one go: move the old one aside first.
        if directory.exists():
            directory.rename(old)
        new.rename(directory)
    except BaseException:
        if old.exists() and not directory.exists():
            old.rename(directory)  # the new one could not take its place: put the old one back
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return directory


_T = TypeVar("_T")


def _read(path: Path, reader: Callable[[Path], _T]) -> _T:
    """Return reader(path); a missing file → FileNotFoundError, a corrupt one → ValueError."""
    from safetensors import SafetensorError

    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {path} is missing; train without resume=True "
                                f"to start afresh")
    try:
        return reader(path)
    except (SafetensorError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as err:
        raise ValueError(f"checkpoint file {path} is corrupt or does not fit ({err}); restore it "
                         f"or train without resume=True to start afresh") from err


def load_checkpoint(directory: str | os.PathLike[str], model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    generators: dict[str, torch.Generator] | None = None,
                    ) -> tuple[int, TrainHistory, TrainConfig]:
    """Load a checkpoint into model (and optimizer, generators); return (step, history, config).

    >>> from course_utils.model import GPT, GPTConfig
    >>> tiny = GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8)
    >>> model, other, config = GPT(tiny, seed=1), GPT(tiny, seed=2), TrainConfig()
    >>> optimizer = make_optimizer(model, config)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = save_checkpoint(tmp, model, optimizer, 0, TrainHistory(), {}, config)
    ...     step, history, saved_config = load_checkpoint(tmp, other)
    >>> torch.equal(other.lm_head.weight, model.lm_head.weight), saved_config == config
    (True, True)
    """
    from safetensors.torch import load_file, load_model

    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no checkpoint directory {directory}; train with "
                                f"checkpoint_dir set first, or without resume=True")

    def read_state(path: Path) -> tuple[int, TrainHistory, TrainConfig, dict]:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {state.get('format_version')!r} is not "
                             f"{FORMAT_VERSION}")
        history, config = TrainHistory(**state["history"]), TrainConfig(**state["config"])
        if not (isinstance(state["step"], int) and state["step"] == len(history.steps)
                and state["step"] <= config.num_steps):
            raise ValueError(f"step {state['step']!r} does not match the history")
        return state["step"], history, config, state

    step, history, config, state = _read(directory / STATE_FILE, read_state)
    device = next(model.parameters()).device
    _read(directory / MODEL_FILE, lambda path: load_model(model, path, device=str(device)))
    if optimizer is not None:
        def load_optimizer(path: Path) -> None:
            per_param: dict[int, dict[str, Tensor]] = {}
            for key, value in load_file(path).items():
                index, name = key.split(".", 1)
                per_param.setdefault(int(index), {})[name] = value
            groups = [{k: tuple(v) if k == "betas" else v for k, v in group.items()}
                      for group in state["optimizer_param_groups"]]
            optimizer.load_state_dict({"state": per_param, "param_groups": groups})

        _read(directory / OPTIMIZER_FILE, load_optimizer)
    if generators:
        def set_states(path: Path) -> None:
            for name, generator in generators.items():
                data = base64.b64decode(state["generators"][name], validate=True)
                generator.set_state(torch.frombuffer(bytearray(data), dtype=torch.uint8))

        _read(directory / STATE_FILE, set_states)
    return step, history, config


def _check_resumable(saved: TrainConfig, config: TrainConfig, directory: Path) -> None:
    changed = [f"{f.name}={getattr(saved, f.name)!r} → {getattr(config, f.name)!r}"
               for f in fields(TrainConfig) if f.name not in _MAY_CHANGE_ON_RESUME
               and getattr(saved, f.name) != getattr(config, f.name)]
    if changed:
        raise ValueError(f"the checkpoint in {directory} is from a run with other settings "
                         f"({', '.join(changed)}); resume with the same config, or train "
                         f"without resume=True to start a new run")


def _dropout_generator(device: torch.device) -> tuple[torch.Generator, list[int]]:
    """The generator dropout draws from on `device`, and the devices fork_rng must protect."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.default_generators[index], [index]
    return torch.default_generator, []


def train(model: nn.Module, train_data: Tensor, val_data: Tensor, config: TrainConfig, *,
          resume: bool = False) -> TrainHistory:
    """Train `model` (in place, moved to config.device) on next-token prediction; return history.

    resume=True continues from the checkpoint in config.checkpoint_dir; the result is the same,
    bit for bit, as a run that never stopped. The model keeps its last parameters, not the best.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> data = torch.tensor([0, 1, 2, 3] * 20)
    >>> config = TrainConfig(batch_size=4, block_size=8, num_steps=30, warmup_steps=3,
    ...                      eval_interval=10, eval_batches=2, lr=1e-2, progress=False)
    >>> history = train(model, data, data, config)
    >>> history.eval_steps, history.val_loss[-1] < history.val_loss[0]
    ([0, 10, 20, 30], True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    model_config = getattr(model, "config", None)
    for name, data in (("train_data", train_data), ("val_data", val_data)):
        _check_tokens(data, name, config.block_size)
        vocab_size = getattr(model_config, "vocab_size", None)
        if vocab_size is not None and not 0 <= int(data.min()) <= int(data.max()) < vocab_size:
            raise ValueError(f"{name} holds ids outside 0..{vocab_size - 1}, the model's vocab")
    if config.block_size > getattr(model_config, "block_size", config.block_size):
        raise ValueError(f"config.block_size={config.block_size} exceeds the model's "
                         f"block_size={model_config.block_size}; lower config.block_size")
    if resume and config.checkpoint_dir is None:
        raise ValueError("resume=True needs config.checkpoint_dir, the checkpoint to resume from")

    device = torch.device(config.device)
    model.to(device)
    optimizer = make_optimizer(model, config)
    dropout_generator, rng_devices = _dropout_generator(device)
    # Dropout draws from the global RNG; fork_rng gives it back to the caller as it was.
    with torch.random.fork_rng(devices=rng_devices):
        # Three independent streams from one seed: evaluating must not shift the training batches.
        seeds = torch.randint(2**62, (3,), generator=torch.Generator().manual_seed(config.seed))
        generators = {"train_batches": torch.Generator(), "eval_batches": torch.Generator(),
                      "dropout": dropout_generator}
        for generator, seed in zip(generators.values(), seeds.tolist()):
            generator.manual_seed(seed)
        history, start = TrainHistory(), 0
        if resume:
            start, history, saved = load_checkpoint(config.checkpoint_dir, model, optimizer,
                                                    generators)
            _check_resumable(saved, config, config.checkpoint_dir)
        was_training = model.training
        model.train()  # dropout on, if the model has any
        bar = None
        if config.progress:  # no disable=False here, so that TQDM_DISABLE=1 still silences it
            from tqdm import tqdm

            bar = tqdm(desc="training", initial=start, total=config.num_steps)
        try:
            _run(model, optimizer, train_data, val_data, config, history, generators, start, bar)
        finally:
            model.train(was_training)
            if bar is not None:
                bar.close()
    return history


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor,
               lr: float, grad_clip: float | None) -> float:
    """One update at learning rate `lr`: forward, backward, clip, optimizer step; return the
    batch's loss (nats per token, before the update)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss = _loss(model, x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip is not None:  # one rare huge gradient should not undo the progress
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.item()


def _run(model: nn.Module, optimizer: torch.optim.Optimizer, train_data: Tensor,
         val_data: Tensor, config: TrainConfig, history: TrainHistory,
         generators: dict[str, torch.Generator], start: int, bar: tqdm | None) -> None:
    """The loop of `train`, from update `start` on; it appends to `history`."""
    device = torch.device(config.device)

    def evaluate_now(done: int) -> None:
        history.eval_steps.append(done)
        history.val_loss.append(evaluate(model, val_data, config, generators["eval_batches"]))
        history.train_eval_loss.append(
            evaluate(model, train_data, config, generators["eval_batches"]))
        patience = config.early_stopping_patience
        history.stopped_early = patience is not None and _best(history.val_loss)[1] >= patience

    if start == 0:
        evaluate_now(0)  # the untrained model: a baseline near ln(vocab_size)
    for step in range(start, config.num_steps):
        if history.stopped_early:  # also when resuming a run that had stopped
            break
        lr = lr_at(step, config)
        x, y = get_batch(train_data, config.batch_size, config.block_size,
                         generators["train_batches"])
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
        if bar is not None:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}",
                            val=f"{history.val_loss[-1]:.3f}", refresh=False)
            bar.update()
