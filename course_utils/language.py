"""The language the course speaks to the learner: English ("en", the default) or Chinese ("zh").

What follows the language: exercise feedback (`course_utils.exercises.messages`), the
progress-bar labels and the errors a learner meets in the notebooks, and `make check`'s report.
Code, result codes and everything a test compares stay the same in both languages.

It is chosen, in this order, by `set_language` (a notebook's `setup_notebook(language="zh")`
calls it), else by the environment variable LLM_TOKENS_LANGUAGE (for the command line:
`LLM_TOKENS_LANGUAGE=zh make check`), else English.

>>> set_language("zh"); say("training", "训练")
'训练'
>>> set_language("en"); say("training", "训练")
'training'

It is the first module of the package and imports none of it: everything that speaks, the
argument checks of `course_utils.validation` included, asks it.

Left out: more languages. A third would add a third table to each place that speaks, and a
third argument to `say`.
"""

from __future__ import annotations

import os

__all__ = ["LANGUAGES", "ENV_VAR", "set_language", "get_language", "say"]

LANGUAGES = ("en", "zh")
ENV_VAR = "LLM_TOKENS_LANGUAGE"
_chosen: list[str] = []  # empty until set_language is called


def set_language(language: str) -> None:
    """Speak `language` ("en" or "zh") from now on, in this process."""
    # Checked here, not by course_utils.validation, which comes later: it speaks through `say`.
    got = repr(language) + (" (bool)" if isinstance(language, bool) else "")
    if not isinstance(language, str):
        raise TypeError(say(f"language must be a str, got {got}", f"language应为str，实际为{got}"))
    if language not in LANGUAGES:
        choices = ", ".join(map(repr, LANGUAGES))
        raise ValueError(say(f"language must be one of {choices}, got {got}",
                             f"language应为以下之一：{choices}，实际为{got}"))
    _chosen[:] = [language]


def get_language() -> str:
    """The language chosen by `set_language`, else by LLM_TOKENS_LANGUAGE, else "en"."""
    if _chosen:
        return _chosen[0]
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if not value:
        return "en"
    if value not in LANGUAGES:
        raise ValueError(f"the environment variable {ENV_VAR} must be one of {LANGUAGES}, "
                         f"got {value!r}; e.g. {ENV_VAR}=zh, or unset it for English")
    return value


def say(english: str, chinese: str) -> str:
    """`english` or `chinese`, whichever the current language is."""
    return chinese if get_language() == "zh" else english
