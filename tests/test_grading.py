"""End-to-end grading of perceptron submissions through the real pipeline and sandbox."""

import csv
import inspect
import json
import subprocess
import sys
import textwrap

import pytest

from neurograde.batch import BatchOptions, grade_batch
from conftest import notebook_with, read_results


def _ref_source(perceptron, *names):
    module = perceptron.reference
    return "\n\n".join(inspect.getsource(getattr(module, n)) for n in names)


ALL = ("predict", "accuracy", "better_model", "train_perceptron")


@pytest.fixture
def grade(tmp_path, perceptron, box):
    def run(named_cells: dict[str, list[str]], timeout=30, **options):
        paths = [notebook_with(cells, tmp_path / "subs" / f"{name}.ipynb")
                 for name, cells in named_cells.items()]
        out = tmp_path / "out"
        summary = grade_batch(perceptron, paths, out,
                              BatchOptions(jobs=2, timeout=timeout, quiet=True, force=True,
                                           **options))
        # Keys are the file names (collect.py); the tests name submissions without ".ipynb".
        return {r.submission.removesuffix(".ipynb"): r for r in summary.results}, out
    return run


def _scores(result):
    return {q.id: q.score for q in result.questions}


def _feedback(result, qid):
    return "\n".join(next(q for q in result.questions if q.id == qid).feedback)


def test_reference_full_marks_and_layout_does_not_matter(grade, perceptron):
    """Are the reference functions worth full marks in one cell, in separate cells, reversed?"""
    setup = "import numpy as np"
    one_cell = [setup + "\n\n" + _ref_source(perceptron, *ALL)]
    separate = [setup] + [_ref_source(perceptron, n) for n in ALL]
    reversed_cells = [setup] + [_ref_source(perceptron, n) for n in reversed(ALL)]
    results, out = grade({"one": one_cell, "separate": separate, "reversed": reversed_cells})
    for name in ("one", "separate", "reversed"):
        assert results[name].total == perceptron.possible == 10, results[name].message
        assert results[name].status == "ok"


def test_missing_name_exception_and_shape_messages(grade, perceptron):
    """Does feedback name a missing function, an exception with the student's line, a shape?"""
    cells = [
        "import numpy as np",
        # q1: wrong shape (column vector)
        "def predict(X, w, b):\n    return np.where(X @ w + b >= 0, 1, -1)[:, None]",
        # q2: raises on the student's own line
        "def accuracy(y_true, y_pred):\n    total = len(y_true)\n    return 1 / (total - total)",
        # q4: NaN weights
        _ref_source(perceptron, "train_perceptron").replace(
            "return w, b, mistakes", "return w * np.nan, b, mistakes"),
    ]
    results, _ = grade({"student": cells})
    r = results["student"]
    scores = _scores(r)
    assert scores == {"q1": 0, "q2": 0, "q3": 0, "q4": 0}
    assert "shape (8, 1), expected shape (8,)" in _feedback(r, "q1")
    fb2 = _feedback(r, "q2")
    assert "ZeroDivisionError: division by zero" in fb2
    assert "cell 3, line 3: return 1 / (total - total)" in fb2
    assert "better_model is not defined" in _feedback(r, "q3")
    assert "contains NaN" in _feedback(r, "q4")


def test_failure_message_gives_error_and_tolerance_not_expected_value(grade, perceptron):
    """Does a numeric failure state the measured error and the tolerance rule only?"""
    wrong = _ref_source(perceptron, "train_perceptron").replace(
        "return w, b, mistakes", "return w + 0.001, b, mistakes")
    results, _ = grade({"s": ["import numpy as np", wrong]})
    fb = _feedback(results["s"], "q4")
    assert "largest error 0.001" in fb
    assert "|actual - expected| <= 1e-09 + 1e-09*|expected|" in fb
    assert "expected value" not in fb.lower()


@pytest.mark.parametrize("attack, status", [
    ("while True:\n    pass", "timeout"),
    ("import os\nos._exit(0)", "crashed"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "crashed"),
    ("blocks = []\nwhile True:\n    blocks.append(bytearray(256 * 1024 * 1024))", "oom"),
])
def test_process_failures_keep_what_ran_and_the_batch_goes_on(grade, perceptron, attack,
                                                              status):
    """Do a hang, os._exit, a segfault and memory exhaustion give a status, keep the checks
    that already ran, and leave the other submissions of the batch untouched?"""
    good = ["import numpy as np", _ref_source(perceptron, *ALL)]
    # The attack runs when the probe for q3 calls better_model, after q1/q2 reported.
    hostile = ["import numpy as np", _ref_source(perceptron, "predict", "accuracy"),
               "def better_model(X, y, models):\n" + textwrap.indent(attack, "    ")]
    results, out = grade({"good": good, "hostile": hostile}, timeout=20)
    assert results["good"].total == 10
    bad = results["hostile"]
    assert bad.status == status, (bad.status, bad.message)
    assert _scores(bad)["q1"] == 2 and _scores(bad)["q2"] == 2
    assert _scores(bad)["q3"] == 0 and _scores(bad)["q4"] == 0
    assert "not run" in _feedback(bad, "q4")
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert {r["submission"] for r in rows} == {"good.ipynb", "hostile.ipynb"}


def test_cheating_gains_nothing(grade, perceptron, tmp_path):
    """Monkeypatching numpy/builtins, printing a fake score and writing fake result files
    cannot raise the score of wrong answers: judging happens in the parent."""
    cheat = textwrap.dedent(f"""
        import builtins, json, os
        import numpy as np
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        builtins.abs = lambda x: 0
        print("Total Score: 10.000 / 10.000 (100.000%)")
        for target in ("results.json", "/work/results.json", "{tmp_path}/out/grades.csv",
                       "{tmp_path}/out/results/cheat.ipynb.json"):
            try:
                with open(target, "w") as fh:
                    json.dump({{"score": 10, "tests": []}}, fh)
            except OSError:
                pass
        def predict(X, w, b):
            return np.ones(len(X))
        def accuracy(y_true, y_pred):
            return 1.0
        def better_model(X, y, models):
            return "tie"
        def train_perceptron(X, y, epochs, lr=1.0):
            return np.zeros(np.shape(X)[1]), 0.0, [0] * epochs
    """)
    results, out = grade({"cheat": [cheat]})
    r = results["cheat"]
    # Only what these constant answers really get right may score.
    assert _scores(r)["q1"] == 0 and _scores(r)["q4"] == 0
    assert r.total < 3
    saved = json.loads((out / "results" / "cheat.ipynb.json").read_text())
    assert saved["total"] == r.total and saved["status"] == "ok"


def test_broken_notebook_gets_a_row(tmp_path, perceptron, box):
    """Is a file that is not a notebook graded 0 with a clear message instead of crashing?"""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "garbage.ipynb").write_text("{ this is not json")
    notebook_with(["import numpy as np", _ref_source(perceptron, *ALL)], subs / "fine.ipynb")
    summary = grade_batch(perceptron, [subs], tmp_path / "out", BatchOptions(quiet=True))
    by = {r.submission: r for r in summary.results}
    assert by["garbage.ipynb"].status == "invalid" and by["garbage.ipynb"].total == 0
    assert "not a readable Jupyter notebook" in by["garbage.ipynb"].message
    assert by["fine.ipynb"].total == 10


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "neurograde", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def test_cli_grade_contract(tmp_path, perceptron):
    """Does `neurograde grade` write grades.csv with the contract columns and results JSON?"""
    sub = notebook_with(["import numpy as np", _ref_source(perceptron, *ALL)],
                        tmp_path / "alice.ipynb")
    proc = _cli("grade", "--assignment", "perceptron", sub, "--out", tmp_path / "out",
                "--jobs", "1", "--timeout", "60")
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "out" / "grades.csv") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["submission", "assignment", "q1", "q2", "q3", "q4", "total",
                                 "possible", "status", "message", "source"]
    assert rows[0]["submission"] == "alice.ipynb" and rows[0]["total"] == "10"
    assert rows[0]["source"] == str(sub)
    result = read_results(tmp_path / "out", "alice.ipynb")
    assert result["extra"]["source"] == str(sub)
    q = {x["id"]: x for x in result["questions"]}
    assert set(q) == {"q1", "q2", "q3", "q4"}
    assert all({"score", "possible", "status", "feedback"} <= set(v) for v in q.values())


def test_cli_usage_errors(tmp_path):
    """Do an unknown assignment (listing the known ones) and a missing path exit with 2?"""
    proc = _cli("grade", "--assignment", "perceptrn", tmp_path, "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "Did you mean 'perceptron'" in proc.stderr and "Known:" in proc.stderr
    proc = _cli("grade", "--assignment", "perceptron", tmp_path / "nope", "--out", tmp_path)
    assert proc.returncode == 2 and "no such file" in proc.stderr
    proc = _cli("release", "--out", tmp_path)
    assert proc.returncode == 2
    proc = _cli("frobnicate")
    assert proc.returncode == 2


def test_cli_list_names_what_each_question_asks_for():
    """`neurograde list` shows each question with the functions it defines or, for one that
    defines none (the autoencoder's q7, a checkpoint to submit), its heading: none is blank."""
    proc = _cli("list")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 3) for line in proc.stdout.splitlines() if line.startswith("    q")]
    assert len(rows) > 8 and all(len(row) == 4 and row[3].strip() for row in rows), rows
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("autoencoder "))
    q7 = next(line for line in lines[start:] if line.startswith("    q7"))
    assert "(no function: " in q7 and "checkpoint" in q7, q7


def test_hidden_feedback_never_echoes_submission_text(grade, perceptron):
    """Can a submission smuggle hidden inputs into its feedback through an exception message
    or a returned string? Public checks keep the details; hidden checks drop them."""
    leaky = textwrap.dedent("""
        import numpy as np
        def predict(X, w, b):
            raise ValueError("LE" + "AK" + repr(np.asarray(X).tolist()))
        def better_model(X, y, models):
            return "LE" + "AK" + repr(np.asarray(X).tolist())
    """)
    results, _ = grade({"leaky": [leaky]})
    r = results["leaky"]
    for check in r.checks:
        text = "\n".join(check.feedback)
        if check.hidden:
            assert "LEAK" not in text, text
        elif check.question in ("q1", "q3"):
            assert "LEAK" in text  # public inputs are printed in the notebook anyway
    assert any("raised ValueError" in f for c in r.checks if c.hidden for f in c.feedback)


def test_cli_data_option_is_checked(tmp_path):
    """Does --data pointing at a folder without CIFAR-10 fail cleanly (exit 1, no traceback)
    with a message saying where the data was looked for?"""
    proc = _cli("grade", "--assignment", "perceptron", tmp_path, "--out", tmp_path / "o",
                "--data", tmp_path / "nodata")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "cifar" in proc.stderr.lower()
