"""Bundled example submissions per assignment: a correct, a partly wrong and a broken one.

They are generated from the same sources as the release (reference functions pasted into the
student notebook, or known mistakes swapped in), so they never drift from the assignment.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from .release import build_notebook, fill_notebook, solution_source
from .spec import Assignment

BROKEN_CELL = '''def {name}(*args, **kwargs)
    return None  # the missing colon above makes this cell a SyntaxError
'''


def partly_wrong_sources(assignment: Assignment) -> dict[str, str]:
    """Reference code with one known mistake swapped into every other question."""
    sources = {}
    for index, q in enumerate(assignment.questions):
        variant = None
        if index % 2 == 0:
            variant = next((m for m in assignment.mistakes if m.function in q.defines), None)
        renames = {variant.function: variant.variant} if variant else None
        sources[q.id] = solution_source(assignment, q.id, assignment.reference, renames)
    return sources


def broken_sources(assignment: Assignment) -> dict[str, str]:
    first = assignment.questions[0]
    sources = {first.id: BROKEN_CELL.format(name=first.defines[0])}
    if len(assignment.questions) > 1:
        second = assignment.questions[1]
        sources[second.id] = ("raise RuntimeError('this cell fails at import time')\n"
                              + solution_source(assignment, second.id, assignment.reference))
    return sources


def _extra_files_hook(assignment: Assignment):
    """assignments/<slug>/submission_files.py may define write(kind, folder) to add the files
    a submission carries besides its notebook (e.g. a trained checkpoint)."""
    path = assignment.folder / "submission_files.py"
    if not path.exists():
        return None
    from .spec import _load_module
    return _load_module(path, f"neurograde_submission_files_{assignment.slug}").write


def _write(assignment: Assignment, nb, target: Path, kind: str) -> Path:
    """A notebook file, or a folder (notebook + extra files) when the assignment needs one."""
    hook = _extra_files_hook(assignment)
    if hook is None:
        path = target.with_suffix(".ipynb")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        return path
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target / f"{assignment.slug}.ipynb"))
    hook(kind, target)
    return target


def write_reference_submission(assignment: Assignment, target: Path, lang: str = "en") -> Path:
    """The reference pasted into the student notebook, as a submission at target(.ipynb)."""
    nb = fill_notebook(build_notebook(assignment, lang),
                       {q: solution_source(assignment, q, assignment.reference)
                        for q in assignment.question_ids})
    return _write(assignment, nb, Path(target), "correct")


def write_examples(assignment: Assignment, out_dir: Path, lang: str = "en") -> list[Path]:
    """Write the example submissions under out_dir and return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nb = build_notebook(assignment, lang)
    variants = {
        "correct": {q: solution_source(assignment, q, assignment.reference)
                    for q in assignment.question_ids},
        "partly_wrong": partly_wrong_sources(assignment),
        "broken": broken_sources(assignment),
    }
    return [_write(assignment, fill_notebook(nb, sources), out_dir / f"{assignment.slug}-{name}",
                   name) for name, sources in variants.items()]
