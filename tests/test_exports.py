"""LMS exports: Canvas and Moodle CSVs, roster matching; Gradescope is refused with the route
that works (the otter zip); grader faults never reach an LMS as a grade."""

import csv
import dataclasses
import io

import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.exports import (RosterError, Student, match_roster, parse_formats,
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


def test_without_roster_canvas_uses_file_names_and_moodle_is_refused(graded, perceptron,
                                                                     tmp_path):
    """Without a roster, is every submission exported to Canvas under its file name, and is
    Moodle refused (it aborts a whole import at the first unknown user) with the reason,
    writing no file?"""
    _, results = graded
    write_exports(list(results.values()), perceptron, tmp_path, ("canvas",), None)
    canvas = list(csv.reader(io.StringIO((tmp_path / "canvas.csv").read_text())))
    files = sorted(f"{name}.ipynb" for name in NAMES)
    assert sorted(row[0] for row in canvas[2:]) == files
    assert all(row[0] == row[3] for row in canvas[2:])  # name also the SIS Login ID
    with pytest.raises(RosterError, match="moodle needs --roster"):
        write_exports(list(results.values()), perceptron, tmp_path / "m", ("moodle",), None)
    assert not (tmp_path / "m" / "moodle.csv").exists()


def test_grader_faults_are_left_out_of_lms_files(graded, perceptron, tmp_path):
    """A row whose status is a grader fault (internal-error, variant-mismatch) is not exported
    as a grade (blank in the LMS, never a 0) and is listed in roster-match.csv as not-graded,
    with the other rows exported as usual."""
    _, results = graded
    rows = list(results.values())
    faulty = {"bob.ipynb": "internal-error", "12345-perceptron.ipynb": "variant-mismatch"}
    rows = [dataclasses.replace(r, status=faulty[r.submission], total=0.0)
            if r.submission in faulty else r for r in rows]
    outcome = write_exports(rows, perceptron, tmp_path, ("canvas", "moodle"),
                            read_roster(_roster(tmp_path)))
    canvas = list(csv.reader(io.StringIO((tmp_path / "canvas.csv").read_text())))
    assert "12345" not in {row[2] for row in canvas[2:]}
    assert "12345" not in {r["ID number"] for r in read_csv(tmp_path / "moodle.csv")}
    assert {"S-78", "S-79"} <= {row[2] for row in canvas[2:]}
    match = {r["submission"]: r for r in read_csv(tmp_path / "roster-match.csv")}
    assert match["12345-perceptron.ipynb"]["status"] == "not-graded"
    assert "variant-mismatch" in match["12345-perceptron.ipynb"]["detail"]
    by_name = write_exports(rows, perceptron, tmp_path / "c", ("canvas",), None)
    names = {row[0] for row in csv.reader(io.StringIO((tmp_path / "c" / "canvas.csv")
                                                       .read_text()))}
    assert "bob.ipynb" not in names and "hw1_jdoe.ipynb" in names
    assert any("not-graded" in line and "bob.ipynb" in line for line in by_name.notes())
    assert any(m.status == "not-graded" for m in outcome.problems())


def test_format_names_are_checked():
    """Are export formats parsed from a comma list and an unknown one refused with a hint?"""
    assert parse_formats("canvas, Moodle,canvas") == ("canvas", "moodle")
    with pytest.raises(ValueError, match="Did you mean 'canvas'"):
        parse_formats("canvass")
    with pytest.raises(ValueError, match="otter autograder zip"):
        parse_formats("canvas,gradescope")


def test_cli_grade_export_and_export_command(graded, tmp_path):
    """Does `grade --export --roster` write the exports, and `export --out --format` rewrite
    them from an existing gradebook; are bad formats and rosters usage errors (exit 2)?"""
    out, _ = graded
    roster = _roster(tmp_path)
    proc = cli("export", "--out", out, "--format", "canvas", "--roster", roster)
    assert proc.returncode == 0, proc.stderr
    assert (out / "exports" / "canvas.csv").exists()
    assert "bob.ipynb: unmatched" in proc.stdout
    proc = cli("export", "--out", out, "--format", "blackboard")
    assert proc.returncode == 2 and "Known: canvas, moodle" in proc.stderr
    proc = cli("export", "--out", out, "--format", "gradescope")
    assert proc.returncode == 2 and "autograder.zip" in proc.stderr
    proc = cli("export", "--out", out, "--format", "moodle")
    assert proc.returncode == 2 and "moodle needs --roster" in proc.stderr
    proc = cli("export", "--out", out, "--format", "canvas", "--roster", tmp_path / "nope.csv")
    assert proc.returncode == 2 and "nope.csv" in proc.stderr
    subs = out.parent / "subs"
    proc = cli("grade", "--assignment", "perceptron", subs, "--out", tmp_path / "g",
               "--jobs", "2", "--export", "moodle", "--roster", roster)
    assert proc.returncode == 0, proc.stderr
    assert {r["ID number"] for r in read_csv(tmp_path / "g" / "exports" / "moodle.csv")} == \
        {"12345", "S-78", "S-79"}
    assert "NOT in the LMS files" in proc.stderr
