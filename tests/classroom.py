"""A class of perceptron submissions for batch tests: varied scores, statuses and file names.

Built from the bundled examples (correct, partly wrong, broken) plus two kinds made here (only
the first two questions answered; an unreadable file), each copy given its own name and a
markdown cell with that name so every file has its own content hash.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from neurograde.examples import write_examples

KINDS = ("correct", "partly_wrong", "broken", "half", "garbage")


def _half(correct_nb):
    """The correct notebook with the code cells of q3 and q4 replaced by their stubs' raise."""
    nb = nbformat.from_dict(correct_nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and ("def better_model" in cell.source
                                         or "def train_perceptron" in cell.source):
            cell.source = "# not done yet\n"
    return nb


def write_class(assignment, folder: Path, count: int, names: list[str] | None = None,
                kinds: tuple[str, ...] = KINDS) -> list[Path]:
    """count notebooks in folder (named names[i] or s00, s01, ...), kinds taken in turn."""
    folder = Path(folder)
    templates = folder.parent / f".{folder.name}-examples"
    examples = {p.stem.split("-", 1)[1]: nbformat.read(str(p), as_version=4)
                for p in write_examples(assignment, templates)}
    examples["half"] = _half(examples["correct"])
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        name = names[i] if names else f"s{i:02d}"
        kind = kinds[i % len(kinds)]
        path = folder / f"{name}.ipynb"
        if kind == "garbage":
            path.write_text("{ this is not a notebook, student %s" % name)
        else:
            nb = nbformat.from_dict(examples[kind])
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"Submitted by {name}"))
            nbformat.write(nb, str(path))
        paths.append(path)
    return paths


def cli(*args, timeout: float = 600, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neurograde", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, **popen)


def grade_cmd(subs: Path, out: Path, *extra) -> list[str]:
    return [sys.executable, "-m", "neurograde", "grade", "--assignment", "perceptron",
            str(subs), "--out", str(out), "--jobs", "2", "--timeout", "60", *map(str, extra)]


def read_csv(path: Path) -> list[dict]:
    import csv
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
