"""Decoding strategies: the loop that writes text from next-token scores, one token at a time.

A strategy takes `next_logits` — any function from the token ids so far (B, T) to the logits
of the next token (B, V): a model wrapped in `course_utils.generation.NextTokenLogits`, or a
bigram table in a lambda — and the prompts `input_ids` (B, T), and appends up to
max_new_tokens tokens:

- `greedy_search`: always the highest-scoring token. Deterministic, and often repetitive.
- `sample`: draw from softmax(logits / temperature) after top-k / top-p / min-p removed the
  unlikely tail. The randomness comes from the `generator` it is given, nothing else.
- `beam_search`: keep the num_beams most likely partial texts, not just the best one.

All three apply the penalties of `course_utils.decoding` first, and finish a row at an EOS
token (it is then padded while the other rows go on). Degenerate numbers are errors, not
arbitrary tokens (transformers emits token 0, or fails inside torch.multinomial): NaN or ±inf
logits, and a row still writing whose scores after every penalty and filter hold NaN or +inf
or no finite score (every token banned), raise ValueError naming the step, the row and the
likely cause. A temperature that overflows float32 samples greedily (`apply_temperature`).

Left-padded prompts: `next_logits` knows the attention mask; the strategies take it too, as
transformers' repetition penalty skips padding. Left out: beam sampling, constraints, streaming.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.batching import padding_lengths
from course_utils.decoding import ScoreSteps, check_ids_in_vocab
from course_utils.model import check_token_ids
from course_utils.validation import (check_choice, check_int, check_memory, check_number,
                                     check_tensor, check_type, short_repr)

__all__ = ["greedy_search", "sample", "beam_search", "check_stopping", "check_beam_settings",
           "NextLogits"]

NextLogits = Callable[[Tensor], Tensor]  # token ids so far (B, T) -> next-token logits (B, V)
EARLY_STOPPING = (True, False, "never")
MAX_INT64 = 2**63 - 1  # the largest id (or count) a LongTensor holds


# ---------------------------------------------------------------- shared by the strategies


def _check_int64(name: str, value: object, **limits: object) -> int | None:
    """check_int, and at most 2**63 - 1: a LongTensor holds nothing larger."""
    value = check_int(name, value, **limits)
    if value is not None and value > MAX_INT64:
        raise ValueError(f"{name} must be at most 2**63 - 1, got {value}; {limits.get('fix')}")
    return value


def check_stopping(eos_token_id: object, pad_token_id: object) -> tuple[list[int], int | None]:
    """Return (the EOS ids as a list, the pad id: pad_token_id, else the first EOS id).

    >>> check_stopping([50256, 198], None)
    ([50256, 198], 50256)
    """
    fix = "a token id such as tokenizer.eos_token_id, a list of ids, or None (no stop token)"
    if isinstance(eos_token_id, (list, tuple)):
        if not eos_token_id:
            raise ValueError(f"eos_token_id must not be an empty list; {fix}")
        eos = [_check_int64("eos_token_id", i, minimum=0, fix=fix) for i in eos_token_id]
    else:
        eos = [] if eos_token_id is None else [_check_int64("eos_token_id", eos_token_id,
                                                            minimum=0, fix=fix)]
    pad = _check_int64("pad_token_id", pad_token_id, minimum=0, optional=True,
                       fix="None pads finished rows with the first EOS id")
    return eos, eos[0] if pad is None and eos else pad


def check_beam_settings(num_beams: object, length_penalty: object,
                        early_stopping: object) -> tuple[int, float]:
    """Return (num_beams, length_penalty) checked, after checking early_stopping too.

    >>> check_beam_settings(5, 1, "never")
    (5, 1.0)
    """
    check_choice("early_stopping", early_stopping, EARLY_STOPPING)
    return (_check_int64("num_beams", num_beams, minimum=1, fix="e.g. num_beams=5"),
            check_number("length_penalty", length_penalty,
                         fix="1.0 divides by the length; 0 compares plain sums"))


def _check_start(next_logits: object, input_ids: object, max_new_tokens: object) -> int:
    if not callable(next_logits):
        raise TypeError(f"next_logits must be a function from token ids (B, T) to next-token "
                        f"logits (B, V), such as NextTokenLogits(model), got "
                        f"{short_repr(next_logits)} ({type(next_logits).__name__})")
    check_token_ids(input_ids, "input_ids")
    return check_int("max_new_tokens", max_new_tokens, minimum=0)


def _logits(next_logits: NextLogits, input_ids: Tensor, step: int, eos: list[int],
            pad: int | None) -> Tensor:
    """Call next_logits and check what it returns: (B, V) floats, all finite."""
    logits = check_tensor("next_logits(input_ids)", next_logits(input_ids),
                          kind="floating-point", fix="next_logits must return the logits (B, V)")
    B = input_ids.size(0)
    if logits.dim() != 2 or logits.size(0) != B:
        raise ValueError(f"next_logits must return logits of shape (B, V) with B={B}, got "
                         f"{tuple(logits.shape)}; for a model's (B, T, V) output take "
                         f"[:, -1], or wrap the model in NextTokenLogits(model)")
    if logits.size(1) == 0:
        raise ValueError(f"next_logits returned logits for an empty vocabulary (shape "
                         f"{tuple(logits.shape)}, V = 0): it must give one score per token")
    if step == 0:  # the ids must fit the vocabulary, which only the logits reveal
        V = logits.size(1)
        check_ids_in_vocab("input_ids", input_ids, V)
        check_ids_in_vocab("eos_token_id", eos, V)
        check_ids_in_vocab("pad_token_id", [] if pad is None else [pad], V)
    if not logits.isfinite().all():
        row = (~logits.isfinite()).nonzero()[0, 0].item()
        raise ValueError(f"the model (next_logits) returned NaN or infinite logits at step "
                         f"{step}, row {row}; check its weights (a diverged training run "
                         f"leaves NaN) or run it in float32 (float16 overflows to inf)")
    return logits


def _scores(next_logits: NextLogits, input_ids: Tensor, step: int, finished: Tensor, steps:
            ScoreSteps, eos: list[int], pad: int | None, padding: Tensor | None,
            sampling: bool = False) -> Tensor:
    """The checked logits after the penalties (B, V), and for sampling the filters too."""
    scores = steps.penalize(_logits(next_logits, input_ids, step, eos, pad), input_ids, padding)
    if sampling:
        scores = steps.reshape(scores)  # temperature, top-k, top-p, min-p
    steps.check_processed(scores, ~finished, step)
    # A finished row's token is replaced by padding: give it any distribution that exists.
    return scores.masked_fill(scores.isneginf().all(dim=-1, keepdim=True), 0.0)


def _append(input_ids: Tensor, next_token: Tensor, finished: Tensor, eos: list[int],
            pad_token_id: int | None) -> tuple[Tensor, Tensor]:
    """Append next_token (B,) to input_ids; rows that had finished get pad_token_id instead."""
    if eos:
        next_token = torch.where(finished, pad_token_id, next_token)
        finished = finished | torch.isin(next_token, torch.tensor(eos, device=next_token.device))
    return torch.cat([input_ids, next_token[:, None]], dim=1), finished


def _length_order(totals: Tensor, length: int, length_penalty: float) -> Tensor:
    """Scores in the order of totals / length ** length_penalty, computed so as not to overflow.

    subtle: 3 ** 1000 overflows a float, and a sum / 1e308 underflows to 0 for every text.
    Sums of log-probabilities are <= 0, so that order is the order of
    length_penalty·log(length) - log(-totals), and dividing it by max(1, |length_penalty|)
    keeps both terms in range. (A sum of 0, probability 1, is the best: +inf.)
    """
    scale = max(1.0, abs(length_penalty))
    return length_penalty / scale * math.log(length) - (-totals.double()).log() / scale


# ---------------------------------------------------------------- the strategies


def greedy_search(next_logits: NextLogits, input_ids: Tensor, max_new_tokens: int, *,
                  repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
                  eos_token_id: int | Sequence[int] | None = None,
                  pad_token_id: int | None = None, attention_mask: Tensor | None = None) -> Tensor:
    """Return input_ids (B, T) followed by up to max_new_tokens tokens, each the argmax.

    A row that produces an EOS token is finished: it gets pad_token_id (default: the first EOS
    id) at the later steps, and the loop ends early once every row has finished.
    attention_mask (B, T): the prompts' left padding, which the repetition penalty skips.

    >>> bigram = torch.tensor([[0.1, 0.9], [0.8, 0.2]]).log()  # P(next | last token)
    >>> greedy_search(lambda ids: bigram[ids[:, -1]], torch.tensor([[0]]), 4)
    tensor([[0, 1, 0, 1, 0]])
    """
    max_new_tokens = _check_start(next_logits, input_ids, max_new_tokens)
    steps = ScoreSteps(repetition_penalty, no_repeat_ngram_size)
    eos, pad = check_stopping(eos_token_id, pad_token_id)
    padding = padding_lengths(attention_mask, input_ids)  # (B,) or None
    finished = torch.zeros(input_ids.size(0), dtype=torch.bool, device=input_ids.device)
    for step in range(max_new_tokens):
        scores = _scores(next_logits, input_ids, step, finished, steps, eos, pad, padding)
        next_token = scores.argmax(dim=-1)  # (B,)
        input_ids, finished = _append(input_ids, next_token, finished, eos, pad)
        if finished.all():
            break
    return input_ids


def sample(next_logits: NextLogits, input_ids: Tensor, max_new_tokens: int, *,
           generator: torch.Generator, temperature: float = 1.0, top_k: int | None = None,
           top_p: float = 1.0, repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
           eos_token_id: int | Sequence[int] | None = None,
           pad_token_id: int | None = None, min_p: float | None = None,
           attention_mask: Tensor | None = None) -> Tensor:
    """Return input_ids (B, T) followed by up to max_new_tokens sampled tokens.

    Each step: penalties, then logits / temperature (below 1 sharpens the distribution, above 1
    flattens it; one that overflows float32 is greedy), then top-k, top-p and min-p cut the
    tail, then one draw from the softmax with `generator`. top_k=None, top_p=1.0 and min_p=None
    are off. EOS handling and attention_mask as in `greedy_search`.

    >>> bigram = torch.tensor([[0.1, 0.9], [0.8, 0.2]]).log()
    >>> generator = torch.Generator().manual_seed(3)  # 0 -> 0 has probability 0.1 and happens:
    >>> sample(lambda ids: bigram[ids[:, -1]], torch.tensor([[0]]), 8, generator=generator)
    tensor([[0, 0, 1, 0, 1, 0, 1, 0, 1]])
    """
    max_new_tokens = _check_start(next_logits, input_ids, max_new_tokens)
    check_type("generator", generator, torch.Generator, "a torch.Generator",
               fix="e.g. generator=torch.Generator().manual_seed(0)")
    if generator.device.type != input_ids.device.type:
        raise ValueError(f"generator must be on the device of input_ids ({input_ids.device}), "
                         f"got one on {generator.device}; make it with "
                         f"torch.Generator({input_ids.device.type!r})")
    steps = ScoreSteps(repetition_penalty, no_repeat_ngram_size, temperature, top_k, top_p,
                       min_p)
    eos, pad = check_stopping(eos_token_id, pad_token_id)
    padding = padding_lengths(attention_mask, input_ids)  # (B,) or None
    finished = torch.zeros(input_ids.size(0), dtype=torch.bool, device=input_ids.device)
    for step in range(max_new_tokens):
        scores = _scores(next_logits, input_ids, step, finished, steps, eos, pad, padding,
                         sampling=True)
        probs = scores.softmax(dim=-1)  # filtered tokens have probability exp(-inf) = 0
        next_token = torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]  # (B,)
        input_ids, finished = _append(input_ids, next_token, finished, eos, pad)
        if finished.all():
            break
    return input_ids


def beam_search(next_logits: NextLogits, input_ids: Tensor, max_new_tokens: int, *,
                num_beams: int, length_penalty: float = 1.0,
                early_stopping: bool | Literal["never"] = False,
                repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
                eos_token_id: int | Sequence[int] | None = None,
                pad_token_id: int | None = None, attention_mask: Tensor | None = None
                ) -> Tensor:
    """Return each prompt followed by the best of its beam search's finished texts.

    Each prompt keeps num_beams running texts ("beams") and their scores, the sum of their
    tokens' log-probabilities. A step extends every beam by every token and keeps the best
    candidates. A candidate that ends (with EOS, or at max_new_tokens) becomes a finished
    hypothesis, scored sum / new_length ** length_penalty (> 0 favours long texts, < 0 short
    ones); the others are the next beams. A prompt keeps its num_beams best hypotheses and is
    done (transformers' definitions):

    - early_stopping=True: as soon as it has num_beams hypotheses;
    - early_stopping=False: once it has num_beams and the best beam, scored at its current
      length, is no better than the worst of them (a heuristic: a longer beam could still win);
    - early_stopping="never": the same, but with length_penalty > 0 the beam is scored at the
      longest length it could reach, so it stops only when no beam can win.

    `next_logits` may have a `reorder(rows)` method (like `NextTokenLogits`): it is called when
    beams change places, so that a KV cache follows them. Rows whose best text ended early are
    padded with pad_token_id (default: the first EOS id; transformers pads with the EOS id when
    pad_token_id is 0). attention_mask as in `greedy_search`. A step where every candidate of
    a prompt is banned is an error.

    The worked example of Hugging Face's "How to generate" post: greedy search goes "The nice
    woman" (0.5 · 0.4 = 0.2); two beams find "The dog has" (0.4 · 0.9 = 0.36).

    >>> P = torch.full((8, 8), 0.01)  # tokens: The nice dog car woman house guy has
    >>> P[0, 1:4] = torch.tensor([0.5, 0.4, 0.1])  # The -> nice .5, dog .4, car .1
    >>> P[1, 4:7] = torch.tensor([0.4, 0.3, 0.3])  # nice -> woman .4, house .3, guy .3
    >>> P[2, 7] = 0.9  # dog -> has .9
    >>> bigram = lambda ids: P[ids[:, -1]].log()
    >>> prompt = torch.tensor([[0]])
    >>> greedy_search(bigram, prompt, 2), beam_search(bigram, prompt, 2, num_beams=2)
    (tensor([[0, 1, 4]]), tensor([[0, 2, 7]]))
    """
    max_new_tokens = _check_start(next_logits, input_ids, max_new_tokens)
    nb, length_penalty = check_beam_settings(num_beams, length_penalty, early_stopping)
    steps = ScoreSteps(repetition_penalty, no_repeat_ngram_size)
    eos, pad_token_id = check_stopping(eos_token_id, pad_token_id)
    padding = padding_lengths(attention_mask, input_ids)  # (B,) or None
    if max_new_tokens == 0:
        return input_ids
    B = input_ids.size(0)
    length = input_ids.size(1) + max_new_tokens
    check_memory(f"num_beams={nb} beams of up to {length} tokens", 8 * B * nb * length,
                 "use fewer num_beams (5 is typical) or max_new_tokens")
    eos_tensor = torch.tensor(eos, dtype=torch.long, device=input_ids.device)
    # Take enough candidates that nb remain when every beam's best continuation is an EOS.
    n_candidates = max(2, 1 + len(eos)) * nb
    beams = input_ids.repeat_interleave(nb, dim=0)  # (B·nb, T): every beam starts as the prompt
    padding = None if padding is None else padding.repeat_interleave(nb)  # beams keep theirs
    # Only beam 0 may extend the prompt at first: the copies would propose the same candidates.
    # (-1e9 rather than -inf, as in transformers, keeps tiny vocabularies working.)
    beam_scores = torch.zeros(B, nb, device=input_ids.device)  # (B, nb)
    beam_scores[:, 1:] = -1e9
    hypotheses: list[list[tuple[Tensor, Tensor]]] = [[] for _ in range(B)]  # (score, ids)
    can_improve = [True] * B
    first_row = nb * torch.arange(B, device=input_ids.device)[:, None]  # (B, 1)

    def done(b: int) -> bool:
        """Prompt b takes no more hypotheses."""
        return not can_improve[b] or (early_stopping is True and len(hypotheses[b]) == nb)

    for step in range(max_new_tokens):
        logits = _logits(next_logits, beams, step, eos, pad_token_id)
        log_probs = steps.penalize(F.log_softmax(logits, dim=-1), beams, padding)  # (B·nb, V)
        V = log_probs.size(-1)
        totals = (log_probs.view(B, nb, V) + beam_scores[:, :, None]).view(B, nb * V)
        active = torch.tensor([not done(b) for b in range(B)], device=totals.device)
        steps.check_processed(totals, active, step)  # every candidate of a prompt
        scores, index = totals.topk(min(n_candidates, nb * V))  # (B, K), best first
        rows = first_row + index // V  # (B, K): the beam (row of `beams`) each one extends
        tokens = index % V  # (B, K)
        ends = torch.isin(tokens, eos_tensor) | (step == max_new_tokens - 1)  # (B, K)

        # 1. The best nb candidates that end become hypotheses, unless the prompt is done.
        length_scores = _length_order(scores, step + 1, length_penalty)  # (B, K)
        for b in range(B):
            if done(b):
                continue
            for k in torch.nonzero(ends[b, :nb]).flatten().tolist():
                text = torch.cat([beams[rows[b, k]], tokens[b, k:k + 1]])
                hypotheses[b].append((length_scores[b, k], text))
            hypotheses[b].sort(key=lambda hypothesis: hypothesis[0].item(), reverse=True)
            del hypotheses[b][nb:]

        # 2. The best nb candidates that do not end are the next beams.
        keep = scores.masked_fill(ends, float("-inf")).topk(nb).indices  # (B, nb)
        rows, tokens = rows.gather(1, keep).flatten(), tokens.gather(1, keep).flatten()
        beams = torch.cat([beams[rows], tokens[:, None]], dim=1)  # (B·nb, T + step + 1)
        beam_scores = scores.gather(1, keep)  # (B, nb), best first
        if hasattr(next_logits, "reorder"):
            next_logits.reorder(rows)

        # 3. Can a beam still beat the worst hypothesis? Score the best beam at the length
        # that would suit it most (see early_stopping above) and compare.
        if early_stopping == "never" and length_penalty > 0:
            best_length = max_new_tokens
        else:
            best_length = step + 1
        best_possible = _length_order(beam_scores[:, 0], best_length, length_penalty)  # (B,)
        for b in range(B):
            full = len(hypotheses[b]) == nb
            if full and can_improve[b]:
                can_improve[b] = bool(best_possible[b] > hypotheses[b][-1][0])
        if all(done(b) for b in range(B)):
            break

    best = [hypotheses[b][0][1] for b in range(B)]  # each (T + its length,)
    width = max(len(text) for text in best)
    out = torch.full((B, width), -1 if pad_token_id is None else pad_token_id,
                     dtype=torch.long, device=input_ids.device)
    for b, text in enumerate(best):
        out[b, :len(text)] = text
    return out
