"""How fast does the course's `generate` write? With and without the KV cache, and against
transformers' `generate`. (A benchmark, not a test.)

Greedy decoding of one prompt (B=1), in tokens generated per second, for three models:

1. The course's reference model (data/reference_model: GPT-2's layout, 4 layers, n_embd=128),
   run as the course GPT (`GPT.from_hf`). Its context is 128 positions, so the prompt is
   8 tokens and 120 tokens are generated, not 200.
2. SmolLM2-135M-Instruct (transformers' LlamaForCausalLM, 30 layers, n_embd=576) driven by the
   course's generate: 200 new tokens. Without the cache this run takes a few minutes.
3. SmolLM2-135M-Instruct as the course's own Llama (`Llama.from_hf`, the same weights),
   driven by the course's generate with the Llama's preallocated `StaticKVCache`: 200 new
   tokens, a few minutes without the cache.

transformers' generate runs on the same weights (GPT2LMHeadModel for the reference model,
LlamaForCausalLM for SmolLM2), generating the same number of tokens; the table says whether the
tokens are identical.

Then two ways to write more tokens per second, on the course Llama (SmolLM2), each beside
transformers on the same weights (no targets: the numbers are to read, not to pass):

4. Prompt-lookup decoding (`course_utils.prompt_lookup`) against plain greedy search, on a
   prompt whose answer repeats it (a chat asking to copy a paragraph): forward passes,
   tokens/s, and whether the tokens are identical. A pass that checks a 10-token draft costs
   more than a one-token step on a CPU, so fewer passes need not mean fewer seconds.
5. A batch of prompts of different lengths, left-padded with an attention mask, against the
   same prompts one by one: tokens/s over all rows, and whether every row equals its prompt
   run alone.
Targets: the KV cache makes the course's generate at least 5x faster; the course's generate
(with the cache) reaches at least 0.67x transformers' tokens/s. Timings are the best of a few
runs (one run without the cache on SmolLM2). It prints PASS/FAIL but always exits 0: timings
depend on the machine and on what else runs on it.

What the cache saves grows with the context and the model's width. The reference model is
so small (n_embd=128, at most 128 positions) that a step costs mostly Python and call
overhead, cached or not, so its speedup stays far below SmolLM2's.

Torch runs on one thread: decoding one token at a time reads every weight once per token and
gains little from a second thread, and when another process keeps a core busy, torch's
threads wait on each other and a step takes 5-50x longer (measured on a shared 2-core machine).

    python benchmarks/generation.py               # everything, ~15 minutes on 2 cores
    python benchmarks/generation.py lookup batch  # only some parts: reference, smollm2,
                                                  # llama, lookup, batch
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator

import torch
from timing import best_time, machine, verdict

from course_utils.batching import left_pad
from course_utils.generation import generate
from course_utils.llama import Llama
from course_utils.model import GPT
from course_utils.pretrained import load_smollm2
from course_utils.prompt_lookup import prompt_lookup_generate

REPEATS = 3  # timed runs per measurement; the best is kept
THREADS = 1
TARGET_CACHE_SPEEDUP = 5.0
TARGET_VS_TRANSFORMERS = 0.67
REFERENCE_PROMPT = "KING HENRY:\nWhat say you"
SMOLLM2_PROMPT = "Write a short story about a lighthouse keeper."
COPY_REQUEST = ("Repeat this text exactly, word for word:\n\nThe lighthouse keeper climbed the "
                "spiral stairs every evening at dusk. He trimmed the wick, polished the great "
                "lens and wound the clockwork that turned the light. When fog rolled in from "
                "the sea, he rang the bell every two minutes until morning.")
BATCH_PROMPTS = ["The capital of France is", "Water boils at",
                 "Once upon a time, in a small village by the sea, there lived a",
                 "def fibonacci(n):", "The three primary colours of light are red, green and",
                 "My favourite recipe for a rainy Sunday afternoon is",
                 "In 1969, the first humans", "Photosynthesis is the process by which plants"]
PARTS = ("reference", "smollm2", "llama", "lookup", "batch")


@contextlib.contextmanager
def without_eos(hf_model: torch.nn.Module) -> Iterator[None]:
    """transformers' generate stops at the EOS id of the model's generation_config; take it away
    for the block, so that both sides generate the same number of tokens."""
    config = hf_model.generation_config
    saved = config.eos_token_id
    config.eos_token_id = None
    try:
        yield
    finally:
        config.eos_token_id = saved


def hf_greedy(hf_model: torch.nn.Module, prompt: torch.Tensor, new: int) -> torch.Tensor:
    with without_eos(hf_model), torch.no_grad():
        return hf_model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                 num_beams=1, max_new_tokens=new)


def compare(name: str, course: Callable[..., torch.Tensor], hf_model: torch.nn.Module,
            prompt: torch.Tensor, new: int, repeats: int, no_cache_repeats: int) -> None:
    """Time the three ways and print one block of the table. course(prompt, new, use_cache=...)
    generates greedily with the course's code."""
    course(prompt, 4)  # warm-up
    hf_greedy(hf_model, prompt, 4)
    cached_s = hf_s = float("inf")
    for _ in range(repeats):  # alternated, so that a busy spell on the machine hits both
        seconds, cached = best_time(lambda: course(prompt, new), 1)
        cached_s = min(cached_s, seconds)
        seconds, theirs = best_time(lambda: hf_greedy(hf_model, prompt, new), 1)
        hf_s = min(hf_s, seconds)
    uncached_s, uncached = best_time(lambda: course(prompt, new, use_cache=False),
                                     no_cache_repeats)
    assert cached.shape[1] - prompt.shape[1] == new
    same = torch.equal(cached, theirs) and torch.equal(cached, uncached)
    speedup, ratio = uncached_s / cached_s, hf_s / cached_s
    print(f"{name}: prompt {prompt.shape[1]} tokens, {new} new tokens, greedy, B=1; "
          f"tokens {'identical' if same else 'DIFFERENT'} in all three runs")
    print(f"  {'course, KV cache':34s} {new / cached_s:8.1f} tokens/s")
    print(f"  {'course, no cache':34s} {new / uncached_s:8.1f} tokens/s")
    print(f"  {'transformers generate':34s} {new / hf_s:8.1f} tokens/s")
    print(f"  KV cache speedup: {speedup:6.1f}x   target >= {TARGET_CACHE_SPEEDUP:.0f}x   "
          f"{verdict(speedup >= TARGET_CACHE_SPEEDUP)}")
    print(f"  course vs transformers: {ratio:5.2f}x its tokens/s   target >= "
          f"{TARGET_VS_TRANSFORMERS}x   {verdict(ratio >= TARGET_VS_TRANSFORMERS)}")
    print(f"  ({machine()})\n")


def prompt_lookup_vs_greedy(llama: Llama, hf_model: torch.nn.Module, tokenizer: object,
                            new: int = 120, repeats: int = 2) -> None:
    """Block 4: prompt-lookup decoding against greedy search on a copying prompt."""
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": COPY_REQUEST}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)["input_ids"]
    eos = tokenizer.eos_token_id  # <|im_end|>: the answer ends after the copy
    hf = dict(do_sample=False, max_new_tokens=new, eos_token_id=eos, pad_token_id=eos,
              attention_mask=torch.ones_like(prompt))
    runs = {  # name: (function, forward passes of its result)
        "course greedy generate": (lambda: generate(llama, prompt, new, eos_token_id=eos),
                                   lambda ids: ids.size(1) - prompt.size(1)),
        "course prompt_lookup_generate": (
            lambda: prompt_lookup_generate(llama, prompt, new, eos_token_id=eos),
            lambda result: result.forward_passes),
        "transformers greedy": (lambda: hf_model.generate(prompt, **hf), None),
        "transformers prompt_lookup_num_tokens=10": (
            lambda: hf_model.generate(prompt, prompt_lookup_num_tokens=10, **hf), None),
    }
    seconds, results = {name: float("inf") for name in runs}, {}
    with torch.no_grad():
        for _ in range(repeats):  # alternated, as in compare
            for name, (run, _) in runs.items():
                took, results[name] = best_time(run, 1)
                seconds[name] = min(seconds[name], took)
    outputs = {name: getattr(result, "ids", result) for name, result in results.items()}
    written = outputs["course greedy generate"].size(1) - prompt.size(1)
    same = all(torch.equal(out, outputs["course greedy generate"]) for out in outputs.values())
    print(f"prompt lookup vs greedy, course Llama (SmolLM2): prompt {prompt.size(1)} tokens, "
          f"{written} new tokens (a copy, then <|im_end|>); tokens "
          f"{'identical' if same else 'DIFFERENT'} in all four runs")
    for name, (_, passes) in runs.items():
        count = f"{passes(results[name]):4d} forward passes" if passes else " " * 19
        print(f"  {name:42s} {count} {written / seconds[name]:8.1f} tokens/s")
    lookup, greedy = seconds["course prompt_lookup_generate"], seconds["course greedy generate"]
    print(f"  course prompt lookup vs course greedy: {greedy / lookup:.2f}x the tokens/s")
    print(f"  ({machine()})\n")


def batched_vs_one_by_one(llama: Llama, hf_model: torch.nn.Module, tokenizer: object,
                          new: int = 50, repeats: int = 2) -> None:
    """Block 5: one left-padded batch against the same prompts one at a time."""
    prompts = [tokenizer.encode(text) for text in BATCH_PROMPTS]
    input_ids, attention_mask = left_pad(prompts, tokenizer.pad_token_id)
    singles = [torch.tensor([p]) for p in prompts]
    hf = dict(do_sample=False, max_new_tokens=new, eos_token_id=None,
              pad_token_id=tokenizer.pad_token_id)
    runs = {
        "course generate, batch": lambda: generate(llama, input_ids, new,
                                                   attention_mask=attention_mask),
        "course generate, one by one": lambda: [generate(llama, p, new) for p in singles],
        "transformers generate, batch": lambda: hf_model.generate(
            input_ids, attention_mask=attention_mask, **hf),
        "transformers generate, one by one": lambda: [
            hf_model.generate(p, attention_mask=torch.ones_like(p), **hf) for p in singles],
    }
    seconds, results = {name: float("inf") for name in runs}, {}
    with torch.no_grad():
        for _ in range(repeats):
            for name, run in runs.items():
                took, results[name] = best_time(run, 1)
                seconds[name] = min(seconds[name], took)
    alone = [ids[0, len(p):] for ids, p in zip(results["course generate, one by one"], prompts)]
    width = input_ids.size(1)
    same = all(torch.equal(batch[i, width:], alone[i]) for batch in
               (results["course generate, batch"], results["transformers generate, batch"])
               for i in range(len(prompts))) and all(
        torch.equal(ids[0, len(p):], a) for ids, p, a in
        zip(results["transformers generate, one by one"], prompts, alone))
    lengths = sorted(len(p) for p in prompts)
    print(f"batched vs one by one: {len(prompts)} prompts of {lengths[0]} to {lengths[-1]} "
          f"tokens, {new} new tokens each, greedy; every row "
          f"{'equals' if same else 'DIFFERS FROM'} its prompt run alone")
    for name in runs:
        print(f"  {name:42s} {len(prompts) * new / seconds[name]:8.1f} tokens/s")
    ratio = seconds["course generate, one by one"] / seconds["course generate, batch"]
    print(f"  course batch vs one by one: {ratio:.2f}x the tokens/s")
    print(f"  ({machine()})\n")


def main() -> None:
    from transformers import AutoTokenizer, GPT2LMHeadModel

    from course_utils.data import reference_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", help=f"blocks to run, of {', '.join(PARTS)} "
                                                  f"(default: all)")
    parts = set(parser.parse_args().parts or PARTS)
    if parts - set(PARTS):
        parser.error(f"unknown parts {sorted(parts - set(PARTS))}; choose from {PARTS}")
    torch.set_num_threads(THREADS)
    print(f"{machine()}; float32\n")
    if "reference" in parts:
        path = reference_model_path()
        hf_reference = GPT2LMHeadModel.from_pretrained(path).eval()
        tokenizer = AutoTokenizer.from_pretrained(path)
        prompt = torch.tensor([tokenizer.encode(REFERENCE_PROMPT)[:8]])
        new = hf_reference.config.n_positions - prompt.shape[1]  # fill the 128-token context
        reference = GPT.from_hf(hf_reference)
        compare("reference model (course GPT and generate vs transformers' GPT2LMHeadModel)",
                lambda *args, **kw: generate(reference, *args, **kw), hf_reference, prompt, new,
                REPEATS, REPEATS)
    if not parts & {"smollm2", "llama", "lookup", "batch"}:
        return
    start = time.perf_counter()
    model, tokenizer = load_smollm2()
    print(f"load_smollm2(): {time.perf_counter() - start:.1f} s")
    prompt = torch.tensor([tokenizer.encode(SMOLLM2_PROMPT)])
    if "smollm2" in parts:
        compare("SmolLM2-135M-Instruct (course generate driving transformers' LlamaForCausalLM)",
                lambda *args, **kw: generate(model, *args, **kw), model, prompt, 200, repeats=2,
                no_cache_repeats=1)
    llama = Llama.from_hf(model)
    if "llama" in parts:
        compare("SmolLM2-135M-Instruct (course generate driving the course Llama)",
                lambda *args, **kw: generate(llama, *args, **kw), model, prompt, 200, repeats=2,
                no_cache_repeats=1)
    if "lookup" in parts:
        prompt_lookup_vs_greedy(llama, model, tokenizer)
    if "batch" in parts:
        batched_vs_one_by_one(llama, model, tokenizer)


if __name__ == "__main__":
    main()
