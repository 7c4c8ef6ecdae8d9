"""Every diagnosis is true (issue 12): graded through the real pipeline and sandbox, each
assignment's known mistakes are named when a notebook makes them, and nothing is named for
a notebook that does not.

- Each wrong variant of assignments/<slug>/mistakes.py, pasted alone into an otherwise correct
  notebook, loses points on its own question only and is the one mistake named.
- Each correct solution written differently (tests/alternatives/<slug>.py SOLUTIONS: loops
  instead of vectorized code, float32, another but equivalent formula, numpy scalars) gets
  full marks and names no mistake.
- Each solution with correct mathematics but no input validation (WITHOUT_VALIDATION) loses at
  most its questions' validation points and names no mistake: a missing ValueError is not a
  mathematical mistake.
- Judges that recognize a mistake in their own words (JUDGE_WORDS) say them too.

The mistake rule itself (judge.named_mistakes): a mistake is named only when the outputs match
it on every check where it differs from the reference.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from assignment_grading import feedback, grade, named, notebook_with_code, \
    notebook_with_mistakes, question
from neurograde.examples import _extra_files_hook
from neurograde.spec import known_slugs, load_assignment

ALTERNATIVES = Path(__file__).parent / "alternatives"
SLUGS = known_slugs()


def alternatives(slug: str):
    path = ALTERNATIVES / f"{slug}.py"
    assert path.exists(), f"{slug}: no tests/alternatives/{slug}.py (correct solutions " \
                          "written differently, and one without input validation)"
    spec = importlib.util.spec_from_file_location(f"alternatives_{slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _submission(assignment, notebook: Path) -> Path:
    """The notebook alone, or in a folder with the files the assignment's submissions carry
    besides it (the autoencoder's correct checkpoint): only the code differs between them."""
    write = _extra_files_hook(assignment)
    if write is None:
        return notebook
    folder = notebook.with_suffix("")
    folder.mkdir(parents=True)
    notebook.rename(folder / f"{assignment.slug}.ipynb")
    write("correct", folder)
    return folder


@pytest.mark.parametrize("slug", SLUGS)
def test_alternatives_cover_the_assignment(slug):
    """Every assignment has correct solutions written differently for every question, and a
    solution without input validation for every question that has validation checks."""
    assignment = load_assignment(slug)
    alt = alternatives(slug)
    covered = {qid for sources in alt.SOLUTIONS.values() for qid in sources}
    wanted = {q.id for q in assignment.questions if q.defines}
    assert wanted <= covered, f"no alternative solution for {sorted(wanted - covered)}"
    validated = {c.question for c in assignment.checks if c.validation}
    lax = {qid for sources in getattr(alt, "WITHOUT_VALIDATION", {}).values() for qid in sources}
    assert validated <= lax, f"no solution without validation for {sorted(validated - lax)}"


@pytest.mark.parametrize("slug", SLUGS)
def test_diagnoses_are_true(slug, tmp_path, box):
    assignment = load_assignment(slug)
    alt = alternatives(slug)
    subs = tmp_path / "subs"
    paths, mistakes = [], {}
    for m in assignment.mistakes:
        qid = assignment.question_of(m.function).id
        mistakes[m.id] = (m, qid)
        paths.append(notebook_with_mistakes(assignment, {qid: m}, subs / f"m-{m.id}.ipynb"))
    for name, sources in alt.SOLUTIONS.items():
        paths.append(notebook_with_code(assignment, sources, subs / f"ok-{name}.ipynb"))
    lax = getattr(alt, "WITHOUT_VALIDATION", {})
    for name, sources in lax.items():
        paths.append(notebook_with_code(assignment, sources, subs / f"lax-{name}.ipynb"))
    paths = [_submission(assignment, path) for path in paths]
    results = grade(assignment, paths, tmp_path / "out")
    judge_words = getattr(alt, "JUDGE_WORDS", {})
    assert set(judge_words) <= set(mistakes)
    wrong = []
    for mistake_id, (mistake, qid) in mistakes.items():
        result = results[f"m-{mistake_id}"]
        assert result.status == "ok", (mistake_id, result.message)
        lost = {q.id for q in result.questions if q.score < q.possible}
        text = "\n".join(question(result, qid).feedback)
        if lost != {qid} or named(result) != {mistake_id} \
                or f"likely mistake: {mistake.text('en')}" not in text \
                or judge_words.get(mistake_id, "") not in text:
            wrong.append((mistake_id, sorted(lost), sorted(named(result)), text[:600]))
    for name in alt.SOLUTIONS:
        result = results[f"ok-{name}"]
        if result.status != "ok" or result.total < result.possible - 1e-9 or named(result):
            wrong.append((f"ok-{name}", result.total, sorted(named(result)), feedback(result)[:600]))
    for name, sources in lax.items():
        result = results[f"lax-{name}"]
        for q in result.questions:
            allowed = assignment.validation_points(q.id) if q.id in sources else 0.0
            if q.score < q.possible - allowed - 1e-9:
                wrong.append((f"lax-{name}", q.id, q.score, q.feedback[:3]))
        if named(result):
            wrong.append((f"lax-{name}", "named", sorted(named(result)), feedback(result)[:600]))
    assert not wrong, "\n".join(map(repr, wrong))
