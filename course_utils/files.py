"""Saving files so that no fault loses what was there.

Writing over a file in place is not safe: a kill, a full disk or a read-only folder half way
through leaves neither the old contents nor the new. So every save in the course writes the new
file beside the old one under a temporary ("partial") name, flushes it to the disk, and only then
renames it over the old one. Within one folder a rename replaces a file in one step, so at every
instant the path holds either the complete old file or the complete new one.

- `write_atomically(path, data)` does that for bytes, a str, or a function that writes a path.
- `tidy_partial_files(folder)` removes the partial files that killed saves left behind; every
  save and load of the course calls it, so they never pile up.
- `check_writable_folder(path)` fails early, before hours of training, if a save would fail.
- `sha256_file(path)` is the checksum the course stores beside what it saves and checks on load.

Every failure is an OSError that names the path and, for the usual causes (a full disk, a
read-only or someone else's folder), says what to do.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     path = write_atomically(Path(folder) / "notes.txt", "hello")
...     path.read_text(), sorted(p.name for p in Path(folder).iterdir())
('hello', ['notes.txt'])
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from course_utils.validation import check_path, short_repr

__all__ = ["write_atomically", "tidy_partial_files", "check_writable_folder", "sha256_file",
           "as_os_error", "fsync_folder", "partial_path", "check_regular_file", "PARTIAL"]

PARTIAL = ".partial-"  # in the names of files being written: .{name}.partial-{pid}-{random}
_PARTIAL_NAME = re.compile(r"\..+" + re.escape(PARTIAL) + r"(\d+)-[0-9a-f]+")
_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or save somewhere else",
    errno.EDQUOT: "your disk quota is used up: free some space, or save somewhere else",
    errno.EROFS: "that place is read-only: choose a folder you can write to",
    errno.EACCES: "you may not write there: choose a folder you own",
    errno.EPERM: "you may not write there: choose a folder you own",
}


def partial_path(path: str | os.PathLike[str]) -> Path:
    """A fresh temporary name beside `path`, marked with this process's id."""
    path = _file_path("path", path)
    return path.with_name(f".{path.name}{PARTIAL}{os.getpid()}-{secrets.token_hex(4)}")


def _file_path(name: str, value: object) -> Path:
    """`value` as the Path of a file: a str or os.PathLike naming something inside a folder."""
    path = check_path(name, value)
    if path.name in ("", ".", "..") or "\0" in str(path):
        raise ValueError(f"{name} must name a file, got {short_repr(str(path))}")
    return path


def as_os_error(error: BaseException, path: Path, action: str = "write") -> OSError:
    """Return an OSError for `error` that names `path` and says what to do.

    Libraries that write files in their own code (safetensors, in Rust) raise their own error
    types; their message still carries the system's error number ("(os error 28)"), which is
    read back here, so a full disk is an OSError with errno ENOSPC whoever wrote the file.
    """
    number = getattr(error, "errno", None)
    if number is None:
        match = re.search(r"os error (\d+)", str(error))
        number = int(match.group(1)) if match else None
    reason = os.strerror(number) if number else str(error)
    hint = _HINTS.get(number, "")
    return OSError(number or errno.EIO,  # the message names the path: no filename= repeating it
                   f"could not {action} {path}: {reason}" + (f"; {hint}" if hint else ""))


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is flushed)."""
    folder = check_path("folder", folder)
    if os.name == "nt":  # Windows cannot open a folder; its renames are durable on return
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:  # some file systems cannot sync a folder: nothing more to do
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _write_bytes(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        # O_EXCL: never follow or reuse an existing name; 0o666 lets the umask decide the
        # permissions, as for any new file (tempfile.mkstemp would make it private, 0o600).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return write


def write_atomically(path: str | os.PathLike[str],
                     data: bytes | str | Callable[[Path], None]) -> Path:
    """Replace `path` with new contents in one step; return the path.

    `data` is bytes, a str (written as UTF-8) or a function that writes a file at the path it
    is given (for libraries that write files themselves). The new file is written under a
    partial name beside `path`, flushed to the disk, then renamed over `path`. If anything fails,
    the partial file is removed and `path` is as it was; the error is an OSError naming `path`.
    """
    path = _file_path("path", path)
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as error:  # lone surrogates such as "\ud800"
            raise ValueError(f"data holds {short_repr(error.object[error.start:error.end])}, "
                             f"which is not a character UTF-8 can write") from None
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes) and not callable(data):
        raise TypeError(f"data must be bytes, a str or a function that writes a file, got "
                        f"{short_repr(data)} ({type(data).__name__})")
    write = _write_bytes(data) if isinstance(data, bytes) else data
    tmp = partial_path(path)
    try:
        write(tmp)
        with open(tmp, "rb") as f:  # flush what `write` wrote, whoever opened the file
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_folder(path.parent)
    except BaseException as error:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # e.g. a read-only folder: the error that matters is `error`
            pass
        if isinstance(error, Exception) and (isinstance(error, OSError)
                                             or "os error" in str(error)):
            raise as_os_error(error, path) from error
        raise
    return path


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except (ProcessLookupError, OverflowError):  # no such process; no process id is that large
        return False
    except PermissionError:  # it exists, as another user's process
        return True
    return True


def tidy_partial_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the partial files in `folder` whose writing process is gone; return them.

    A partial file of a process that still runs may be a save in progress, so it stays. (After
    a reboot a new process may reuse an old id; such a file stays until that process ends.)
    Nothing is removed on Windows, where a process id cannot be probed safely.
    """
    folder = check_path("folder", folder)
    removed = []
    if os.name == "nt" or not folder.is_dir():
        return removed
    for path in folder.iterdir():
        match = _PARTIAL_NAME.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            try:
                path.unlink()
                removed.append(path)
            except FileNotFoundError:  # another process tidied it first
                pass
            except OSError:  # a read-only folder: loading still works, tidying waits
                break
    return removed


def check_writable_folder(path: str | os.PathLike[str], what: str = "folder") -> Path:
    """Create `path` (and its parents) if needed and check that a file can be written in it.

    Raises OSError naming the path and the fix: a long run should fail before its first step,
    not at its first save.
    """
    path = check_path("path", path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{what} {path} is a file, not a folder; "
                                                f"choose a folder", str(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = partial_path(path / "write-test")
        _write_bytes(b"")(probe)
        probe.unlink()
    except OSError as error:
        raise as_os_error(error, path, action=f"write into {what}") from error
    return path


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the sha256 of a file's bytes as hex, read in chunks (large files never whole).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sha256_file(write_atomically(Path(folder) / "empty", b""))[:16]
    'e3b0c44298fc1c14'
    """
    path = check_regular_file("path", path)
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_regular_file(name: str, value: object) -> Path:
    """`value` as a Path, if it names an existing regular file (opening a named pipe or a device
    to read it would wait forever); else FileNotFoundError or OSError naming it."""
    path = check_path(name, value)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"{path} does not exist", str(path)) from None
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OSError(errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL,
                      f"{path} is {what}; expected a file", str(path))
    return path
