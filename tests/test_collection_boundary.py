"""Hostile files at the boundary (issue 10): names, links, limits, a killed grader, a grader
that checks itself. Everything goes through grade_batch or the CLI with the real sandbox."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from assignment_grading import mistake_rounds, notebook_with_mistakes
from neurograde import cli, selfcheck
from neurograde.batch import BatchOptions, grade_batch
from neurograde.collect import SubmissionLimits, UnsafeFile, collect
from neurograde.execute import notebook_cells
from neurograde.exports import match_roster, Student
from neurograde.gradebook import DB_NAME
from neurograde.release import build_notebook
from neurograde.sandbox.runner import copy_submission
from neurograde.selfcheck import SelfCheckFailed
from neurograde.spec import SpecError, _submission_limits
from classroom import grade_cmd, read_csv

SECRET = "TOP-SECRET-7f3a9c"   # in every file a link points to: must never reach an output


def correct(perceptron, path: Path) -> Path:
    return notebook_with_mistakes(perceptron, {}, path)


def partly_wrong(perceptron, path: Path) -> Path:
    return notebook_with_mistakes(perceptron, mistake_rounds(perceptron)[0], path)


def stub(perceptron, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(perceptron, "en"), str(path))
    return path


def run(perceptron, paths, out, **options) -> dict:
    settings = dict(jobs=2, timeout=60, quiet=True, reports=False)
    settings.update(options)
    summary = grade_batch(perceptron, [Path(p) for p in paths], out, BatchOptions(**settings))
    return {r.submission: r for r in summary.results}


def everything_written(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())


# -- names ----------------------------------------------------------------------------------

def test_lms_folders_keep_each_students_name_when_a_folder_is_added(perceptron, tmp_path, box):
    """One folder per student (an LMS "download all"): each row is named after the student's
    folder and records its source path in the gradebook, results JSON and grades.csv; adding
    `aaa_carla_789/` and re-running into the same --out renames nobody and moves no grade, and a
    roster matches every row by its key."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    correct(perceptron, subs / "ana_perez_123" / "perceptron.ipynb")
    partly_wrong(perceptron, subs / "bruno_silva_456" / "perceptron.ipynb")
    first = run(perceptron, [subs], out)
    assert sorted(first) == ["ana_perez_123", "bruno_silva_456"]
    assert first["ana_perez_123"].total == perceptron.possible
    assert 0 < first["bruno_silva_456"].total < perceptron.possible
    ana_json = json.loads((out / "results" / "ana_perez_123.json").read_text())
    assert ana_json["extra"]["source"] == str(subs / "ana_perez_123")
    with sqlite3.connect(out / DB_NAME) as db:
        stored = dict(db.execute("SELECT submission, source FROM results"))
    assert stored == {"ana_perez_123": str(subs / "ana_perez_123"),
                      "bruno_silva_456": str(subs / "bruno_silva_456")}

    stub(perceptron, subs / "aaa_carla_789" / "perceptron.ipynb")
    second = run(perceptron, [subs], out)
    assert sorted(second) == ["aaa_carla_789", "ana_perez_123", "bruno_silva_456"]
    for key in first:
        assert second[key].total == first[key].total and second[key].sha256 == first[key].sha256
    assert second["aaa_carla_789"].total == 0
    rows = {r["submission"]: r for r in read_csv(out / "grades.csv")}
    assert rows["ana_perez_123"]["source"] == str(subs / "ana_perez_123")
    assert float(rows["ana_perez_123"]["total"]) == perceptron.possible
    assert rows["aaa_carla_789"]["source"] == str(subs / "aaa_carla_789")
    roster = (Student("123", "Ana Perez"), Student("456", "Bruno Silva"),
              Student("789", "Carla Souza"))
    matches = {m.submission: m for m in match_roster(sorted(second), roster)}
    assert {k: (m.status, m.student.id) for k, m in matches.items()} == {
        "aaa_carla_789": ("matched", "789"), "ana_perez_123": ("matched", "123"),
        "bruno_silva_456": ("matched", "456")}


def test_name_mixes_give_one_row_each_and_real_collisions_name_both_paths(perceptron,
                                                                          tmp_path, box):
    """`alice.ipynb`, a folder `alice/` and `alice-2.ipynb` are three submissions with three
    rows and their own grades; the same name under two PATHs (or names equal but for case) is
    an `invalid` row naming every path, never a rename; a second run grades nothing and gives
    the same rows."""
    subs, more, out = tmp_path / "subs", tmp_path / "more", tmp_path / "out"
    correct(perceptron, subs / "alice.ipynb")
    partly_wrong(perceptron, subs / "alice" / "perceptron.ipynb")
    stub(perceptron, subs / "alice-2.ipynb")
    correct(perceptron, subs / "bob.ipynb")
    correct(perceptron, more / "bob.ipynb")
    correct(perceptron, subs / "Carol.ipynb")
    stub(perceptron, more / "carol.ipynb")
    first = run(perceptron, [subs, more], out)
    assert sorted(first) == ["Carol.ipynb", "alice", "alice-2.ipynb", "alice.ipynb",
                             "bob.ipynb", "carol.ipynb"]
    assert first["alice.ipynb"].total == perceptron.possible
    assert 0 < first["alice"].total < perceptron.possible
    assert first["alice-2.ipynb"].total == 0 and first["alice-2.ipynb"].status == "ok"
    for key in ("bob.ipynb", "Carol.ipynb", "carol.ipynb"):
        row = first[key]
        assert (row.status, row.total) == ("invalid", 0), key
        stem = key.lower()
        assert str(subs / ("Carol.ipynb" if stem == "carol.ipynb" else key)) in row.message
        assert str(more / stem) in row.message
    summary = grade_batch(perceptron, [subs, more], out,
                          BatchOptions(jobs=2, timeout=60, quiet=True, reports=False))
    assert (summary.graded, summary.skipped) == (0, 6)
    again = {r.submission: r for r in summary.results}
    assert {k: (r.status, r.total, r.message) for k, r in again.items()} == \
        {k: (r.status, r.total, r.message) for k, r in first.items()}
    assert len(read_csv(out / "grades.csv")) == 6


def test_what_counts_as_a_submission_in_a_folder_of_submissions(perceptron, tmp_path):
    """In a folder of submissions, a sub-folder with two notebooks is one submission refused
    with a message naming both (not silently skipped), a sub-folder without any notebook
    (data, a --out folder) and macOS's __MACOSX are not submissions, and a folder holding
    one notebook and data folders is one submission named after the folder."""
    subs = tmp_path / "subs"
    correct(perceptron, subs / "ana_perez_123" / "perceptron.ipynb")
    correct(perceptron, subs / "dora_000" / "perceptron.ipynb")
    stub(perceptron, subs / "dora_000" / "perceptron-copy.ipynb")
    (subs / "data").mkdir()
    (subs / "data" / "roster.csv").write_text("id\n")
    stub(perceptron, subs / "__MACOSX" / "ana_perez_123" / "perceptron.ipynb")
    for i in range(12):  # more notebooks than a submission folder may hold: all found
        (subs / f"n{i:02d}.ipynb").write_bytes((subs / "dora_000" / "perceptron.ipynb")
                                               .read_bytes())
    found = {s.stem: s for s in collect([subs])}
    assert sorted(found) == ["ana_perez_123", "dora_000"] + [f"n{i:02d}.ipynb"
                                                              for i in range(12)]
    assert found["ana_perez_123"].problem is None
    assert "perceptron-copy.ipynb" in found["dora_000"].problem
    assert "2 notebooks" in found["dora_000"].problem
    one = subs / "ana_perez_123"
    (one / "data").mkdir()
    (one / "data" / "x.csv").write_text("1\n")
    [alone] = collect([one])
    assert alone.stem == "ana_perez_123" and alone.source == str(one)
    assert sorted(p.name for p in alone.files) == ["perceptron.ipynb", "x.csv"]


# -- links ----------------------------------------------------------------------------------

def _reads_ref(perceptron, path: Path) -> Path:
    """A wrong notebook that would take the reference from a linked file if it could."""
    nb = nbformat.read(str(stub(perceptron, path)), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import os\nif os.path.exists('ref.py'):\n    exec(open('ref.py').read())"))
    nbformat.write(nb, str(path))
    return path


def test_links_of_every_kind_are_refused_and_never_read(perceptron, tmp_path, box):
    """A symbolic link anywhere in a submission, or as the submission, makes it `invalid` with
    a message naming the link, nothing of it is read or copied, and the target's content
    appears in no output: an absolute link to a file outside, a relative link into the repo
    (`../../reference/perceptron.py`), a link to a folder, a notebook that is a link, a
    submission folder that is a link. The honest submission beside them is graded."""
    repo = tmp_path / "repo"
    subs, out = repo / "submissions", tmp_path / "out"
    (repo / "reference").mkdir(parents=True)
    (repo / "reference" / "perceptron.py").write_text(
        f"# {SECRET}\n" + perceptron.reference_path.read_text())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (outside / "stolen.ipynb").write_text(SECRET + " not even a notebook")
    correct(perceptron, outside / "folder" / "perceptron.ipynb")

    correct(perceptron, subs / "honest" / "perceptron.ipynb")
    _reads_ref(perceptron, subs / "absolute" / "perceptron.ipynb")
    (subs / "absolute" / "ref.py").symlink_to(outside / "secret.txt")
    _reads_ref(perceptron, subs / "relative" / "perceptron.ipynb")
    (subs / "relative" / "ref.py").symlink_to("../../reference/perceptron.py")
    _reads_ref(perceptron, subs / "folder_link" / "perceptron.ipynb")
    (subs / "folder_link" / "data").symlink_to(outside)
    (subs / "nb_link").mkdir()
    (subs / "nb_link" / "perceptron.ipynb").symlink_to(outside / "stolen.ipynb")
    (subs / "file_link.ipynb").symlink_to(outside / "stolen.ipynb")
    (subs / "whole_link").symlink_to(outside / "folder")

    found = {s.stem: s for s in collect([subs])}
    hostile = {"absolute": "ref.py", "relative": "ref.py", "folder_link": "data",
               "nb_link": "perceptron.ipynb", "file_link.ipynb": "file_link.ipynb",
               "whole_link": "whole_link"}
    for key in hostile:
        assert found[key].problem and found[key].files == (), key
    results = run(perceptron, [subs], out, reports=True)
    assert sorted(results) == sorted([*hostile, "honest"])
    assert results["honest"].total == perceptron.possible
    for key, link in hostile.items():
        row = results[key]
        assert (row.status, row.total) == ("invalid", 0), (key, row.message)
        assert link in row.message and "symbolic link" in row.message, row.message
    assert SECRET.encode() not in everything_written(out)


def test_the_copy_into_the_sandbox_follows_no_link(perceptron, tmp_path):
    """A link swapped in after collection (as the file itself or as a folder on its way) is
    refused by the copy into the sandbox (O_NOFOLLOW on every component, regular files only):
    UnsafeFile, and the target's content is in no copied file."""
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET)
    (outside / "deep" / "secret.txt").write_text(SECRET)
    folder = tmp_path / "sub"
    correct(perceptron, folder / "perceptron.ipynb")
    (folder / "notes").mkdir()
    (folder / "notes" / "secret.txt").write_text("mine")
    (folder / "ref.py").write_text("mine")
    submission = collect([folder])[0]
    assert submission.problem is None and len(submission.files) == 3
    (folder / "ref.py").unlink()
    (folder / "ref.py").symlink_to(outside / "secret.txt")
    with pytest.raises(UnsafeFile, match="ref.py"):
        copy_submission(submission, tmp_path / "work1", None)
    (folder / "ref.py").unlink()
    (folder / "ref.py").write_text("mine")
    (folder / "notes" / "secret.txt").unlink()
    (folder / "notes").rmdir()
    (folder / "notes").symlink_to(outside / "deep")
    with pytest.raises(UnsafeFile, match="notes"):
        copy_submission(submission, tmp_path / "work2", None)
    copied = b"".join(p.read_bytes() for p in tmp_path.glob("work*/**/*") if p.is_file())
    assert SECRET.encode() not in copied


def test_unreadable_notebook_message_quotes_no_content(tmp_path):
    """The message for a file that is not a notebook says what and what to do, and quotes none
    of the file's content."""
    path = tmp_path / "x.ipynb"
    path.write_text(SECRET + " {")
    with pytest.raises(ValueError) as err:
        notebook_cells(path)
    assert "not a readable Jupyter notebook" in str(err.value)
    assert SECRET not in str(err.value) and "TOP" not in str(err.value)


# -- limits ---------------------------------------------------------------------------------

def _sparse(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["truncate", "-s", str(size), str(path)], check=True)
    return path


def test_oversized_submissions_are_invalid_rows_naming_the_limit(perceptron, tmp_path, box):
    """A folder holding a 600 MB sparse file, a notebook over notebook_bytes, a notebook with
    too many cells, too many files, a checkpoint over checkpoint_bytes: each gets an `invalid`
    row naming its limit (checked from sizes before anything is read, so fast), and the honest
    submissions in the same batch are graded."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    limits = SubmissionLimits()
    correct(perceptron, subs / "honest.ipynb")
    correct(perceptron, subs / "honest_folder" / "perceptron.ipynb")
    correct(perceptron, subs / "sparse" / "perceptron.ipynb")
    _sparse(subs / "sparse" / "blob.bin", 600 * 1024 * 1024)
    _sparse(subs / "huge.ipynb", limits.notebook_bytes + 1)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("x") for _ in range(limits.cells + 1)]
    nbformat.write(nb, str(subs / "many_cells.ipynb"))
    correct(perceptron, subs / "many_files" / "perceptron.ipynb")
    for i in range(limits.files):
        (subs / "many_files" / f"f{i}.txt").write_text("x")
    correct(perceptron, subs / "checkpoint" / "perceptron.ipynb")
    _sparse(subs / "checkpoint" / "model.pt", limits.checkpoint_bytes + 1)
    started = time.monotonic()
    results = run(perceptron, [subs], out)
    assert time.monotonic() - started < 60
    expected = {"sparse": "folder_bytes", "huge.ipynb": "notebook_bytes",
                "many_cells.ipynb": "cells", "many_files": "files",
                "checkpoint": "checkpoint_bytes"}
    for key, limit in expected.items():
        assert results[key].status == "invalid", (key, results[key].message)
        assert f"(limit `{limit}`)" in results[key].message, results[key].message
    for key in ("honest.ipynb", "honest_folder"):
        assert results[key].total == perceptron.possible, results[key].message


def test_limits_come_from_assignment_toml(perceptron, tmp_path):
    """[limits] in assignment.toml sets each limit (here cells = 3 refuses an ordinary
    notebook); an unknown or non-positive setting is an authoring error naming the fix."""
    path = correct(perceptron, tmp_path / "a.ipynb")
    assert collect([path], perceptron.limits)[0].problem is None
    strict = _submission_limits(tmp_path, {"cells": 3})
    assert strict == dataclasses.replace(SubmissionLimits(), cells=3)
    assert "(limit `cells`)" in collect([path], strict)[0].problem
    with pytest.raises(SpecError, match="notebook_bytes"):
        _submission_limits(tmp_path, {"notebok_bytes": 10})
    with pytest.raises(SpecError, match=">= 1"):
        _submission_limits(tmp_path, {"files": 0})


# -- a grader killed by a submission --------------------------------------------------------

def _attempts(out: Path, key: str) -> int:
    try:
        with sqlite3.connect(out / DB_NAME, timeout=5) as db:
            row = db.execute("SELECT count FROM attempts WHERE submission=?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return 0
    return row[0] if row else 0


def test_a_submission_that_keeps_killing_the_grader_ends_as_grader_killed(perceptron,
                                                                          tmp_path):
    """The grader process is SIGKILLed while grading the same submission three runs in a row
    (what a poison submission that gets the grader OOM-killed does): the fourth run records it
    as `grader-killed` with 0 points and a message saying so, grades the others and publishes
    grades.csv."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    poison = subs / "a_poison.ipynb"
    nb = nbformat.read(str(correct(perceptron, poison)), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(120)"))
    nbformat.write(nb, str(poison))
    correct(perceptron, subs / "b_honest.ipynb")
    stub(perceptron, subs / "c_blank.ipynb")
    cmd = grade_cmd(subs, out, "--jobs", "1")
    for attempt in (1, 2, 3):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while _attempts(out, "a_poison.ipynb") < attempt and time.monotonic() < deadline:
            assert proc.poll() is None, "the batch ended instead of grading the poison"
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _attempts(out, "a_poison.ipynb") == attempt
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = {r["submission"]: r for r in read_csv(out / "grades.csv")}
    assert rows["a_poison.ipynb"]["status"] == "grader-killed"
    assert float(rows["a_poison.ipynb"]["total"]) == 0
    assert "killed 3 times" in rows["a_poison.ipynb"]["message"]
    assert float(rows["b_honest.ipynb"]["total"]) == perceptron.possible
    assert rows["c_blank.ipynb"]["status"] == "ok"
    assert _attempts(out, "a_poison.ipynb") == 0


# -- the self-check --------------------------------------------------------------------------

def test_a_sandbox_that_cannot_run_the_interpreter_stops_the_batch_before_grading(
        perceptron, tmp_path, box, pool, monkeypatch, capsys):
    """With the grading interpreter in a folder the sandbox uid cannot enter (a private 0700
    folder, after the sandbox was chosen), the batch refuses before grading anyone: exit 2 and
    a message naming the cause, no row, no grades.csv. --skip-self-check grades anyway."""
    private = tmp_path / "private"
    (private / "venv" / "bin").mkdir(parents=True)
    os.chmod(private, 0o700)
    hidden = private / "venv" / "bin" / "python"
    hidden.symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(hidden))
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs = correct(perceptron, subs / "alice.ipynb")
    with pytest.raises(SelfCheckFailed) as err:
        run(perceptron, [subs], out)
    message = str(err.value)
    assert "the sandbox cannot run the grading interpreter" in message, message
    assert "reference solution got 0/10" in message
    assert not (out / "grades.csv").exists()
    with sqlite3.connect(out / DB_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
    code = cli.main(["grade", "--assignment", "perceptron", str(subs), "--out", str(out),
                     "--jobs", "1", "--timeout", "60"])
    assert code == 2
    assert "the sandbox cannot run the grading interpreter" in capsys.readouterr().err
    graded = run(perceptron, [subs], out, self_check=False)
    assert graded["alice.ipynb"].status != "ok"


def test_self_check_runs_once_per_grader_and_catches_a_stub_with_points(perceptron, tmp_path,
                                                                        box, monkeypatch):
    """A passed self-check is recorded in the out folder and not run again there (not even
    by a new process); an empty batch does not run it; a "stub" that gets points stops the
    batch naming the untouched notebook."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs = correct(perceptron, subs / "alice.ipynb")
    monkeypatch.setattr(selfcheck, "_passed", set())
    run(perceptron, [subs], out)
    assert json.loads((out / selfcheck.CACHE_NAME).read_text())["passed"]["version"]

    def must_not_run(*args):
        raise AssertionError("the self-check ran again")
    monkeypatch.setattr(selfcheck, "_passed", set())  # as in a new process
    monkeypatch.setattr(selfcheck, "_write_pair", must_not_run)
    assert run(perceptron, [subs], out, force=True)["alice.ipynb"].total == perceptron.possible
    (out / selfcheck.CACHE_NAME).unlink()
    monkeypatch.setattr(selfcheck, "_passed", set())
    assert run(perceptron, [subs], out)["alice.ipynb"].total == perceptron.possible  # no check

    def reference_twice(assignment, folder, lang):
        ref = correct(assignment, folder / "reference.ipynb")
        return ref, correct(assignment, folder / "stub.ipynb")
    monkeypatch.setattr(selfcheck, "_write_pair", reference_twice)
    with pytest.raises(SelfCheckFailed, match="untouched student notebook got 10/10"):
        run(perceptron, [subs], tmp_path / "elsewhere")
