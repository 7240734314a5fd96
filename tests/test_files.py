"""course_utils.files: saves replace a file in one step or not at all, whatever goes wrong;
and course_utils.progress: bars that close cleanly."""

from __future__ import annotations

import errno
import os
import stat

import pytest
from faults import count_calls, run_killed_at

from course_utils import files, progress


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "f.json"
    files.write_atomically(path, "old")
    assert files.write_atomically(path, b"new") == path
    assert path.read_bytes() == b"new"
    assert names(tmp_path) == ["f.json"]


def test_a_writer_function_gets_a_path_beside_the_target(tmp_path):
    seen = []
    files.write_atomically(tmp_path / "f", lambda p: (seen.append(p), p.write_text("x")))
    assert seen[0].parent == tmp_path and seen[0].name.startswith(".f" + files.PARTIAL)
    assert (tmp_path / "f").read_text() == "x"


def test_new_files_get_the_usual_permissions_not_private_ones(tmp_path):
    old = os.umask(0o022)
    try:
        path = files.write_atomically(tmp_path / "f", b"x")
        files.write_atomically(tmp_path / "g", lambda p: p.write_bytes(b"y"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "g").stat().st_mode) == 0o644


def test_a_failing_writer_leaves_the_old_file_and_no_partial(tmp_path):
    path = files.write_atomically(tmp_path / "f", b"old")

    def broken(p):
        p.write_bytes(b"half")
        raise RuntimeError("writer broke")

    with pytest.raises(RuntimeError, match="writer broke"):
        files.write_atomically(path, broken)
    assert path.read_bytes() == b"old" and names(tmp_path) == ["f"]


def test_a_library_error_that_carries_an_os_error_number_becomes_an_os_error(tmp_path):
    def full(p):
        raise RuntimeError("I/O error: No space left on device (os error 28)")

    with pytest.raises(OSError) as info:
        files.write_atomically(tmp_path / "f", full)
    assert info.value.errno == errno.ENOSPC
    assert str(tmp_path / "f") in str(info.value) and "disk is full" in str(info.value)


@pytest.mark.parametrize(("call", "when"), [("fsync", "after"), ("replace", "before"),
                                            ("replace", "after")])
def test_a_kill_at_any_step_leaves_the_old_or_the_new_file(tmp_path, call, when):
    path = tmp_path / "f.txt"
    script = f"from course_utils.files import write_atomically\n" \
             f"write_atomically({str(path)!r}, 'new')\n"
    assert count_calls(script)[call] >= 1
    path.write_text("old")
    assert run_killed_at(script, call, 1, when) < 0  # killed
    assert path.read_text() == ("new" if (call, when) == ("replace", "after") else "old")
    files.tidy_partial_files(tmp_path)  # the killed process's partial file goes
    assert names(tmp_path) == ["f.txt"]


def test_tidy_keeps_partial_files_of_running_processes(tmp_path):
    mine = files.partial_path(tmp_path / "f")
    mine.write_bytes(b"in progress")
    dead = tmp_path / f".f{files.PARTIAL}999999999-ab12"
    dead.write_bytes(b"left over")
    assert files.tidy_partial_files(tmp_path) == [dead]
    assert mine.exists()


def test_disk_full_is_an_os_error_naming_the_path_and_keeps_the_old_file(small_disk):
    disk = small_disk(64 * 1024)
    path = files.write_atomically(disk / "f", b"old")
    with pytest.raises(OSError) as info:
        files.write_atomically(path, b"x" * 200_000)
    assert info.value.errno == errno.ENOSPC and str(path) in str(info.value)
    assert path.read_bytes() == b"old" and names(disk) == ["f"]


def test_read_only_folder_is_an_os_error_naming_the_path(tmp_path, read_only):
    folder = tmp_path / "data"
    folder.mkdir()
    files.write_atomically(folder / "f", b"old")
    view = read_only(folder)
    with pytest.raises(OSError) as info:
        files.write_atomically(view / "f", b"new")
    assert info.value.errno == errno.EROFS and "read-only" in str(info.value)
    with pytest.raises(OSError, match="read-only"):
        files.check_writable_folder(view)
    assert (view / "f").read_bytes() == b"old"


def test_check_writable_folder_creates_it(tmp_path):
    assert files.check_writable_folder(tmp_path / "a" / "b").is_dir()
    assert names(tmp_path / "a" / "b") == []


def test_sha256_file(tmp_path):
    path = files.write_atomically(tmp_path / "f", b"abc")
    assert files.sha256_file(path) == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_an_early_stop_closes_the_bar_as_complete(notebook_bars):
    with progress.progress_bar(10, "steps") as bar:
        bar.update(4)
    widget = bar.container.children[1]
    assert (bar.n, bar.total, widget.max, widget.bar_style) == (4, 4, 4, "success")
    with pytest.raises(KeyError), progress.progress_bar(10, "steps") as failing:
        failing.update(2)
        raise KeyError("stopped by an error")
    assert failing.container.children[1].bar_style == "danger"  # an error stays visible


@pytest.mark.parametrize("bar_class", ["tqdm.std", "tqdm.notebook"])
def test_bars_are_silent_under_tqdm_disable(capsys, monkeypatch, bar_class):
    # The notebook bar (what tqdm.auto picks in Jupyter) ignores TQDM_DISABLE by itself.
    monkeypatch.setattr("tqdm.auto.tqdm", pytest.importorskip(bar_class).tqdm)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    with progress.progress_bar(3, "steps") as bar:
        bar.update(3)
    assert bar.disable and not hasattr(bar, "container")
    assert capsys.readouterr() == ("", "")


def test_tidy_removes_a_partial_file_whose_process_id_cannot_exist(tmp_path):
    huge = tmp_path / f".f{files.PARTIAL}99999999999999999999-ab12"  # beyond any pid
    huge.write_bytes(b"left over")
    assert files.tidy_partial_files(tmp_path) == [huge]


def test_a_failing_write_in_a_read_only_folder_reports_the_target(tmp_path, read_only):
    view = read_only(tmp_path)
    with pytest.raises(OSError) as info:
        files.write_atomically(view / "f", b"new")
    assert f"could not write {view / 'f'}" in str(info.value)  # not the partial file's name
