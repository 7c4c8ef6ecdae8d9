"""Stage 1: find submissions, name them, check them against the limits, fingerprint them.

A PATH is a notebook, a zip holding one notebook and its files (what ``grader.export``
writes; checked and unpacked as collect_zip.py describes), a folder holding exactly one
notebook plus its files (one submission, e.g. a notebook and its checkpoint), or a folder of
such items: each notebook and each zip directly in it and each sub-folder (an LMS "download
all" gives one folder per student) is a submission.

Names. Every submission's key is its path relative to the PATH given: a notebook file is named
by its file name (``alice.ipynb``), a folder by the folder's name (``ana_perez_123``), a PATH
that is itself one submission by its own name. The key is the gradebook key, the name of
results/<key>.json and of the feedback page, and what a roster is matched against, so it
depends on nothing but the submission's own path: adding a submission never renames another.
Two submissions with the same key (the same name under two PATHs, or names differing only in
case, which collide on case-insensitive file systems) are never renamed: they get one
``invalid`` row per key naming every path involved.

Hostile files. Nothing below a PATH is followed through a symbolic link: a link anywhere in a
submission (or a submission that is a link) makes it ``invalid`` with a message naming the
link, and nothing of it is read. Files are opened with O_NOFOLLOW on every path component
(:func:`open_regular`), by the hash here and by the copy into the sandbox, and anything but a
regular file is refused. Sizes and counts are checked from lstat before any byte is read,
walking stops at the first limit crossed (a sparse file counts by its size), and only then is
the notebook's cell count read and the content hashed. Messages never quote file content.
Hidden files and folders (``.name``: ``.OTTER_LOG``, ``.ipynb_checkpoints``, ``.DS_Store``),
``__pycache__`` and ``__MACOSX`` are not part of a submission (never read, never counted); in
a folder of submissions a sub-folder without any notebook is not one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from . import collect_zip

MiB = 1024 * 1024


class CollectError(ValueError):
    pass


class UnsafeFile(OSError):
    """A file of a submission is a link or not a regular file (seen when opening it)."""


@dataclass(frozen=True)
class SubmissionLimits:
    """Per-submission limits, checked before anything is loaded ([limits] in assignment.toml)."""
    notebook_bytes: int = 20 * MiB     # the .ipynb file
    cells: int = 2000                  # cells of any kind in the notebook
    folder_bytes: int = 256 * MiB      # every file of a folder submission together
    files: int = 200                   # files and sub-folders of a folder submission
    checkpoint_bytes: int = 128 * MiB  # any one file besides the notebook (e.g. weights)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)


@dataclass(frozen=True)
class Submission:
    stem: str            # the key: unique in the batch, gradebook key, results/<stem>.json
    notebook: Path
    files: tuple[Path, ...]  # every file of the submission, notebook included
    root: Path           # folder whose files are visible to the submission while it runs
    sha256: str
    source: str = ""     # the path it was found at (paths, for a name collision)
    problem: str | None = None  # why it is not graded (an `invalid` row); files is then empty


@dataclass(frozen=True)
class _Found:
    key: str
    path: Path           # the notebook file or the submission folder, as found
    folder: bool
    packed: bool = False  # a zip (grader.export)


def open_regular(root: Path, rel: Path) -> int:
    """A read-only fd of root/rel, following no symbolic link below root; UnsafeFile if some
    component is a link or the file is not a regular file. root is the instructor's folder."""
    parts = Path(rel).parts
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            except OSError as exc:
                raise UnsafeFile(f"{rel}: {part} is a symbolic link or not a folder "
                                 f"({exc.strerror})") from None
            os.close(fd)
            fd = inner
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
            file_fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
        except OSError as exc:
            raise UnsafeFile(f"{rel}: cannot be opened without following a link "
                             f"({exc.strerror})") from None
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise UnsafeFile(f"{rel}: not a regular file")
    return file_fd


def read_regular(root: Path, rel: Path) -> bytes:
    """The bytes of root/rel, read as open_regular allows."""
    with os.fdopen(open_regular(root, rel), "rb") as fh:
        return fh.read()


def _hidden(name: str) -> bool:
    # __MACOSX: what macOS adds to a zip (an LMS download unpacked there); never submitted work
    return name.startswith(".") or name in ("__pycache__", "__MACOSX")


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted((e for e in it if not _hidden(e.name)), key=lambda e: e.name)


MANY_NOTEBOOKS = 10


def _notebook_entries(folder: Path, most: int | None = None) -> list[os.DirEntry]:
    """Notebooks directly in folder, sorted (links included: they must get their `invalid`
    row); with `most`, listing stops after most + 1 (a submission folder: already too many)."""
    found = []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name.endswith(".ipynb") and not _hidden(entry.name) \
                    and not entry.is_dir(follow_symlinks=False):
                found.append(entry)
                if most is not None and len(found) > most:
                    break
    return sorted(found, key=lambda e: e.name)


def _is_real_dir(entry: os.DirEntry) -> bool:
    return entry.is_dir(follow_symlinks=False)


def _expand(path: Path) -> list[_Found]:
    """The submissions under one PATH (see the module docstring)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise CollectError(f"{path}: no such file or folder") from None
    own_name = Path(os.path.abspath(path)).name
    if stat.S_ISLNK(info.st_mode):
        return [_Found(own_name, path, False)]  # refused by _check with the link named
    if stat.S_ISREG(info.st_mode):
        if path.suffix not in (".ipynb", ".zip"):
            raise CollectError(f"{path}: not a notebook (.ipynb) or a zip of one")
        return [_Found(own_name, path, False, packed=path.suffix == ".zip")]
    if not stat.S_ISDIR(info.st_mode):
        raise CollectError(f"{path}: not a file or folder")
    entries = _entries(path)
    subdirs = [e for e in entries if _is_real_dir(e)]
    notebooks = _notebook_entries(path)
    if len(notebooks) == 1 and not any(_notebook_entries(Path(d.path), 0) for d in subdirs):
        return [_Found(own_name, path, True)]
    found = [_Found(e.name, Path(e.path), False) for e in notebooks]
    # A sub-folder with no notebook at all is not a submission (data, an --out folder); one
    # with several is, and gets its `invalid` row; so does a link (never followed to look).
    found += [_Found(e.name, Path(e.path), True) for e in entries
              if (_is_real_dir(e) and _notebook_entries(Path(e.path), 0))
              or (e.is_symlink() and not e.name.endswith((".ipynb", ".zip")))]
    # A zip directly in the folder is one submission (links to zips get their `invalid` row).
    found += [_Found(e.name, Path(e.path), False, packed=not e.is_symlink()) for e in entries
              if e.name.endswith(".zip") and not _is_real_dir(e)]
    return found


def _first_entries(folder: Path, room: int) -> list[os.DirEntry] | None:
    """The visible entries of folder, sorted; None as soon as there are more than room (a
    folder of a million entries is not listed to the end)."""
    entries = []
    with os.scandir(folder) as it:
        for entry in it:
            if not _hidden(entry.name):
                entries.append(entry)
                if len(entries) > room:
                    return None
    return sorted(entries, key=lambda e: e.name)


def _walk(folder: Path, limits: SubmissionLimits) -> tuple[list[Path], str | None]:
    """The files of a folder submission, or the first problem met (walking stops there)."""
    files: list[Path] = []
    total = folders = 0
    pending = [folder]
    too_many = f"the folder holds more than {limits.files} files and folders (limit `files`)"
    while pending:
        current = pending.pop()
        listing = _first_entries(current, limits.files - len(files) - folders)
        if listing is None:
            return files, too_many
        for entry in listing:
            rel = Path(entry.path).relative_to(folder)
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                return files, f"{rel} is a symbolic link"
            if stat.S_ISDIR(info.st_mode):
                pending.append(Path(entry.path))
                folders += 1  # counted too: a million empty folders must not stall us
                continue
            if not stat.S_ISREG(info.st_mode):
                return files, f"{rel} is not a regular file"
            files.append(Path(entry.path))
            total += info.st_size
            if total > limits.folder_bytes:
                return files, (f"the folder holds more than {_size(limits.folder_bytes)} "
                               f"(limit `folder_bytes`)")
            if entry.name.endswith(".ipynb") or info.st_size <= limits.checkpoint_bytes:
                continue
            return files, (f"{rel} is {_size(info.st_size)}; a file besides the notebook may "
                           f"have at most {_size(limits.checkpoint_bytes)} (limit "
                           f"`checkpoint_bytes`)")
    return sorted(files), None


def _size(count: int) -> str:
    return f"{count} bytes ({count / MiB:.1f} MiB)" if count >= MiB else f"{count} bytes"


def _count_cells(data: bytes) -> int | None:
    """Cells in the notebook's top-level "cells" list; None if it is not a JSON notebook.

    Every JSON object is replaced by a placeholder as soon as it is parsed, so even a file of
    millions of tiny cells costs one pointer per cell, not a parsed notebook."""
    def keep_cell_count(pairs):
        return {key: len(value) for key, value in pairs
                if key == "cells" and isinstance(value, list)} or None

    try:
        top = json.loads(data, object_pairs_hook=keep_cell_count)
    except (ValueError, RecursionError):
        return None  # execute reports an unreadable notebook, without quoting it
    return top.get("cells") if isinstance(top, dict) else None


def _refused(found: _Found, source: str, problem: str) -> Submission:
    notebook = found.path  # never opened: files is empty
    digest = hashlib.sha256(f"invalid\0{source}\0{problem}".encode()).hexdigest()
    return Submission(stem=found.key, notebook=notebook, files=(), root=found.path.parent,
                      sha256=digest, source=source, problem=problem)


LINK_ADVICE = ("the grader never follows symbolic links: submit the file itself, not a link "
               "to it")


def _check(found: _Found, limits: SubmissionLimits) -> Submission:
    """The submission, with `problem` set when it breaks a rule or a limit."""
    source = str(found.path)
    info = os.lstat(found.path)
    if stat.S_ISLNK(info.st_mode):
        return _refused(found, source, f"{found.key} is a symbolic link; {LINK_ADVICE}")
    if found.packed:
        return _check_zip(found, limits)
    if found.folder:
        notebooks = _notebook_entries(found.path, MANY_NOTEBOOKS)
        if len(notebooks) != 1:
            count = f"more than {MANY_NOTEBOOKS}" if len(notebooks) > MANY_NOTEBOOKS else \
                str(len(notebooks))
            what = "no notebook (.ipynb)" if not notebooks else \
                f"{count} notebooks ({', '.join(e.name for e in notebooks[:MANY_NOTEBOOKS])})"
            return _refused(found, source, f"the folder {found.key} holds {what} at its top "
                                           f"level; a submission holds exactly one (keep one "
                                           f"and grade again)")
        files, problem = _walk(found.path, limits)
        if problem is not None:
            if "symbolic link" in problem:
                problem += f"; {LINK_ADVICE}"
            return _refused(found, source, problem)
        root, notebook = found.path, found.path / notebooks[0].name
    else:
        if not stat.S_ISREG(info.st_mode):
            return _refused(found, source, f"{found.key} is not a regular file")
        root, notebook, files = found.path.parent, found.path, [found.path]
    size = os.lstat(notebook).st_size
    if size > limits.notebook_bytes:
        return _refused(found, source, f"the notebook is {_size(size)}; the limit is "
                                       f"{_size(limits.notebook_bytes)} (limit "
                                       f"`notebook_bytes`)")
    try:
        digest = hashlib.sha256()
        for path in files:
            rel = path.relative_to(root)
            digest.update(str(rel).encode() + b"\0")
            with os.fdopen(open_regular(root, rel), "rb") as fh:
                if path == notebook:  # read whole: it is at most notebook_bytes
                    data = fh.read(limits.notebook_bytes + 1)
                    # Every cell is a JSON object, so fewer "{" than the limit settles it.
                    cells = _count_cells(data) if data.count(b"{") > limits.cells else None
                    if cells is not None and cells > limits.cells:
                        return _refused(found, source, f"the notebook has {cells} cells; the "
                                                       f"limit is {limits.cells} (limit `cells`)")
                    digest.update(data)
                else:
                    for block in iter(lambda: fh.read(MiB), b""):
                        digest.update(block)
            digest.update(b"\0")
    except UnsafeFile as exc:  # changed under us since the walk
        return _refused(found, source, f"{exc}; {LINK_ADVICE}")
    return Submission(stem=found.key, notebook=notebook, files=tuple(files), root=root,
                      sha256=digest.hexdigest(), source=source)


def _check_zip(found: _Found, limits: SubmissionLimits) -> Submission:
    """A zip: checked and unpacked into a private folder, then collected as that folder."""
    source = str(found.path)
    try:
        fd = open_regular(found.path.parent, Path(found.path.name))
    except UnsafeFile as exc:
        return _refused(found, source, f"{exc}; {LINK_ADVICE}")
    staging = collect_zip.staging_folder()
    try:
        root = collect_zip.unpack(found.path, fd, limits, staging)
    except collect_zip.ZipRefused as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return _refused(found, source, f"the zip {found.key} was not graded: {exc}")
    inner = _check(_Found(found.key, root, True), limits)
    if inner.problem is not None:
        return _refused(found, source, inner.problem)
    return dataclasses.replace(inner, source=source)


def _collision(key: str, group: list[_Found]) -> Submission:
    paths = ", ".join(str(f.path) for f in group)
    first = next(f for f in group if f.key == key)
    return _refused(first, "; ".join(str(f.path) for f in group),
                    f"{len(group)} submissions have the name {key!r} (names are compared "
                    f"ignoring case): {paths}; none of them is graded until each has a name "
                    f"of its own (rename or move one and grade again)")


def collect(paths: list[Path], limits: SubmissionLimits | None = None) -> list[Submission]:
    """Expand PATHs into submissions sorted by key, one per key. Problems of one submission
    (links, limits, name collisions) are in its `problem`; CollectError only for unusable
    PATHs (missing, not a notebook or folder) or when nothing is found at all."""
    limits = limits or SubmissionLimits()
    found = [item for raw in paths for item in _expand(Path(raw))]
    if not found:
        raise CollectError("no notebooks found in " + ", ".join(str(p) for p in paths))
    groups: dict[str, list[_Found]] = {}
    for item in found:
        groups.setdefault(item.key.casefold(), []).append(item)
    submissions = []
    for group in groups.values():
        if len(group) == 1:
            submissions.append(_check(group[0], limits))
        else:
            submissions += [_collision(key, group) for key in sorted({f.key for f in group})]
    return sorted(submissions, key=lambda s: s.stem)
