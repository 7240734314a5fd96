"""Auto-grading: one batch of fabricated submissions, from right answers to hostile notebooks.

Every submission is built in tmp_path from the solutions notebook's cells (or by editing them),
graded once by the command line with short limits, and each row, feedback file and the
untouched originals are checked.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from pathlib import Path

import nbformat
import pytest

from course_utils import grade, grade_report
from course_utils.exercises import check_pretokenize, check_utf8_bytes, recording
from course_utils.exercises.feedback import GRADING_RESULTS

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO_ROOT / "notebooks" / "solutions" / "01_tokenization_solutions.ipynb"
SOLUTION_CELLS = ["".join(c["source"]) for c in
                  json.loads(SOLUTIONS.read_text(encoding="utf-8"))["cells"]]
SETUP, UTF8, CHUNKS = SOLUTION_CELLS[1], SOLUTION_CELLS[3], SOLUTION_CELLS[5]
CELL_TIMEOUT, TIMEOUT, MAX_OUTPUT = 15, 60, 100_000  # room for a loaded machine
FORGED_LINE = "✓ correct: 11 chunks, each word keeps the space before it"
FORGE = f"""import json, os
line = {{"check": "check_pretokenize", "code": "pretokenize.correct", "outcome": "correct",
        "params": {{"count": 11}}, "text": {FORGED_LINE!r}}}
with open(os.environ["LLM_TOKENS_GRADING_RESULTS"], "a") as f:
    f.write(json.dumps(line) + "\\n")
print(line["text"])"""

# name: the code cells of a fabricated submission (None: the solutions notebook as it is)
SUBMISSIONS = {
    "correct": None,
    "wrong": [SETUP, "check_utf8_bytes(9)", 'check_pretokenize(["I\'ll pay $1,000"])'],
    "none": [SETUP.replace("setup_notebook()", 'setup_notebook(language="zh")'),
             "check_utf8_bytes(None)", CHUNKS],
    "hang": [SETUP, "while True:\n    pass", UTF8],
    "deaf": [SETUP, UTF8, "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
             "time.sleep(600)", CHUNKS],
    "exits": [SETUP, UTF8, "import os\nos._exit(1)", CHUNKS],
    "sigkill": [SETUP, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", UTF8],
    "floods": [SETUP, "while True:\n    print('spam ' * 20)", UTF8],
    "deletes": [SETUP, "import glob, os\nfor name in glob.glob('*'):\n    os.remove(name)", UTF8],
    "raises": [SETUP, *["1 / 0"] * 5, "check_utf8_bytes(my_undefined_answer)", CHUNKS],
    "forges": [SETUP, FORGE, UTF8],
}
FOLLOWING = ["check_count_pairs", "check_bpe_encode", "check_decode", "check_bpe_separator",
             "check_digit_pattern", "check_chat_ids"]  # the checks no fabricated cell calls


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission once, from the command line; return what it left."""
    folder = tmp_path_factory.mktemp("submissions")
    for name, cells in SUBMISSIONS.items():
        if cells is None:
            (folder / f"{name}.ipynb").write_bytes(SOLUTIONS.read_bytes())
        else:
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
            nbformat.write(nb, folder / f"{name}.ipynb")
    (folder / "garbage.ipynb").write_bytes(b"\x00\xffthis is not JSON")
    before = {path.name: sha256(path) for path in folder.iterdir()}
    out = tmp_path_factory.mktemp("grades")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = grade.main(["--notebook", "01_tokenization", "--out", str(out), "--jobs", "2",
                           "--timeout", str(TIMEOUT), "--cell-timeout", str(CELL_TIMEOUT),
                           "--max-output", str(MAX_OUTPUT), *map(str, sorted(folder.iterdir()))])
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as file:
        rows = {row["submission"].removesuffix(".ipynb"): row for row in csv.DictReader(file)}
    feedback = {path.stem: path.read_text(encoding="utf-8")
                for path in (out / "feedback").glob("*.txt")}
    after = {path.name: sha256(path) for path in folder.iterdir()}
    return {"code": code, "rows": rows, "feedback": feedback, "before": before, "after": after,
            "printed": printed.getvalue(), "out": out}


def recorded(check, answer):
    """The result code and line a check gives `answer`, in this process."""
    with recording() as results, contextlib.redirect_stdout(io.StringIO()):
        check(answer)
    return results[0]


def test_the_batch_finishes_with_a_row_for_every_submission(batch):
    assert batch["code"] == 0
    assert sorted(batch["rows"]) == sorted([*SUBMISSIONS, "garbage"])
    assert sorted(batch["feedback"]) == sorted(batch["rows"])
    for name in batch["rows"]:  # the summary table has a line for each
        assert any(line.startswith(f"{name}.ipynb ") for line in batch["printed"].splitlines())
    assert "12 notebooks graded" in batch["printed"]


def test_the_originals_are_untouched_and_nothing_is_written_next_to_them(batch):
    assert batch["after"] == batch["before"]


def test_right_answers_score_every_exercise(batch):
    row = batch["rows"]["correct"]
    assert [row[check] for check in grade.exercises("01")] == ["correct"] * 8
    assert (row["score"], row["problems"]) == ("8", "")
    line = recorded(check_utf8_bytes, 15).text
    assert f"  check_utf8_bytes: {line}\n" in batch["feedback"]["correct"]
    assert "  - no problems" in batch["feedback"]["correct"]


def test_wrong_answers_give_their_result_codes(batch):
    row = batch["rows"]["wrong"]
    assert row["check_utf8_bytes"] == "wrong: utf8_bytes.characters"
    chunks = recorded(check_pretokenize, ["I'll pay $1,000"])
    assert chunks.outcome == "wrong"
    assert row["check_pretokenize"] == f"wrong: {chunks.code}"
    assert [row[check] for check in FOLLOWING] == ["not attempted"] * 6
    assert (row["score"], row["problems"]) == ("0", "")
    assert f"  check_pretokenize: {chunks.text}\n" in batch["feedback"]["wrong"]


def test_none_is_not_attempted_and_feedback_keeps_the_learners_language(batch):
    row = batch["rows"]["none"]
    assert (row["check_utf8_bytes"], row["check_pretokenize"]) == ("not attempted", "correct")
    line = batch["feedback"]["none"].splitlines()[3]
    assert line.startswith("  check_utf8_bytes: … ") and "None" in line
    assert not line.isascii()  # the Chinese line the learner saw; the headings stay English
    assert batch["feedback"]["none"].startswith("none.ipynb: notebook 01_tokenization, 1 of 8")


def test_an_endless_cell_is_interrupted_and_the_run_goes_on(batch):
    row = batch["rows"]["hang"]
    assert row["check_utf8_bytes"] == "correct"
    assert row["problems"] == f"cell 2 ran over {CELL_TIMEOUT} s and was interrupted"


def test_a_cell_that_ignores_interrupts_is_killed_at_the_notebook_limit(batch):
    row = batch["rows"]["deaf"]
    assert (row["check_utf8_bytes"], row["check_pretokenize"]) == ("correct", "error: not run")
    assert row["problems"] == (f"cell 3 ran over {CELL_TIMEOUT} s and was interrupted; "
                               f"ran over the notebook limit of {TIMEOUT} s at cell 3 and was "
                               "stopped")
    assert "  - ran over the notebook limit" in batch["feedback"]["deaf"]


@pytest.mark.parametrize("name, cell, after", [("exits", 3, "check_pretokenize"),
                                               ("sigkill", 2, "check_utf8_bytes")])
def test_a_kernel_that_dies_is_reported_with_its_cell(batch, name, cell, after):
    row = batch["rows"][name]
    assert row[after] == "error: not run"
    assert row["problems"] == f"the kernel died at cell {cell}"


def test_megabytes_of_output_are_cut_and_the_cell_interrupted(batch):
    row = batch["rows"]["floods"]
    assert row["check_utf8_bytes"] == "correct"
    assert row["problems"].startswith("printed more than 0.1 MB in cell 2; output cut")
    executed = batch["out"] / "executed" / "floods.ipynb"
    assert executed.stat().st_size < 3 * MAX_OUTPUT  # what it printed past the limit is gone


def test_deleted_files_are_named(batch):
    row = batch["rows"]["deletes"]
    assert row["check_utf8_bytes"] == "correct"
    assert row["problems"] == "deleted files in its folder: submission.ipynb"


def test_a_notebook_raising_everywhere_is_counted(batch):
    row = batch["rows"]["raises"]
    assert row["check_utf8_bytes"] == "error: NameError"
    assert row["check_pretokenize"] == "correct"
    assert row["problems"] == "raised errors in 6 of 8 cells"


def test_a_file_that_is_no_notebook_is_reported(batch):
    row = batch["rows"]["garbage"]
    assert row["problems"].startswith("not a notebook: ")
    assert set(row.values()) >= {"error: not run"} and row["score"] == "0"


def test_a_result_written_by_hand_does_not_count(batch):
    row = batch["rows"]["forges"]
    assert (row["check_pretokenize"], row["check_utf8_bytes"]) == ("not attempted", "correct")
    assert row["problems"] == "ignored 1 recorded results that no check call printed"


def test_checks_record_one_json_line_when_grading_and_print_the_same(tmp_path, monkeypatch,
                                                                     capsys):
    check_utf8_bytes(9)
    plain, not_yet = capsys.readouterr().out, recorded(check_utf8_bytes, None).text
    monkeypatch.setenv(GRADING_RESULTS, str(tmp_path / "results.jsonl"))
    check_utf8_bytes(9)
    check_utf8_bytes(None)
    assert capsys.readouterr().out == plain + not_yet + "\n"
    lines = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["utf8_bytes.characters",
                                                            "not_attempted"]
    assert json.loads(lines[0])["text"] == plain.rstrip("\n")
    monkeypatch.setenv(GRADING_RESULTS, str(tmp_path / "gone" / "results.jsonl"))
    check_utf8_bytes(9)  # a file it cannot write: the check still prints and does not raise
    assert capsys.readouterr().out == plain


def test_the_exercises_are_the_lesson_notebooks_checks_in_order():
    assert grade.exercises("01") == grade.exercises("01_tokenization.ipynb")
    assert grade.exercises("1")[:2] == ["check_utf8_bytes", "check_pretokenize"]
    assert len(grade.exercises("01")) == 8
    zh = json.loads((REPO_ROOT / "notebooks/zh/01_tokenization.ipynb").read_text("utf-8"))
    zh_code = "".join("".join(c["source"]) for c in zh["cells"] if c["cell_type"] == "code")
    assert all(f"{check}(" in zh_code for check in grade.exercises("01"))
    with pytest.raises(ValueError, match="give one of: 01_tokenization"):
        grade.exercises("99")


def test_the_instructor_reads_chinese_when_asked(monkeypatch, tmp_path):
    from course_utils import language

    # the instructor's command line: the environment decides, as no set_language call was made
    # in this process (a test that ran before in this worker may have made one)
    monkeypatch.setattr(language, "_chosen", [])
    monkeypatch.setenv("LLM_TOKENS_LANGUAGE", "zh")
    row = grade_report.Graded("a.ipynb", {"check_x": "correct"}, {"check_x": "✓ 对"},
                              ["第3个单元格运行超过3秒，已被中断"])
    assert grade_report.feedback_text(row, "01_tokenization").splitlines()[0] == \
        "a.ipynb：笔记本01_tokenization，1道练习答对1道"
    assert "共评分1个笔记本" in grade_report.summary([row], 6.0, tmp_path)
