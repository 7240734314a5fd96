"""Checking what a user passes: one small function per kind of argument.

Every public function of `course_utils` checks its arguments with these before it does any work,
so a mistake ends in an error that names the argument, shows the value and says what to pass
instead — not in an IndexError deep inside torch, and never in a silently wrong answer.

Conventions, the same in every module:
- a value of the wrong kind is a TypeError; a value of the right kind outside its range is a
  ValueError (files and folders raise OSError, see `course_utils.files`);
- `bool` is not an int here, although Python says True == 1: `top_k=True` is a mistake, not 1;
  NumPy integers and floats are welcome;
- numbers must be finite unless a function says otherwise: NaN compares False with everything,
  so a NaN that got past a range check would poison every result after it.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from course_utils.validation_messages import must_be, must_have_dims

if TYPE_CHECKING:
    import torch

__all__ = ["short_repr", "check_int", "check_number", "check_bool", "check_choice", "check_str",
           "check_type", "check_seed", "check_path", "check_device", "check_tensor",
           "check_same_device", "check_memory"]

_T = TypeVar("_T")
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes seeds up to 2**64 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")  # what errors="surrogateescape" makes of bad UTF-8


def short_repr(value: object, limit: int = 80) -> str:
    """Return repr(value) on one line, at most `limit` characters; never raises.

    Tensors and arrays with many elements are described by shape and dtype instead, and a repr
    that raises is replaced by the type's name, so an error message can always show the value.

    >>> short_repr("x" * 200, limit=20)
    "'xxxxxxxx…xxxxxxxx'"
    >>> import torch; short_repr(torch.zeros(3, 500))
    'Tensor of shape (3, 500), dtype torch.float32'
    """
    try:
        shape = getattr(value, "shape", None)
        size = getattr(value, "numel", None)
        size = size() if callable(size) else getattr(value, "size", None)
        if shape is not None and isinstance(size, int) and size > 8:
            return f"{type(value).__name__} of shape {tuple(shape)}, dtype {value.dtype}"
        text = repr(value)
    except Exception:  # a repr that raises must not hide the real error
        text = f"<{type(value).__name__} object>"
    text = " ".join(text.split())  # one line
    if len(text) > limit:
        keep = max(limit - 1, 2) // 2
        text = text[:keep] + "…" + text[-keep:]
    return text


def _shown(value: object) -> str:
    """`value` for a message, with the type for a bool (True looks like a number but is not)."""
    return short_repr(value) + (" (bool)" if isinstance(value, bool) else "")


def _fail(error: type[Exception], name: str, expected: str, value: object,
          fix: str | None) -> Exception:
    return error(must_be(name, expected, _shown(value), fix))  # in the course's language


def _range(minimum: float | None, maximum: float | None, min_open: bool, max_open: bool) -> str:
    """' in (0, 1]', ' >= 1', ' < 5' or '' for the bounds given."""
    if minimum is not None and maximum is not None:
        return f" in {'(' if min_open else '['}{minimum:g}, {maximum:g}{')' if max_open else ']'}"
    if minimum is not None:
        return f" {'>' if min_open else '>='} {minimum:g}"
    if maximum is not None:
        return f" {'<' if max_open else '<='} {maximum:g}"
    return ""


def _outside(x: float, minimum: float | None, maximum: float | None, min_open: bool,
             max_open: bool) -> bool:
    low = minimum is not None and (x <= minimum if min_open else x < minimum)
    high = maximum is not None and (x >= maximum if max_open else x > maximum)
    return low or high


def check_int(name: str, value: object, *, minimum: int | None = None,
              maximum: int | None = None, optional: bool = False, fix: str | None = None
              ) -> int | None:
    """Return `value` as an int if it is one (not a bool) within [minimum, maximum]; else raise.

    optional=True also accepts None (and returns it). `fix` is added to the message.

    >>> check_int("top_k", True, minimum=1)
    Traceback (most recent call last):
    ...
    TypeError: top_k must be an int >= 1, got True (bool)
    """
    if value is None and optional:
        return None

    def fail(error: type[Exception]) -> Exception:  # the message is built only when needed
        expected = f"an int{_range(minimum, maximum, False, False)}"
        return _fail(error, name, expected + (" or None" if optional else ""), value, fix)

    if type(value) is not int and (not isinstance(value, numbers.Integral)
                                   or isinstance(value, bool)):
        raise fail(TypeError)
    if _outside(int(value), minimum, maximum, False, False):
        raise fail(ValueError)
    return int(value)


def check_number(name: str, value: object, *, minimum: float | None = None,
                 maximum: float | None = None, min_open: bool = False, max_open: bool = False,
                 finite: bool = True, optional: bool = False, fix: str | None = None
                 ) -> float | None:
    """Return `value` as a float if it is a real number (not a bool) in range; else raise.

    min_open / max_open exclude the bound itself. NaN is always refused, and so are ±inf unless
    finite=False. optional=True also accepts None (and returns it).

    >>> check_number("lr", "0.1", minimum=0, min_open=True)
    Traceback (most recent call last):
    ...
    TypeError: lr must be a finite number > 0, got '0.1'
    """
    if value is None and optional:
        return None

    def fail(error: type[Exception]) -> Exception:  # the message is built only when needed
        bounded = minimum is not None and maximum is not None  # then "finite" goes unsaid
        expected = (f"{'a finite' if finite and not bounded else 'a'} number"
                    f"{_range(minimum, maximum, min_open, max_open)}")
        return _fail(error, name, expected + (" or None" if optional else ""), value, fix)

    if type(value) not in (float, int) and (not isinstance(value, numbers.Real)
                                            or isinstance(value, bool)):
        raise fail(TypeError)
    try:
        x = float(value)
    except OverflowError:  # an int or Fraction beyond float's range
        raise _fail(ValueError, name, "a number within a float's range (about ±1.8e308)",
                    value, fix) from None
    if x != x or (finite and x in (float("inf"), float("-inf"))):
        raise fail(ValueError)
    if _outside(x, minimum, maximum, min_open, max_open):
        raise fail(ValueError)
    return x


def check_bool(name: str, value: object, *, fix: str | None = None) -> bool:
    """Return `value` if it is True or False; else TypeError (1 and "yes" are not booleans).

    >>> check_bool("use_cache", 1)
    Traceback (most recent call last):
    ...
    TypeError: use_cache must be True or False, got 1
    """
    if not isinstance(value, bool):
        raise _fail(TypeError, name, "True or False", value, fix)
    return value


def check_choice(name: str, value: _T, choices: Collection[object], *,
                 fix: str | None = None) -> _T:
    """Return `value` if it is one of `choices` (same type and equal); else ValueError.

    >>> check_choice("strategy", "beam_search", ("greedy", "sample", "beam"))
    Traceback (most recent call last):
    ...
    ValueError: strategy must be one of 'greedy', 'sample', 'beam', got 'beam_search'
    """
    # Compare only values of the same type: 1 == True, and an array's == gives an array.
    if not any(type(value) is type(c) and value == c for c in choices):
        raise _fail(ValueError, name, "one of " + ", ".join(map(repr, choices)), value, fix)
    return value


def check_str(name: str, value: object, *, nonempty: bool = False, utf8: bool = False,
              fix: str | None = None) -> str:
    """Return `value` if it is a str (non-empty if asked); else TypeError / ValueError.

    utf8=True also refuses lone surrogates such as "\\udc80", which UTF-8 cannot write.
    """
    expected = "a non-empty str" if nonempty else "a str"
    if not isinstance(value, str):
        raise _fail(TypeError, name, expected, value, fix)
    if nonempty and not value:
        raise _fail(ValueError, name, expected, value, fix)
    found = _SURROGATE.search(value) if utf8 else None
    if found:
        raise ValueError(f"{name} holds a lone surrogate, {found.group()!r} at index "
                         f"{found.start()}, which UTF-8 cannot write; remove it")
    return value


def check_type(name: str, value: _T, types: type | tuple[type, ...], expected: str, *,
               fix: str | None = None) -> _T:
    """Return `value` if isinstance(value, types); else TypeError saying `expected`.

    >>> check_type("config", {}, int, "a GPTConfig")
    Traceback (most recent call last):
    ...
    TypeError: config must be a GPTConfig, got {} (dict)
    """
    if not isinstance(value, types):
        shown = _shown(value) + ("" if isinstance(value, bool) else f" ({type(value).__name__})")
        raise TypeError(must_be(name, expected, shown, fix))
    return value


def check_seed(name: str, value: object, *, optional: bool = False) -> int | None:
    """Return a seed: an int in [0, 2**64 - 1], the range torch's generators accept.

    >>> check_seed("seed", 2**70)
    Traceback (most recent call last):
    ...
    ValueError: seed must be an int from 0 to 2**64 - 1, got 1180591620717411303424; e.g. seed=0
    """
    seed = check_int(name, value, minimum=0, optional=optional, fix="e.g. seed=0")
    if seed is not None and seed > MAX_SEED:
        raise _fail(ValueError, name, "an int from 0 to 2**64 - 1", value, "e.g. seed=0")
    return seed


def check_path(name: str, value: object) -> Path:
    """Return `value` as a Path if it is a str or os.PathLike (not bytes, not None)."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or value == "":
        raise _fail(TypeError, name, "a path (a non-empty str or pathlib.Path)", value, None)
    return Path(value)


def check_device(name: str, value: object, *, allow_meta: bool = False) -> torch.device:
    """Return `value` as a torch.device that this machine has; else a clear error.

    "cuda" on a machine without a CUDA GPU would otherwise fail later, deep inside torch. The
    "meta" device (shapes without values) is refused unless `allow_meta`: nothing can be
    computed on it.

    >>> check_device("device", "cpu")
    device(type='cpu')
    >>> check_device("device", "gpu")
    Traceback (most recent call last):
    ...
    ValueError: device must be a torch device such as 'cpu' or 'cuda', got 'gpu'
    """
    import torch

    if not isinstance(value, (str, torch.device)):
        raise _fail(TypeError, name, "a torch device such as 'cpu' or 'cuda'", value, None)
    try:
        device = torch.device(value)
    except (RuntimeError, ValueError):
        raise _fail(ValueError, name, "a torch device such as 'cpu' or 'cuda'", value,
                    None) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{name}={short_repr(value)}, but this machine has no CUDA GPU "
                             f"(torch.cuda.is_available() is False); use {name}='cpu'")
        if device.index is not None and device.index >= count:
            raise ValueError(f"{name}={short_repr(value)}, but this machine has {count} CUDA "
                             f"GPU(s), numbered 0 to {count - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name}={short_repr(value)}, but MPS (Apple GPU) is not available "
                         f"here; use {name}='cpu'")
    elif device.type == "meta" and not allow_meta:
        raise ValueError(f"{name}='meta' holds shapes but no values, so nothing can be computed "
                         f"on it; use {name}='cpu'")
    elif device.type not in ("cpu", "cuda", "mps", "meta"):
        raise ValueError(f"{name}={short_repr(value)} is not supported by the course; use "
                         f"'cpu' or 'cuda'")
    return device


_DTYPE_KINDS: dict[str, Callable[[Any], bool]] = {
    "floating-point": lambda t: t.is_floating_point(),
    "integer": lambda t: not t.is_floating_point() and not t.is_complex()
    and str(t.dtype) != "torch.bool",
    "bool": lambda t: str(t.dtype) == "torch.bool",
}


def check_tensor(name: str, value: object, *, ndim: int | tuple[int, ...] | None = None,
                 kind: str | None = None, shape: str = "", fix: str | None = None
                 ) -> torch.Tensor:
    """Return `value` if it is a torch.Tensor of the given number of dimensions and dtype kind.

    `kind` is "floating-point", "integer" or "bool"; `shape` describes the expected shape in
    the message, e.g. "(B, T)". A tensor on the meta device (a shape without values) is refused.

    >>> import torch
    >>> check_tensor("x", torch.zeros(4), ndim=3, shape="(B, T, C)")
    Traceback (most recent call last):
    ...
    ValueError: x must have 3 dimensions (B, T, C), got shape (4,)
    """
    import torch

    check_choice("kind", kind, (*_DTYPE_KINDS, None))
    what = f"{'an' if kind and kind[0] in 'aeiou' else 'a'} {kind} torch.Tensor" if kind \
        else "a torch.Tensor"
    if not isinstance(value, torch.Tensor):
        raise _fail(TypeError, name, what, value, fix)
    if value.is_meta:
        raise ValueError(f"{name} is on the meta device: it has a shape but no values; create it "
                         f"on a real device such as 'cpu'")
    if kind is not None and not _DTYPE_KINDS[kind](value):
        raise TypeError(must_be(name, what, f"dtype {value.dtype}", fix))
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if dims is not None and value.dim() not in dims:
        count = " or ".join(map(str, dims))
        raise ValueError(must_have_dims(name, count, shape, tuple(value.shape), fix))
    return value


def check_same_device(**tensors: torch.Tensor) -> None:
    """Raise ValueError, naming them, unless all `tensors` (given by name) are on one device."""
    devices = {name: t.device for name, t in tensors.items()}
    if len(set(devices.values())) > 1:
        names = list(devices)
        raise ValueError(f"{' and '.join(names)} must be on the same device, got "
                         + " and ".join(f"{n} on {d}" for n, d in devices.items())
                         + f"; move them with .to({names[0]}.device)")


def _memory_bytes() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(what: str, num_bytes: int, fix: str) -> None:
    """Raise MemoryError, giving the estimate, if `what` would need more than this machine's
    whole memory: an allocation that large fails deep inside torch, or freezes the machine."""
    total = _memory_bytes()
    if total is not None and num_bytes > total:
        raise MemoryError(f"{what} would need {num_bytes / 1e9:.2g} GB, more than this machine's "
                          f"memory; {fix}")
