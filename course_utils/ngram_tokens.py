"""Reading the tokens an n-gram model counts: any sequence of hashable tokens, checked once.

A str gives its characters; a list, a tuple, a NumPy array or a torch tensor gives its tokens
(an array or tensor its ids). What cannot be counted correctly is refused with a message naming
the argument: a set (no order), unhashable tokens, tokens equal as dict keys but of different
types (True and 1), nan (equal to nothing, itself included).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

from course_utils.validation import short_repr

__all__ = ["check_tokens"]


def check_tokens(name: str, value: object, *, ordered: bool = True,
                 fix: str = "") -> tuple[Hashable, ...]:
    """Return `value` as a tuple of hashable tokens; TypeError naming `name` if it is not one.

    A str gives its characters, an array or a tensor its ids, as do NumPy scalars and 0-d tensors
    among the tokens (hashed by identity, two tensor(1) would be two tokens). `ordered` refuses a
    set; `fix` ends a mapping's message. True and 1, or 1 and 1.0, would merge: TypeError.

    >>> import numpy as np
    >>> check_tokens("tokens", [np.int64(7), "a"])
    (7, 'a')
    """
    if hasattr(value, "tolist") and hasattr(value, "ndim") and not isinstance(value, str):
        value = _read(name, value, "tolist")  # a 0-d array gives a scalar, refused below
    unordered = ordered and isinstance(value, (set, frozenset))
    if isinstance(value, Mapping) or unordered or not isinstance(value, Iterable):
        fix = "; order matters: pass a list" if unordered else fix
        raise TypeError(f"{name} must be a sequence of tokens (a str, list or tuple), got "
                        f"{short_repr(value)} ({type(value).__name__}){fix}")
    try:
        items = tuple(value)
    except OverflowError:  # e.g. range(2**70): more items than a tuple can index
        raise ValueError(f"{name} holds too many tokens to count: {short_repr(value)}") from None
    kinds = set(map(type, items))
    if any(hasattr(kind, "item") and hasattr(kind, "ndim") for kind in kinds):
        items = tuple(_read(name, i, "item") if hasattr(i, "ndim") else i for i in items)
        kinds = set(map(type, items))
    try:
        hash(items)
    except TypeError:
        for item in items:
            try:
                hash(item)
            except TypeError:
                raise TypeError(f"{name} must hold hashable tokens (str, int, tuple, ...), but "
                                f"it holds a {type(item).__name__}: {short_repr(item)}") from None
    if len(kinds) > 1:  # True == 1 == 1.0: a dict would count them as one token
        first: dict[Hashable, Hashable] = {}
        for item in items:
            if type(known := first.setdefault(item, item)) is not type(item):
                raise TypeError(f"{name} mixes {short_repr(known)} ({type(known).__name__}) and "
                                f"{short_repr(item)} ({type(item).__name__}), which are equal "
                                f"as dict keys; give every token one type")
    if float in kinds and any(item != item for item in items):  # nan equals no token, not nan
        raise ValueError(f"{name} holds nan, which could never be scored; drop it or use 'nan'")
    return items


def _read(name: str, value: object, method: str) -> object:
    """`value.tolist()` or, for one token, `value.item()`: the numbers a tensor or array holds."""
    if method == "item" and value.ndim != 0:  # a tensor is hashable: it would be one token
        raise TypeError(f"{name} must hold single tokens, got a {type(value).__name__} of shape "
                        f"{tuple(value.shape)}; pass a flat list")
    try:
        return getattr(value, method)()
    except (RuntimeError, ValueError) as error:  # e.g. a tensor on the meta device
        raise ValueError(f"{name} holds {short_repr(value)}, whose values cannot be read "
                         f"({error}); pass a tensor on the CPU or a list") from None
