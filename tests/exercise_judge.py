"""Running one exercise check the way a learner's cell does, for the exercise tests."""

from __future__ import annotations

from course_utils import language
from course_utils.exercises import feedback
from course_utils.exercises.messages import MESSAGES


def judge(capsys, check, answer) -> feedback.Result:
    """Run `check` on `answer`; return its recorded result after checking what the learner sees:
    exactly one line of at most MAX_LINE characters, nothing on stderr, no exception, a
    sentence from the messages table, and a Chinese sentence for the same result."""
    with feedback.recording() as results:
        assert check(answer) is None
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.count("\n") == 1 and out.out.endswith("\n"), out.out[:300]
    line = out.out[:-1]
    assert len(line) <= feedback.MAX_LINE, line
    (result,) = results
    assert result.text == line
    assert result.code in MESSAGES["en"], result.code
    assert_speaks_chinese(result)
    return result


def in_language(code: str, verdict: feedback.Verdict) -> str:
    """The line `verdict` renders to in the language `code`, leaving the chosen one as it was."""
    chosen = language._chosen[:]
    try:
        feedback.set_language(code)
        return feedback.render(verdict)[0]
    finally:
        language._chosen[:] = chosen


def assert_speaks_chinese(result: feedback.Result) -> None:
    """`result`, rendered in Chinese with the parameters its check passed, uses the Chinese
    table's sentence: it never falls back to the English one (the sentence is missing, or its
    placeholders do not fit the parameters)."""
    verdict = feedback.Verdict(result.outcome, result.code, dict(result.params))
    chinese, english = in_language("zh", verdict), in_language("en", verdict)
    assert chinese != english, (result.code, english)
    template = MESSAGES["zh"][result.code]
    assert template.format(**result.params)  # raises if a placeholder is missing or mis-typed
    assert chinese.startswith(f"{feedback.MARKS[result.outcome]} "), chinese
