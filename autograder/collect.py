"""Stage 1: find submissions and fingerprint them.

A PATH is a notebook, a folder holding exactly one notebook plus its files (one submission,
e.g. a notebook and its checkpoint), or a folder of such items (each notebook or sub-folder a
submission). The content hash covers every file of a submission, so a changed checkpoint is
re-graded like a changed notebook.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

MAX_SUBMISSION_BYTES = 512 * 1024 * 1024


class CollectError(ValueError):
    pass


@dataclass(frozen=True)
class Submission:
    stem: str            # unique name in the batch: gradebook key and results/<stem>.json
    notebook: Path
    files: tuple[Path, ...]  # every file of the submission, notebook included
    root: Path           # folder whose files are visible to the submission while it runs
    sha256: str


def _hash_files(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _visible_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not any(
        part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts)]


def _single_notebook(folder: Path) -> Path | None:
    notebooks = [p for p in folder.glob("*.ipynb") if not p.name.startswith(".")]
    return notebooks[0] if len(notebooks) == 1 else None


def collect(paths: list[Path]) -> list[Submission]:
    """Expand PATHs into submissions, sorted by name; raise CollectError on unusable input."""
    found: list[tuple[Path, Path, list[Path]]] = []  # (notebook, root, files)
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise CollectError(f"{path}: no such file or folder")
        if path.is_file():
            if path.suffix != ".ipynb":
                raise CollectError(f"{path}: not a notebook (.ipynb)")
            found.append((path, path.parent, [path]))
            continue
        subdirs = [d for d in sorted(path.iterdir()) if d.is_dir() and not d.name.startswith(".")]
        notebook = _single_notebook(path)
        if notebook is not None and not any(_single_notebook(d) for d in subdirs):
            found.append((notebook, path, _visible_files(path)))
            continue
        for item in sorted(path.glob("*.ipynb")):
            if not item.name.startswith("."):
                found.append((item, path, [item]))
        for sub in subdirs:
            nb = _single_notebook(sub)
            if nb is not None:
                found.append((nb, sub, _visible_files(sub)))
    if not found:
        raise CollectError("no notebooks found in " + ", ".join(str(p) for p in paths))
    submissions = []
    used: dict[str, int] = {}
    for notebook, root, files in found:
        size = sum(f.stat().st_size for f in files)
        if size > MAX_SUBMISSION_BYTES:
            raise CollectError(f"{root}: submission is {size} bytes; the limit is "
                               f"{MAX_SUBMISSION_BYTES}")
        stem = notebook.stem if files == [notebook] else root.name
        count = used.get(stem, 0)
        used[stem] = count + 1
        unique = stem if count == 0 else f"{stem}-{count + 1}"
        submissions.append(Submission(stem=unique, notebook=notebook, files=tuple(files),
                                      root=root, sha256=_hash_files(files, root)))
    return sorted(submissions, key=lambda s: s.stem)
