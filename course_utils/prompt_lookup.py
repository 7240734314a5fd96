"""Prompt-lookup decoding: greedy search that guesses several tokens at once by copying them
from the text so far, and checks the guess in one forward pass.

Greedy search calls the model once per token. For one sequence on a GPU, that call is slow
because it reads every weight, not because of the arithmetic, so checking ten tokens costs
nearly as much as writing one (on a CPU the arithmetic counts more: measure). Texts that repeat
their prompt (summaries, code edits, answers that quote a document) can use that: prompt-lookup
decoding (Saxena, 2023; transformers' `prompt_lookup_num_tokens`) copies a guess, the "draft",
from the text itself.

1. `find_draft`: take the last `max_ngram_size` tokens of the text. At their first earlier
   occurrence, the tokens that followed them then (up to `num_draft_tokens`) are the draft.
   No match: try a shorter n-gram, down to one token. No match at all: no draft.
2. `prompt_lookup_generate`: feed the last token and the draft in one pass, with the KV cache.
   The logits at position i say what greedy search would write after draft[:i]. Accept the
   draft for as long as it agrees, then add the model's own next token, so every pass writes
   at least one token. Finally crop the cache back to the accepted text (`KVCache.crop`,
   `StaticKVCache.crop`, transformers' `DynamicCache.crop`).

A draft token is only accepted where greedy search would have written it, so the tokens are
those of greedy `course_utils.generation.generate`. They are also those of transformers'
`model.generate(..., prompt_lookup_num_tokens=k, max_matching_ngram_size=n, do_sample=False)`,
whose drafts this module finds in the same way. Only the number of forward passes changes. One
caveat: logits computed for several positions at once can differ from one-at-a-time ones in
their last bits, so in float32 a near-tie between two tokens may go the other way. The tests
use float64.

Left out: batches (transformers refuses them too, because rows would accept different numbers
of tokens), sampling and draft models (speculative decoding, Leviathan et al., 2023),
penalties, and padded prompts.

>>> from course_utils.model import GPT, GPTConfig
>>> model = GPT(GPTConfig(vocab_size=10, block_size=32, n_layer=1, n_head=2, n_embd=8))
>>> prompt = torch.tensor([[1, 2, 3, 4, 1, 2, 3, 4, 1, 2]])
>>> result = prompt_lookup_generate(model, prompt, max_new_tokens=8)
>>> from course_utils.generation import generate
>>> torch.equal(result.ids, generate(model, prompt, 8))  # greedy search's tokens
True
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from course_utils.generation import GenerationConfig, check_model_and_ids
from course_utils.llama import Llama
from course_utils.model import GPT
from course_utils.multihead import KVCache
from course_utils.strategies import check_stopping
from course_utils.validation import check_int, check_tensor

__all__ = ["find_draft", "prompt_lookup_generate", "PromptLookupResult"]


# ---------------------------------------------------------------- the draft


def find_draft(ids: Sequence[int] | Tensor, *, max_ngram_size: int = 2,
               num_draft_tokens: int = 10,
               eos_token_id: int | Sequence[int] | None = None) -> list[int]:
    """Return the draft for the text `ids`: the tokens after the first earlier occurrence of
    its last n tokens (n = max_ngram_size, else smaller), at most num_draft_tokens of them and
    cut before any EOS token; [] when even its last token never occurred before.

    ids: a list of token ids, or a tensor of shape (T,) or (1, T). The first occurrence (left to
    right) is the one transformers' PromptLookupCandidateGenerator takes, not the most recent.

    >>> find_draft([5, 1, 2, 3, 9, 1, 2])  # "1 2" occurred before: it went on "3 9 1 2"
    [3, 9, 1, 2]
    >>> find_draft([1, 2, 3, 4, 7, 2, 3, 5, 2, 3], num_draft_tokens=2)  # the first "2 3"
    [4, 7]
    >>> find_draft([4, 8, 6, 9, 8])  # "9 8" is new, but "8" is not
    [6, 9, 8]
    >>> find_draft([4, 8, 6, 9, 8], eos_token_id=9), find_draft([1, 2, 3])
    ([6], [])
    """
    tokens = _token_list(ids)
    eos, _ = check_stopping(eos_token_id, None)
    return _find_draft(tokens, *_check_draft_settings(max_ngram_size, num_draft_tokens), eos)


def _token_list(ids: object) -> list[int]:
    if isinstance(ids, Tensor):
        check_tensor("ids", ids, ndim=(1, 2), kind="integer", shape="(T,) or (1, T)")
        if ids.dim() == 2 and ids.size(0) != 1:
            raise ValueError(f"ids must hold one text, shape (T,) or (1, T), got "
                             f"{tuple(ids.shape)}; call find_draft once per row")
        ids = ids.flatten().tolist()
    if not isinstance(ids, (list, tuple)):
        raise TypeError(f"ids must be a list of token ids or an integer tensor, got "
                        f"{type(ids).__name__}")
    return [check_int("ids", i, minimum=0, fix="a token id") for i in ids]


def _check_draft_settings(max_ngram_size: object, num_draft_tokens: object) -> tuple[int, int]:
    return (check_int("max_ngram_size", max_ngram_size, minimum=1,
                      fix="2 (transformers' default) matches the last two tokens, then one"),
            check_int("num_draft_tokens", num_draft_tokens, minimum=1,
                      fix="10 (transformers' default) checks up to 10 guessed tokens a pass"))


def _find_draft(tokens: list[int], max_ngram_size: int, num_draft_tokens: int,
                eos: list[int]) -> list[int]:
    T = len(tokens)
    for n in range(min(max_ngram_size, T - 1), 0, -1):  # the longest n-gram first
        last = tokens[T - n:]
        for start in range(T - n):  # every earlier window, left to right (not `last` itself)
            if tokens[start:start + n] == last:
                draft = tokens[start + n:start + n + num_draft_tokens]
                # Like transformers: stop at the first match, even if the cut leaves nothing.
                return next((draft[:i] for i, t in enumerate(draft) if t in eos), draft)
    return []


# ---------------------------------------------------------------- checking drafts


@dataclass(frozen=True)
class PromptLookupResult:
    """What `prompt_lookup_generate` wrote, and how many forward passes it took.

    Each pass writes its accepted draft tokens and one token of the model's own, so
    new_tokens = forward_passes + draft_tokens_accepted; greedy search needs new_tokens passes.
    """

    ids: Tensor  # (1, T + new_tokens) LongTensor: the prompt and what was written
    new_tokens: int  # tokens written: max_new_tokens, or fewer when an EOS token came
    forward_passes: int  # calls of the model
    draft_tokens_proposed: int  # draft tokens the model checked
    draft_tokens_accepted: int  # of those, the ones greedy search writes too

    @property
    def tokens_per_pass(self) -> float:
        """new_tokens / forward_passes: 1 for plain greedy search, more when drafts hit."""
        return self.new_tokens / max(self.forward_passes, 1)


class _Verifier:
    """The model with a KV cache: feed the tokens after the cached ones, get the logits of the
    last positions (float32, as transformers compares them), crop the cache."""

    def __init__(self, model: nn.Module, max_len: int) -> None:
        self.model, self.cached = model, 0  # positions in the cache
        if isinstance(model, GPT):
            self.cache: object = KVCache()
        elif isinstance(model, Llama):
            self.cache = model.make_kv_cache(batch_size=1, max_len=max_len)
        else:
            from transformers import DynamicCache

            # transformers computes the logits of the last positions only, when the model can.
            self.last_only = "logits_to_keep" in inspect.signature(model.forward).parameters
            self.cache = DynamicCache(config=model.config)
            self.cache.activate_past_recording()  # as transformers does before cropping
        self.device = next(model.parameters()).device

    def __call__(self, new_tokens: list[int], last: int) -> Tensor:
        """The logits (last, V) of the last `last` of new_tokens, fed after the cached ones."""
        ids = torch.tensor([new_tokens], device=self.device)  # (1, t)
        if isinstance(self.model, (GPT, Llama)):
            logits = self.model(ids, kv_cache=self.cache)  # (1, t, V)
        else:
            extra = {"logits_to_keep": last} if self.last_only else {}
            logits = self.model(input_ids=ids, past_key_values=self.cache, use_cache=True,
                                **extra).logits
        self.cached += len(new_tokens)
        logits = logits[0, -last:].float()  # (last, V)
        if not logits.isfinite().all():
            raise ValueError("the model returned NaN or infinite logits; check its weights (a "
                             "diverged training run leaves NaN) or run it in float32")
        return logits

    def crop(self, length: int) -> None:
        """Keep the keys and values of the first `length` positions only."""
        if isinstance(self.model, (GPT, Llama)):
            self.cache.crop(length)
        else:  # transformers 5 crops by a negative count; crop(0) trims sliding windows
            self.cache.crop(length - self.cached)
        self.cached = length


def prompt_lookup_generate(model: nn.Module, input_ids: Tensor, max_new_tokens: int, *,
                           num_draft_tokens: int = 10, max_ngram_size: int = 2,
                           eos_token_id: int | Sequence[int] | None = None
                           ) -> PromptLookupResult:
    """Greedy search with drafts copied from the text: the same tokens in fewer forward passes.

    model: the course `GPT`, the course `Llama` or a transformers causal LM; it runs in eval
    mode during the call. input_ids: one prompt (1, T); a batch is refused, as transformers
    does. Each pass checks the draft `find_draft` gives (at most num_draft_tokens, and never
    more than the tokens still to write: transformers' drafts can run past those, and past a
    GPT-2's context, where its position embeddings end in an IndexError). Writing stops after
    max_new_tokens tokens, or after an EOS token (eos_token_id: an id, a list of ids, or None),
    so that the result's ids equal
    `generate(model, input_ids, max_new_tokens, eos_token_id=eos_token_id)`.
    T + max_new_tokens must fit the model's context, as for `generate`.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=32, n_layer=1, n_head=2, n_embd=8))
    >>> result = prompt_lookup_generate(model, torch.tensor([[1, 2, 3, 1, 2, 3, 1, 2]]), 12)
    >>> result.new_tokens, result.forward_passes < 12
    (12, True)
    """
    max_ngram_size, num_draft_tokens = _check_draft_settings(max_ngram_size, num_draft_tokens)
    max_new_tokens = _check_model_and_prompt(model, input_ids, max_new_tokens, eos_token_id)
    eos, _ = check_stopping(eos_token_id, None)
    tokens = input_ids[0].tolist()
    T = len(tokens)
    verifier = _Verifier(model, max_len=T + max_new_tokens)
    passes = proposed = accepted = 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            while len(tokens) - T < max_new_tokens:
                budget = max_new_tokens - (len(tokens) - T)  # tokens still to write
                # A pass writes up to len(draft) + 1 tokens: no draft beyond the budget.
                draft = _find_draft(tokens, max_ngram_size, min(num_draft_tokens, budget - 1),
                                    eos)
                greedy = verifier(tokens[verifier.cached:] + draft, len(draft) + 1).argmax(-1)
                greedy = greedy.tolist()  # what greedy search writes after each draft prefix
                n = next((i for i, (d, g) in enumerate(zip(draft, greedy)) if d != g),
                         len(draft))  # draft tokens accepted
                tokens += draft[:n] + [greedy[n]]
                verifier.crop(len(tokens) - 1)  # the newest token is fed with the next draft
                passes, proposed, accepted = passes + 1, proposed + len(draft), accepted + n
                if tokens[-1] in eos:  # only the model's own token can be one: drafts stop before
                    break
    finally:
        model.train(was_training)
    ids = torch.tensor([tokens], dtype=torch.long, device=input_ids.device)  # as generate's
    return PromptLookupResult(ids, len(tokens) - T, passes, proposed, accepted)


def _check_model_and_prompt(model: object, input_ids: object, max_new_tokens: object,
                            eos_token_id: object) -> int:
    """Return max_new_tokens, checked as `generate` checks it with the model and the prompt
    (context, vocabulary, EOS ids), or raise saying what to change; and batch size 1."""
    config = GenerationConfig(max_new_tokens=max_new_tokens, eos_token_id=eos_token_id)
    check_model_and_ids(model, input_ids, config, attention_mask=None)
    if input_ids.size(0) != 1:
        raise ValueError(f"prompt_lookup_generate takes one prompt, input_ids of shape (1, T), "
                         f"got {tuple(input_ids.shape)}: rows would accept different numbers "
                         f"of draft tokens; call it once per row, input_ids[i:i + 1]")
    if not isinstance(model, (GPT, Llama)) and (
            "past_key_values" not in inspect.signature(model.forward).parameters):
        raise TypeError(f"model {type(model).__name__} keeps no KV cache (its forward takes no "
                        f"past_key_values) for prompt lookup to crop after each draft; use "
                        f"generate(model, input_ids, max_new_tokens): the same tokens")
    weight = next(model.parameters())
    if input_ids.device != weight.device:
        raise ValueError(f"input_ids is on {input_ids.device} but the model is on "
                         f"{weight.device}; use input_ids.to({str(weight.device)!r})")
    return config.max_new_tokens
