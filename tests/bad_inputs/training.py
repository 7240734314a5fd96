"""Bad inputs for training (notebook 04): settings, schedule, batches, optimizers, checkpoints,
and the metrics that notebook 02 uses too."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from bad_inputs import bad
from torch import nn

from course_utils import distributed
from course_utils.checkpoint import write_checkpoint
from course_utils.metrics import bits_per_byte, loss_by_position, next_token_loss, text_loss
from course_utils.model import GPT, GPTConfig
from course_utils.optim import SGD, train_step
from course_utils.progress import progress_bar
from course_utils.training import (TrainConfig, TrainHistory, evaluate, get_batch,
                                   load_checkpoint, lr_at, make_optimizer, save_checkpoint, train)

_TINY = GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=1, n_embd=8)
_MODEL = GPT(_TINY)
_IDS = torch.arange(8).repeat(4)  # 32 token ids in 0..7
_OUTSIDE = _IDS + 1  # the id 8 is not in an 8-token vocab
_CONFIG = TrainConfig(batch_size=2, num_steps=4, warmup_steps=1, eval_batches=1, progress=False)
_FOLDER = Path(tempfile.mkdtemp(prefix="bad-training-"))
_A_FILE = _FOLDER / "a-file.txt"
_A_FILE.write_text("not a checkpoint")
(_FOLDER / "mine").mkdir()
(_FOLDER / "mine" / "notes.txt").write_text("not a checkpoint either")
save_checkpoint(_FOLDER / "run", _MODEL, make_optimizer(_MODEL, _CONFIG), 0, TrainHistory(), {},
                _CONFIG)


def _config(**settings: object) -> TrainConfig:
    return TrainConfig(**settings)


def _step(**overrides: object) -> float:
    x = torch.zeros(2, 4, dtype=torch.long)
    settings = dict(model=_MODEL, optimizer=make_optimizer(_MODEL, _CONFIG), x=x, y=x, lr=1e-3,
                    grad_clip=None)
    return train_step(**{**settings, **overrides})


def _save(directory: object, **overrides: object) -> object:
    settings = dict(model=_MODEL, optimizer=make_optimizer(_MODEL, _CONFIG), step=0,
                    history=TrainHistory(), generators={}, config=_CONFIG)
    return save_checkpoint(directory, **{**settings, **overrides})


def _no_parameters() -> nn.Module:
    return nn.ReLU()


CASES = [
    # the schedule and the settings
    bad("lr_at(config=None)", lambda: lr_at(3, None), TypeError, "config", "TrainConfig"),
    bad("lr_at(step=-1)", lambda: lr_at(-1, _CONFIG), ValueError, "step", "-1"),
    bad("lr_at(step=bool)", lambda: lr_at(True, _CONFIG), TypeError, "step", "bool"),
    bad("TrainConfig(betas=None)", lambda: _config(betas=None), TypeError, "betas"),
    bad("TrainConfig(betas=nan)", lambda: _config(betas=(0.9, float("nan"))), ValueError,
        "betas[1]", "nan"),
    bad("TrainConfig(betas>=1)", lambda: _config(betas=(1.0, 0.95)), ValueError, "betas[0]",
        "[0, 1)"),
    bad("TrainConfig(betas=one)", lambda: _config(betas=(0.9,)), ValueError, "betas"),
    bad("TrainConfig(lr=nan)", lambda: _config(lr=float("nan")), ValueError, "lr", "nan"),
    bad("TrainConfig(lr=inf)", lambda: _config(lr=float("inf")), ValueError, "lr", "inf"),
    bad("TrainConfig(lr=str)", lambda: _config(lr="3e-3"), TypeError, "lr", "'3e-3'"),
    bad("TrainConfig(min_lr=nan)", lambda: _config(min_lr=float("nan")), ValueError, "min_lr"),
    bad("TrainConfig(min_lr>lr)", lambda: _config(lr=1e-3, min_lr=1e-2), ValueError, "min_lr",
        "at most lr"),
    bad("TrainConfig(weight_decay=inf)", lambda: _config(weight_decay=float("inf")), ValueError,
        "weight_decay", "inf"),
    bad("TrainConfig(grad_clip=nan)", lambda: _config(grad_clip=float("nan")), ValueError,
        "grad_clip", "None turns clipping off"),
    bad("TrainConfig(grad_clip=0)", lambda: _config(grad_clip=0.0), ValueError, "grad_clip"),
    bad("TrainConfig(seed=2**70)", lambda: _config(seed=2**70), ValueError, "seed", "2**64"),
    bad("TrainConfig(seed=True)", lambda: _config(seed=True), TypeError, "seed", "bool"),
    bad("TrainConfig(device=gpu)", lambda: _config(device="gpu"), ValueError, "device", "'gpu'"),
    bad("TrainConfig(num_steps=1e3)", lambda: _config(num_steps=1e3), TypeError, "num_steps"),
    bad("TrainConfig(warmup>steps)", lambda: _config(num_steps=10, warmup_steps=20), ValueError,
        "warmup_steps", "a tenth of num_steps"),
    bad("TrainConfig(block_size=0)", lambda: _config(block_size=0), ValueError, "block_size"),
    bad("TrainConfig(interval, no dir)", lambda: _config(checkpoint_interval=10), ValueError,
        "checkpoint_interval", "checkpoint_dir"),
    bad("TrainConfig(checkpoint_dir=bytes)", lambda: _config(checkpoint_dir=b"run"), TypeError,
        "checkpoint_dir"),
    bad("TrainConfig(progress=str)", lambda: _config(progress="yes"), TypeError, "progress"),
    bad("TrainConfig(restore_best=int)", lambda: _config(restore_best=1), TypeError,
        "restore_best", "True or False"),
    bad("TrainHistory(steps=None)", lambda: TrainHistory(steps=None), TypeError, "steps"),
    # batches
    bad("get_batch(float data)", lambda: get_batch(torch.rand(50), 2, 4, torch.Generator()),
        TypeError, "data", "torch.float32"),
    bad("get_batch(generator=int)", lambda: get_batch(_IDS, 2, 4, 0), TypeError, "generator",
        "torch.Generator().manual_seed"),
    bad("get_batch(too short)", lambda: get_batch(_IDS[:4], 2, 4, torch.Generator()),
        ValueError, "data has 4 tokens", "5"),
    bad("get_batch(batch_size=0)", lambda: get_batch(_IDS, 0, 4, torch.Generator()), ValueError,
        "batch_size"),
    # metrics
    bad("text_loss(batch_size=0)", lambda: text_loss(_MODEL, _IDS, batch_size=0), ValueError,
        "batch_size"),
    bad("text_loss(block_size>model's)", lambda: text_loss(_MODEL, _IDS, block_size=16),
        ValueError, "block_size=16", "block_size=8"),
    bad("text_loss(ids outside vocab)", lambda: text_loss(_MODEL, _OUTSIDE), ValueError, "data",
        "0..7"),
    bad("text_loss(model=str)", lambda: text_loss("gpt2", _IDS), TypeError, "model"),
    bad("loss_by_position(too short)", lambda: loss_by_position(_MODEL, _IDS[:8]), ValueError,
        "data", "block_size + 1 = 9"),
    bad("loss_by_position(stride=0)", lambda: loss_by_position(_MODEL, _IDS, stride=0),
        ValueError, "stride"),
    bad("loss_by_position(block_size>model's)",
        lambda: loss_by_position(_MODEL, _IDS, block_size=16), ValueError, "block_size=16"),
    bad("bits_per_byte(nan)", lambda: bits_per_byte(float("nan"), 10, 10), ValueError,
        "loss_nats_per_token"),
    bad("bits_per_byte(num_bytes=0)", lambda: bits_per_byte(1.0, 10, 0), ValueError,
        "num_bytes"),
    # the optimizers and one step
    bad("make_optimizer(no parameters)", lambda: make_optimizer(_no_parameters(), _CONFIG),
        ValueError, "model", "no parameters"),
    bad("make_optimizer(config=dict)", lambda: make_optimizer(_MODEL, {"lr": 1e-3}), TypeError,
        "config"),
    bad("SGD(lr=nan)", lambda: SGD(_MODEL.parameters(), lr=float("nan")), ValueError, "lr",
        "nan"),
    bad("SGD(momentum=inf)", lambda: SGD(_MODEL.parameters(), momentum=float("inf")),
        ValueError, "momentum", "inf"),
    bad("SGD(nesterov=1)", lambda: SGD(_MODEL.parameters(), momentum=0.9, nesterov=1),
        TypeError, "nesterov"),
    bad("SGD(a model)", lambda: SGD(_MODEL, lr=0.1), TypeError, "params", "model.parameters()"),
    bad("SGD(no parameters)", lambda: SGD([], lr=0.1), ValueError, "params"),
    bad("SGD(dampening=2)", lambda: SGD(_MODEL.parameters(), dampening=2.0), ValueError,
        "dampening"),
    bad("train_step(lr=nan)", lambda: _step(lr=float("nan")), ValueError, "lr", "nan"),
    bad("train_step(float x)", lambda: _step(x=torch.zeros(2, 4)), TypeError, "x"),
    bad("train_step(x, y shapes)", lambda: _step(y=torch.zeros(2, 3, dtype=torch.long)),
        ValueError, "y", "(2, 3)"),
    bad("train_step(optimizer=None)", lambda: _step(optimizer=None), TypeError, "optimizer"),
    # evaluation and training
    bad("evaluate(model=str)", lambda: evaluate("gpt2", _IDS, _CONFIG, torch.Generator()),
        TypeError, "model"),
    bad("evaluate(ids outside vocab)",
        lambda: evaluate(_MODEL, _OUTSIDE, _CONFIG, torch.Generator()), ValueError, "data",
        "0..7"),
    bad("train(model=dict)", lambda: train({}, _IDS, _IDS, _CONFIG), TypeError, "model"),
    bad("train(val ids outside vocab)", lambda: train(_MODEL, _IDS, _OUTSIDE, _CONFIG),
        ValueError, "val_data", "0..7"),
    bad("train(block_size>model's)", lambda: train(_MODEL, _IDS, _IDS, _config(block_size=16)),
        ValueError, "config.block_size=16", "block_size=8"),
    bad("train(resume=str)", lambda: train(_MODEL, _IDS, _IDS, _CONFIG, resume="yes"),
        TypeError, "resume"),
    bad("train(stop_after=0)", lambda: train(_MODEL, _IDS, _IDS, _CONFIG, stop_after=0),
        ValueError, "stop_after", "0"),
    bad("train(stop_after>num_steps)", lambda: train(_MODEL, _IDS, _IDS, _CONFIG, stop_after=5),
        ValueError, "stop_after", "5"),
    bad("train(stop_after, no dir)", lambda: train(_MODEL, _IDS, _IDS, _CONFIG, stop_after=2),
        ValueError, "stop_after", "checkpoint_dir"),
    bad("train(resume, no dir)", lambda: train(_MODEL, _IDS, _IDS, _CONFIG, resume=True),
        ValueError, "resume", "checkpoint_dir"),
    # checkpoints
    bad("save_checkpoint(onto a file)", lambda: _save(_A_FILE), NotADirectoryError,
        str(_A_FILE), "not a checkpoint folder"),
    bad("save_checkpoint(folder of others)", lambda: _save(_FOLDER / "mine"), FileExistsError,
        str(_FOLDER / "mine"), "notes.txt"),
    bad("save_checkpoint(step=-1)", lambda: _save(_FOLDER / "new", step=-1), ValueError, "step"),
    bad("save_checkpoint(history=None)", lambda: _save(_FOLDER / "new", history=None),
        TypeError, "history"),
    bad("save_checkpoint(generator=int)", lambda: _save(_FOLDER / "new", generators={"a": 1}),
        TypeError, "generators['a']"),
    bad("load_checkpoint(missing)", lambda: load_checkpoint(_FOLDER / "missing", _MODEL),
        FileNotFoundError, str(_FOLDER / "missing")),
    bad("load_checkpoint(directory=None)", lambda: load_checkpoint(None, _MODEL), TypeError,
        "directory"),
    bad("load_checkpoint(another model)",
        lambda: load_checkpoint(_FOLDER / "run", GPT(GPTConfig(vocab_size=8, block_size=8,
                                                               n_layer=2, n_head=1, n_embd=8))),
        ValueError, "another config", "n_layer=1"),
]



def _lbfgs_after_a_step() -> torch.optim.LBFGS:
    optimizer = torch.optim.LBFGS(_LINEAR.parameters())
    optimizer.step(lambda: _LINEAR(torch.ones(1, 2)).sum().backward() or torch.tensor(1.0))
    return optimizer


def _group(**settings: object) -> None:
    SGD([nn.Parameter(torch.zeros(2))], lr=0.1).add_param_group(
        {"params": [nn.Parameter(torch.zeros(2))], **settings})


def _load_settings(**settings: object) -> None:
    optimizer = SGD([nn.Parameter(torch.zeros(2))], lr=0.1)
    state = optimizer.state_dict()
    state["param_groups"][0].update(settings)
    optimizer.load_state_dict(state)


_LINEAR = nn.Linear(2, 2)
_FROZEN = GPT(_TINY).requires_grad_(False)
_X = torch.zeros(2, 4, dtype=torch.long)
_NAN_MODEL = GPT(_TINY)
with torch.no_grad():
    _NAN_MODEL.lm_head.weight[0, 0] = float("nan")
_LOOPED: dict = {}
_LOOPED["self"] = _LOOPED

CASES += [
    # an optimizer or targets that would train silently wrong
    bad("train_step(another model's optimizer)",
        lambda: _step(optimizer=SGD(GPT(_TINY).parameters())), ValueError, "optimizer",
        "the model's trainable parameters"),
    bad("train_step(targets -100)", lambda: _step(y=torch.full((2, 4), -100)), ValueError, "y",
        "-100", "ignore_index"),
    bad("train_step(target 99)", lambda: _step(y=torch.full((2, 4), 99)), ValueError, "y", "0..7"),
    bad("train_step(a frozen model)", lambda: train_step(_FROZEN, SGD(GPT(_TINY).parameters()),
                                                         _X, _X, 0.1, None),
        ValueError, "model", "no trainable parameters"),
    bad("train(a frozen model)", lambda: train(_FROZEN, _IDS, _IDS, _CONFIG), ValueError,
        "model", "no trainable parameters"),
    bad("train_step(nn.Linear)", lambda: train_step(_LINEAR, SGD(_LINEAR.parameters()), _X, _X,
                                                    0.1, None),
        ValueError, "model", "(B, T, vocab_size)"),
    bad("train_step(empty batch)", lambda: _step(x=_X[:, :0], y=_X[:, :0]), ValueError, "x",
        "empty"),
    bad("next_token_loss(model=str)", lambda: next_token_loss("gpt", _X, _X), TypeError, "model"),
    bad("next_token_loss(float y)", lambda: next_token_loss(_MODEL, _X, _X.float()), TypeError,
        "y", "float32"),
    bad("next_token_loss(y shape)", lambda: next_token_loss(_MODEL, _X, _X[:, :3]), ValueError,
        "y", "(2, 3)"),
    bad("next_token_loss(-100)", lambda: next_token_loss(_MODEL, _X, torch.full_like(_X, -100)),
        ValueError, "y", "-100"),
    # models that are not the course's GPT
    bad("text_loss(embedding, id 30)",
        lambda: text_loss(nn.Sequential(nn.Embedding(16, 16)), torch.tensor([1, 2, 30, 4]),
                          block_size=2), ValueError, "data", "0..15"),
    bad("text_loss(2-D output)",
        lambda: text_loss(nn.Sequential(nn.Embedding(16, 16), nn.Flatten()),
                          torch.tensor([1, 2, 3, 4]), block_size=2), ValueError, "model",
        "(B, T, vocab_size)"),
    bad("train(embedding of 4, ids to 7)",
        lambda: train(nn.Sequential(nn.Embedding(4, 4)), _IDS, _IDS, _config(block_size=4)),
        ValueError, "train_data", "0..3"),
    bad("text_loss(NaN weights)", lambda: text_loss(_NAN_MODEL, _IDS), FloatingPointError,
        "nan", "NaN"),
    bad("evaluate(NaN weights)", lambda: evaluate(_NAN_MODEL, _IDS, _CONFIG, torch.Generator()),
        FloatingPointError, "nan", "lower lr"),
    # sizes and ids beyond reason
    bad("get_batch(batch_size=2**40)", lambda: get_batch(_IDS, 2**40, 4, torch.Generator()),
        MemoryError, "batch_size"),
    bad("get_batch(batch_size=2**70)", lambda: get_batch(_IDS, 2**70, 4, torch.Generator()),
        MemoryError, "batch_size"),
    bad("get_batch(negative ids)", lambda: get_batch(_IDS - 3, 2, 4, torch.Generator()),
        ValueError, "data", "-3", "never negative"),
    bad("bits_per_byte(1e308, 10, 1)", lambda: bits_per_byte(1e308, 10, 1), ValueError,
        "loss_nats_per_token", "range"),
    bad("TrainHistory(val_loss=[a])", lambda: TrainHistory(val_loss=["a"]), TypeError,
        "val_loss[0]"),
    bad("TrainHistory(lengths)", lambda: TrainHistory(steps=[0]), ValueError, "steps",
        "train_loss"),
    bad("TrainConfig(device=meta)", lambda: _config(device="meta"), ValueError, "device",
        "meta"),
    # SGD's settings wherever they come from
    bad("SGD.step(closure=5)", lambda: SGD(_LINEAR.parameters()).step(closure=5), TypeError,
        "closure"),
    bad("SGD([1, 2])", lambda: SGD([1, 2], lr=0.1), TypeError, "params[0]", "Tensor"),
    bad("SGD({name: p})", lambda: SGD({"a": _LINEAR.weight}), TypeError, "params",
        "model.parameters()"),
    bad("SGD.add_param_group(lr=nan)", lambda: _group(lr=float("nan")), ValueError, "lr", "nan"),
    bad("SGD.add_param_group(momentum=-1)", lambda: _group(momentum=-1), ValueError, "momentum"),
    bad("SGD.load_state_dict(lr=nan)", lambda: _load_settings(lr=float("nan")), ValueError,
        "lr", "nan"),
    bad("progress_bar(unit=5)", lambda: progress_bar(3, "x", unit=5).__enter__(), TypeError,
        "unit"),
    bad("progress_bar(unit='')", lambda: progress_bar(3, "x", unit="").__enter__(), ValueError,
        "unit"),
    # what a checkpoint cannot store faithfully
    bad("save_checkpoint(generators={1: g})",
        lambda: _save(_FOLDER / "new", generators={1: torch.Generator()}), TypeError,
        "generators", "str"),
    bad("write_checkpoint(state key 1)",
        lambda: write_checkpoint(_FOLDER / "new", _LINEAR, SGD(_LINEAR.parameters()), {},
                                 {1: 2}), TypeError, "state", "str keys"),
    bad("write_checkpoint(state tuple)",
        lambda: write_checkpoint(_FOLDER / "new", _LINEAR, SGD(_LINEAR.parameters()), {},
                                 {"a": (1, 2)}), TypeError, "state", "tuples"),
    bad("write_checkpoint(state holds itself)",
        lambda: write_checkpoint(_FOLDER / "new", _LINEAR, SGD(_LINEAR.parameters()), {},
                                 _LOOPED), TypeError, "state"),
    bad("write_checkpoint(LBFGS)",
        lambda: write_checkpoint(_FOLDER / "new", _LINEAR, _lbfgs_after_a_step(), {}, {}),
        ValueError, "optimizer", "LBFGS", "tensor"),
    bad("write_checkpoint(meta model)",
        lambda: write_checkpoint(_FOLDER / "new", (meta := nn.Linear(2, 2, device="meta")),
                                 torch.optim.SGD(meta.parameters(), lr=0.1), {}, {}),
        ValueError, "model", "meta"),
    bad("write_checkpoint(another model's optimizer)",
        lambda: write_checkpoint(_FOLDER / "new", _LINEAR, SGD(nn.Linear(2, 2).parameters()),
                                 {}, {}), ValueError, "optimizer"),
    bad("load_checkpoint(another model's optimizer)",
        lambda: load_checkpoint(_FOLDER / "run", _MODEL, SGD(nn.Linear(2, 2).parameters())),
        ValueError, "optimizer"),
]

CASES += [  # several processes: the global batch split evenly among them
    bad("local_batch_size(30, 4 processes)",
        lambda: distributed.local_batch_size(30, processes=4, name="--batch-size"), ValueError,
        "--batch-size=30", "4 processes", "multiple of 4", "32 or 28"),
    bad("local_batch_size(0)", lambda: distributed.local_batch_size(0, processes=2), ValueError,
        "batch_size"),
    bad("local_batch_size(str)", lambda: distributed.local_batch_size("8"), TypeError,
        "batch_size"),
    bad("local_batch_size(processes=0)", lambda: distributed.local_batch_size(8, processes=0),
        ValueError, "processes"),
    bad("share(5 rows, 2 processes)", lambda: distributed.share(torch.arange(5), processes=2),
        ValueError, "batch_size=5", "multiple of 2"),
    bad("share(rank=2 of 2)", lambda: distributed.share(torch.arange(4), rank=2, processes=2),
        ValueError, "rank"),
    bad("start(device=None)", lambda: distributed.start(None), TypeError, "device"),
]

if not torch.cuda.is_available():
    CASES.append(bad("TrainConfig(device=cuda, no GPU)", lambda: _config(device="cuda"),
                     ValueError, "device='cuda'", "no CUDA GPU"))
