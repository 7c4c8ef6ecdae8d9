"""Collection of a zip submission (what ``grader.export`` writes in the notebook).

A zip is judged from its central directory before one byte is unpacked: the entry count
(read from the end record, so a zip of a million entries is refused without listing them),
every name (no absolute path, drive, backslash, ``..`` or empty part, no control character,
no two names equal ignoring case, no file where another entry needs a folder), every entry's
type (symbolic links, device files, FIFOs and sockets are refused; encrypted entries too)
and the declared sizes against the assignment's limits (``notebook_bytes``,
``checkpoint_bytes``, ``folder_bytes``, ``files``). Only then are the kept entries unpacked,
as new regular files, into a private staging folder, counting the bytes actually inflated
so that a size that lies (a zip bomb) stops at the declared size. The folder holding the one
notebook becomes the submission's root and is collected like a folder submission.

Known junk is not part of a submission, as in folders: hidden names (``.OTTER_LOG``,
``.DS_Store``, ``.ipynb_checkpoints/``), ``__pycache__/``, ``__MACOSX/`` and otter's
``__zip_filename__``; it is still checked (a link is refused wherever it is) but never
unpacked.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

MiB = 1024 * 1024
JUNK_NAMES = frozenset({"__pycache__", "__MACOSX", "__zip_filename__", "Thumbs.db"})
# Room for junk entries (macOS adds a __MACOSX/._name twin per file) beyond the `files` limit.
JUNK_ALLOWANCE = 2
ENTRY_BYTES = 1024  # room per entry in the central directory (46 bytes + name + extras)
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


class ZipRefused(ValueError):
    """The zip breaks a rule or a limit; the message says which and what to do."""


def is_junk(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p in JUNK_NAMES for p in parts)


def _size(count: int) -> str:
    return f"{count} bytes ({count / MiB:.1f} MiB)" if count >= MiB else f"{count} bytes"


def _directory_size(fh) -> tuple[int, int]:
    """(entries, bytes) of the zip's central directory, from its end record (zip64 included).
    zipfile reads the directory by its byte size, so both are checked before it does."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise ZipRefused("it is not a readable zip file (no end of central directory); "
                         "export the notebook again")
    count, cd_bytes = struct.unpack("<HI", tail[at + 10:at + 16])
    locator = at - 20
    if locator >= 0 and tail[locator:locator + 4] == _ZIP64_LOCATOR:
        offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
        record = b""
        if offset + 56 <= size:
            fh.seek(offset)
            record = fh.read(56)
        if record[:4] != _ZIP64_EOCD:
            raise ZipRefused("it is not a readable zip file (bad zip64 record)")
        count, cd_bytes = struct.unpack("<QQ", record[32:48])
    return count, cd_bytes


def _name_problem(name: str) -> str | None:
    if not name or "\\" in name or "\x00" in name or re.search(r"[\x00-\x1f\x7f]", name):
        return "has a backslash or a control character in its name"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "is an absolute path"
    parts = name.rstrip("/").split("/")
    if any(p == ".." for p in parts):
        return "points outside the zip (`..`)"
    if any(p in ("", ".") for p in parts):
        return "has an empty or `.` part in its path"
    return None


def _type_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return ("is a symbolic link; the grader never follows links: zip the file itself")
    if mode and kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is not a regular file (a device, FIFO or socket); zip regular files only"
    if info.flag_bits & 0x1:
        return "is encrypted; submit the zip without a password"
    return None


def check_entries(infos: list[zipfile.ZipInfo], limits) -> tuple[list[zipfile.ZipInfo], str]:
    """The file entries to unpack and the folder (inside the zip, "" or "a/b/") that holds
    the one notebook; ZipRefused naming the first entry or limit that fails."""
    seen: dict[str, str] = {}
    files, folders = [], set()
    for info in infos:
        name = info.filename
        problem = _name_problem(name)
        if problem:
            raise ZipRefused(f"{name!r} {problem}; make the zip again from the notebook's "
                             f"folder (the notebook's export cell does)")
        problem = _type_problem(info)
        if problem:
            raise ZipRefused(f"{name!r} {problem}")
        key = name.rstrip("/").casefold()
        if key in seen:
            raise ZipRefused(f"{name!r} and {seen[key]!r} have the same name (names are "
                             f"compared ignoring case); keep one and zip again")
        seen[key] = name
        parts = tuple(name.rstrip("/").split("/"))
        folders.update("/".join(parts[:i]).casefold() for i in range(1, len(parts)))
        if not info.is_dir() and not is_junk(parts):
            files.append(info)
    for info in files:
        if info.filename.casefold() in folders:
            raise ZipRefused(f"{info.filename!r} is a file, but other entries use it as a "
                             f"folder; zip the folder again")
    notebooks = [i.filename for i in files if i.filename.endswith(".ipynb")]
    if len(notebooks) != 1:
        what = "no notebook (.ipynb)" if not notebooks else \
            f"{len(notebooks)} notebooks ({', '.join(sorted(notebooks)[:10])})"
        raise ZipRefused(f"it holds {what}; a submission holds exactly one (keep one and "
                         f"export again)")
    root = str(PurePosixPath(notebooks[0]).parent)
    root = "" if root == "." else root + "/"
    outside = [i.filename for i in files if not i.filename.startswith(root)]
    if outside:
        raise ZipRefused(f"the notebook is in {root!r} but {outside[0]!r} is not beside it; "
                         f"put the submission's files in the notebook's folder and zip again")
    _check_limits(files, root, limits)
    return files, root


def _check_limits(files: list[zipfile.ZipInfo], root: str, limits) -> None:
    subfolders = {str(PurePosixPath(i.filename[len(root):]).parent) for i in files} - {"."}
    subfolders |= {str(p) for f in subfolders for p in PurePosixPath(f).parents} - {"."}
    if len(files) + len(subfolders) > limits.files:
        raise ZipRefused(f"it holds more than {limits.files} files and folders (limit `files`)")
    total = 0
    for info in files:
        total += info.file_size
        if info.filename.endswith(".ipynb"):
            if info.file_size > limits.notebook_bytes:
                raise ZipRefused(f"the notebook is {_size(info.file_size)} unpacked; the limit "
                                 f"is {_size(limits.notebook_bytes)} (limit `notebook_bytes`)")
        elif info.file_size > limits.checkpoint_bytes:
            raise ZipRefused(f"{info.filename} is {_size(info.file_size)} unpacked; a file "
                             f"besides the notebook may have at most "
                             f"{_size(limits.checkpoint_bytes)} (limit `checkpoint_bytes`)")
    if total > limits.folder_bytes:
        raise ZipRefused(f"it unpacks to more than {_size(limits.folder_bytes)} (limit "
                         f"`folder_bytes`)")


def _unpack_one(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    written = 0
    with os.fdopen(fd, "wb") as out, zf.open(info) as src:
        while block := src.read(MiB):
            written += len(block)
            if written > info.file_size:  # zipfile stops at the declared size; be sure
                raise ZipRefused(f"{info.filename} inflates beyond its declared size")
            out.write(block)


def unpack(path: Path, fd: int, limits, staging: Path) -> Path:
    """Check the zip open at fd (path names it in messages) and unpack its submission into
    the empty folder staging; returns the folder that holds the notebook there."""
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limits.folder_bytes:
            raise ZipRefused(f"the zip is {_size(size)}; the limit is "
                             f"{_size(limits.folder_bytes)} (limit `folder_bytes`)")
        most = JUNK_ALLOWANCE * limits.files + 16
        count, cd_bytes = _directory_size(fh)
        if count > most or cd_bytes > most * ENTRY_BYTES:
            raise ZipRefused(f"it has more than {most} entries (or a directory of more than "
                             f"{most * ENTRY_BYTES} bytes); a submission holds at most "
                             f"{limits.files} files and folders (limit `files`)")
        fh.seek(0)
        try:
            with zipfile.ZipFile(fh) as zf:
                files, root = check_entries(zf.infolist(), limits)
                for info in files:
                    _unpack_one(zf, info, staging / info.filename[len(root):])
        except ZipRefused:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, zlib.error,
                EOFError, OSError, ValueError) as exc:
            raise ZipRefused(f"it is damaged or uses a feature the grader does not read "
                             f"({type(exc).__name__}: {str(exc)[:200]}); export it again "
                             f"or submit the .ipynb") from None
    return staging


_staging_root: Path | None = None


def staging_folder() -> Path:
    """A new private folder for one zip's files, inside one per-process folder removed at exit
    (and by a later grader if this one is killed: the name carries our pid)."""
    global _staging_root
    if _staging_root is None:
        _remove_stale()
        _staging_root = Path(tempfile.mkdtemp(prefix=f"neurograde-unzipped-{os.getpid()}-"))
        atexit.register(shutil.rmtree, _staging_root, True)
    return Path(tempfile.mkdtemp(dir=_staging_root))


def _remove_stale() -> None:
    from .sandbox.limits import owner_alive
    root = tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if name.startswith("neurograde-unzipped-") and not owner_alive(name):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
