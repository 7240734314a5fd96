"""Benchmark the course's BPE against Hugging Face: training time and encoding speed.

Trains vocab_size=1024 on the Shakespeare train split with the naive trainer, the fast trainer
and the Rust `tokenizers` BpeTrainer, then encodes the whole split with GPT-2's vocabulary and
with the trained tokenizer. Run it with `make benchmarks` (or `python benchmarks/bpe.py`). It
prints PASS/FAIL against the course's targets but always exits 0: timings depend on the machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from timing import best_time, machine, verdict

from course_utils.data import gpt2_vocab_files, load_corpus
from course_utils.tokenization import ENDOFTEXT, BPETokenizer

VOCAB_SIZE = 1024
NAIVE_BUDGET_S = 60.0   # run the naive trainer on the whole corpus only if it should fit this
NAIVE_PREFIX = 0.25     # fraction of the corpus timed first, to predict the full naive run
REPEATS = 3             # fast runs are timed several times; the best time is reported
TARGET_VS_NAIVE = 20.0  # fast must be at least this many times faster than naive
TARGET_VS_HF = 5.0      # and at most this many times slower than tokenizers' trainer


def train_hf(lines: list[str]) -> object:
    """Train tokenizers' byte-level BPE to VOCAB_SIZE ids (256 bytes, merges, <|endoftext|>)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=[ENDOFTEXT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(lines, trainer=trainer)
    assert tokenizer.get_vocab_size() == VOCAB_SIZE
    return tokenizer


def main() -> None:
    from transformers import GPT2TokenizerFast

    text = load_corpus("shakespeare", "train")
    megabytes = len(text.encode("utf-8")) / 1e6
    lines = text.splitlines(keepends=True)
    print(machine())
    print(f"Shakespeare train split: {megabytes:.2f} MB, {len(lines):,} lines; "
          f"vocab_size={VOCAB_SIZE}\n")

    # ---- training
    def train(corpus: str, method: str) -> BPETokenizer:
        return BPETokenizer.train(corpus, VOCAB_SIZE, method=method, progress=False)

    prefix = text[:int(len(text) * NAIVE_PREFIX)]
    naive_prefix_s, _ = best_time(lambda: train(prefix, "naive"), repeats=1)
    naive_estimate_s = naive_prefix_s * len(text) / len(prefix)
    if naive_estimate_s <= NAIVE_BUDGET_S:
        naive_s, naive = best_time(lambda: train(text, "naive"), repeats=1)
        naive_label = "measured on the whole corpus"
    else:
        naive, naive_s = None, naive_estimate_s
        naive_label = ("EXTRAPOLATED linearly from the prefix (an overestimate: distinct "
                       "chunks grow more slowly than the text)")

    train(prefix, "fast")  # warm-up: imports, regex compilation
    fast_s, fast = best_time(lambda: train(text, "fast"), repeats=REPEATS)
    same = "identical to naive's" if naive is not None and naive.merges == fast.merges else (
        "not compared (naive was extrapolated)" if naive is None else "DIFFERENT from naive's")
    train_hf(lines[:1000])  # warm-up: thread pool
    hf_s, _ = best_time(lambda: train_hf(lines), repeats=REPEATS)

    print("Training (seconds, best of %d for fast and tokenizers)" % REPEATS)
    print(f"  naive, {NAIVE_PREFIX:.0%} prefix     {naive_prefix_s:8.2f}  (measured)")
    print(f"  naive, whole corpus    {naive_s:8.2f}  ({naive_label})")
    print(f"  fast, whole corpus     {fast_s:8.2f}  ({len(fast.merges)} merges, {same})")
    print(f"  tokenizers BpeTrainer  {hf_s:8.2f}  (ByteLevel, 256-byte alphabet, fed line by "
          f"line on {os.cpu_count()} threads)")
    vs_naive, vs_hf = naive_s / fast_s, fast_s / hf_s
    print(f"  fast vs naive: {vs_naive:6.1f}x faster   target >= {TARGET_VS_NAIVE:.0f}x   "
          f"{verdict(vs_naive >= TARGET_VS_NAIVE)}")
    print(f"  fast vs tokenizers: {vs_hf:4.2f}x its time   target <= {TARGET_VS_HF:.0f}x   "
          f"{verdict(vs_hf <= TARGET_VS_HF)}\n")

    # ---- encoding
    encoder_json, vocab_bpe = gpt2_vocab_files()
    reference = GPT2TokenizerFast(vocab=str(encoder_json), merges=str(vocab_bpe))
    hf_trained = fast.to_hf()

    def course_rate(make: Callable[[], BPETokenizer]) -> tuple[float, float, list[int]]:
        """MB/s of a fresh tokenizer's first call (empty chunk cache) and of a second call."""
        tok = make()
        cold_s, ids = best_time(lambda: tok.encode(text), repeats=1)
        warm_s, _ = best_time(lambda: tok.encode(text), repeats=REPEATS)
        return megabytes / cold_s, megabytes / warm_s, ids

    def hf_rates(tok: object) -> tuple[float, float, float, list[int]]:
        """MB/s of one call on the whole text, of one batched call on its lines, and of the
        same batch given straight to the Rust `tokenizers.Tokenizer` underneath."""
        whole_s, encoded = best_time(lambda: tok(text), repeats=REPEATS, warmup=1)
        batch_s, _ = best_time(lambda: tok(lines), repeats=REPEATS)
        rust_s, _ = best_time(lambda: tok.backend_tokenizer.encode_batch(lines), repeats=REPEATS)
        return megabytes / whole_s, megabytes / batch_s, megabytes / rust_s, encoded["input_ids"]

    print("Encoding the whole split, MB/s (course: one encode(text) call, pure Python;\n"
          "  HF: transformers fast tokenizer called once on the text / once on the list of "
          "lines,\n  and tokenizers.Tokenizer.encode_batch on the lines, on all cores)")
    for name, make, hf_tok in [("GPT-2 vocab", BPETokenizer.from_gpt2, reference),
                               ("trained 1024", lambda: BPETokenizer(fast.vocab, fast.merges,
                                                                     fast.special_tokens),
                                hf_trained)]:
        cold, warm, ids = course_rate(make)
        whole, batch, rust, hf_ids = hf_rates(hf_tok)
        match = "same ids" if ids == hf_ids else "DIFFERENT ids"
        print(f"  {name}: {len(ids):,} tokens, {match} from course and HF")
        print(f"    course  {cold:5.1f} (empty chunk cache)   {warm:5.1f} (warm cache)")
        print(f"    HF      {whole:5.1f} (one call)   {batch:5.1f} (batch of lines)   "
              f"{rust:5.1f} (encode_batch)")


if __name__ == "__main__":
    main()
