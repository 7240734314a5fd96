"""course_utils.checkpoint: a checkpoint survives kills, full disks and read-only folders, and is
refused with a clear message when its bytes were altered or it belongs to another model.

The kill tests run a save in a child process and SIGKILL it (tests/faults.py): at every
file-system call of a save (just before and just after each), and at random instants while a
child saves two states in turn. After each kill, loading must give one of the states, complete,
and must tidy what the killed save left; a later save must leave nothing but its own files.
"""

from __future__ import annotations

import base64
import errno
import json
import random
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from faults import count_calls, run_killed_after, run_killed_at
from safetensors import safe_open

from course_utils import checkpoint, files, training
from course_utils.checkpoint import MANIFEST, read_checkpoint, write_checkpoint
from course_utils.model import GPT, GPTConfig
from course_utils.training import TrainConfig, load_checkpoint, make_optimizer

# The states the tests save, as code, so that a child process builds exactly the same ones.
# No arithmetic that depends on threads: the parameters and AdamW's moments are bit-identical.
STATES = """
import torch
from course_utils.model import GPT, GPTConfig
from course_utils.training import TrainConfig, TrainHistory, make_optimizer, save_checkpoint

SHAPE = GPTConfig(vocab_size=64, block_size=8, n_layer=1, n_head=2, n_embd=32)


def run_state(k):
    model = GPT(SHAPE, seed=k)
    config = TrainConfig(num_steps=100, seed=k)
    optimizer = make_optimizer(model, config)
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.01 * k)
    optimizer.step()  # AdamW's moments and step counts exist now
    history = TrainHistory(steps=list(range(k)), train_loss=[1.0 / k] * k, lr=[0.1] * k)
    return model, optimizer, history, config, {"batches": torch.Generator().manual_seed(k)}


def save(folder, k):
    model, optimizer, history, config, generators = run_state(k)
    save_checkpoint(folder, model, optimizer, k, history, generators, config)
"""
NS: dict = {}
exec(STATES, NS)  # noqa: S102 - the test's own code, shared with the child processes
save, run_state, SHAPE = NS["save"], NS["run_state"], NS["SHAPE"]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def loaded_state(folder: Path) -> int:
    """Load the checkpoint in `folder` and check it is one whole state; return which one."""
    model = GPT(SHAPE, seed=99)
    optimizer = make_optimizer(model, TrainConfig())
    generators = {"batches": torch.Generator()}
    step, history, config = load_checkpoint(folder, model, optimizer, generators)
    expected_model, expected_optimizer, expected_history, expected_config, expected_generators = \
        run_state(step)
    assert (history, config) == (expected_history, expected_config)
    for a, b in zip(model.state_dict().values(), expected_model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    for p, q in zip(model.parameters(), expected_model.parameters(), strict=True):
        ours, theirs = optimizer.state[p], expected_optimizer.state[q]
        assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert torch.equal(generators["batches"].get_state(),
                       expected_generators["batches"].get_state())
    return step


def referenced(folder: Path) -> list[str]:
    manifest = json.loads((folder / MANIFEST).read_text())
    return sorted([MANIFEST] + [entry["name"] for entry in manifest["files"].values()])


def check_after_a_kill(folder: Path, states: set[int]) -> tuple[int, bool]:
    """Load (one of `states`, whole), which tidies; then a save leaves only its own files.
    Return the state found and whether the kill had left anything to tidy."""
    had_leftovers = names(folder) != referenced(folder)
    step = loaded_state(folder)
    assert step in states
    assert names(folder) == referenced(folder), "the load did not tidy the killed save's files"
    save(folder, 3)
    assert names(folder) == referenced(folder) and len(names(folder)) == 3
    return step, had_leftovers


# --- the format -----------------------------------------------------------------------------------

def test_a_checkpoint_is_a_manifest_and_two_tensor_files_named_by_their_sha256(tmp_path):
    save(tmp_path / "run", 1)
    folder = tmp_path / "run"
    manifest = json.loads((folder / MANIFEST).read_text())
    assert names(folder) == referenced(folder) and len(names(folder)) == 3
    assert manifest["format_version"] == checkpoint.FORMAT_VERSION
    for kind, entry in manifest["files"].items():
        digest = files.sha256_file(folder / entry["name"])
        assert entry == {"name": f"{kind}-{digest[:12]}.safetensors", "sha256": digest}
    assert manifest["model"]["class"] == "GPT" and manifest["model"]["config"]["n_embd"] == 32
    assert manifest["model"]["tensors"]["lm_head.weight"] == "float32 [64, 32]"
    assert manifest["model"]["tied"] == {"lm_head.weight": "transformer.wte.weight"}
    with safe_open(folder / manifest["files"]["model"]["name"], "pt") as stored:
        assert "lm_head.weight" not in stored.keys()  # the tied matrix is stored once
    assert manifest["state"]["step"] == 1 and manifest["optimizer"]["class"] == "AdamW"
    assert loaded_state(folder) == 1


def test_a_new_save_replaces_the_old_files_and_an_equal_one_changes_nothing(tmp_path):
    folder = tmp_path / "run"
    save(folder, 1)
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    save(folder, 2)
    assert len(names(folder)) == 3 and not set(names(folder)) & (set(first) - {MANIFEST})
    save(folder, 1)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == first
    assert names(tmp_path) == ["run"]  # nothing beside the folder either


def test_a_save_never_replaces_what_is_not_a_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(NotADirectoryError, match="notes.txt is a file, not a checkpoint"):
        save(tmp_path / "notes.txt", 1)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(FileExistsError, match="notes.txt"):
        save(tmp_path, 1)
    assert names(tmp_path) == ["notes.txt"]


def test_the_earlier_format_is_refused_by_name_and_replaced_by_a_save(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("model.safetensors", "optimizer.safetensors", "trainer_state.json"):
        (folder / name).write_bytes(b"format 1")
    with pytest.raises(ValueError, match="format 1"):
        loaded_state(folder)
    save(folder, 2)
    assert names(folder) == referenced(folder) and loaded_state(folder) == 2


# --- what loading refuses -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["model", "optimizer"])
def test_a_flipped_byte_is_refused_and_the_model_left_alone(tmp_path, kind):
    save(tmp_path, 1)
    entry = json.loads((tmp_path / MANIFEST).read_text())["files"][kind]
    data = bytearray((tmp_path / entry["name"]).read_bytes())
    data[-5] ^= 0x01  # one bit of one number
    (tmp_path / entry["name"]).write_bytes(bytes(data))
    model = GPT(SHAPE, seed=99)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=f"altered or damaged: {entry['name']} has sha256"):
        load_checkpoint(tmp_path, model, make_optimizer(model, TrainConfig()))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("damage", [b"\x00garbage", b"", b'{"format_version": 2}', b"[1, 2]",
                                    "truncated"])
def test_a_damaged_manifest_is_named(tmp_path, damage):
    save(tmp_path, 1)
    text = (tmp_path / MANIFEST).read_bytes()
    (tmp_path / MANIFEST).write_bytes(text[:len(text) // 2] if damage == "truncated" else damage)
    with pytest.raises(ValueError, match=f"damaged {MANIFEST}"):
        loaded_state(tmp_path)


def test_a_missing_tensor_file_is_named(tmp_path):
    save(tmp_path, 1)
    name = json.loads((tmp_path / MANIFEST).read_text())["files"]["optimizer"]["name"]
    (tmp_path / name).unlink()
    with pytest.raises(FileNotFoundError, match=name):
        loaded_state(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        load_checkpoint(tmp_path / "empty", GPT(SHAPE))


def test_a_checkpoint_of_another_model_is_refused_with_what_differs(tmp_path):
    save(tmp_path / "gpt", 1)
    tmp_path, folder = tmp_path / "gpt", tmp_path
    wider = GPT(GPTConfig(vocab_size=64, block_size=8, n_layer=1, n_head=2, n_embd=16))
    with pytest.raises(ValueError, match=r"another config: n_embd=32 \(model: 16\)"):
        load_checkpoint(tmp_path, wider)
    with pytest.raises(ValueError, match="is of a GPT, not a Linear"):
        load_checkpoint(tmp_path, torch.nn.Linear(2, 2))
    linear = torch.nn.Linear(2, 2)
    write_checkpoint(folder / "linear", linear, torch.optim.SGD(linear.parameters()), {}, {})
    with pytest.raises(ValueError, match=r"other tensors: bias: float32 \[2\] \(model: float32"):
        read_checkpoint(folder / "linear", torch.nn.Linear(2, 3))
    model = GPT(SHAPE)
    with pytest.raises(ValueError, match="optimizer AdamW"):
        load_checkpoint(tmp_path, model, torch.optim.SGD(model.parameters()))
    with pytest.raises(ValueError, match="no state for generator 'eval'"):
        load_checkpoint(tmp_path, model, generators={"eval": torch.Generator()})


# --- what loading and saving tidy ----------------------------------------------------------------

def test_loading_tidies_what_killed_saves_left_but_not_a_save_in_progress(tmp_path):
    save(tmp_path, 1)
    stale = tmp_path / "model-0123456789ab.safetensors"  # a killed save's new, unreferenced file
    stale.write_bytes(b"x")
    dead = tmp_path / f".checkpoint.json{files.PARTIAL}999999999-ab12"
    dead.write_bytes(b"half a manifest")
    in_progress = files.partial_path(tmp_path / "save")  # this process, alive: saving
    in_progress.touch()
    assert loaded_state(tmp_path) == 1
    assert stale.exists() and not dead.exists()  # a live save's new files are left alone
    in_progress.unlink()
    assert loaded_state(tmp_path) == 1
    assert names(tmp_path) == referenced(tmp_path)


@pytest.mark.parametrize("failing_write", [1, 2, 3])  # the model file, the optimizer's, manifest
def test_a_failed_save_keeps_the_previous_checkpoint_and_leaves_nothing(tmp_path, monkeypatch,
                                                                         failing_write):
    save(tmp_path, 1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    calls = []
    write = files.write_atomically

    def fail_once(path, data):
        calls.append(path)
        if len(calls) == failing_write:
            raise OSError(errno.ENOSPC, f"could not write {path}: No space left on device")
        return write(path, data)

    monkeypatch.setattr(files, "write_atomically", fail_once)
    with pytest.raises(OSError, match="No space left"):
        save(tmp_path, 2)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert loaded_state(tmp_path) == 1


# --- kills ----------------------------------------------------------------------------------------

def _kill_trial(folder: Path, call: str, nth: int, when: str) -> tuple[int, bool, bool]:
    save(folder, 1)
    script = STATES + f"save({str(folder)!r}, 2)\n"
    code = run_killed_at(script, call, nth, when)
    # A call that fails (mkdir of a folder that exists) has no "after": the save then ends.
    assert code == -signal.SIGKILL or (code == 0 and when == "after")
    return (*check_after_a_kill(folder, {1, 2}), code != 0)


@pytest.mark.slow
def test_a_kill_just_before_or_after_any_file_system_call_leaves_the_old_or_the_new(tmp_path):
    probe = tmp_path / "probe"
    save(probe, 1)
    before_saving = count_calls(STATES)  # imports and set-up: not part of the save
    during = count_calls(STATES + f"save({str(probe)!r}, 2)\n")
    instants = [(call, nth, when) for call, n in sorted(during.items())
                for nth in range(before_saving.get(call, 0) + 1, n + 1)
                for when in ("before", "after")]
    assert {"open", "fsync", "replace", "unlink"} <= {call for call, _, _ in instants}
    with ThreadPoolExecutor(2) as pool:  # each trial is a fresh interpreter: mostly waiting
        results = list(pool.map(lambda args: _kill_trial(tmp_path / f"t{args[0]}", *args[1]),
                                enumerate(instants)))
    found = [step for step, _, _ in results]
    killed = sum(killed for _, _, killed in results)
    assert killed >= 30 and found.count(1) > 0 and found.count(2) > 0
    assert any(leftovers for _, leftovers, _ in results)  # some kills left files to tidy
    print(f"{killed} kills at {len(instants)} exact instants: state found old {found.count(1)}, "
          f"new {found.count(2)}; {sum(left for _, left, _ in results)} left files to tidy")


def _random_kills(folder: Path, seed: int, trials: int) -> list[tuple[int, bool]]:
    """Kill a child that saves states 1 and 2 in turn, `trials` times, at a random instant."""
    rng, results = random.Random(seed), []
    save(folder, 3)
    for _ in range(trials):
        # The child kills itself (SIGKILL: no clean-up runs) after a random delay counted from
        # its first save, wherever its saves have got to.
        script = STATES + (f"import os, signal, threading\nsave({str(folder)!r}, 1)\n"
                           f"threading.Timer({rng.uniform(0, 0.5)}, os.kill, "
                           f"(os.getpid(), signal.SIGKILL)).start()\nk = 1\n"
                           f"while True:\n    k += 1\n    save({str(folder)!r}, 1 + k % 2)\n")
        assert run_killed_after(script, 120) == -signal.SIGKILL
        results.append(check_after_a_kill(folder, {1, 2}))
    return results


@pytest.mark.slow
def test_kills_at_random_instants_while_saving_in_a_loop(tmp_path):
    with ThreadPoolExecutor(2) as pool:
        results = [r for rs in pool.map(lambda i: _random_kills(tmp_path / f"r{i}", i, 10),
                                        range(2)) for r in rs]
    found = [step for step, _ in results]
    assert len(results) == 20 and found.count(1) > 0 and found.count(2) > 0
    print(f"20 kills at random instants: state found old/new {found}; "
          f"{sum(left for _, left in results)} left files to tidy")


# --- full disks and read-only folders (root only: they mount a tmpfs or a read-only view) -------

def test_a_full_disk_is_an_os_error_naming_the_path_and_keeps_the_old_one(tmp_path, small_disk):
    save(tmp_path / "measure", 1)
    size = sum(p.stat().st_size for p in (tmp_path / "measure").iterdir())
    disk = small_disk(size + size // 2)  # room for one checkpoint, not for two at once
    save(disk / "run", 1)
    before = {p.name: p.read_bytes() for p in (disk / "run").iterdir()}
    with pytest.raises(OSError) as info:
        save(disk / "run", 2)
    assert info.value.errno == errno.ENOSPC and str(disk / "run") in str(info.value)
    assert "disk is full" in str(info.value)
    assert {p.name: p.read_bytes() for p in (disk / "run").iterdir()} == before
    assert loaded_state(disk / "run") == 1


def test_a_read_only_folder_loads_but_refuses_saves_and_training_before_a_step(
        tmp_path, read_only, monkeypatch):
    folder = tmp_path / "run"
    save(folder, 1)
    (folder / "model-0123456789ab.safetensors").write_bytes(b"left by a killed save")
    view = read_only(folder)
    assert loaded_state(view) == 1  # loading writes nothing (tidying waits)
    with pytest.raises(OSError) as info:
        save(view, 2)
    assert info.value.errno == errno.EROFS and str(view) in str(info.value)
    steps = []
    monkeypatch.setattr(training, "train_step", lambda *args: steps.append(1) or 1.0)
    data = torch.arange(64).repeat(4)
    config = TrainConfig(batch_size=2, num_steps=5, warmup_steps=0, checkpoint_dir=view,
                         progress=False)
    with pytest.raises(OSError, match="read-only"):
        training.train(GPT(SHAPE), data, data, config)
    assert steps == [] and loaded_state(view) == 1


# --- the manifest's own checksum, and what a manifest can hold ----------------------------------

def _edit_manifest(folder: Path, edit, digest: bool = False) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    edit(manifest)
    if digest:  # a consistent forgery: the checksum recomputed after the edit
        manifest["sha256"] = checkpoint._digest(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))


def _flip_generator_byte(manifest: dict) -> None:
    data = bytearray(base64.b64decode(manifest["generators"]["batches"]))
    data[100] ^= 0x01
    manifest["generators"]["batches"] = base64.b64encode(bytes(data)).decode()


@pytest.mark.parametrize("edit", [
    lambda m: m["optimizer"]["param_groups"][0].update(eps=0.5),
    lambda m: m["state"]["history"]["lr"].__setitem__(0, 0.2),
    lambda m: m["optimizer"]["param_groups"][0].update(params=[0] * 4),
    _flip_generator_byte,
], ids=["adamw eps", "history", "param indices", "generator state"])
def test_an_edited_manifest_is_refused_and_nothing_changes(tmp_path, edit):
    save(tmp_path, 1)
    _edit_manifest(tmp_path, edit)
    model = GPT(SHAPE, seed=99)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=f"altered or damaged: {MANIFEST} does not match its"):
        load_checkpoint(tmp_path, model, make_optimizer(model, TrainConfig()))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_a_manifest_of_format_2_cannot_be_verified_and_is_refused(tmp_path):
    save(tmp_path, 1)
    _edit_manifest(tmp_path, lambda m: (m.pop("sha256"), m.update(format_version=2)))
    with pytest.raises(ValueError, match="format 2, which has no sha256"):
        loaded_state(tmp_path)
    save(tmp_path, 2)  # a save replaces it
    assert loaded_state(tmp_path) == 2


def test_a_forged_manifest_naming_an_unknown_tensor_is_refused(tmp_path):
    save(tmp_path, 1)
    _edit_manifest(tmp_path, lambda m: m["model"]["tied"].update({"lm_head.weight": "x"}), True)
    with pytest.raises(ValueError, match="does not fit"):
        load_checkpoint(tmp_path, GPT(SHAPE))


def test_state_must_read_back_equal_from_json(tmp_path):
    linear = torch.nn.Linear(2, 2)
    sgd = torch.optim.SGD(linear.parameters(), lr=0.1)
    for state in ({1: 2}, {"betas": (0.9, 0.95)}, {"dir": tmp_path}, {"loss": float("nan")}):
        with pytest.raises(TypeError, match="state must hold plain JSON values"):
            write_checkpoint(tmp_path / "run", linear, sgd, {}, state)
    assert not (tmp_path / "run").exists()
    state = {"a": [1, 2.5, "x", None, True, {"b": []}]}
    write_checkpoint(tmp_path / "run", linear, sgd, {}, state)
    assert read_checkpoint(tmp_path / "run", linear) == state


def test_moments_of_other_parameters_are_refused_before_anything_changes(tmp_path):
    linear = torch.nn.Linear(3, 2)
    saved = torch.optim.AdamW([{"params": [linear.weight]}, {"params": [linear.bias]}])
    linear(torch.ones(1, 3)).sum().backward()
    saved.step()
    write_checkpoint(tmp_path, linear, saved, {}, {})
    swapped = torch.optim.AdamW([{"params": [linear.bias]}, {"params": [linear.weight]}])
    with pytest.raises(ValueError, match=r"does not fit: its optimizer state '[01]\.exp_avg\w*' has shape"):
        read_checkpoint(tmp_path, linear, swapped)
    assert not swapped.state


def test_an_optimizer_whose_state_is_not_tensors_is_refused_at_save(tmp_path):
    linear = torch.nn.Linear(2, 2)
    lbfgs = torch.optim.LBFGS(linear.parameters())
    lbfgs.step(lambda: linear(torch.ones(1, 2)).sum().backward() or torch.tensor(1.0))
    with pytest.raises(ValueError, match="LBFGS keeps its state"):
        write_checkpoint(tmp_path / "run", linear, lbfgs, {}, {})
    assert not (tmp_path / "run").exists()


def test_os_errors_name_the_path_once(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_checkpoint(tmp_path / "missing", GPT(SHAPE))
    assert str(info.value).count(str(tmp_path / "missing")) == 1


# --- a snapshot: more of the model's tensors, kept beside it ------------------------------------

def test_a_snapshot_is_saved_checked_and_given_back(tmp_path):
    model = GPT(SHAPE, seed=0)
    optimizer = make_optimizer(model, TrainConfig())
    snapshot = {name: t + 1 for name, t in GPT(SHAPE, seed=1).state_dict().items()}
    write_checkpoint(tmp_path, model, optimizer, {}, {"step": 1}, snapshot)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["model", "optimizer", "snapshot"]
    assert names(tmp_path) == referenced(tmp_path)
    back = {"stale": torch.zeros(1)}
    read_checkpoint(tmp_path, GPT(SHAPE), snapshot=back)
    assert back.keys() == snapshot.keys()
    assert all(torch.equal(back[name], t) for name, t in snapshot.items())
    write_checkpoint(tmp_path, model, optimizer, {}, {"step": 2})  # none: the old one goes
    assert names(tmp_path) == referenced(tmp_path) and len(names(tmp_path)) == 3
    read_checkpoint(tmp_path, GPT(SHAPE), snapshot=back)
    assert back == {}


def test_a_damaged_or_misshapen_snapshot_is_refused(tmp_path):
    model = GPT(SHAPE, seed=0)
    optimizer = make_optimizer(model, TrainConfig())
    with pytest.raises(ValueError, match="snapshot\\['lm_head.weight'\\]"):
        write_checkpoint(tmp_path, model, optimizer, {}, {}, {"lm_head.weight": torch.zeros(2)})
    write_checkpoint(tmp_path, model, optimizer, {}, {}, dict(model.state_dict()))
    entry = json.loads((tmp_path / MANIFEST).read_text())["files"]["snapshot"]
    data = bytearray((tmp_path / entry["name"]).read_bytes())
    data[-5] ^= 0x01
    (tmp_path / entry["name"]).write_bytes(bytes(data))
    target, kept = GPT(SHAPE, seed=99), {}
    before = [p.clone() for p in target.parameters()]
    with pytest.raises(ValueError, match=f"altered or damaged: {entry['name']}"):
        read_checkpoint(tmp_path, target, snapshot=kept)
    assert kept == {} and all(torch.equal(a, b) for a, b in zip(before, target.parameters()))
    read_checkpoint(tmp_path, GPT(SHAPE))  # without a snapshot asked for, it is not read
