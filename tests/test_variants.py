"""Per-student variants: HMAC-derived numbers per student, signed in the notebook metadata,
verified and flagged by the grader."""

import csv
import subprocess
import sys

import nbformat
import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.exports import Student
from neurograde.release import build_notebook, fill_notebook, release_roster, solution_source
from neurograde.spec import load_assignment
from neurograde.variants import MISMATCH, SecretError, read_secret, tag_for, verify

SECRET = b"course-secret-for-tests-0123456789"


@pytest.fixture(scope="module")
def perceptron():
    return load_assignment("perceptron")


def _setup_cell(nb):
    return next(c.source for c in nb.cells
                if c.metadata.get("neurograde", {}).get("role") == "setup")


def _answered(assignment, student):
    """The reference pasted into `student`'s own release notebook."""
    nb = build_notebook(assignment, "en", tag_for(SECRET, assignment, student))
    return fill_notebook(nb, {q: solution_source(assignment, q, assignment.reference)
                              for q in assignment.question_ids})


def _best(assignment, student):
    v = assignment.variant(tag_for(SECRET, assignment, student).seed)
    import numpy as np
    models = {"f1": (np.array(v["w1"]), v["b1"]), "f2": (np.array(v["w2"]), v["b2"])}
    return assignment.reference.better_model(np.array(v["X_test"]), np.array(v["y_test"]),
                                             models)


def _two_students_with_different_answers(assignment):
    ids = [f"S{i:03d}" for i in range(1, 60)]
    first = ids[0]
    other = next(s for s in ids[1:] if _best(assignment, s) != _best(assignment, first))
    return first, other


def test_students_get_different_numbers_and_the_canonical_variant_is_the_seed(perceptron):
    """Do two students get different test sets and models, deterministically, while a release
    without a roster keeps the course exercise's numbers?"""
    a = build_notebook(perceptron, "en", tag_for(SECRET, perceptron, "S001"))
    b = build_notebook(perceptron, "en", tag_for(SECRET, perceptron, "S002"))
    again = build_notebook(perceptron, "en", tag_for(SECRET, perceptron, "S001"))
    assert _setup_cell(a) != _setup_cell(b)
    assert _setup_cell(a) == _setup_cell(again)
    canonical = _setup_cell(build_notebook(perceptron, "en"))
    assert "[3.4, 5.0]), -14.0" in canonical and "[[1.0, 1.0], [3.0, 0.5]" in canonical
    meta = a.metadata["neurograde"]
    assert meta["student"] == "S001" and meta["variant"] == tag_for(SECRET, perceptron,
                                                                      "S001").seed
    other_secret = tag_for(b"another-secret-0123456789", perceptron, "S001")
    assert other_secret.seed != meta["variant"]


def test_release_roster_writes_one_notebook_and_zip_per_student(perceptron, tmp_path):
    """Does --roster release give each student a notebook, public checks and a zip of their
    own variant (public check files differ between students)?"""
    students = [Student("S001", "Ana", "ana@uni.edu"), Student("S002", "Bruno", "b@uni.edu")]
    releases = release_roster(perceptron, tmp_path, "pt", students, SECRET)
    assert [r.student_dir.name for r in releases] == ["S001", "S002"]
    q1 = [(r.student_dir / "tests" / "q1.py").read_text() for r in releases]
    assert q1[0] != q1[1]
    assert all(r.autograder_zip.exists() for r in releases)
    nb = nbformat.read(str(releases[1].notebook), as_version=4)
    assert nb.metadata["neurograde"]["student"] == "S002"
    assert nb.metadata["neurograde"]["lang"] == "pt"


def test_own_variant_full_marks_foreign_variant_flagged_and_loses_points(perceptron,
                                                                           tmp_path, box):
    """Graded under their roster names: each student's answered notebook gets full marks; a
    copy of another student's notebook filed under one's own name is flagged and loses the
    points that depend on the variant's numbers; an altered signature is flagged."""
    first, other = _two_students_with_different_answers(perceptron)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_answered(perceptron, first), str(subs / f"{first}.ipynb"))
    nbformat.write(_answered(perceptron, other), str(subs / f"{other}.ipynb"))
    copied = f"S058" if other != "S058" and first != "S058" else "S059"
    nbformat.write(_answered(perceptron, other), str(subs / f"{copied}-hw.ipynb"))
    tampered = _answered(perceptron, "S057")
    tampered.metadata["neurograde"]["signature"] = "0" * 32
    nbformat.write(tampered, str(subs / "S057.ipynb"))
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student id", "name", "email"])
        for sid in (first, other, copied, "S057"):
            writer.writerow([sid, f"Student {sid}", f"{sid.lower()}@uni.edu"])
    summary = grade_batch(perceptron, [subs], tmp_path / "out",
                          BatchOptions(jobs=2, timeout=60, quiet=True, roster=roster,
                                       secret=SECRET, reports=False))
    # keyed by name: a notebook file's key is its file name (collect.py)
    by = {r.submission.removesuffix(".ipynb"): r for r in summary.results}
    for sid in (first, other):
        assert by[sid].total == perceptron.possible and by[sid].status == "ok", by[sid].message
        assert by[sid].extra["student"] == sid
    foreign = by[f"{copied}-hw"]
    assert foreign.status == MISMATCH
    assert f"carries the variant of '{other}'" in foreign.message
    assert foreign.total < perceptron.possible
    lost = [c for c in foreign.checks if c.score < c.points]
    assert any("own test set" in c.name for c in lost)
    assert by["S057"].status == MISMATCH and "altered" in by["S057"].message
    rows = {r["submission"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert rows[f"{copied}-hw.ipynb"]["status"] == MISMATCH


def test_verify_and_secret_errors(perceptron, tmp_path, monkeypatch):
    """Does verify accept the genuine tag and name the problem otherwise; is a missing or
    short secret a clear error?"""
    path = tmp_path / "nb.ipynb"
    nbformat.write(build_notebook(perceptron, "en", tag_for(SECRET, perceptron, "S001")),
                   str(path))
    assert verify(SECRET, perceptron, "S001", path) is None
    assert "carries the variant of 'S001'" in verify(SECRET, perceptron, "S002", path)
    nbformat.write(build_notebook(perceptron, "en"), str(path))
    assert "no variant tag" in verify(SECRET, perceptron, "S001", path)
    monkeypatch.delenv("NEUROGRADE_SECRET", raising=False)
    with pytest.raises(SecretError, match="--secret-file"):
        read_secret(None)
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(SecretError, match="at least 16"):
        read_secret(short)
    monkeypatch.setenv("NEUROGRADE_SECRET", SECRET.decode())
    assert read_secret(None) == SECRET


def test_cli_release_roster_needs_secret_and_variant_support(tmp_path, monkeypatch):
    """Does `release --roster` without a secret, or for an assignment without variants, exit
    with a usage error that says why?"""
    monkeypatch.delenv("NEUROGRADE_SECRET", raising=False)
    roster = tmp_path / "roster.csv"
    roster.write_text("student id,name,email\nS001,Ana,ana@uni.edu\n")
    cmd = [sys.executable, "-m", "neurograde", "release", "perceptron", "--roster",
           str(roster), "--out", str(tmp_path / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2 and "secret" in proc.stderr
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    proc = subprocess.run(cmd + ["--secret-file", str(secret)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    base = tmp_path / "out" / "perceptron" / "en"  # release --lang defaults to en
    assert (base / "students" / "S001" / "perceptron.ipynb").exists()
    assert (base / "autograder" / "students" / "perceptron-en-S001-autograder.zip").exists()
    assert "--roster ROSTER.csv --secret-file SECRET" in (base / "README.md").read_text()
