"""LMS exports: Canvas and Moodle CSVs, Gradescope results.json, roster matching."""

import csv
import io
import json

import pytest

from autograder.batch import BatchOptions, grade_batch
from autograder.exports import (RosterError, Student, match_roster, parse_formats,
                                read_roster, write_exports)
from classroom import cli, read_csv, write_class

NAMES = ["hw1_jdoe", "12345-perceptron", "Ana.Silva_final", "bob", "jdoe_resubmit",
         "x_jane.doe_y", "nobody-here"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, perceptron):
    """A graded class whose file names identify students in different ways."""
    base = tmp_path_factory.mktemp("exports")
    write_class(perceptron, base / "subs", len(NAMES), names=NAMES)
    out = base / "out"
    summary = grade_batch(perceptron, [base / "subs"], out,
                          BatchOptions(jobs=2, timeout=60, quiet=True, reports=False))
    return out, {r.submission: r for r in summary.results}


ROSTER = """Student ID,Name,Email
12345,Carla Gómez,carla@uni.edu
S-77,John Doe,jdoe@uni.edu
S-78,Ana Silva,ana.silva@uni.edu
S-79,Jane Doe,jane.doe@uni.edu
S-80,Doe Senior,doe@uni.edu
S-81,Absent Student,absent@uni.edu
"""


def _roster(tmp_path, text=ROSTER):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_roster_matching_rule(tmp_path):
    """Do ids and e-mail local parts match as whole tokens, does the longer key win over one
    inside it, and are ambiguous, duplicate, unmatched and absent students all reported?"""
    roster = read_roster(_roster(tmp_path))
    by = {m.submission: m for m in match_roster(NAMES, roster) if m.submission}
    assert by["12345-perceptron"].student.id == "12345"
    assert by["Ana.Silva_final"].student.id == "S-78"        # case-insensitive local part
    assert by["x_jane.doe_y"].student.id == "S-79", "jane.doe beats the 'doe' inside it"
    assert by["hw1_jdoe"].status == by["jdoe_resubmit"].status == "duplicate"
    assert "jdoe_resubmit" in by["hw1_jdoe"].detail
    assert by["bob"].status == by["nobody-here"].status == "unmatched"
    absent = [m.student.id for m in match_roster(NAMES, roster) if m.status == "no-submission"]
    assert absent == ["S-80", "S-81"]
    assert match_roster(["doe_and_carla"], roster + (Student("carla", "C2", ""),))[0].status \
        == "ambiguous"
    assert match_roster(["123456"], roster)[0].status == "unmatched", "ids match whole tokens"


@pytest.mark.parametrize("text, needle", [
    ("Name,Email\nA,a@x\n", "no student id column"),
    ("id,name\n1,A\n1,B\n", "line 3: student id '1' already appears on line 2"),
    ("id,name\n,A\n", "line 2: the student id is empty"),
    ("", "empty"),
])
def test_bad_rosters_say_what_and_where(tmp_path, text, needle):
    """Is a malformed roster refused with the line or column at fault?"""
    with pytest.raises(RosterError, match=needle):
        read_roster(_roster(tmp_path, text))


def test_canvas_and_moodle_with_roster(graded, perceptron, tmp_path):
    """Do the Canvas and Moodle files have the columns their importers expect, only matched
    students, and does roster-match.csv list every unexported submission?"""
    out, results = graded
    outcome = write_exports(list(results.values()), perceptron, tmp_path / "exports",
                            ("canvas", "moodle"), read_roster(_roster(tmp_path)))
    canvas = list(csv.reader(io.StringIO((tmp_path / "exports" / "canvas.csv").read_text())))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                         perceptron.title["en"]]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][-1] == "10"
    body = {row[2]: row for row in canvas[2:]}
    assert set(body) == {"12345", "S-78", "S-79"}
    assert body["12345"] == ["Carla Gómez", "", "12345", "carla@uni.edu", "",
                             f"{results['12345-perceptron.ipynb'].total:g}"]
    moodle = read_csv(tmp_path / "exports" / "moodle.csv")
    assert list(moodle[0]) == ["ID number", "Email address", "Full name",
                               perceptron.title["en"], "Feedback"]
    assert {r["ID number"] for r in moodle} == {"12345", "S-78", "S-79"}
    assert all("q1 " in r["Feedback"] for r in moodle)
    report = {r["submission"]: r["status"] for r in read_csv(tmp_path / "exports" /
                                                             "roster-match.csv")}
    assert {k for k, v in report.items() if v in ("unmatched", "duplicate")} == \
        {"bob.ipynb", "nobody-here.ipynb", "hw1_jdoe.ipynb", "jdoe_resubmit.ipynb"}
    notes = "\n".join(outcome.notes())
    assert "4 submission(s) are NOT in the LMS files" in notes
    assert "bob.ipynb: unmatched" in notes


def test_without_roster_students_are_file_names(graded, perceptron, tmp_path):
    """Without a roster, is every submission exported under its file name?"""
    _, results = graded
    write_exports(list(results.values()), perceptron, tmp_path, ("canvas", "moodle"), None)
    canvas = list(csv.reader(io.StringIO((tmp_path / "canvas.csv").read_text())))
    files = sorted(f"{name}.ipynb" for name in NAMES)
    assert sorted(row[0] for row in canvas[2:]) == files
    assert all(row[0] == row[3] for row in canvas[2:])  # name also the SIS Login ID
    assert sorted(r["Username"] for r in read_csv(tmp_path / "moodle.csv")) == files


def test_gradescope_results_format(graded, perceptron, tmp_path):
    """Is each results.json in Gradescope's format: tests with name/score/max_score/output/
    visibility that add up to the score, hidden checks not visible before publishing?"""
    _, results = graded
    write_exports(list(results.values()), perceptron, tmp_path, ("gradescope",), None)
    for name, result in results.items():
        data = json.loads((tmp_path / "gradescope" / name / "results.json").read_text())
        assert data["score"] == result.total
        assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(result.possible)
        if result.status == "ok":
            assert sum(t["score"] for t in data["tests"]) == pytest.approx(result.total)
        for test in data["tests"]:
            assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
            assert test["visibility"] in ("visible", "after_published")
        assert data["stdout_visibility"] == "hidden"
    partly = json.loads((tmp_path / "gradescope" / "12345-perceptron.ipynb" /
                         "results.json").read_text())
    hidden = [t for t in partly["tests"] if t["name"].endswith("(hidden)")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)


def test_format_names_are_checked():
    """Are export formats parsed from a comma list and an unknown one refused with a hint?"""
    assert parse_formats("canvas, Moodle,canvas") == ("canvas", "moodle")
    with pytest.raises(ValueError, match="Did you mean 'canvas'"):
        parse_formats("canvass")


def test_cli_grade_export_and_export_command(graded, tmp_path):
    """Does `grade --export --roster` write the exports, and `export --out --format` rewrite
    them from an existing gradebook; are bad formats and rosters usage errors (exit 2)?"""
    out, _ = graded
    roster = _roster(tmp_path)
    proc = cli("export", "--out", out, "--format", "canvas,gradescope", "--roster", roster)
    assert proc.returncode == 0, proc.stderr
    assert (out / "exports" / "canvas.csv").exists()
    assert (out / "exports" / "gradescope" / "bob.ipynb" / "results.json").exists()
    assert "bob.ipynb: unmatched" in proc.stdout
    proc = cli("export", "--out", out, "--format", "blackboard")
    assert proc.returncode == 2 and "Known: canvas, moodle, gradescope" in proc.stderr
    proc = cli("export", "--out", out, "--format", "canvas", "--roster", tmp_path / "nope.csv")
    assert proc.returncode == 2 and "nope.csv" in proc.stderr
    subs = out.parent / "subs"
    proc = cli("grade", "--assignment", "perceptron", subs, "--out", tmp_path / "g",
               "--jobs", "2", "--export", "moodle", "--roster", roster)
    assert proc.returncode == 0, proc.stderr
    assert {r["ID number"] for r in read_csv(tmp_path / "g" / "exports" / "moodle.csv")} == \
        {"12345", "S-78", "S-79"}
    assert "NOT in the LMS files" in proc.stderr
