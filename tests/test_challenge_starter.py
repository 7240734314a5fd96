"""instructors/challenge/train.py, the challenge's starter: a tiny run writes a whole submission.

The run is the starter's own, in a subprocess (it sets 2 threads for itself), with a tiny model
and 3 steps; the folder it writes must load with the course's classes and hold an honest claim.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_model

from course_utils.model import GPT, GPTConfig
from course_utils.tokenization import BPETokenizer

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT / "instructors" / "challenge" / "train.py"
TINY = ["--vocab-size", "512", "--block-size", "64", "--n-layer", "1", "--n-head", "2",
        "--n-embd", "32", "--batch-size", "4", "--steps", "3"]


def run_starter(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, str(STARTER), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_tiny_run_writes_a_submission_that_loads_with_an_honest_claim(tmp_path):
    out = tmp_path / "ours"
    done = run_starter(*TINY, "--team", "tiny", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "bpe_tokenizer.json", "claim.json", "config.json", "model.safetensors"]

    config = GPTConfig(**json.loads((out / "config.json").read_text("utf-8"))["model"])
    assert (config.vocab_size, config.block_size, config.n_layer, config.n_embd) == (
        512, 64, 1, 32)
    model = GPT(config)
    missing, unexpected = load_model(model, str(out / "model.safetensors"))  # strict: all
    assert not missing and not unexpected
    tokenizer = BPETokenizer.load(out)
    assert tokenizer.vocab_size == 512
    text = "床前明月光，疑是地上霜。\n"
    assert tokenizer.decode(tokenizer.encode_ordinary(text)) == text

    claim = json.loads((out / "claim.json").read_text("utf-8"))
    train_bytes = (ROOT / "data" / "poetry_zh" / "train.txt").read_bytes()
    assert claim["train_sha256"] == hashlib.sha256(train_bytes).hexdigest()
    assert (claim["team"], claim["steps"], claim["batch_size"], claim["block_size"],
            claim["threads"]) == ("tiny", 3, 4, 64, 2)
    assert claim["parameters"] == model.num_parameters()
    assert 0 < claim["training_seconds"] <= 600
    assert claim["hardware"].endswith("2 threads")
    with torch.no_grad():  # the saved weights are a trained model's, not the initial ones
        assert not torch.equal(model.lm_head.weight, GPT(config).lm_head.weight)
    assert "bits per byte" in done.stdout  # the closing report on the validation text


def test_it_refuses_an_out_folder_that_holds_files(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "notes.txt").write_text("mine", "utf-8")
    done = run_starter(*TINY, "--out", str(tmp_path / "old"), cwd=tmp_path)
    assert done.returncode == 2 and "not empty" in done.stderr
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == ["notes.txt"]


def test_it_refuses_a_budget_over_ten_minutes(tmp_path):
    done = run_starter(*TINY, "--minutes", "11", "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert done.returncode == 2 and "--minutes" in done.stderr
    assert not (tmp_path / "x").exists()
