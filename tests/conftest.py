"""Shared fixtures. Grading tests use the real sandbox: where it is missing they fail loudly
(with the reason from sandbox.detect) instead of silently running student code unisolated."""

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from neurograde.sandbox import box as sandbox, warmpool
from neurograde.spec import load_assignment


@pytest.fixture(scope="session")
def box():
    """The sandbox grading uses here; an error (not a skip) if none is available."""
    return sandbox.detect(False)


@pytest.fixture
def pool(monkeypatch):
    """A warm pool of the test's own, so other tests' workers and failure counts (and their
    interpreter) do not interfere; closed afterwards."""
    fresh = warmpool.WorkerPool()
    monkeypatch.setattr(warmpool, "_POOL", fresh)
    yield fresh
    fresh.close()


@pytest.fixture(scope="session")
def perceptron():
    return load_assignment("perceptron")


def notebook_with(cells: list[str], path: Path) -> Path:
    """Write a notebook whose code cells are the given sources."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def read_results(out: Path, stem: str) -> dict:
    return json.loads((out / "results" / f"{stem}.json").read_text())


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
