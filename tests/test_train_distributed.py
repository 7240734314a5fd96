"""data/train_reference.py under torchrun: 2 processes (gloo, CPU) make the steps of 1 process.

The script runs, through its own main(), on a tiny model: once alone, once as 2 processes sharing
each global batch of 8 sequences, and once interrupted and resumed by 2 processes. The weights it
exports and the losses it logs must agree to float rounding. Dropout is 0 here: each process
draws the masks of its share from its own generator, which cannot give the masks one process
draws for the whole batch (see course_utils.distributed). Measured, 1 vs 2 processes: weights
differ by at most 5.3e-7, logged losses by 2.4e-7 (float32 rounding: DDP sums the gradient of two
halves); resumed by 2 processes, weights differ from 1 uninterrupted process by 1.6e-7. The test
allows 1e-5, about 20 times the largest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_utils import distributed

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "data" / "train_reference.py"
TOLERANCE = 1e-5

# The script with a tiny model and no dropout. Each process must train on its share of the
# global batch of 8; in a process other than 0, writing a checkpoint or exporting fails the run.
TINY = f"""
import dataclasses, importlib.util, os, sys
spec = importlib.util.spec_from_file_location("train_reference", {str(SCRIPT)!r})
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
script.VOCAB_SIZE = 300
script.MODEL = dataclasses.replace(script.MODEL, vocab_size=300, n_layer=1, n_head=2,
                                   n_embd=32, dropout=0.0)
script.TRAINING = dataclasses.replace(script.TRAINING, eval_batches=2)
if os.environ.get("STOP_AFTER"):  # an interrupted run: its checkpoint after that many steps
    import functools
    script.train = functools.partial(script.train, stop_after=int(os.environ["STOP_AFTER"]))
import course_utils.training
step = course_utils.training.train_step
def train_step_on_a_share(model, optimizer, x, y, *args):  # each process: its 8 / N rows
    assert len(x) == 8 // int(os.environ.get("WORLD_SIZE", "1")), x.shape
    return step(model, optimizer, x, y, *args)
course_utils.training.train_step = train_step_on_a_share
if os.environ.get("RANK", "0") != "0":
    def forbidden(*args, **kwargs):
        raise AssertionError("a process other than 0 wrote " + repr(args[:1]))
    script.export = course_utils.training.save_checkpoint = forbidden
sys.exit(script.main())
"""


def run(tmp_path: Path, name: str, processes: int, *extra: str, checkpoint: str | None = None,
        stop_after: int | None = None) -> subprocess.CompletedProcess:
    wrapper = tmp_path / "tiny_train.py"
    wrapper.write_text(TINY, encoding="utf-8")
    launcher = ([sys.executable] if processes == 1 else
                [sys.executable, "-m", "torch.distributed.run", "--standalone",
                 f"--nproc_per_node={processes}"])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                       os.environ.get("PYTHONPATH")])),
           "STOP_AFTER": str(stop_after or "")}
    done = subprocess.run(
        [*launcher, str(wrapper), "--steps", "4", "--batch-size", "8", "--device", "cpu",
         "--threads", "1", "--out", str(tmp_path / name),
         "--checkpoint-dir", str(tmp_path / f"{checkpoint or name}-checkpoint"), *extra],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-1000:]
    return done


def weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def logged_losses(folder: Path) -> list[float]:
    """The run's losses as its last checkpoint recorded them: every step's, then evaluations."""
    manifest = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))
    history = manifest["state"]["history"]
    return history["train_loss"] + history["val_loss"] + history["train_eval_loss"]


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> tuple[Path, str]:
    """The folder where one process ran (4 steps, batch 8), and what it printed."""
    folder = tmp_path_factory.mktemp("alone")
    return folder, run(folder, "one", 1).stdout


@pytest.mark.slow
def test_two_processes_make_the_steps_of_one_on_the_same_global_batch(tmp_path, alone):
    (tmp_path / "one").symlink_to(alone[0] / "one")
    (tmp_path / "one-checkpoint").symlink_to(alone[0] / "one-checkpoint")
    one, two = alone[1], run(tmp_path, "two", 2).stdout
    # Process 0 alone printed: the metrics once (process 1 would have failed had it written).
    assert two.count('"val_bits_per_byte"') == 1 == one.count('"val_bits_per_byte"')
    alone, shared = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert alone.keys() == shared.keys()
    largest = max((alone[k] - shared[k]).abs().max().item() for k in alone)
    print(f"largest weight difference, 1 vs 2 processes: {largest:.3g}")
    assert largest <= TOLERANCE
    losses = logged_losses(tmp_path / "one-checkpoint"), logged_losses(tmp_path / "two-checkpoint")
    assert len(losses[0]) == len(losses[1]) == 4 + 2 + 2
    print("largest loss difference:", max(abs(a - b) for a, b in zip(*losses)))
    assert losses[1] == pytest.approx(losses[0], rel=TOLERANCE)
    metrics = [json.loads((tmp_path / name / "metrics.json").read_text(encoding="utf-8"))
               for name in ("one", "two")]
    assert metrics[1]["val_loss"] == pytest.approx(metrics[0]["val_loss"], rel=TOLERANCE)
    assert metrics[1]["hardware"].startswith("2 × CPU")


def test_a_global_batch_that_does_not_split_evenly_is_refused_with_the_fix():
    assert distributed.local_batch_size(32, processes=4) == 8
    with pytest.raises(ValueError, match=r"--batch-size=30 .* 4 processes; use a multiple of 4 "
                                         r"\(e\.g\. 32 or 28\)"):
        distributed.local_batch_size(30, processes=4, name="--batch-size")
    with pytest.raises(ValueError, match=r"batch_size=3 .* multiple of 4 \(e\.g\. 4\)"):
        distributed.local_batch_size(3, processes=4)
    with pytest.raises(ValueError, match="batch_size"):
        distributed.local_batch_size(0, processes=2)
    with pytest.raises(ValueError, match="multiple of 2"):
        distributed.share(torch.arange(5), rank=0, processes=2)
    with pytest.raises(ValueError, match="rank"):
        distributed.share(torch.arange(4), rank=2, processes=2)


def test_the_script_refuses_an_uneven_global_batch_before_joining_the_others(tmp_path):
    # As torchrun would start process 0 of 3: the refusal comes before the process group (none
    # could form: no other process, no address), as a usage error with the fix, no traceback.
    env = {**os.environ, "WORLD_SIZE": "3", "RANK": "0", "LOCAL_RANK": "0",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(SCRIPT), "--batch-size", "32", "--device", "cpu",
                           "--out", str(tmp_path / "out"), "--checkpoint-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert ("error: --batch-size=32 (the global batch) does not split evenly over 3 processes; "
            "use a multiple of 3 (e.g. 33 or 30)") in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_the_shares_of_every_process_make_the_whole_batch_in_order():
    batch = torch.arange(24).reshape(12, 2)
    shares = [distributed.share(batch, rank=r, processes=3) for r in range(3)]
    assert torch.equal(torch.cat(shares), batch)
    assert all(len(s) == 4 for s in shares)


def test_alone_nothing_changes():
    batch = torch.arange(6)
    assert distributed.world_size() == 1 and distributed.rank() == 0 and distributed.is_main()
    assert distributed.share(batch) is batch and distributed.mean(1.25) == 1.25
    assert distributed.start("cpu") == "cpu"  # not launched by torchrun: no process group


@pytest.mark.slow
def test_two_processes_resume_from_the_checkpoint_of_an_interrupted_run(tmp_path, alone):
    # Interrupted after 2 of 4 steps, then resumed by 2 processes that both read its checkpoint:
    # the weights of one uninterrupted process.
    run(tmp_path, "half", 1, stop_after=2)
    run(tmp_path, "resumed", 2, "--resume", checkpoint="half")
    one, resumed = weights(alone[0] / "one"), weights(tmp_path / "resumed")
    largest = max((one[k] - resumed[k]).abs().max().item() for k in one)
    print(f"largest weight difference, 1 process vs resumed by 2: {largest:.3g}")
    assert largest <= TOLERANCE
    assert not all(torch.equal(one[k], weights(tmp_path / "half")[k]) for k in one)
