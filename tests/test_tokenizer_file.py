"""Tokenizer saves survive anything (course_utils.tokenizer_file, through BPETokenizer.save/load).

- the file carries a sha256 of its own bytes: every changed byte is refused on load;
- version 1 files (no checksum), such as the reference model's, still load, unchanged;
- a save replaces only a course tokenizer file, and never writes into a regular file;
- a child process killed with SIGKILL at every file-system call of a save, and at random
  times while it saves two tokenizers in turn, leaves the old or the new tokenizer, complete;
  the next save or load tidies what the killed save left;
- a full disk and a read-only folder are OSErrors naming the path, and lose nothing.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import stat

import pytest
from faults import count_calls, run_killed_after, run_killed_at

from course_utils import files
from course_utils.data import load_corpus, reference_model_path
from course_utils.regex_tokenizer import RegexTokenizer
from course_utils.tokenization import FILE_NAME, BPETokenizer
from course_utils.tokenizer_file import FORMAT, VERSION


def train(text: str, vocab_size: int, **kwargs) -> BPETokenizer:
    return BPETokenizer.train(text, vocab_size, progress=False, **kwargs)


def parts(tok: RegexTokenizer) -> tuple:
    return tok.vocab, tok.merges, tok.special_tokens, tok.pattern


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def small() -> BPETokenizer:
    return train("the cat sat on the mat; the dog sat on the log. " * 10, 262,
                 special_tokens=())


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> tuple[BPETokenizer, BPETokenizer, list]:
    """Two different tokenizers (English, Chinese), and folders that hold them saved."""
    english = train(load_corpus("shakespeare", "val")[:30_000], 700)
    chinese = train(load_corpus("poetry_zh", "val")[:30_000], 700, special_tokens=("<a>", "<b>"))
    folders = [english.save(tmp_path_factory.mktemp("english")).parent,
               chinese.save(tmp_path_factory.mktemp("chinese")).parent]
    return english, chinese, folders


# ---------------------------------------------------------------------------- the file itself


def test_the_file_holds_its_format_version_and_checksum(small, tmp_path):
    path = small.save(tmp_path)
    data = json.loads(path.read_bytes())
    assert list(data)[:3] == ["format", "version", "sha256"]
    assert (data["format"], data["version"]) == (FORMAT, VERSION) == (FORMAT, 2)
    assert parts(BPETokenizer.load(path)) == parts(small)
    assert path.read_bytes().isascii()


def test_saves_get_the_usual_permissions_not_private_ones(small, tmp_path):
    old = os.umask(0o022)
    try:
        path = small.save(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_every_changed_byte_is_refused(small, tmp_path):
    path = small.save(tmp_path)
    raw = path.read_bytes()
    rng = random.Random(0)
    # A one-bit flip (0x01 turns a hex digit into another, and "2" into "3") at every byte of
    # the header (format, version, checksum, pattern) and every 5th byte after it; then other
    # flips at random places, among them 0x20 (a lowercase hex digit to uppercase: the same
    # value once parsed) and 0x80 (no longer UTF-8).
    header = raw.index(b'"special_tokens"')
    changes = [(i, 0x01) for i in [*range(header), *range(header, len(raw), 5)]]
    changes += [(rng.randrange(len(raw)), rng.choice((0x02, 0x20, 0x40, 0x80, 0xff)))
                for _ in range(200)]
    kinds = set()
    for i, mask in changes:
        path.write_bytes(raw[:i] + bytes([raw[i] ^ mask]) + raw[i + 1:])
        with pytest.raises(ValueError, match="altered") as info:
            BPETokenizer.load(tmp_path)
        message = str(info.value)
        assert message.startswith(str(path)) and "save the tokenizer again" in message
        kinds |= {kind for kind in ("sha256 does not match", "not valid JSON", "files hold")
                  if kind in message}
    # The checksum fails, or the JSON no longer parses, or the checksum's key is gone.
    assert kinds == {"sha256 does not match", "not valid JSON", "files hold"}
    path.write_bytes(raw)
    assert parts(BPETokenizer.load(tmp_path)) == parts(small)


def test_a_checksum_that_disagrees_with_the_version_is_refused(small, tmp_path):
    path = small.save(tmp_path)
    data = json.loads(path.read_bytes())
    without = {k: v for k, v in data.items() if k != "sha256"}
    path.write_text(json.dumps(without))  # version 2 that lost its checksum
    with pytest.raises(ValueError, match="altered after it was saved: version 2 files hold"):
        BPETokenizer.load(tmp_path)
    path.write_text(json.dumps(data | {"version": 1}))  # a checksum in a version 1 file
    with pytest.raises(ValueError, match="altered"):
        BPETokenizer.load(tmp_path)


def test_version_1_files_still_load(small, tmp_path):
    # The reference model's tokenizer was written in version 1 and stays as shipped.
    folder = reference_model_path()
    sums = dict(line.split()[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert files.sha256_file(folder / FILE_NAME) == sums[FILE_NAME]
    assert json.loads((folder / FILE_NAME).read_bytes())["version"] == 1
    reference = BPETokenizer.load(folder)
    assert reference.vocab_size == 1024 and reference.special_tokens == {"<|endoftext|>": 1023}
    # A version 1 file is version 2 without the checksum, as json.dump wrote it.
    data = json.loads(small.save(tmp_path).read_bytes())
    del data["sha256"]
    (tmp_path / FILE_NAME).write_text(json.dumps(data | {"version": 1}))
    assert parts(BPETokenizer.load(tmp_path)) == parts(small)


def test_load_and_the_classes_it_returns(small, tmp_path):
    path = small.save(tmp_path)
    assert type(BPETokenizer.load(path)) is BPETokenizer  # the file itself, as save returns it
    assert type(RegexTokenizer.load(tmp_path)) is RegexTokenizer


# ---------------------------------------------------------------- what a save may replace


def test_save_refuses_to_replace_a_file_that_is_not_a_tokenizer(small, tmp_path):
    path = tmp_path / FILE_NAME
    for content in (b'{"model": "mine"}', b"", b"format: course_utils.BPETokenizer"):
        path.write_bytes(content)
        with pytest.raises(FileExistsError, match="not a course tokenizer file") as info:
            small.save(tmp_path)
        assert str(path) in str(info.value)
        assert path.read_bytes() == content and names(tmp_path) == [FILE_NAME]
    path.unlink()
    path.mkdir()
    with pytest.raises(FileExistsError, match="not a course tokenizer file"):
        small.save(tmp_path)


def test_save_replaces_a_damaged_tokenizer_file(small, tmp_path):
    path = small.save(tmp_path)
    path.write_bytes(path.read_bytes()[:200])  # cut short: load says to save again
    with pytest.raises(ValueError, match="cut short or altered"):
        BPETokenizer.load(tmp_path)
    small.save(tmp_path)
    assert parts(BPETokenizer.load(tmp_path)) == parts(small)


def test_save_refuses_a_regular_file_as_its_directory(small, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder") as info:
        small.save(notes)
    assert str(notes) in str(info.value) and notes.read_text() == "mine"


def test_save_and_load_tidy_what_killed_saves_left(small, tmp_path):
    def leftover():
        dead = tmp_path / f".{FILE_NAME}{files.PARTIAL}999999999-ab12"
        dead.write_bytes(b'{"format": "course_utils.BPETokenizer", "vers')
        return dead

    leftover()
    small.save(tmp_path)
    assert names(tmp_path) == [FILE_NAME]
    leftover()
    BPETokenizer.load(tmp_path)
    assert names(tmp_path) == [FILE_NAME]


# --------------------------------------------------------------------------- kills


_SCRIPT = """
from course_utils.tokenization import BPETokenizer
toks = [BPETokenizer.load({a!r}), BPETokenizer.load({b!r})]
{body}
"""


def _check_survivor(folder, expected: list, keep_old=None) -> RegexTokenizer:
    """The folder holds one of `expected`, complete; a later save leaves nothing else."""
    loaded = BPETokenizer.load(folder)
    assert parts(loaded) in [parts(t) for t in expected]
    (keep_old or loaded).save(folder)
    assert names(folder) == [FILE_NAME]
    return loaded


def test_a_kill_at_every_file_system_call_of_a_save(two, tmp_path):
    english, chinese, (a, b) = two
    folder = tmp_path / "tokenizer"
    script = _SCRIPT.format(a=str(a), b=str(b), body=f"toks[1].save({str(folder)!r})")
    english.save(folder)
    before = count_calls(_SCRIPT.format(a=str(a), b=str(b), body=""))
    during = {call: n - before.get(call, 0) for call, n in count_calls(script).items()}
    # mkdir and a probe file (the folder is writable), the partial file, its fsync, the
    # rename over the old file, and the folder's fsync.
    assert during["replace"] == 1 and during["fsync"] >= 2 and during["open"] >= 2
    trials = 0
    for call, count in during.items():
        for nth in range(before.get(call, 0) + 1, before.get(call, 0) + count + 1):
            for when in ("before", "after"):
                english.save(folder)
                killed = run_killed_at(script, call, nth, when) < 0
                # mkdir of the existing folder raises (and is caught): "after" never comes.
                assert killed or (call, when) == ("mkdir", "after")
                survivor = _check_survivor(folder, [english, chinese], keep_old=english)
                if (call, when) == ("replace", "after"):
                    assert parts(survivor) == parts(chinese)
                elif call == "replace":
                    assert parts(survivor) == parts(english)
                trials += killed
    assert trials == 2 * sum(during.values()) - during["mkdir"] >= 14


@pytest.mark.slow
def test_kills_at_random_times_while_saving_two_tokenizers_in_turn(two, tmp_path):
    english, chinese, (a, b) = two
    folder = tmp_path / "tokenizer"
    english.save(folder)
    rng = random.Random(0)
    seen = []
    for _ in range(24):
        # The child times its first save, then kills itself (SIGKILL: no clean-up runs) at a
        # random instant of the next four saves, wherever they have got to.
        script = _SCRIPT.format(a=str(a), b=str(b), body=(
            f"import os, signal, threading, time\n"
            f"start = time.perf_counter()\ntoks[0].save({str(folder)!r})\n"
            f"threading.Timer({rng.uniform(0, 4)} * (time.perf_counter() - start), os.kill,"
            f" (os.getpid(), signal.SIGKILL)).start()\n"
            f"while True:\n    toks[1].save({str(folder)!r})\n    toks[0].save({str(folder)!r})"))
        assert run_killed_after(script, 120) == -signal.SIGKILL
        seen.append(_check_survivor(folder, [english, chinese]).vocab_size)
    assert len(seen) == 24 and set(seen) == {english.vocab_size, chinese.vocab_size}


# ------------------------------------------------------------------ full disk, read-only


def test_a_full_disk_is_an_os_error_naming_the_path_and_keeps_the_old_file(small, small_disk):
    disk = small_disk(64 * 1024)
    small.save(disk)
    with pytest.raises(OSError) as info:
        BPETokenizer.from_gpt2().save(disk)  # about 1.5 MB of JSON
    assert info.value.errno == errno.ENOSPC and str(disk / FILE_NAME) in str(info.value)
    assert parts(BPETokenizer.load(disk)) == parts(small) and names(disk) == [FILE_NAME]


def test_a_read_only_folder_is_an_os_error_and_still_loads(small, two, tmp_path, read_only):
    folder = tmp_path / "data"
    small.save(folder)
    view = read_only(folder)
    with pytest.raises(OSError, match="read-only") as info:
        two[0].save(view)
    assert info.value.errno == errno.EROFS and str(view) in str(info.value)
    assert parts(BPETokenizer.load(view)) == parts(small)
