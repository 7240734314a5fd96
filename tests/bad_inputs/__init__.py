"""Bad inputs for every public API of course_utils, one module per area of the package.

Each module lists `CASES`: calls that a demanding user could make by mistake, each with the
exception it must raise and the words its message must contain (at least the argument's name).
tests/test_bad_inputs.py runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bad:
    """`call()` must raise `error` (or a subclass), and its message must contain `mentions`."""

    id: str
    call: Callable[[], object]
    error: type[BaseException]
    mentions: tuple[str, ...]


def bad(id: str, call: Callable[[], object], error: type[BaseException], *mentions: str) -> Bad:
    """Shorthand: bad("top_k=0", lambda: top_k_filter(scores, 0), ValueError, "top_k", "0")."""
    if not mentions:
        raise ValueError(f"{id}: name at least the argument the message must mention")
    return Bad(id, call, error, mentions)
