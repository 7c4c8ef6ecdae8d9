"""execute.notebook_cells: version-4 notebooks read as plain JSON give exactly the code cells
nbformat gives; other versions still go through nbformat; broken files and cells never crash."""

import json

import nbformat
import pytest

from neurograde.execute import notebook_cells
from neurograde.release import build_notebook


def _through_nbformat(path):
    nb = nbformat.read(str(path), as_version=4)
    return [{"number": i, "source": c.source} for i, c in enumerate(nb.cells, start=1)
            if c.cell_type == "code"]


def test_a_released_notebook_reads_as_nbformat_reads_it(tmp_path, perceptron):
    path = tmp_path / "released.ipynb"
    nb = build_notebook(perceptron, "es")
    nb.cells[3].source = "x = 1\n# ñandú ✓\n"  # sources as one string and, on disk, as lines
    nbformat.write(nb, str(path))
    assert isinstance(json.loads(path.read_text())["cells"][0]["source"], list)
    cells = notebook_cells(path)
    assert cells == _through_nbformat(path)
    assert len(cells) >= len(perceptron.questions) and all(c["source"] for c in cells)


def test_a_version_3_notebook_is_converted_by_nbformat(tmp_path):
    v3 = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[
        nbformat.v3.new_text_cell("markdown", source="# title"),
        nbformat.v3.new_code_cell(input="def f():\n    return 3\n"),
        nbformat.v3.new_code_cell(input="y = f()")])])
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.v3.writes_json(v3))
    assert json.loads(path.read_text())["nbformat"] == 3
    assert notebook_cells(path) == [{"number": 2, "source": "def f():\n    return 3\n"},
                                    {"number": 3, "source": "y = f()"}]


def test_cells_that_break_the_schema_are_read_without_crashing(tmp_path):
    """A cell that is no object is skipped (its position still counts); a source list with
    something other than text is read as text."""
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        "not a cell", {"cell_type": "code", "source": ["a = ", 1, "\n"]},
        {"cell_type": "code"}, {"cell_type": "markdown", "source": "x"}]}))
    assert notebook_cells(path) == [{"number": 2, "source": "a = 1\n"},
                                    {"number": 3, "source": ""}]


@pytest.mark.parametrize("content", ["[1, 2]", '{"nbformat": 4, "cells": 7}', "{", "",
                                     '"text"', "[" * 100_000])
def test_files_that_are_no_notebook_give_the_readable_error(tmp_path, content):
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    with pytest.raises(ValueError, match="not a readable Jupyter notebook"):
        notebook_cells(path)
