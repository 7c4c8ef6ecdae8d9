"""Per-student variants of backprop, gradient_descent, gan and embeddings: each student's
notebook and public checks carry their own numbers, the reference answered in a student's own
notebook gets full marks, the known mistakes stay detectable on every variant, and another
student's notebook filed under one's name is flagged and loses the check that reads the
notebook's own data."""

import ast
import csv

import nbformat
import pytest

from neurograde import checklib
from neurograde.batch import BatchOptions, grade_batch
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.release import build_notebook, fill_notebook, solution_source
from neurograde.spec import load_assignment
from neurograde.variants import MISMATCH, tag_for

SECRET = b"course-secret-for-tests-0123456789"
SLUGS = ["backprop", "gradient_descent", "gan", "embeddings"]
OWN_DATA = "your notebook's own"       # in the name of each assignment's own-data check

# A line of each canonical setup cell: the course exercise's numbers, unchanged.
SEED_LINES = {
    "backprop": "X_small = np.array([[1.0, -0.5, 0.3, 2.0], [0.2, 1.5, -1.0, 0.0]])",
    "gradient_descent": "A_demo = np.array([[5.5, 4.5],\n                   [4.5, 5.5]])",
    "gan": "p_gen = normal_pdf(xs, 1.5, 0.8)",
    "embeddings": "GLOVE_ANALOGIES = [('man', 'king', 'woman'), ('france', 'paris', "
                  "'germany')]",
}


@pytest.fixture(scope="module", params=SLUGS)
def assignment(request):
    return load_assignment(request.param)


def _setup_cell(nb):
    return next(c.source for c in nb.cells
                if c.metadata.get("neurograde", {}).get("role") == "setup")


def _code(source: str) -> str:
    """The code of a cell without its comments and docstrings (which are in its language)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def _public_inputs(assignment, student):
    plan = make_plan(assignment, include_hidden=False,
                     variant=tag_for(SECRET, assignment, student).seed)
    return {p.id: checklib.encode(p.inputs) for p in plan.checks}


def _answered(assignment, student):
    """The reference pasted into `student`'s own release notebook."""
    nb = build_notebook(assignment, "en", tag_for(SECRET, assignment, student))
    return fill_notebook(nb, {q: solution_source(assignment, q, assignment.reference)
                              for q in assignment.question_ids})


def test_students_get_their_own_numbers_and_the_canonical_variant_is_the_seed(assignment):
    """Two students get different setup cells and public check inputs, the same student always
    the same; the setup cell is valid Python and the same code in every language (its
    comments are translated); a release without a roster
    keeps the course exercise's numbers (CANONICAL)."""
    a = build_notebook(assignment, "en", tag_for(SECRET, assignment, "S001"))
    b = build_notebook(assignment, "en", tag_for(SECRET, assignment, "S002"))
    again = build_notebook(assignment, "en", tag_for(SECRET, assignment, "S001"))
    assert _setup_cell(a) != _setup_cell(b)
    assert _setup_cell(a) == _setup_cell(again)
    for nb in (a, b):
        compile(_setup_cell(nb), "setup", "exec")
    first, second = _public_inputs(assignment, "S001"), _public_inputs(assignment, "S002")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]], "no public check input differs"
    assert first == _public_inputs(assignment, "S001")
    canonical = _setup_cell(build_notebook(assignment, "en"))
    assert SEED_LINES[assignment.slug] in canonical
    assert assignment.variant(None)["seed"] is True
    assert assignment.variant(tag_for(SECRET, assignment, "S001").seed)["seed"] is False
    for lang in ("es", "pt"):
        nb = build_notebook(assignment, lang, tag_for(SECRET, assignment, "S002"))
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "{{" not in text and "{%" not in text
        assert _code(_setup_cell(nb)) == _code(_setup_cell(b))


def test_each_assignment_has_one_public_own_data_check(assignment):
    """Every variant has exactly one public check that reads the notebook's own data, and the
    points of each question still add up to assignment.toml (checks_for validates them)."""
    for student in ("S001", "S002"):
        checks = assignment.checks_for(tag_for(SECRET, assignment, student).seed)
        own = [c for c in checks if OWN_DATA in c.name]
        assert len(own) == 1 and not own[0].hidden
        assert own[0].probe.endswith("_on_notebook_data")


def test_known_mistakes_stay_detectable_on_the_variants(assignment):
    """For the variants of three students, each known mistake's output differs from the
    reference's beyond the tolerance on at least one check of its question."""
    for student in ("S001", "S002", "S003"):
        plan = make_plan(assignment, variant=tag_for(SECRET, assignment, student).seed)
        found = {m.id for variants in expectations(plan).variants.values() for m, _ in variants}
        missed = [m.id for m in assignment.mistakes if m.id not in found]
        assert not missed, f"{student}: no check tells these mistakes apart: {missed}"


def test_own_variant_full_marks_and_a_copied_notebook_is_flagged(assignment, tmp_path, box):
    """Graded with the roster and the secret: the reference in each student's own notebook
    gets full marks; S002's notebook handed in by S003 is graded against S003's variant,
    flagged as a variant mismatch and loses the check on the notebook's own data."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in ("S001", "S002"):
        nbformat.write(_answered(assignment, student), str(subs / f"{student}.ipynb"))
    nbformat.write(_answered(assignment, "S002"), str(subs / "S003-hw.ipynb"))
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student id", "name", "email"])
        for sid in ("S001", "S002", "S003"):
            writer.writerow([sid, f"Student {sid}", f"{sid.lower()}@uni.edu"])
    summary = grade_batch(assignment, [subs], tmp_path / "out",
                          BatchOptions(jobs=3, timeout=300, quiet=True, roster=roster,
                                       secret=SECRET, reports=False))
    # keyed by name: a notebook file's key is its file name (collect.py)
    by = {r.submission.removesuffix(".ipynb"): r for r in summary.results}
    for sid in ("S001", "S002"):
        failed = [(c.name, c.feedback) for c in by[sid].checks if c.score < c.points]
        assert by[sid].status == "ok", by[sid].message
        assert by[sid].total == pytest.approx(assignment.possible, abs=1e-9), failed
        assert by[sid].extra["student"] == sid
    copied = by["S003-hw"]
    assert copied.status == MISMATCH
    assert "carries the variant of 'S002'" in copied.message
    assert copied.total < assignment.possible
    lost = [c.name for c in copied.checks if c.score < c.points]
    assert any(OWN_DATA in name for name in lost), lost
