"""Batches of texts of different lengths: left padding, the attention mask, and positions.

A model reads a (B, T) tensor of token ids, so prompts of different lengths are padded to the
longest. The `attention_mask` (B, T) says which tokens are real (1) and which are padding (0),
with transformers' meaning: padded keys get no attention weight, and a token's position counts
only the real tokens before it. `left_pad` puts the padding on the left, so that every row's
last token is real and the next token of every row goes in the same column:

    prompts [5, 6, 7] and [8]      input_ids      attention_mask    position_ids
                                   [[5, 6, 7],    [[1, 1, 1],       [[0, 1, 2],
                                    [0, 0, 8]]     [0, 0, 1]]        [0, 0, 0]]

- `position_ids_from_mask`: positions as transformers' `generate` makes them (cumsum - 1,
  padding at 0); each generated token then takes the row's last position + 1.
- `padding_and_positions`: what `GPT.forward` and `Llama.forward` do with their
  attention_mask and position_ids keywords (checked; without either, positions past..past+T-1
  and no padding, exactly as before).
- `padding_lengths`: each row's padding (the repetition penalty skips it, as transformers').
- `check_token_ids`: a (B, T) batch of token ids (it lived in `course_utils.model` first and is
  still importable from there).

A padded query (a padding token's own row) may attend to no key at all: it gets zeros from
the attention, as torch's SDPA (which transformers uses) gives. Its logits mean nothing and no
test compares them with a real token's. Left out: right padding for generation (a model fed
right-padded prompts would write after the padding; `course_utils.generation` refuses it) and
packing several texts into one row.

>>> input_ids, attention_mask = left_pad([[5, 6, 7], [8]], pad_token_id=0)
>>> input_ids, attention_mask
(tensor([[5, 6, 7],
        [0, 0, 8]]), tensor([[1, 1, 1],
        [0, 0, 1]]))
>>> position_ids_from_mask(attention_mask)
tensor([[0, 1, 2],
        [0, 0, 0]])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from course_utils.validation import check_int, check_tensor, check_type, short_repr

__all__ = ["check_token_ids", "left_pad", "check_attention_mask", "check_left_padded",
           "position_ids_from_mask", "padding_and_positions", "padding_lengths"]


def check_token_ids(ids: object, name: str = "input_ids", *, vocab_size: int | None = None
                    ) -> None:
    """Raise TypeError/ValueError, saying what to do, unless `ids` is a (B, T) tensor of integer
    token ids (int64 or int32, not bool) with B, T >= 1, and (given vocab_size) every id in
    0..vocab_size - 1; `name` is the argument's name in the message.

    >>> check_token_ids(torch.tensor([1, 2, 3]), "input_ids")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: input_ids must have shape (B, T) with T >= 1, got (3,); for one sequence use ...
    """
    if not isinstance(ids, Tensor) or ids.dtype not in (torch.int64, torch.int32):
        what = f"dtype {ids.dtype}" if isinstance(ids, Tensor) else short_repr(ids)
        raise TypeError(f"{name} must be a LongTensor of token ids, got {what}; "
                        f"use torch.tensor(ids, dtype=torch.long)")
    check_tensor(name, ids)  # refuses the meta device
    vocab_size = check_int("vocab_size", vocab_size, minimum=1, optional=True)
    if ids.dim() != 2 or ids.size(0) == 0 or ids.size(1) == 0:
        raise ValueError(f"{name} must have shape (B, T) with T >= 1, got {tuple(ids.shape)}; "
                         f"for one sequence use {name}[None]")
    if vocab_size is not None:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(f"{name}: token id {low if low < 0 else high} is out of range for "
                             f"vocab_size={vocab_size} (ids must be in 0..{vocab_size - 1})")


def left_pad(prompts: Sequence[Sequence[int] | Tensor], pad_token_id: int
             ) -> tuple[Tensor, Tensor]:
    """Return (input_ids, attention_mask), both (B, longest prompt) LongTensors: each prompt
    right-aligned after pad_token_id's, and 1 for its real tokens, 0 for the padding.

    Which id pads does not matter to the model (the mask hides it); tokenizer.pad_token_id, or
    the EOS id for GPT-2 and SmolLM2, which have no pad token.

    >>> left_pad([torch.tensor([1, 2]), [3]], pad_token_id=9)[0]
    tensor([[1, 2],
            [9, 3]])
    """
    check_type("prompts", prompts, (list, tuple), "a list of prompts (lists of token ids)")
    pad_token_id = check_int("pad_token_id", pad_token_id, minimum=0,
                             fix="e.g. tokenizer.eos_token_id")
    if not prompts:
        raise ValueError("prompts is empty: give at least one prompt (a list of token ids)")
    rows = []
    for i, prompt in enumerate(prompts):
        if isinstance(prompt, Tensor):
            check_tensor(f"prompts[{i}]", prompt, ndim=1, kind="integer", shape="(T,)")
            prompt = prompt.tolist()
        check_type(f"prompts[{i}]", prompt, (list, tuple), "a list of token ids or a 1-D tensor")
        if not prompt:
            raise ValueError(f"prompts[{i}] is empty: every prompt needs at least one token, "
                             f"such as a BOS token")
        if not all(type(t) is int for t in prompt) or min(prompt) < 0:  # else checked already
            prompt = [check_int(f"prompts[{i}][{j}]", t, minimum=0) for j, t in enumerate(prompt)]
        rows.append(prompt)
    T = max(map(len, rows))
    input_ids = torch.full((len(rows), T), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros(len(rows), T, dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, T - len(row):] = torch.tensor(row, dtype=torch.long)
        attention_mask[i, T - len(row):] = 1
    return input_ids, attention_mask


def check_attention_mask(attention_mask: object, shape: tuple[int, int], *,
                         device: torch.device | None = None) -> Tensor:
    """Return attention_mask as a bool tensor (True = real token) after checking that it is a
    (B, S) = shape tensor of 0s and 1s (bool, integer or float) on `device`.

    >>> check_attention_mask(torch.tensor([[0, 1, 1]]), (1, 3))
    tensor([[False,  True,  True]])
    """
    mask = check_tensor("attention_mask", attention_mask, ndim=2, shape="(B, S)",
                        fix="1 for real tokens, 0 for padding, as left_pad makes it")
    if tuple(mask.shape) != tuple(shape):
        raise ValueError(f"attention_mask must be (B, cached + new tokens) = {tuple(shape)}, got "
                         f"{tuple(mask.shape)}; it covers every token the model has seen, "
                         f"the cached ones too")
    if device is not None and mask.device != device:
        raise ValueError(f"attention_mask is on {mask.device} but the input is on {device}; use "
                         f"attention_mask.to({str(device)!r})")
    if mask.is_complex() or not ((mask == 0) | (mask == 1)).all():
        raise ValueError(f"attention_mask must hold only 0 (padding) and 1 (real token), got "
                         f"{short_repr(mask.unique().tolist())}; for a bool mask use .long()")
    return mask.bool()


def check_left_padded(mask: Tensor) -> None:
    """Raise ValueError unless every row of the bool mask (B, S) is padding, then real tokens,
    with at least one real token: what generation needs (the next token goes after the last).

    >>> check_left_padded(torch.tensor([[True, False]]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: attention_mask row 0 has padding after a real token: generation needs ...
    """
    mask = mask.bool()
    empty = ~mask.any(dim=-1)  # (B,)
    late = (mask[:, :-1] & ~mask[:, 1:]).any(dim=-1)  # (B,): a real token, then padding
    bad = (empty | late).nonzero()
    if len(bad):  # the first bad row, checked for the whole batch at once
        i = int(bad[0, 0])
        if empty[i]:
            raise ValueError(f"attention_mask row {i} has no real token (all 0): every prompt "
                             f"needs at least one token to continue; drop that row")
        raise ValueError(f"attention_mask row {i} has padding after a real token: "
                         f"generation needs left padding (padding first, then the prompt); "
                         f"pad with left_pad(prompts, pad_token_id), or tokenizer."
                         f"padding_side = 'left'")


def padding_lengths(attention_mask: object, input_ids: Tensor) -> Tensor | None:
    """Return the number of padding tokens before each row's text (B,), for input_ids (B, T)
    left-padded under attention_mask (checked); None when nothing is padded (no mask, all 1s).

    >>> padding_lengths(torch.tensor([[0, 0, 1], [1, 1, 1]]), torch.ones(2, 3, dtype=torch.long))
    tensor([2, 0])
    """
    if attention_mask is None:
        return None
    mask = check_attention_mask(attention_mask, tuple(input_ids.shape), device=input_ids.device)
    check_left_padded(mask)
    return None if bool(mask.all()) else mask.int().argmax(dim=1)  # the first real token


def position_ids_from_mask(attention_mask: Tensor) -> Tensor:
    """Return the positions (B, S) transformers' generate gives tokens under attention_mask:
    the number of real tokens before each one (cumsum - 1), and 0 for padding.

    >>> position_ids_from_mask(torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]]))
    tensor([[0, 0, 0, 1],
            [0, 1, 2, 3]])
    """
    check_tensor("attention_mask", attention_mask, ndim=2, shape="(B, S)")
    mask = check_attention_mask(attention_mask, tuple(attention_mask.shape))  # 0s and 1s
    return (mask.long().cumsum(-1) - 1).masked_fill(~mask, 0)


def padding_and_positions(input_ids: Tensor, past: int, attention_mask: object,
                          position_ids: object, *, max_position: int | None = None
                          ) -> tuple[Tensor | None, Tensor]:
    """Return (key_padding, positions) for a model called on input_ids (B, T) after `past`
    cached tokens: key_padding (B, past + T) bool, or None when every token is real; positions
    (T,) when neither argument is given (past..past+T-1), else (B, T) (or position_ids' (1, T)).

    Given only attention_mask, positions come from it (`position_ids_from_mask`, last T
    columns): what generate passes. (transformers' forward alone would use past..past+T-1.)
    Positions must be in 0..max_position - 1 (a learned position table's size).

    >>> ids = torch.tensor([[0, 4, 5]])
    >>> padding_and_positions(ids, 0, torch.tensor([[0, 1, 1]]), None)
    (tensor([[False,  True,  True]]), tensor([[0, 0, 1]]))
    """
    B, T = input_ids.shape
    mask = None
    if attention_mask is not None:
        mask = check_attention_mask(attention_mask, (B, past + T), device=input_ids.device)
    if position_ids is None:
        if mask is None:
            positions = torch.arange(past, past + T, device=input_ids.device)  # (T,)
        else:
            positions = position_ids_from_mask(mask)[:, past:]  # (B, T)
    else:
        positions = check_tensor("position_ids", position_ids, ndim=2, kind="integer",
                                 shape="(B, T)", fix="e.g. torch.arange(T)[None]")
        if positions.size(0) not in (1, B) or positions.size(1) != T:
            raise ValueError(f"position_ids must be (B, T) = ({B}, {T}) or (1, {T}), one "
                             f"position per new token, got {tuple(positions.shape)}")
        if positions.device != input_ids.device:
            raise ValueError(f"position_ids is on {positions.device} but input_ids is on "
                             f"{input_ids.device}; use position_ids.to(input_ids.device)")
        low, high = int(positions.min()), int(positions.max())
        if low < 0 or (max_position is not None and high >= max_position):
            limit = "" if max_position is None else f" and < block_size={max_position}"
            raise ValueError(f"position_ids must be >= 0{limit}, got {low if low < 0 else high}")
    if mask is not None and bool(mask.all()):
        mask = None  # no padding: the plain causal mask (and its fast path) does the same
    return mask, positions
