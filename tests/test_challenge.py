"""course_utils.challenge: scoring (checked against transformers), refusals, flags, the board.

Submissions are fabricated in tmp_path: a tiny GPT and a tiny BPE tokenizer trained on a few
poems; scoring uses short slices of the poems so that every test is quick."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from safetensors.torch import save_model

from course_utils import challenge
from course_utils.challenge import Result, leaderboard, score_submission
from course_utils.challenge_submission import TRAIN_SHA256, Refused, read_claim
from course_utils.challenge_texts import held_out_text, training_slice
from course_utils.data import DATA_DIR, load_corpus
from course_utils.model import GPT, GPTConfig
from course_utils.optim import get_batch, train_step
from course_utils.tokenization import BPETokenizer
from course_utils.tokenizer_file import write_tokenizer
from course_utils.train_config import TrainConfig
from course_utils.training import make_optimizer

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py

VAL, TRAIN = load_corpus("poetry_zh", "val"), load_corpus("poetry_zh", "train")
VAL_SLICE = "\n\n".join(VAL.split("\n\n")[1:9]) + "\n"  # 8 poems, about 1,600 bytes
TRAIN_SLICE = "\n\n".join(TRAIN.split("\n\n")[-60:])  # the last 60 poems, ending in "\n"
TINY = dict(block_size=32, n_layer=1, n_head=2, n_embd=16)


@pytest.fixture(scope="module")
def tokenizer():
    return BPETokenizer.train(TRAIN_SLICE, vocab_size=300, progress=False)


def claim(model, **overrides):
    return {"team": "tiny", "parameters": model.num_parameters(), "training_seconds": 590.0,
            "threads": 2, "steps": 10, "batch_size": 4, "block_size": model.config.block_size,
            "train_sha256": TRAIN_SHA256, "hardware": "test", **overrides}


def submit(folder, tokenizer, model=None, *, config=None, **claimed):
    """Write a submission of `model` (default: a random tiny GPT) into `folder`."""
    model = model or GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **TINY), seed=1)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / "model.safetensors"))
    tokenizer.save(folder)
    config = config or {"model": dataclasses.asdict(model.config)}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "claim.json").write_text(json.dumps(claim(model, **claimed)), encoding="utf-8")
    return folder


def score(folder, **kwargs):
    kwargs.setdefault("time_claim", False)
    return score_submission(folder, val_text=VAL_SLICE, train_text=TRAIN_SLICE, **kwargs)


def test_the_challenge_trains_on_the_course_split():
    sums = (DATA_DIR / "SHA256SUMS").read_text(encoding="utf-8")
    assert f"{TRAIN_SHA256}  poetry_zh/train.txt" in sums


def test_the_near_copy_of_a_training_poem_is_not_scored():
    text, dropped = held_out_text(VAL, TRAIN)
    assert dropped == ["《点绛唇》汪藻"]  # 《点绛唇》苏过 in train, one character changed
    assert text.count("\n\n") == VAL.count("\n\n") - 1 and "《点绛唇》汪藻\n新月" not in text
    assert held_out_text(VAL_SLICE, TRAIN) == (VAL_SLICE, [])
    poems, all_poems = training_slice(TRAIN, 10**5).strip().split("\n\n"), TRAIN.split("\n\n")
    assert len("\n\n".join(poems).encode()) > 10**5 and len(set(poems)) == len(poems)
    head = set(all_poems[:len(all_poems) * 9 // 10])  # never the last tenth: a run's own check
    assert all(poem in head for poem in poems)


def test_a_submission_scores_what_transformers_computes(tmp_path, tokenizer):
    # One window: a text shorter than block_size, so every token is predicted from all before it
    text = VAL_SLICE.split("\n\n")[0][:20] + "\n"
    ids = tokenizer.encode(text)
    assert 2 < len(ids) <= 64
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=64, n_layer=2, n_head=2,
                          n_embd=16), seed=3)
    result = score_submission(submit(tmp_path / "s", tokenizer, model), val_text=text,
                              train_text=TRAIN_SLICE, time_claim=False)
    assert result.refused is None and result.flags == [], result
    hf = model.to_hf().double().eval()
    with torch.no_grad():
        loss = hf(torch.tensor([ids]), labels=torch.tensor([ids])).loss.item()  # mean of n - 1
    num_bytes = len(text.encode()) - len(tokenizer.decode_bytes(ids[:1]))
    expected = loss * (len(ids) - 1) / num_bytes / math.log(2)
    assert result.bits_per_byte == pytest.approx(expected, rel=1e-5)
    assert (result.num_tokens, result.num_bytes) == (len(ids), num_bytes)
    assert result.parameters == model.num_parameters()


def test_a_random_model_scores_about_log2_vocab_per_token(tmp_path, tokenizer):
    result = score(submit(tmp_path / "s", tokenizer))
    per_token = result.bits_per_byte * result.num_bytes / (result.num_tokens - 1)
    assert per_token == pytest.approx(math.log2(tokenizer.vocab_size), rel=0.02)
    assert result.train_bits_per_byte is not None and not result.flags


@pytest.mark.parametrize("name", ["model.pt", "extra/optimizer.bin", "x.PKL"])
def test_a_pickle_anywhere_is_refused(tmp_path, tokenizer, name):
    folder = submit(tmp_path / "s", tokenizer)
    (folder / name).parent.mkdir(exist_ok=True)
    torch.save({"w": torch.zeros(1)}, folder / name)
    result = score(folder)
    assert "pickle" in result.refused and result.bits_per_byte is None


def test_a_model_file_that_is_not_safetensors_is_refused(tmp_path, tokenizer):
    folder = submit(tmp_path / "s", tokenizer)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **TINY))
    torch.save(model.state_dict(), folder / "model.safetensors")  # a zip of pickles
    assert "not a safetensors file" in score(folder).refused
    (folder / "model.safetensors").write_bytes(b"\x08" + b"\x00" * 7 + b"[1,2,3]!")
    assert "not a safetensors file" in score(folder).refused


def test_weights_that_are_not_the_configs_gpt_are_refused(tmp_path, tokenizer):
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **TINY))
    wider = {"model": {**dataclasses.asdict(model.config), "n_embd": 32}}
    assert "needs F32" in score(
        submit(tmp_path / "a", tokenizer, model, config=wider)).refused
    deeper = {"model": {**dataclasses.asdict(model.config), "n_layer": 2}}
    assert "missing ['transformer.h.1." in score(
        submit(tmp_path / "b", tokenizer, model, config=deeper)).refused
    odd = {"model": {**dataclasses.asdict(model.config), "n_head": 3}}
    assert "not divisible" in score(submit(tmp_path / "c", tokenizer, model, config=odd)).refused
    extra = {"model": {**dataclasses.asdict(model.config), "rope": True}}
    assert "config.json must be" in score(
        submit(tmp_path / "d", tokenizer, model, config=extra)).refused


def test_tied_weights_stored_twice_must_agree(tmp_path, tokenizer):
    from safetensors.torch import save_file

    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **TINY))
    folder = submit(tmp_path / "s", tokenizer, model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    save_file(state, folder / "model.safetensors")
    assert score(folder).refused is None
    state["lm_head.weight"] += 1
    save_file(state, folder / "model.safetensors")
    assert "tied" in score(folder).refused


def test_a_lying_parameter_count_is_flagged(tmp_path, tokenizer):
    result = score(submit(tmp_path / "s", tokenizer, parameters=1000))
    assert result.refused is None and len(result.flags) == 1
    assert "claims 1,000 parameters" in result.flags[0]


@pytest.mark.parametrize("claimed, reason", [
    ({"training_seconds": 601}, "over the budget"), ({"threads": 4}, "over the budget"),
    ({"train_sha256": "0" * 64}, "train_sha256"), ({"steps": 0}, "steps must be"),
    ({"training_seconds": "fast"}, "training_seconds must be"),
    ({"block_size": 33}, "exceeds the model's 32")])
def test_claims_beyond_the_rules_are_refused(tmp_path, tokenizer, claimed, reason):
    assert reason in score(submit(tmp_path / "s", tokenizer, **claimed)).refused


def test_an_implausibly_fast_claim_is_flagged(tmp_path, tokenizer):
    honest = score(submit(tmp_path / "a", tokenizer, steps=2, training_seconds=600),
                   time_claim=True)
    assert honest.flags == [] and 0 < honest.estimated_seconds < 600
    fast = score(submit(tmp_path / "b", tokenizer, steps=10**7, training_seconds=60),
                 time_claim=True)
    assert fast.refused is None and "implausible" in fast.flags[0]
    assert fast.estimated_seconds > 3 * 60


def test_a_lossy_tokenizer_is_refused(tmp_path, tokenizer, monkeypatch):
    # The course's tokenizer is lossless by construction: it refuses what it cannot encode ...
    folder = submit(tmp_path / "s", tokenizer)
    vocab = {i: token for i, token in tokenizer.vocab.items() if token != b"\n"}
    write_tokenizer(folder, vocab, tokenizer.merges, tokenizer.special_tokens, tokenizer.pattern)
    assert "cannot encode the validation text" in score(folder).refused
    # ... and the scorer checks the round trip all the same: a decode that loses a character
    folder = submit(tmp_path / "t", tokenizer)
    decode = BPETokenizer.decode
    monkeypatch.setattr(BPETokenizer, "decode", lambda self, ids: decode(self, ids)[1:])
    assert "does not give the validation text back" in score(folder).refused


def test_ids_beyond_the_models_vocab_are_refused(tmp_path, tokenizer):
    model = GPT(GPTConfig(vocab_size=260, **TINY))
    assert "below the model's vocab_size=260" in score(
        submit(tmp_path / "s", tokenizer, model)).refused


def trained(tokenizer, text, steps=150):
    """A tiny GPT trained on `text` only."""
    data = torch.tensor(tokenizer.encode(text))
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **TINY), seed=0)
    optimizer = make_optimizer(model, TrainConfig(lr=1e-2))
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x, y = get_batch(data, 16, 32, generator=generator)
        train_step(model, optimizer, x, y, lr=1e-2, grad_clip=1.0)
    return model


def test_a_model_trained_on_the_validation_text_is_flagged(tmp_path, tokenizer):
    cheat = score(submit(tmp_path / "cheat", tokenizer, trained(tokenizer, VAL_SLICE)))
    assert cheat.refused is None and any("trained on the validation" in f for f in cheat.flags)
    assert cheat.bits_per_byte < 0.9 * cheat.train_bits_per_byte
    honest = score(submit(tmp_path / "honest", tokenizer, trained(tokenizer, TRAIN_SLICE)))
    assert honest.flags == [] and honest.bits_per_byte > cheat.bits_per_byte


def test_a_tokenizer_trained_on_the_validation_text_is_flagged(tmp_path):
    packed = BPETokenizer.train(VAL_SLICE, vocab_size=400, progress=False)
    result = score(submit(tmp_path / "s", packed))
    assert any("merges learnt from the validation text" in f for f in result.flags)


def test_the_board_ranks_by_bits_per_byte_and_lists_flags_and_refusals():
    results = [Result("c", "C", bits_per_byte=3.0, flags=["odd"]),
               Result("x", "X", refused="pickle"),
               Result("a", "A", bits_per_byte=2.0, baseline=True),
               Result("b", "B", bits_per_byte=2.5)]
    lines = leaderboard(results).splitlines()
    assert [line.split()[:2] for line in lines[1:4]] == [["1", "A"], ["2", "B"], ["3", "C"]]
    assert "A *" in lines[1] and "C !" in lines[3]
    assert "! C: odd" in lines and "refused: X (x): pickle" in lines
    assert "* the course's baseline" in lines
    assert "not on the board" in leaderboard(results[:2])


def test_the_command_line_prints_the_board(tmp_path, tokenizer, monkeypatch, capsys):
    monkeypatch.setattr(challenge, "course_texts", lambda: (VAL_SLICE, TRAIN_SLICE))
    monkeypatch.setattr(challenge, "BASELINE_DIR", submit(tmp_path / "baseline", tokenizer))
    folder = submit(tmp_path / "team", tokenizer, team="poets")
    assert challenge.main([str(folder), "--no-timing"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out[1:3]] == ["poets", "tiny"]  # equal: by name
    assert "* the course's baseline" in out


def test_a_claim_missing_a_field_is_refused(tmp_path, tokenizer):
    folder = submit(tmp_path / "s", tokenizer)
    (folder / "claim.json").write_text('{"team": "t"}', encoding="utf-8")
    with pytest.raises(Refused, match="lacks parameters, training_seconds"):
        read_claim(folder)


def test_the_courses_baseline_is_a_valid_submission():
    # A fifth of the validation poems: on fewer, bytes per token vary by several percent
    val = "\n\n".join(VAL.split("\n\n")[:120]) + "\n"
    result = score_submission(challenge.BASELINE_DIR, val_text=val, train_text=TRAIN,
                              time_claim=False)
    assert result.baseline and result.refused is None, result.refused
    assert result.team == "baseline" and not result.flags, result.flags


def test_a_half_precision_model_is_refused(tmp_path, tokenizer):
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **TINY)).half()
    assert "is F16" in score(submit(tmp_path / "s", tokenizer, model)).refused


@pytest.mark.parametrize("team", ["", "x" * 41, "two\nlines"])
def test_a_team_name_must_fit_on_the_board(tmp_path, tokenizer, team):
    assert "1-40 printable characters" in score(submit(tmp_path / "s", tokenizer,
                                                       team=team)).refused
