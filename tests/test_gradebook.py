"""The gradebook loses nothing: kill-and-resume, skip-unchanged, --force and reproducibility."""

import dataclasses
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.grader import autograder_version
from neurograde.gradebook import DB_NAME, Gradebook, GradebookError, Row, merge
from neurograde.judge import SubmissionResult
from classroom import cli, grade_cmd, read_csv, write_class

COUNT = 30


@pytest.fixture(scope="module")
def klass(tmp_path_factory, perceptron):
    folder = tmp_path_factory.mktemp("class") / "subs"
    write_class(perceptron, folder, COUNT)
    return folder


@pytest.fixture(scope="module")
def reference_rows(klass, tmp_path_factory):
    """grades.csv of one uninterrupted run."""
    out = tmp_path_factory.mktemp("reference")
    proc = subprocess.run(grade_cmd(klass, out), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return read_csv(out / "grades.csv")


def _committed(out) -> int:
    path = out / DB_NAME
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def _kill_after(cmd, out, rows: int, extra_delay: float) -> tuple[int, int]:
    """Start cmd, SIGKILL it once `rows` rows are committed (+ a delay); (returncode, rows)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while proc.poll() is None and _committed(out) < rows and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(extra_delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.returncode, _committed(out)


def test_sigkill_at_random_moments_then_rerun_equals_uninterrupted_run(klass, reference_rows,
                                                                      tmp_path):
    """Is a batch killed with SIGKILL (several times, at random moments) finished by re-running
    the same command, with a grades.csv equal row for row to an uninterrupted run's?"""
    assert len(reference_rows) == COUNT
    rng = random.Random(20261123)
    out = tmp_path / "out"
    cmd = grade_cmd(klass, out)
    kills, seen = 0, 0
    for _ in range(3):
        target = min(COUNT - 1, seen + rng.randint(1, 8))
        code, rows = _kill_after(cmd, out, target, rng.uniform(0, 0.05))
        assert rows >= seen, "a re-run must never lose rows that were committed"
        if code == -signal.SIGKILL:
            kills += 1
        seen = rows
        if rows == COUNT:
            break
    assert kills >= 1 and 0 < seen, "the batch was never killed mid-run"
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert f"{COUNT - seen} graded, {seen} unchanged" in proc.stdout
    assert read_csv(out / "grades.csv") == reference_rows
    assert sorted(p.stem for p in (out / "results").glob("*.json")) == \
        sorted(r["submission"] for r in reference_rows)
    assert not list(out.rglob("*.tmp")), "no half-written export may survive a re-run"


def test_kill_during_publishing_then_rerun(klass, reference_rows, tmp_path):
    """Killed after every row is committed (while writing grades.csv and reports), does a
    re-run grade nothing and still write the full, correct grades.csv?"""
    out = tmp_path / "out"
    cmd = grade_cmd(klass, out)
    _kill_after(cmd, out, COUNT, 0.0)
    assert _committed(out) == COUNT
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert f"0 graded, {COUNT} unchanged" in proc.stdout
    assert read_csv(out / "grades.csv") == reference_rows


def _scores(summary):
    return [(r.submission, r.status, r.total, tuple((q.id, q.score) for q in r.questions),
             r.message) for r in summary.results]


def test_skip_unchanged_force_regrades_and_runs_are_identical(klass, perceptron, tmp_path):
    """Does a second run skip unchanged submissions, regrade a changed one, regrade all with
    force, and give identical scores every time?"""
    out = tmp_path / "out"
    first = grade_batch(perceptron, [klass], out, BatchOptions(jobs=2, timeout=60, quiet=True,
                                                               reports=False))
    assert (first.graded, first.skipped) == (COUNT, 0)
    again = grade_batch(perceptron, [klass], out, BatchOptions(jobs=2, timeout=60, quiet=True,
                                                               reports=False))
    assert (again.graded, again.skipped) == (0, COUNT)
    assert _scores(again) == _scores(first)
    forced = grade_batch(perceptron, [klass], out, BatchOptions(jobs=2, timeout=60, quiet=True,
                                                                force=True, reports=False))
    assert (forced.graded, forced.skipped) == (COUNT, 0)
    assert _scores(forced) == _scores(first)

    changed = tmp_path / "changed"
    write_class(perceptron, changed, 3)
    base = grade_batch(perceptron, [changed], tmp_path / "o2",
                       BatchOptions(jobs=2, timeout=60, quiet=True, reports=False))
    assert base.graded == 3
    (changed / "s01.ipynb").write_text((changed / "s00.ipynb").read_text())  # now correct
    after = grade_batch(perceptron, [changed], tmp_path / "o2",
                        BatchOptions(jobs=2, timeout=60, quiet=True, reports=False))
    assert (after.graded, after.skipped) == (1, 2)
    assert {r.submission: r.total for r in after.results}["s01.ipynb"] == 10


def test_version_covers_grading_code_but_not_presentation(perceptron):
    """Does the autograder version depend on the seed, and ignore report/export modules?"""
    import neurograde.grader as batch
    assert autograder_version(perceptron, 1) != autograder_version(perceptron, 2)
    for name in ("report.py", "exports.py", "gradebook.py", "cli.py", "progress.py"):
        assert name in batch.NOT_GRADING_CODE
    for name in ("judge.py", "execute.py", "checklib.py", "grader.py", "inside", "sandbox"):
        assert name not in batch.NOT_GRADING_CODE
    assert "similarity" in batch.NOT_GRADING_CODE


def _fake_result(name, status="ok", total=5.0, sha="a" * 64):
    return SubmissionResult(name, "perceptron", "1", sha, status, "", total, 10.0, (), ())


def test_internal_errors_are_retried(tmp_path):
    """Is a row whose status is internal-error (a grader failure) graded again by a re-run?"""
    book = Gradebook(tmp_path)
    book.record(_fake_result("x", status="internal-error", total=0), "v1")
    book.record(_fake_result("y"), "v1")
    assert not book.done("perceptron", "x", "a" * 64, "v1")
    assert book.done("perceptron", "y", "a" * 64, "v1")
    assert not book.done("perceptron", "y", "b" * 64, "v1")   # content changed
    assert not book.done("perceptron", "y", "a" * 64, "v2")   # grader changed
    book.close()


def test_merge_conflicts_are_named_or_resolved_by_newest(tmp_path):
    """Does merging two gradebooks that graded one submission differently stop with a message
    naming it (and both folders), and keep the newer row with prefer_newest?"""
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, sha, total, when in ((a, "1" * 64, 4.0, 100.0), (b, "2" * 64, 9.0, 200.0)):
        book = Gradebook(folder)
        result = _fake_result("alice", total=total, sha=sha)
        book.put(Row("perceptron", "alice", sha, "v1", "ok", total, 10.0,
                     json.dumps(result.to_dict()), when))
        book.record(_fake_result(f"only-{folder.name}"), "v1")
        book.close()
    with pytest.raises(GradebookError) as err:
        merge([a, b], tmp_path / "m")
    message = str(err.value)
    assert "perceptron/alice" in message and str(a) in message and str(b) in message
    assert "--prefer-newest" in message
    assert Gradebook(tmp_path / "m").count() == 0, "a refused merge writes nothing"
    rows = merge([a, b], tmp_path / "m2", prefer_newest=True)
    assert {r.submission: r.total for r in rows} == {"alice": 9.0, "only-a": 5.0, "only-b": 5.0}
    again = merge([a, a, tmp_path / "m2"], tmp_path / "m2", prefer_newest=True)
    assert len(again) == 3, "merging the same rows again is idempotent"


def test_merge_refuses_a_folder_without_gradebook(tmp_path):
    """Is a shard folder without gradebook.sqlite an error that says what to pass instead?"""
    (tmp_path / "empty").mkdir()
    proc = cli("merge", tmp_path / "empty", "--out", tmp_path / "m")
    assert proc.returncode == 1
    assert "no gradebook.sqlite" in proc.stderr and "--out folder" in proc.stderr


def test_old_gradebooks_get_the_source_column(tmp_path):
    """Is a gradebook written before rows had a source path opened as is (old rows kept, with
    an empty source) and then stores the source of new rows?"""
    old = _fake_result("alice")
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("""CREATE TABLE results (
            assignment TEXT NOT NULL, submission TEXT NOT NULL, sha256 TEXT NOT NULL,
            autograder_version TEXT NOT NULL, status TEXT NOT NULL, total REAL NOT NULL,
            possible REAL NOT NULL, result_json TEXT NOT NULL, graded_at REAL NOT NULL,
            PRIMARY KEY (assignment, submission))""")
        db.execute("INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?)",
                   ("perceptron", "alice", "a" * 64, "v1", "ok", 5.0, 10.0,
                    json.dumps(old.to_dict()), 1.0))
    book = Gradebook(tmp_path)
    assert book.done("perceptron", "alice", "a" * 64, "v1")
    new = _fake_result("bob")
    book.record(dataclasses.replace(new, extra={"source": "subs/bob"}), "v1")
    assert {r.submission: r.source for r in book.rows()} == {"alice": "", "bob": "subs/bob"}
    book.close()
    again = Gradebook(tmp_path)  # opening a migrated book again changes nothing
    assert again.count() == 2
    again.close()


def test_attempts_count_unfinished_gradings_of_the_same_content(tmp_path):
    """Does each started grading count (committed at once, seen by another connection), does
    a recorded row (internal-error included) end the count, and do other content or another
    grader count from zero?"""
    book = Gradebook(tmp_path)
    assert book.start_attempt("perceptron", "x", "a" * 64, "v1") == 1
    assert book.start_attempt("perceptron", "x", "a" * 64, "v1") == 2
    other = Gradebook(tmp_path)
    assert other.unfinished_attempts("perceptron", "x", "a" * 64, "v1") == 2
    assert other.unfinished_attempts("perceptron", "x", "b" * 64, "v1") == 0
    assert other.unfinished_attempts("perceptron", "x", "a" * 64, "v2") == 0
    other.close()
    assert book.start_attempt("perceptron", "x", "b" * 64, "v1") == 1  # changed content
    book.record(_fake_result("x", status="internal-error", total=0, sha="b" * 64), "v1")
    assert book.unfinished_attempts("perceptron", "x", "b" * 64, "v1") == 0
    assert not book.done("perceptron", "x", "b" * 64, "v1"), "internal errors stay retried"
    book.start_attempt("perceptron", "y", "a" * 64, "v1")
    book.forget_attempts("perceptron", ["y"])
    assert book.unfinished_attempts("perceptron", "y", "a" * 64, "v1") == 0
    book.close()


def test_result_to_dict_is_what_asdict_gives_and_round_trips(klass, perceptron, tmp_path):
    """SubmissionResult.to_dict (written without dataclasses.asdict's deep copy) serializes
    to the same JSON as asdict, for results with questions, checks, named mistakes, cell
    errors, messages and extras, and reads back to an equal result."""
    summary = grade_batch(perceptron, [klass], tmp_path / "out",
                          BatchOptions(jobs=2, timeout=30, quiet=True))
    assert any(c.mistake for r in summary.results for c in r.checks)
    assert any(r.cell_errors for r in summary.results)
    for result in summary.results:
        fast = result.to_dict()
        assert json.dumps(fast, sort_keys=True) == json.dumps(
            {**dataclasses.asdict(result), "schema": fast["schema"]}, sort_keys=True)
        assert SubmissionResult.from_dict(json.loads(json.dumps(fast))) == result


def test_results_read_back_share_their_repeated_words(klass, perceptron, tmp_path):
    """Reading a class's results back (publishing holds them all at once) gives equal results
    whose repeated texts are one object, not one copy per submission."""
    summary = grade_batch(perceptron, [klass], tmp_path / "out",
                          BatchOptions(jobs=2, timeout=30, quiet=True))
    book = Gradebook(tmp_path / "out")
    try:
        read = {r.submission: r for r in book.results(perceptron.slug)}
    finally:
        book.close()
    assert read == {r.submission: r for r in summary.results}
    first, second = list(read.values())[:2]
    assert first.checks[0].name == second.checks[0].name
    assert first.checks[0].name is second.checks[0].name
    assert first.version is second.version
