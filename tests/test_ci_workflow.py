"""The GitHub Actions workflow a fork runs: it parses, and it runs exactly the README's test
command, with the CPU build of torch, on every Python the course supports, with the set-up cached.

What it cannot show here: that GitHub accepts it (no network); actions' own inputs are not checked
beyond the ones the course relies on."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.specifiers import SpecifierSet

WORKFLOW = ".github/workflows/test.yml"


def readme_test_command(readme: str) -> str:
    """The test command of the README's "Two commands" block.

    >>> readme_test_command("## Two commands\\n```bash\\nmake lab  # a\\nmake test   # b\\n```\\n")
    'make test'
    """
    section = re.search(r"^## Two commands\n(.*?)^## ", readme + "\n## ", re.M | re.S)
    if section is None:
        raise ValueError("README has no '## Two commands' section")
    block = re.search(r"```bash\n(.*?)```", section.group(1), re.S)
    if block is None:
        raise ValueError("README's '## Two commands' section has no ```bash block")
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    tests = [c for c in commands if c.startswith("make test")]
    if len(tests) != 1:
        raise ValueError(f"expected one test command in README's block, found {tests}")
    return tests[0]


@pytest.fixture(scope="module")
def workflow(repo_root) -> dict:
    return yaml.safe_load((repo_root / WORKFLOW).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job(workflow) -> dict:
    assert list(workflow["jobs"]) == ["make-test"]
    return workflow["jobs"]["make-test"]


def _steps_running(job: dict, command: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("run", "").strip() == command]


def test_readme_test_command_is_found():
    with pytest.raises(ValueError, match="Two commands"):
        readme_test_command("# no such section\n")
    with pytest.raises(ValueError, match="one test command"):
        readme_test_command("## Two commands\n```bash\nmake lab\n```\n")


def test_runs_on_every_push_and_pull_request(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    assert triggers["push"] is None, "a branch filter would leave a fork's branches untested"


def test_the_last_step_is_exactly_the_readme_command(repo_root, job):
    command = readme_test_command((repo_root / "README.md").read_text(encoding="utf-8"))
    assert command == "make test"
    assert job["steps"][-1]["run"].strip() == command
    assert len(_steps_running(job, command)) == 1
    ci_run = (repo_root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci_run if line.strip() and not line.startswith("#")][-1] == command


def test_linux_with_the_cpu_build_of_torch(repo_root, job):
    assert job["runs-on"].startswith("ubuntu-")
    assert job["env"]["TORCH_PIP_ARGS"] == "--index-url https://download.pytorch.org/whl/cpu"
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"pip install .*torch==2\.13\.0 \$\(TORCH_PIP_ARGS\)", makefile)


def test_every_supported_python_is_in_the_matrix(repo_root, job):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requires = SpecifierSet(project["requires-python"])
    supported = [f"3.{minor}" for minor in range(8, 16) if requires.contains(f"3.{minor}.0")]
    assert job["strategy"]["matrix"]["python"] == supported
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    assert job["env"]["PYTHON"] == "python${{ matrix.python }}"  # make's venv uses it


def test_the_setup_is_cached_on_what_decides_it(job):
    cache = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache"))
    assert ".venv" in cache["with"]["path"].split()
    key = cache["with"]["key"]
    for name in ("requirements.txt", "requirements-nodeps.txt", "pyproject.toml", "Makefile"):
        assert f"'{name}'" in key, name
    assert "steps.python.outputs.python-version" in key  # .venv/ links to that exact Python
    steps = job["steps"]
    assert steps.index(cache) < len(steps) - 1


def test_the_website_workflow_publishes_make_site(repo_root):
    site = yaml.safe_load((repo_root / ".github/workflows/site.yml").read_text(encoding="utf-8"))
    assert site[True]["push"]["branches"] == ["main"]
    build = site["jobs"]["build"]
    assert len(_steps_running(build, "make site")) == 1
    assert build["env"]["TORCH_PIP_ARGS"] == "--index-url https://download.pytorch.org/whl/cpu"
    upload = next(s for s in build["steps"]
                  if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_site"
    assert re.search(r"^site: setup\n\t\$\(PY\) tools/build_site\.py --out _site$",
                     (repo_root / "Makefile").read_text(encoding="utf-8"), re.M)
    assert site["jobs"]["deploy"]["needs"] == "build"
    assert {"pages": "write", "id-token": "write"}.items() <= site["permissions"].items()
