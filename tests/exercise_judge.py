"""Running one exercise check the way a learner's cell does, for the exercise tests."""

from __future__ import annotations

from course_utils.exercises import feedback
from course_utils.exercises.messages import MESSAGES


def judge(capsys, check, answer) -> feedback.Result:
    """Run `check` on `answer`; return its recorded result after checking what the learner sees:
    exactly one line of at most MAX_LINE characters, nothing on stderr, no exception, and a
    sentence from the messages table."""
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
    return result
