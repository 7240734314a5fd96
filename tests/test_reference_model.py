"""The shipped reference model: intact, small, loadable offline by transformers and by the
course's own classes, with a tokenizer that gives the same ids both ways."""

from __future__ import annotations

import json

import pytest
import torch

from course_utils.data import load_corpus, reference_model_path
from course_utils.model import GPT
from course_utils.tokenization import BPETokenizer
from course_utils.metrics import bits_per_byte, text_loss

MAX_MB = 25


@pytest.fixture(scope="module")
def path():
    return reference_model_path()


def test_the_model_directory_is_small(path):
    size = sum(f.stat().st_size for f in path.iterdir())
    assert size <= MAX_MB * 2**20, f"{size / 2**20:.1f} MB"


def test_transformers_loads_it_offline_with_the_same_tokenizer(path):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    model = GPT2LMHeadModel.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    course_tokenizer = BPETokenizer.load(path)
    text = load_corpus("shakespeare", split="val")[:20_000]
    assert tokenizer.encode(text) == course_tokenizer.encode(text)
    assert model.config.vocab_size == course_tokenizer.vocab_size
    ours = GPT.from_hf(model)
    idx = torch.tensor([course_tokenizer.encode(text)[: model.config.n_positions]])
    with torch.no_grad():
        assert torch.allclose(ours(idx), model(idx).logits, atol=1e-5)


@pytest.mark.slow
def test_the_model_card_reports_what_the_model_does(path):
    from transformers import GPT2LMHeadModel

    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    model = GPT.from_hf(GPT2LMHeadModel.from_pretrained(path))
    tokenizer = BPETokenizer.load(path)
    val_text = load_corpus("shakespeare", split="val")
    val_ids = torch.tensor(tokenizer.encode(val_text))
    loss = text_loss(model, val_ids, model.config.block_size, stride=64)
    assert loss == pytest.approx(metrics["val_loss"], abs=1e-3)
    bpb = bits_per_byte(loss, len(val_ids), len(val_text.encode("utf-8")))
    assert bpb == pytest.approx(metrics["val_bits_per_byte"], abs=1e-3)
    card = (path / "README.md").read_text(encoding="utf-8")
    assert f"{metrics['val_bits_per_byte']:.4f}" in card


def test_the_export_writes_every_file_with_the_usual_permissions_and_sums_last(tmp_path):
    import hashlib
    import importlib.util
    import os
    import stat

    from transformers import GPT2LMHeadModel

    from course_utils.data import DATA_DIR, SUMS_FILE
    from course_utils.model import GPTConfig

    spec = importlib.util.spec_from_file_location("train_reference",
                                                  DATA_DIR / "train_reference.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = load_corpus("shakespeare", split="val")[:5_000]
    tokenizer = BPETokenizer.train(text, vocab_size=300, progress=False)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=16, n_layer=1, n_head=2,
                          n_embd=16))
    metrics = {"val_loss": 5.0, "val_bits_per_byte": 3.0, "val_tokens": 10, "val_bytes": 20,
               "train_tokens": 30, "parameters": model.num_parameters(), "steps": 1,
               "wall_time_s": 1.0, "hardware": "CPU", "last_eval_val_loss": 5.1}
    out = tmp_path / "model"
    out.mkdir()
    (out / "left-from-an-older-export.bin").write_bytes(b"old")
    umask = os.umask(0o022)
    try:
        script.export(out, model, tokenizer, metrics)
    finally:
        os.umask(umask)
    written = sorted(p.name for p in out.iterdir())
    assert SUMS_FILE in written and "left-from-an-older-export.bin" not in written
    assert all(stat.S_IMODE((out / name).stat().st_mode) == 0o644 for name in written)
    sums = dict(reversed(line.split("  ")) for line in
                (out / SUMS_FILE).read_text().splitlines())
    assert sorted(sums) == sorted(set(written) - {SUMS_FILE})
    assert all(hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
               for name, digest in sums.items())
    assert BPETokenizer.load(out).merges == tokenizer.merges
    assert GPT2LMHeadModel.from_pretrained(out).config.n_embd == 16


def test_the_script_writes_the_shipped_model_cards_results_use_and_limitations(path):
    # Retraining must not bring back an older card: from "## Results" on, the script's card for
    # the shipped metrics is the shipped card (the training lines above it record the run).
    import importlib.util

    from course_utils.data import DATA_DIR

    spec = importlib.util.spec_from_file_location("train_reference",
                                                  DATA_DIR / "train_reference.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    written = script.model_card(metrics, script.MODEL, script.TRAINING)
    shipped = (path / "README.md").read_text(encoding="utf-8")
    section = written.index("## Results")
    assert written[section:].strip() == shipped[shipped.index("## Results"):].strip()
    assert "at least 65 tokens of context" in shipped and "## Limitations" in shipped
