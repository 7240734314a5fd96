"""Generation's settings: one frozen `GenerationConfig`, checked once, when it is made.

`course_utils.generation.generate` takes the same settings as keywords and builds one; its
docstring says how they map to transformers' `model.generate`. The score steps' own values
(temperature, top_k, top_p, min_p, repetition_penalty, no_repeat_ngram_size) are checked by
`course_utils.decoding.ScoreSteps`; the beam and stopping settings by
`course_utils.strategies`.

Left out: settings for things the course does not build (several sequences per prompt,
constraints, watermarks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from course_utils.decoding import ScoreSteps
from course_utils.strategies import check_beam_settings, check_stopping
from course_utils.validation import (check_bool, check_choice, check_device, check_int,
                                     check_seed, check_type)

__all__ = ["GenerationConfig", "STRATEGIES"]

STRATEGIES = ("greedy", "sample", "beam")


@dataclass(frozen=True)
class GenerationConfig:
    """How `generate` writes: every setting in one place, checked once, when the config is made
    (it is frozen; `dataclasses.replace(config, seed=1)` makes a changed copy, checked again).

    Settings that only one strategy uses are refused with the others (temperature with
    strategy="greedy" is a mistake, not a no-op). Degenerate values are refused: NaN or infinite
    numbers, bools where an int is expected, a seed outside 0..2**64-1.

    >>> GenerationConfig(strategy="sample", seed=torch.Generator())
    Traceback (most recent call last):
    ...
    TypeError: seed must be an int or None, got a torch.Generator; pass it as generator=...
    """

    max_new_tokens: int = 50  # at most this many tokens are appended (fewer if all rows stop)
    strategy: Literal["greedy", "sample", "beam"] = "greedy"
    # strategy="sample" only:
    temperature: float = 1.0  # the logits are divided by it: < 1 sharpens, > 1 flattens
    top_k: int | None = None  # keep the k most likely tokens; None keeps all
    top_p: float = 1.0  # keep the fewest most likely tokens whose probability sums to p; 1.0: all
    min_p: float | None = None  # drop tokens below min_p × the top one's probability; None: off
    seed: int | None = None  # seeds a private generator; None: seed 0, unless `generator` is given
    generator: torch.Generator | None = None  # or draw from this generator, continuing its stream
    # strategy="beam" only:
    num_beams: int | None = None  # texts kept at each step (required)
    length_penalty: float = 1.0  # a finished text scores sum(log p) / length ** length_penalty
    early_stopping: bool | Literal["never"] = False  # when a prompt is done (see beam_search)
    # every strategy:
    repetition_penalty: float = 1.0  # > 1 makes tokens already in the text less likely; 1: off
    no_repeat_ngram_size: int = 0  # n > 0 forbids any n tokens from occurring twice; 0: off
    eos_token_id: int | Sequence[int] | None = None  # a row stops at this token (or these)
    pad_token_id: int | None = None  # fills finished rows; None: the first EOS id
    use_cache: bool = True  # keep keys and values (KV cache): faster, the same tokens
    # True: past the model's context, each step sees the last context-many tokens, recomputed
    # without the cache (a full forward pass per step: see NextTokenLogits); False: going past
    # it is an error. Refused for a model without a fixed context (nothing to slide).
    sliding_context: bool = False

    def __post_init__(self) -> None:  # stores the checked values (plain ints and floats)
        checked = {"max_new_tokens": check_int("max_new_tokens", self.max_new_tokens, minimum=0)}
        check_choice("strategy", self.strategy, STRATEGIES)
        checked.update(vars(ScoreSteps(self.repetition_penalty, self.no_repeat_ngram_size,
                                       self.temperature, self.top_k, self.top_p,
                                       self.min_p)))  # these six
        if isinstance(self.seed, torch.Generator):
            raise TypeError("seed must be an int or None, got a torch.Generator; pass it as "
                            "generator=...")
        checked["seed"] = check_seed("seed", self.seed, optional=True)
        if self.generator is not None:
            check_type("generator", self.generator, torch.Generator, "a torch.Generator or None")
            if self.seed is not None:
                raise ValueError(f"seed={self.seed} and a generator were both given; give one: "
                                 f"the generator's own seed decides its draws")
        self._check_strategy_settings()
        if self.strategy == "beam":
            checked["num_beams"], checked["length_penalty"] = check_beam_settings(
                self.num_beams, self.length_penalty, self.early_stopping)
        eos, pad = check_stopping(self.eos_token_id, self.pad_token_id)
        checked["eos_token_id"] = eos if isinstance(self.eos_token_id, (list, tuple)) else \
            (eos or [None])[0]
        checked["pad_token_id"] = None if self.pad_token_id is None else pad
        check_bool("use_cache", self.use_cache)
        check_bool("sliding_context", self.sliding_context)
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def _check_strategy_settings(self) -> None:
        sampling = dict(temperature=self.temperature != 1.0, top_k=self.top_k is not None,
                        top_p=self.top_p != 1.0, min_p=self.min_p is not None,
                        seed=self.seed is not None,
                        generator=self.generator is not None)
        beam = dict(num_beams=self.num_beams is not None, length_penalty=self.length_penalty != 1,
                    early_stopping=self.early_stopping is not False)
        for only, settings in (("sample", sampling), ("beam", beam)):
            given = [name for name, is_set in settings.items() if is_set]
            if given and self.strategy != only:
                verb, them = ("applies", "it") if len(given) == 1 else ("apply", "them")
                raise ValueError(f"{', '.join(given)} only {verb} to strategy={only!r}, not "
                                 f"{self.strategy!r}; leave {them} out or use strategy={only!r}")
        if self.strategy == "beam" and self.num_beams is None:
            raise ValueError("num_beams is needed for strategy='beam', e.g. num_beams=5")

    def make_generator(self, device: torch.device) -> torch.Generator:
        """The generator that sampling draws from: `generator`, or a new one seeded with seed
        (0 if None) on `device`."""
        device = check_device("device", device)
        return self.generator or torch.Generator(device).manual_seed(self.seed or 0)
