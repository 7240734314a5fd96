"""The Chinese sentences of the exercise checks, keyed by result code (see `messages`).

Same codes and the same {placeholders} as `messages_en.ENGLISH`, in the same order.
"""

from __future__ import annotations

CHINESE: dict[str, str] = {}
