"""Train the course's reference GPT on Shakespeare and export it as a Hugging Face model.

    python data/train_reference.py                 # writes data/reference_model/
    python data/train_reference.py --resume        # continue an interrupted run
    torchrun --standalone --nproc_per_node=2 data/train_reference.py --out DIR  # 2 processes

Deterministic: a fixed tokenizer, model and training configuration, seed 0. The training code
is the notebooks' own (course_utils.training); checkpoints go to --checkpoint-dir so a long CPU
run can be stopped and resumed with the same result. Uses a GPU when one is available.
Under torchrun, N processes (one per GPU, or on the CPU) share each batch of --batch-size
sequences and make one process's steps, up to float rounding and dropout's masks (see
course_utils.distributed); process 0 alone prints, saves checkpoints and exports. Every process
resumes from --checkpoint-dir. With dropout, which the reference model has, N processes train
another model than one process does: give them an --out of their own, not data/reference_model/.

The exported directory loads offline with transformers:
    GPT2LMHeadModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)
and with the course's classes: GPT.from_hf(...), BPETokenizer.load(path). Each file is written
with course_utils.files.write_atomically and SHA256SUMS last, so an interrupted export is caught
by the sha256 check of course_utils.data.reference_model_path, and re-running it repairs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

from course_utils import distributed, files
from course_utils.data import DATA_DIR, SUMS_FILE, load_corpus
from course_utils.metrics import bits_per_byte, text_loss
from course_utils.model import GPT, GPTConfig
from course_utils.tokenization import BPETokenizer
from course_utils.training import TrainConfig, train

VOCAB_SIZE = 1024
MODEL = GPTConfig(vocab_size=VOCAB_SIZE, block_size=128, n_layer=4, n_head=4, n_embd=128,
                  dropout=0.1)
# block_size=128 is the model's (None would say the same); the shipped model card records it.
TRAINING = TrainConfig(batch_size=32, block_size=128, num_steps=4000, lr=3e-3, min_lr=3e-4,
                       warmup_steps=200, weight_decay=0.1, grad_clip=1.0, eval_interval=500,
                       eval_batches=20, seed=0)
CHECKPOINT_INTERVAL = 250  # steps between checkpoints: an interrupted run loses at most this many
SEED = 0
EVAL_STRIDE = 64  # after the first window, every validation token has at least 65 tokens of context


def model_card(metrics: dict, model: GPTConfig, training: TrainConfig) -> str:
    V, T, stride = model.vocab_size, model.block_size, EVAL_STRIDE
    loss, bpb, tokens = metrics["val_loss"], metrics["val_bits_per_byte"], metrics["val_tokens"]
    uniform_bpb = math.log2(V) * tokens / metrics["val_bytes"]
    return f"""---
license: mit
language: en
library_name: transformers
tags: [gpt2, shakespeare, course]
---
# LLM Tokens course — reference GPT (Shakespeare)

A GPT-2-architecture language model trained from scratch by the LLM Tokens course
(`data/train_reference.py`) on seven Shakespeare plays, with a byte-level BPE tokenizer of
{model.vocab_size:,} tokens trained on the same text. It is small and meant for teaching: it
writes text that looks like a play, not sense.

## Data
- Training: `data/shakespeare/train.txt` (Hamlet, King Lear, Othello, Romeo and Juliet, Julius
  Caesar, Coriolanus, The Tempest; {metrics['train_tokens']:,} tokens).
- Validation: `data/shakespeare/val.txt` (Macbeth, held out; {metrics['val_tokens']:,} tokens,
  {metrics['val_bytes']:,} bytes). Provenance and licences: `data/README.md`.

## Model and training
- Model: {json.dumps(asdict(model))}; {metrics['parameters']:,} parameters.
- Training: {json.dumps({k: v for k, v in asdict(training).items() if k not in ('checkpoint_dir', 'progress')}, default=str)}
- AdamW, linear warmup then cosine decay, gradient clipping; seed {SEED}.
- Steps: {metrics['steps']:,}; wall time {metrics['wall_time_s'] / 60:.1f} min on {metrics['hardware']}.

## Results (held-out Macbeth)
| measure | value |
|---|---|
| validation loss | {metrics['val_loss']:.4f} nats/token |
| perplexity | {math.exp(metrics['val_loss']):.1f} |
| bits per byte | {metrics['val_bits_per_byte']:.4f} |

Every validation token after the first is scored once (windows of {T} tokens, stride {stride}):
the first {T} with only the tokens before them as context (1 to {T} tokens), every later one
with at least {T - stride + 1} tokens of context.

Baselines, from the same counts (metrics.json: {tokens:,} tokens, {metrics['val_bytes']:,} bytes):
| model | nats/token | perplexity | bits per byte |
|---|---|---|---|
| uniform over the {V:,} tokens | {math.log(V):.4f} | {V:,} | {uniform_bpb:.4f} |
| this model | {loss:.4f} | {math.exp(loss):.1f} | {bpb:.4f} |

(The training run's last estimate, on {training.eval_batches} random validation batches at step
{metrics['steps']:,}, was {metrics['last_eval_val_loss']:.4f} nats/token.)

## Intended use
Teaching: the course's notebooks load it (offline, through `transformers`' `GPT2LMHeadModel`
or the course's own GPT) to show training curves, attention patterns and decoding strategies on
a model small enough to run on a laptop CPU in seconds. It is not meant for any other use.

## Limitations
- It knows seven Shakespeare plays and nothing else: modern English, other languages and facts
  are out of reach. Its tokenizer has no merges for non-Latin scripts (Chinese costs one token
  per UTF-8 byte).
- It writes text that looks like a play (speaker names, stage directions, verse lines) but
  rarely makes sense for more than a few words.
- `<|endoftext|>` (id {V - 1}) is in the tokenizer but never occurs in the training text, so the
  model never learned when to write it: it gives it a tiny probability everywhere. To stop
  generation, use another token (e.g. the newline) or `max_new_tokens`.
- Its context is {T} tokens (`n_positions`); generation cannot go beyond it.
- {metrics['parameters']:,} parameters, {metrics['steps']:,} steps on a CPU: it is far from what
  this architecture can learn from this data, let alone from more data.

## Use
```python
from transformers import AutoTokenizer, GPT2LMHeadModel
model = GPT2LMHeadModel.from_pretrained(path)
tokenizer = AutoTokenizer.from_pretrained(path)
```
"""


def export(out: Path, model: GPT, tokenizer: BPETokenizer, metrics: dict,
           training: TrainConfig = TRAINING) -> Path:
    """Write the Hugging Face model folder `out`: weights, config, tokenizer (both formats),
    metrics, model card (recording `training`, the run's configuration) and SHA256SUMS, with the
    usual permissions; return `out`.

    The libraries write their files into a staging folder; each file then replaces its old
    version in one step (files.write_atomically), and SHA256SUMS comes last: until it does, the
    sha256 check on load reports the folder as altered rather than loading a mix.
    """
    with tempfile.TemporaryDirectory() as staging:
        staging = Path(staging)
        model.cpu().to_hf().save_pretrained(staging)
        tokenizer.to_hf().save_pretrained(staging)
        tokenizer.save(staging)
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
        card = model_card(metrics, model.config, training)
        (staging / "README.md").write_text(card, "utf-8")
        contents = {f.name: f.read_bytes() for f in sorted(staging.iterdir()) if f.is_file()}
    files.check_writable_folder(out, what="model folder")
    for name, data in contents.items():
        files.write_atomically(out / name, data)
    sums = [f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in contents.items()]
    files.write_atomically(out / SUMS_FILE, "".join(sums))  # checked on load: last of all
    for stale in {p.name for p in out.iterdir()} - set(contents) - {SUMS_FILE}:
        (out / stale).unlink()  # a file an earlier export wrote and this one does not
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=TRAINING.num_steps,
                        help="optimizer steps (the learning-rate schedule ends there; its warmup "
                        "takes at most that many)")
    parser.add_argument("--batch-size", type=int, default=TRAINING.batch_size,
                        help="sequences per step, over all processes together (the global batch)")
    parser.add_argument("--out", type=Path, default=DATA_DIR / "reference_model")
    parser.add_argument("--checkpoint-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "llm-tokens-reference-run")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads per process (default: all, shared among the processes "
                        "on this machine); 1 is faster when other programs share the cores")
    args = parser.parse_args()
    processes = int(os.environ["WORLD_SIZE"]) if distributed.launched() else 1  # from torchrun
    try:  # refuse uneven shares before joining the others: a usage error, not a traceback
        distributed.local_batch_size(args.batch_size, processes, name="--batch-size")
    except ValueError as error:
        parser.error(str(error))
    device = distributed.start(args.device)  # under torchrun: join the other processes
    try:
        return train_and_export(args, device)
    finally:
        distributed.stop()


def train_and_export(args: argparse.Namespace, device: str) -> int:
    """Train (in this process's share under torchrun) and, in process 0, export and print."""
    if args.device == "cpu" and distributed.is_main():
        print("Training on the CPU: about 40 minutes on 2 cores (7,500 tokens/s measured); "
              "a GPU is much faster.", flush=True)
    processes_here = int(os.environ.get("LOCAL_WORLD_SIZE", 1))  # set by torchrun
    # the cores this process may use (a container or taskset may allow fewer than the machine's)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(args.threads or (torch.get_num_threads() if processes_here == 1
                                           else max(1, (cores or 1) // processes_here)))

    train_text, val_text = load_corpus("shakespeare", "train"), load_corpus("shakespeare", "val")
    # Deterministic: every process trains the same tokenizer and encodes the same ids.
    tokenizer = BPETokenizer.train(train_text, vocab_size=VOCAB_SIZE, progress=False)
    train_ids = torch.tensor(tokenizer.encode(train_text))
    val_ids = torch.tensor(tokenizer.encode(val_text))

    config = TrainConfig(**{**asdict(TRAINING), "checkpoint_dir": args.checkpoint_dir,
                            "checkpoint_interval": CHECKPOINT_INTERVAL, "device": device,
                            "num_steps": args.steps, "batch_size": args.batch_size,
                            "warmup_steps": min(TRAINING.warmup_steps, args.steps)})
    model = GPT(MODEL, seed=SEED)
    start = time.perf_counter()
    history = train(model, train_ids, val_ids, config, resume=args.resume)
    wall = time.perf_counter() - start
    if not distributed.is_main():
        return 0  # process 0 scores and exports the model, the same in every process

    val_loss = text_loss(model, val_ids.to(device), MODEL.block_size, stride=EVAL_STRIDE)
    val_bytes = len(val_text.encode("utf-8"))
    hardware = (torch.cuda.get_device_name() if device.startswith("cuda")
                else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)")
    if distributed.world_size() > 1:
        hardware = f"{distributed.world_size()} × {hardware}"
    metrics = {
        "val_loss": val_loss,
        "val_bits_per_byte": bits_per_byte(val_loss, len(val_ids), val_bytes),
        "val_tokens": len(val_ids), "val_bytes": val_bytes, "train_tokens": len(train_ids),
        "parameters": model.num_parameters(), "steps": history.steps[-1] + 1,
        "wall_time_s": wall, "hardware": hardware, "resumed": args.resume,
        "last_eval_val_loss": history.val_loss[-1],
    }

    export(args.out, model, tokenizer, metrics, config)
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
