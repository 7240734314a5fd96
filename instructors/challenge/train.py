"""Starter for the class challenge: the lowest bits per byte on the validation poems after at most
10 minutes of training on 2 CPU cores. Copy this file, improve it, submit the folder it writes.

    python instructors/challenge/train.py --team "our team" --out submissions/our-team

It trains the course's byte-level BPE tokenizer and a course GPT on data/poetry_zh/train.txt
only, with the course's own training step (course_utils.training), and writes a submission
folder (model.safetensors, config.json, bpe_tokenizer.json, claim.json; see README.md).

What counts as training time: everything from reading the training text to the last optimizer
step (tokenizer training, tokenizing, model training, the progress evaluations on a held-out
slice of the TRAINING text). Not counted: importing libraries, the final estimate on the
validation text (a report only; the validation text never reaches the model or the tokenizer
before training ends) and writing the folder. The run stops at --steps or when the next step
would pass the budget, whichever comes first; the learning-rate schedule ends at --steps.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
from safetensors.torch import save_model

from course_utils.data import load_corpus
from course_utils.metrics import bits_per_byte, text_loss
from course_utils.model import GPT, GPTConfig
from course_utils.tokenization import BPETokenizer
from course_utils.training import (TrainConfig, evaluate, get_batch, lr_at, make_optimizer,
                                   train_step)

THREADS = 2  # the challenge's limit: torch.set_num_threads(2)
BUDGET_SECONDS = 600.0  # 10 minutes of training, as defined in the docstring
SEED = 0
# 2,048 tokens: 256 bytes + 1,791 merges + <|endoftext|>. A Chinese character is 3 UTF-8 bytes;
# 1,161 frequent characters become one token each, and 327 tokens are two or more characters
# (2.78 bytes per token on train.txt).
VOCAB_SIZE = 2048
# 2,800 steps of 16 × 128 tokens see the training text about 12 times: dropout against overfitting
MODEL = GPTConfig(vocab_size=VOCAB_SIZE, block_size=128, n_layer=4, n_head=4, n_embd=128,
                  dropout=0.1)
# 2,800 steps: sized to end inside the budget on 2 idle cores of the course's machine (a step took
# 0.19 s there); on a slower machine the run stops at the budget: time a few steps, lower --steps.
TRAINING = TrainConfig(batch_size=16, num_steps=2800, lr=3e-3, min_lr=3e-4, warmup_steps=100,
                       weight_decay=0.1, grad_clip=1.0, eval_interval=100, eval_batches=4,
                       seed=SEED, progress=False)
DEV_FRACTION = 0.02  # the last 2% of the training poems: a held-out check during training


def cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def split_dev(text: str, fraction: float) -> tuple[str, str]:
    """(train, dev): the dev part is the last `fraction` of the text, cut at a poem boundary."""
    cut = text.rfind("\n\n", 0, int(len(text) * (1 - fraction)))
    return text[:cut + 2], text[cut + 2:]


def run(model_config: GPTConfig, config: TrainConfig, *, budget: float, team: str,
        out: Path) -> dict:
    """Train within `budget` seconds, write the submission folder `out`, return the claim."""
    torch.set_num_threads(THREADS)
    torch.manual_seed(SEED)  # dropout draws from the global generator
    start = time.perf_counter()  # the clock starts before the training text is read

    text = load_corpus("poetry_zh", "train")
    tokenizer = BPETokenizer.train(text, vocab_size=model_config.vocab_size, progress=False)
    train_text, dev_text = split_dev(text, DEV_FRACTION)
    train_ids = torch.tensor(tokenizer.encode_ordinary(train_text))
    dev_ids = torch.tensor(tokenizer.encode_ordinary(dev_text))
    print(f"tokenizer: {tokenizer.vocab_size} tokens, {len(train_ids):,} training tokens "
          f"({len(text.encode()) / (len(train_ids) + len(dev_ids)):.2f} bytes/token), "
          f"{time.perf_counter() - start:.1f} s", flush=True)

    model = GPT(model_config, seed=SEED)
    optimizer = make_optimizer(model, config)
    block_size = config.block_size or model_config.block_size
    batches = torch.Generator().manual_seed(SEED)  # the training batches
    dev_batches = torch.Generator().manual_seed(SEED + 1)  # the dev batches: never shift them
    steps, last_step_seconds = 0, 0.0
    for step in range(config.num_steps):
        elapsed = time.perf_counter() - start
        if elapsed + last_step_seconds > budget:  # the next step would end past the budget
            print(f"budget reached after {steps} steps: the schedule was not finished; "
                  f"lower --steps to end it inside the budget", flush=True)
            break
        step_start = time.perf_counter()
        x, y = get_batch(train_ids, config.batch_size, block_size, batches)
        loss = train_step(model, optimizer, x, y, lr_at(step, config), config.grad_clip)
        steps, last_step_seconds = step + 1, time.perf_counter() - step_start
        if steps % config.eval_interval == 0 or steps == config.num_steps:
            dev = evaluate(model, dev_ids, config, dev_batches)
            print(f"step {steps:5d}  loss {loss:.3f}  dev {dev:.3f}  "
                  f"{time.perf_counter() - start:6.1f} s", flush=True)
    training_seconds = time.perf_counter() - start  # the clock stops here

    claim = {"team": team, "parameters": model.num_parameters(),
             "training_seconds": round(training_seconds, 1), "threads": torch.get_num_threads(),
             "steps": steps, "batch_size": config.batch_size, "block_size": block_size,
             "train_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
             "hardware": f"{cpu_name()}, {torch.get_num_threads()} threads"}
    out.mkdir(parents=True, exist_ok=True)
    save_model(model, str(out / "model.safetensors"))  # the tied matrix is stored once
    train_settings = {k: v for k, v in asdict(config).items()
                      if k not in ("checkpoint_dir", "checkpoint_interval", "progress")}
    (out / "config.json").write_text(json.dumps(
        {"model": asdict(model_config), "train": train_settings}, indent=2) + "\n", "utf-8")
    tokenizer.save(out)
    (out / "claim.json").write_text(json.dumps(claim, indent=2, ensure_ascii=False) + "\n",
                                    "utf-8")

    # A report only, after the clock has stopped: the score as the scorer computes it.
    val_ids = tokenizer.encode_ordinary(load_corpus("poetry_zh", "val"))
    loss = text_loss(model, torch.tensor(val_ids), model_config.block_size,
                     stride=model_config.block_size // 2)
    scored_bytes = len(tokenizer.decode_bytes(val_ids[1:]))  # every token but the first
    print(f"validation: {loss:.4f} nats/token, "
          f"{bits_per_byte(loss, len(val_ids) - 1, scored_bytes):.4f} bits per byte "
          f"(the scorer drops val poems that overlap the training text: its number may differ "
          f"slightly)")
    print(json.dumps(claim, indent=2, ensure_ascii=False))
    return claim


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("submission"),
                        help="the submission folder to write (default: ./submission)")
    parser.add_argument("--team", default="starter", help="your name on the leaderboard")
    parser.add_argument("--minutes", type=float, default=BUDGET_SECONDS / 60,
                        help="training budget in minutes (default and maximum: 10)")
    parser.add_argument("--steps", type=int, default=TRAINING.num_steps,
                        help=f"optimizer steps; the schedule ends here (default "
                             f"{TRAINING.num_steps})")
    # Smaller settings, for a quick try (and the tests); the defaults are the baseline's.
    for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int,
                            default=getattr(MODEL, name))
    parser.add_argument("--batch-size", type=int, default=TRAINING.batch_size)
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= BUDGET_SECONDS / 60:
        parser.error(f"--minutes must be above 0 and at most {BUDGET_SECONDS / 60:g}")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty: a submission folder holds only its "
                     f"four files; choose a new folder")
    model_config = replace(MODEL, **{name: getattr(args, name) for name in (
        "vocab_size", "block_size", "n_layer", "n_head", "n_embd")})
    steps = args.steps
    config = replace(TRAINING, num_steps=steps, batch_size=args.batch_size,
                     warmup_steps=min(TRAINING.warmup_steps, steps // 10),
                     eval_interval=min(TRAINING.eval_interval, steps))
    run(model_config, config, budget=args.minutes * 60, team=args.team, out=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
