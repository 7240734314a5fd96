"""course_utils.training: schedule and batches by hand, learning, exact resume, clear errors.

The checkpoint format itself (kills, disk full, altered bytes) is tested in test_checkpoint.py."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import training
from course_utils.model import GPT, GPTConfig
from course_utils.optim import SGD
from course_utils.training import (
    TrainConfig,
    TrainHistory,
    bits_per_byte,
    evaluate,
    get_batch,
    load_checkpoint,
    lr_at,
    make_optimizer,
    save_checkpoint,
    train,
)

TINY = GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=2, n_embd=16)
PATTERN = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1] * 30)  # 420 predictable tokens


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def tiny_config(**overrides):
    settings = dict(batch_size=4, num_steps=20, lr=1e-2, min_lr=1e-3,
                    warmup_steps=4, eval_interval=5, eval_batches=2, progress=False)
    return TrainConfig(**{**settings, **overrides})


def assert_same_parameters(model_a, model_b):
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name


# --- the schedule, batches, the loss in bits per byte -------------------------------------------

def test_lr_at_by_hand():
    # warmup 4: (step + 1)/5 of lr; cosine over steps 4..14; at 9 half way: (1 + 0.1)/2.
    config = TrainConfig(lr=1.0, min_lr=0.1, warmup_steps=4, num_steps=14)
    assert [lr_at(step, config) for step in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert lr_at(9, config) == pytest.approx(0.55)
    assert lr_at(14, config) == lr_at(15, config) == lr_at(1000, config) == 0.1
    lrs = [lr_at(step, config) for step in range(4, 15)]
    assert all(a > b for a, b in zip(lrs, lrs[1:]))  # strictly decreasing after warmup


def test_lr_at_edge_schedules():
    no_warmup = TrainConfig(lr=2.0, min_lr=0.0, warmup_steps=0, num_steps=4)
    assert [lr_at(step, no_warmup) for step in range(5)] == pytest.approx(
        [2.0, 1 + math.sqrt(0.5), 1.0, 1 - math.sqrt(0.5), 0.0])
    all_warmup = TrainConfig(lr=1.0, min_lr=0.5, warmup_steps=3, num_steps=3)
    assert [lr_at(step, all_warmup) for step in range(4)] == pytest.approx([0.25, 0.5, 0.75, 0.5])
    with pytest.raises(ValueError, match="step"):
        lr_at(-1, no_warmup)


def test_get_batch_windows_shift_and_determinism():
    data = torch.arange(50)
    x, y = get_batch(data, 6, 5, torch.Generator().manual_seed(3))
    assert x.shape == y.shape == (6, 5) and x.dtype == y.dtype == torch.long
    assert torch.equal(y, x + 1)  # data = arange: each window is consecutive, y one step ahead
    assert x.min() >= 0 and y.max() <= 49
    again = get_batch(data, 6, 5, torch.Generator().manual_seed(3))
    other = get_batch(data, 6, 5, torch.Generator().manual_seed(4))
    assert torch.equal(again[0], x) and not torch.equal(other[0], x)


def test_get_batch_with_exactly_one_window():
    x, y = get_batch(torch.tensor([5, 6, 7]), 2, 2, torch.Generator())
    assert x.tolist() == [[5, 6], [5, 6]] and y.tolist() == [[6, 7], [6, 7]]


@pytest.mark.parametrize("data, error", [
    (torch.tensor([1, 2, 3]), ValueError),  # 3 tokens < block_size + 1 = 4
    (torch.tensor([], dtype=torch.long), ValueError),
    (torch.zeros(2, 10, dtype=torch.long), ValueError),  # 2-D
    (torch.arange(10.0), TypeError),  # floats are not token ids
    ([1, 2, 3, 4, 5], TypeError),
])
def test_get_batch_bad_data(data, error):
    with pytest.raises(error, match="data"):
        get_batch(data, 2, 3, torch.Generator())


def test_get_batch_needs_a_generator():
    with pytest.raises(TypeError, match="torch.Generator"):
        get_batch(torch.arange(10), 2, 3, 0)


def test_bits_per_byte_by_hand():
    assert bits_per_byte(math.log(2), num_tokens=10, num_bytes=10) == 1.0  # ln 2 nats = 1 bit
    assert bits_per_byte(2 * math.log(2), num_tokens=3, num_bytes=12) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        bits_per_byte(-1.0, 10, 10)
    with pytest.raises(ValueError):
        bits_per_byte(1.0, 10, 0)


def test_evaluate_restores_mode_and_is_deterministic():
    model = GPT(dataclasses.replace(TINY, dropout=0.5))
    config = tiny_config()
    rng = torch.get_rng_state()
    for mode in (True, False):
        model.train(mode)
        losses = [evaluate(model, PATTERN, config, torch.Generator().manual_seed(1))
                  for _ in range(2)]
        assert model.training is mode
        assert losses[0] == losses[1]  # eval mode: no dropout, so the same batches give the same
    assert torch.equal(torch.get_rng_state(), rng)


def test_make_optimizer_decays_matrices_only():
    model = GPT(TINY)
    decay, no_decay = make_optimizer(model, TrainConfig(weight_decay=0.3)).param_groups
    assert decay["weight_decay"] == 0.3 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    assert all(p.dim() == 1 for p in no_decay["params"])
    assert sum(p.numel() for g in (decay, no_decay) for p in g["params"]) == model.num_parameters()


# --- training -----------------------------------------------------------------------------------

def test_loss_decreases_on_a_repetitive_text():
    model = GPT(TINY)
    config = tiny_config(num_steps=60, eval_interval=20)
    rng = torch.get_rng_state()
    history = train(model, PATTERN, PATTERN, config)
    assert torch.equal(torch.get_rng_state(), rng)  # the caller's global RNG is untouched
    assert history.steps == list(range(60)) and history.eval_steps == [0, 20, 40, 60]
    assert history.val_loss[0] == pytest.approx(math.log(8), abs=0.1)  # untrained: uniform
    assert history.val_loss[-1] < 0.5 * history.val_loss[0]
    assert sum(history.train_loss[-10:]) < 0.5 * sum(history.train_loss[:10])
    assert history.lr == [lr_at(step, config) for step in range(60)]
    assert history.best_val_loss == min(history.val_loss) and not history.stopped_early
    assert model.training  # back in the mode it had


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bar_only_when_asked_and_env_can_silence_it(monkeypatch, progress):
    import tqdm.auto

    bars = []
    real = tqdm.auto.tqdm
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda *args, **kwargs: bars.append(
        real(*args, **kwargs)) or bars[-1])
    train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=3, warmup_steps=1, progress=progress))
    assert len(bars) == progress
    assert all(bar.disable for bar in bars)  # TQDM_DISABLE=1 keeps its say


def test_an_early_stopped_run_closes_its_bar_as_complete(notebook_bars):
    forward, backward = torch.arange(8).repeat(30), torch.arange(7, -1, -1).repeat(30)
    history = train(GPT(TINY), forward, backward,
                    tiny_config(num_steps=100, early_stopping_patience=2, progress=True))
    assert history.stopped_early
    (bar,) = notebook_bars
    widget = bar.container.children[1]
    assert bar.n == bar.total == widget.max == len(history.steps) < 100
    assert widget.bar_style == "success"  # full and green, not an interrupted red bar


def test_gradient_clipping_only_when_asked(monkeypatch):
    norms = []
    clip = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_",
                        lambda params, max_norm: norms.append(max_norm) or clip(params, max_norm))
    train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=3, warmup_steps=1, grad_clip=0.5))
    train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=3, warmup_steps=1, grad_clip=None))
    assert norms == [0.5] * 3


def test_same_seed_same_run_other_seed_other_run():
    runs = [train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=5, seed=seed))
            for seed in (0, 0, 1)]
    assert runs[0] == runs[1] and runs[0].train_loss != runs[2].train_loss


class Crash(Exception):
    """The process dies right after a checkpoint was written."""


def test_resume_continues_exactly_as_if_never_stopped(tmp_path, monkeypatch):
    model_config = dataclasses.replace(TINY, dropout=0.1)  # dropout's RNG must resume too
    config = tiny_config(num_steps=20)
    straight = GPT(model_config, seed=0)
    expected = train(straight, PATTERN, PATTERN.flip(0), config)

    save = training.save_checkpoint

    def save_then_crash(directory, model, optimizer, step, *args):
        save(directory, model, optimizer, step, *args)
        if step == 10:
            raise Crash

    monkeypatch.setattr(training, "save_checkpoint", save_then_crash)
    config = dataclasses.replace(config, checkpoint_dir=tmp_path / "run", checkpoint_interval=10)
    with pytest.raises(Crash):
        train(GPT(model_config, seed=0), PATTERN, PATTERN.flip(0), config)
    resumed = GPT(model_config, seed=0)  # a fresh model and optimizer, built the same way
    history = train(resumed, PATTERN, PATTERN.flip(0), config, resume=True)

    assert history == expected  # every loss, lr and evaluation, exactly
    assert_same_parameters(resumed, straight)
    step, saved_history, _ = load_checkpoint(tmp_path / "run", GPT(model_config))
    assert step == 20 and saved_history == expected


def test_early_stopping_after_patience_evaluations_without_improvement(tmp_path, monkeypatch):
    # By hand: best 3.0, then 2.0; 2.5, 2.0 (equal is no improvement), 2.2: 3 evals → stop.
    val_losses = iter([3.0, 2.0, 2.5, 2.0, 2.2, 0.1])
    val_data = PATTERN.clone()
    monkeypatch.setattr(training, "evaluate", lambda model, data, config, generator:
                        next(val_losses) if data is val_data else 1.0)
    config = tiny_config(num_steps=20, eval_interval=2, early_stopping_patience=3,
                         checkpoint_dir=tmp_path / "run")
    history = train(GPT(TINY), PATTERN, val_data, config)
    assert history.stopped_early and history.best_val_loss == 2.0
    assert history.eval_steps == [0, 2, 4, 6, 8] and history.steps == list(range(8))
    # The checkpoint is from the stop; resuming it has nothing left to do.
    assert load_checkpoint(tmp_path / "run", GPT(TINY))[0] == 8
    assert train(GPT(TINY), PATTERN, val_data, config, resume=True) == history


def test_early_stopping_on_text_unlike_the_training_text():
    # Learning 0 1 2 ... 7 0 1 makes the reversed text 7 6 5 ... less likely: val loss rises.
    forward, backward = torch.arange(8).repeat(30), torch.arange(7, -1, -1).repeat(30)
    history = train(GPT(TINY), forward, backward,
                    tiny_config(num_steps=100, early_stopping_patience=2))
    assert history.stopped_early and len(history.steps) < 100


# --- checkpoints (the format: test_checkpoint.py) -------------------------------------------------

def trained_checkpoint(tmp_path, num_steps=6):
    config = tiny_config(num_steps=num_steps, checkpoint_dir=tmp_path / "run")
    model = GPT(TINY)
    history = train(model, PATTERN, PATTERN, config)
    return model, history, config


def test_a_run_s_checkpoint_loads_into_model_optimizer_and_generators(tmp_path):
    model, history, config = trained_checkpoint(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing beside it
    loaded = GPT(TINY, seed=123)
    optimizer = make_optimizer(loaded, config)
    generators = {name: torch.Generator() for name in ("train_batches", "eval_batches")}
    step, loaded_history, loaded_config = load_checkpoint(tmp_path / "run", loaded, optimizer,
                                                          generators)
    assert step == 6 and loaded_history == history and loaded_config == config
    assert_same_parameters(loaded, model)
    assert loaded.lm_head.weight is loaded.transformer.wte.weight  # still tied
    assert all(int(s["step"]) == 6 for s in optimizer.state.values())
    assert optimizer.param_groups[0]["betas"] == config.betas
    assert not torch.equal(generators["train_batches"].get_state(), torch.Generator().get_state())


def test_resume_without_a_checkpoint_names_the_directory(tmp_path):
    config = tiny_config(checkpoint_dir=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        train(GPT(TINY), PATTERN, PATTERN, config, resume=True)
    assert not (tmp_path / "nowhere").exists()  # a failed resume creates nothing
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train(GPT(TINY), PATTERN, PATTERN, tiny_config(), resume=True)


def test_checkpoint_of_another_model_or_run_is_refused_before_anything_changes(tmp_path):
    _, _, config = trained_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="another config: n_layer=1 .model: 2"):
        train(GPT(dataclasses.replace(TINY, n_layer=2)), PATTERN, PATTERN, config, resume=True)
    model = GPT(TINY, seed=7)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="lr=0.01 → 0.02"):
        train(model, PATTERN, PATTERN, dataclasses.replace(config, lr=0.02), resume=True)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_the_checkpoint_folder_is_checked_before_the_first_step(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my notes")
    steps = []
    monkeypatch.setattr(training, "train_step", lambda *args: steps.append(1) or 1.0)
    with pytest.raises(NotADirectoryError, match="a-file"):
        train(GPT(TINY), PATTERN, PATTERN, tiny_config(checkpoint_dir=tmp_path / "a-file"))
    with pytest.raises(FileExistsError, match="notes.txt"):
        train(GPT(TINY), PATTERN, PATTERN, tiny_config(checkpoint_dir=tmp_path / "mine"))
    assert steps == [] and (tmp_path / "mine" / "notes.txt").read_text() == "my notes"


def test_a_diverging_run_stops_with_a_clear_error_before_the_bad_update():
    model = GPT(TINY)
    with torch.no_grad():
        model.lm_head.weight[0, 0] = float("inf")  # as after an update with far too high an lr
    with pytest.raises(FloatingPointError, match="diverged, lower lr"):
        train(model, PATTERN, PATTERN, tiny_config(eval_interval=1000))
    assert math.isinf(model.lm_head.weight[0, 0].item())  # no update was applied on top


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, error", [
    (dict(batch_size=0), ValueError), (dict(block_size=-1), ValueError),
    (dict(num_steps=2.5), TypeError), (dict(lr=0.0), ValueError), (dict(lr="0.1"), TypeError),
    (dict(lr=float("nan")), ValueError),
    (dict(min_lr=0.1, lr=0.01), ValueError), (dict(warmup_steps=11, num_steps=10), ValueError),
    (dict(weight_decay=-0.1), ValueError), (dict(betas=(0.9, 1.0)), ValueError),
    (dict(grad_clip=0.0), ValueError), (dict(eval_interval=0), ValueError),
    (dict(early_stopping_patience=0), ValueError), (dict(checkpoint_interval=10), ValueError),
    (dict(seed=-1), ValueError), (dict(device="gpu"), ValueError),
    (dict(progress="yes"), TypeError),
])
def test_bad_config(overrides, error):
    with pytest.raises(error, match=next(iter(overrides))):
        TrainConfig(**overrides)


@pytest.mark.parametrize("train_data, val_data, error, match", [
    (PATTERN.float(), PATTERN, TypeError, "train_data"),
    (PATTERN, PATTERN.tolist(), TypeError, "val_data"),
    (PATTERN.view(2, -1), PATTERN, ValueError, "1-D"),
    (PATTERN, PATTERN[:8], ValueError, "val_data has 8 tokens"),
    (PATTERN, PATTERN + 1, ValueError, "outside 0..7"),
])
def test_bad_data(train_data, val_data, error, match):
    with pytest.raises(error, match=match):
        train(GPT(TINY), train_data, val_data, tiny_config())


def test_block_size_longer_than_the_model_s_names_both():
    with pytest.raises(ValueError, match="config.block_size=16 exceeds the model's block_size=8"):
        train(GPT(TINY), PATTERN, PATTERN, tiny_config(block_size=16))


def test_the_window_is_the_model_s_block_size_unless_set(monkeypatch):
    shapes = []
    batch = training.get_batch
    monkeypatch.setattr(training, "get_batch", lambda *args: shapes.append(args[2]) or batch(*args))
    train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=1, warmup_steps=0))
    train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=1, warmup_steps=0, block_size=5))
    assert set(shapes[:5]) == {8} and set(shapes[-5:]) == {5}
    assert TrainConfig().block_size is None


def test_train_step_is_the_optimizer_module_s():
    from course_utils import optim

    assert training.train_step is optim.train_step


def test_text_loss_scores_every_prediction_once_with_enough_context():
    model = GPT(TINY, seed=0)
    data = torch.arange(50) % TINY.vocab_size
    with torch.no_grad():
        # By hand: one window per prediction, each with all the context the block allows.
        expected = []
        for target in range(1, len(data)):
            start = max(0, target - TINY.block_size)
            logits = model(data[start:target][None])[0, -1]
            expected.append(F.cross_entropy(logits, data[target]).item())
    full_context = training.text_loss(model, data, block_size=TINY.block_size, stride=1)
    assert full_context == pytest.approx(sum(expected) / len(expected), abs=1e-6)
    for stride in (2, TINY.block_size // 2, TINY.block_size):
        loss = training.text_loss(model, data, block_size=TINY.block_size, stride=stride)
        assert math.isfinite(loss) and loss == pytest.approx(full_context, rel=0.2)
    with pytest.raises(ValueError, match="stride"):
        training.text_loss(model, data, block_size=4, stride=5)


# --- what would otherwise train or measure silently wrong ---------------------------------------

def test_an_optimizer_of_another_model_is_refused_and_nothing_moves():
    model, other = GPT(TINY), GPT(TINY, seed=1)
    before = [p.clone() for p in (*model.parameters(), *other.parameters())]
    x, y = get_batch(PATTERN, 2, 8, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="optimizer must hold the model's trainable parameters"):
        training.train_step(model, SGD(other.parameters(), lr=0.1), x, y, 0.1, None)
    after = [*model.parameters(), *other.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize("target", [-100, -1, 8])
def test_targets_outside_the_vocab_are_refused_not_ignored(target):
    model, (x, y) = GPT(TINY), get_batch(PATTERN, 2, 8, torch.Generator().manual_seed(0))
    y[0, 0] = target  # torch's cross_entropy would skip -100 (its ignore_index) silently
    with pytest.raises(ValueError, match=r"y holds ids from .* outside 0\.\.7"):
        training.train_step(model, SGD(model.parameters(), lr=0.1), x, y, 0.1, None)


def test_int32_targets_give_the_loss_of_long_ones():
    model, (x, y) = GPT(TINY), get_batch(PATTERN, 2, 8, torch.Generator().manual_seed(0))
    expected = F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
    loss = training.train_step(model, SGD(model.parameters(), lr=0.1), x.int(), y.int(), 0.1,
                               None)
    assert loss == pytest.approx(expected, rel=1e-6)


def test_nan_weights_are_a_floating_point_error_in_every_loss():
    model = GPT(TINY)
    with torch.no_grad():
        model.lm_head.weight[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="the loss is nan"):
        training.text_loss(model, PATTERN)
    with pytest.raises(FloatingPointError, match="the loss is nan"):
        evaluate(model, PATTERN, tiny_config(), torch.Generator())


def test_numpy_ints_are_stored_as_ints_and_the_run_saves_as_with_ints(tmp_path):
    np = pytest.importorskip("numpy")
    settings = dict(num_steps=3, batch_size=2, seed=1, warmup_steps=1, eval_interval=2)
    plain = tiny_config(**settings)
    numpy = tiny_config(**{k: np.int64(v) for k, v in settings.items()},
                        checkpoint_dir=tmp_path / "run")
    assert all(type(getattr(numpy, k)) is int for k in settings)
    runs = [train(GPT(TINY), PATTERN, PATTERN, config) for config in (plain, numpy)]
    assert runs[0] == runs[1]
    step, history, saved = load_checkpoint(tmp_path / "run", GPT(TINY))
    assert (step, history, saved) == (3, runs[1], numpy)


def test_train_config_cannot_be_changed_past_its_checks():
    config = tiny_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = float("nan")
    with pytest.raises(ValueError, match="lr must be"):
        dataclasses.replace(config, lr=float("nan"))
    assert dataclasses.replace(config, lr=0.5).lr == 0.5


def test_train_history_holds_plain_numbers_and_matching_lengths():
    history = TrainHistory(steps=[torch.tensor(0).item()], train_loss=[1], lr=[0.1])
    assert history.train_loss == [1.0] and type(history.train_loss[0]) is float
    with pytest.raises(ValueError, match="one length"):
        TrainHistory(eval_steps=[0], val_loss=[])


def test_bits_per_byte_of_a_huge_loss_does_not_overflow_on_the_way():
    assert bits_per_byte(1e308, 10, 100) == pytest.approx(1e307 / math.log(2))
    with pytest.raises(ValueError, match="beyond a float's range"):
        bits_per_byte(1e308, 10, 1)


def test_a_transformers_model_is_measured_and_trained_through_its_logits(tmp_path):
    transformers = pytest.importorskip("transformers")
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=8, n_positions=8, n_embd=8, n_layer=1, n_head=1, bos_token_id=0,
        eos_token_id=0)).eval()  # no dropout, as text_loss measures
    data = PATTERN[:40]
    with torch.no_grad():
        logits = hf(data[None, :4]).logits[0]  # one window: block_size 4 covers 5 tokens
    expected = F.cross_entropy(logits, data[1:5]).item()
    assert training.text_loss(hf, data[:5], block_size=4) == pytest.approx(expected, rel=1e-6)
    config = tiny_config(block_size=4, num_steps=2, warmup_steps=1, checkpoint_dir=tmp_path / "hf")
    history = train(hf, data, data, config)
    assert load_checkpoint(tmp_path / "hf", hf)[1] == history


# --- early stopping gives back the best parameters; stop_after stops a run to resume ----------

def test_early_stopping_ends_with_the_best_evaluations_parameters(tmp_path, monkeypatch):
    # Val losses by evaluation: best at step 2, then 3 without improvement: stop after step 8.
    val_data = PATTERN.clone()
    losses = {0: 3.0, 2: 2.0, 4: 2.5, 6: 2.6, 8: 2.7, 10: 2.8}

    def evaluate(model, data, config, generator):
        return losses[model._updates] if data is val_data else 1.0

    monkeypatch.setattr(training, "evaluate", evaluate)
    step = training.train_step
    monkeypatch.setattr(training, "train_step", lambda model, *args: (
        setattr(model, "_updates", model._updates + 1), step(model, *args))[1])

    def run(config, updates_before=0, **kwargs):
        model = GPT(TINY, seed=0)
        model._updates = updates_before  # what the scripted losses are looked up by
        return model, train(model, PATTERN, val_data, config, **kwargs)

    config = tiny_config(num_steps=20, eval_interval=2, early_stopping_patience=3)
    restored, history = run(config)
    last, _ = run(dataclasses.replace(config, restore_best=False))
    at_best, _ = run(dataclasses.replace(config, checkpoint_dir=tmp_path / "two"), stop_after=2)
    assert history.stopped_early and history.eval_steps == [0, 2, 4, 6, 8]
    assert_same_parameters(restored, at_best)  # the parameters after 2 updates, the best
    assert not all(torch.equal(a, b) for a, b in zip(last.parameters(), at_best.parameters()))

    # Killed after step 6 (the best, at step 2, is only in the checkpoint), then resumed.
    config = dataclasses.replace(config, checkpoint_dir=tmp_path / "run", checkpoint_interval=2)
    run(config, stop_after=6)
    resumed, resumed_history = run(config, updates_before=6, resume=True)
    assert resumed_history == history
    assert_same_parameters(resumed, restored)


def test_stop_after_saves_a_checkpoint_that_resumes_exactly(tmp_path):
    config = tiny_config(num_steps=12, checkpoint_dir=tmp_path / "run")
    straight = GPT(TINY, seed=0)
    expected = train(straight, PATTERN, PATTERN.flip(0), dataclasses.replace(
        config, checkpoint_dir=None))
    stopped = train(GPT(TINY, seed=0), PATTERN, PATTERN.flip(0), config, stop_after=7)
    assert len(stopped.steps) == 7 and not stopped.stopped_early
    assert load_checkpoint(tmp_path / "run", GPT(TINY))[0] == 7
    resumed = GPT(TINY, seed=0)
    assert train(resumed, PATTERN, PATTERN.flip(0), config, resume=True) == expected
    assert_same_parameters(resumed, straight)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(stop_after=0), ValueError, "stop_after"),
    (dict(stop_after=21), ValueError, "stop_after"),
    (dict(stop_after=True), TypeError, "stop_after"),
])
def test_stop_after_is_checked(kwargs, error, words):
    with pytest.raises(error, match=words):
        train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=20), **kwargs)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train(GPT(TINY), PATTERN, PATTERN, tiny_config(num_steps=20), stop_after=5)
