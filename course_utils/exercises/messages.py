"""The sentences the exercise checks print, one table per language, keyed by result code.

A check never holds its wording: it returns a result code ("utf8_bytes.characters") and
parameters, and `course_utils.exercises.feedback` renders the current language's sentence with
`str.format`. English is `messages_en.ENGLISH`, Chinese `messages_zh.CHINESE`: both have the
same codes with the same {placeholders} (a test checks it). To add a language, add a table with
the same codes (a missing code falls back to English) and choose it with
`course_utils.language.set_language` (or `course_utils.exercises.set_language`); the checks stay
as they are. Tests compare codes, never these sentences; the notebooks show them, so changing
one means re-executing the notebooks that print it.
"""

from __future__ import annotations

from course_utils.exercises.messages_en import ENGLISH
from course_utils.exercises.messages_zh import CHINESE

_ENGLISH = ENGLISH  # its name before the tables moved to their own modules

# Tables by language; `course_utils.language.set_language` chooses one.
MESSAGES: dict[str, dict[str, str]] = {"en": ENGLISH, "zh": CHINESE}
