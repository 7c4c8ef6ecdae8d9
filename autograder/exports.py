"""Grade exports for learning-management systems, written from gradebook results.

Students are identified by their submission's name (its key: the notebook's file name or the
folder's name, see collect.py), or through a roster matched against that key. Every export goes to OUT/exports/; ``roster-match.csv`` there lists how each submission
was matched, and every submission that could not be matched (never silently dropped).

Formats (checked against the systems' own import code and documentation):

* ``canvas`` -> canvas.csv, for Canvas Grades > Import. Canvas's gradebook importer wants the
  header ``Student, ID, SIS User ID, SIS Login ID, Section`` followed by one column per
  assignment; a header that is a known title, or ``Title (canvas id)``, updates that assignment
  and any other title creates a new one. A row whose first cell contains "Points Possible"
  sets the points of new assignments. Students are found by ID (Canvas's numeric user id),
  then SIS User ID, then SIS Login ID, then by name. We leave ID empty, put the roster id in
  SIS User ID and the e-mail in SIS Login ID (without a roster: the submission name in both
  Student and SIS Login ID). Rename the assignment column to ``Title (id)`` to target an
  existing Canvas assignment of another title.
* ``moodle`` -> moodle.csv, for Gradebook > Import > CSV file. Moodle takes any columns and
  asks at import time which one identifies users ("Map from" a column, "Map to" useridnumber,
  useremail or username) and which grade item each other column feeds. Columns: ``ID number``,
  ``Email address``, ``Full name`` (without a roster: ``Username``), the assignment title
  (points), and ``Feedback``. Moodle's documentation warns that importing feedback alone
  overwrites the linked grades, so grade and feedback always travel together. E-mail matching
  is case sensitive in Moodle: the roster's spelling is kept.
* Gradescope has no file to import: it reads autograder results only inside its own
  container. The Gradescope route is the otter autograder zip that ``release`` writes
  (``<slug>/<lang>/autograder/<slug>-<lang>-autograder.zip``), uploaded as the autograder of a
  Gradescope programming assignment; asking for ``gradescope`` here says so.

Rows whose status is a grader fault (``internal-error``, ``variant-mismatch``) are left out of
the LMS files (the LMS keeps a blank grade, never a zero the student did not earn) and listed
in roster-match.csv as ``not-graded`` until a re-run grades them.

Roster (``--roster FILE``): a CSV with a header naming a student id column (``student id``,
``id``, ``sis user id``, ``id number``...), a name column and optionally an e-mail column (case
and spaces/underscores in header names do not matter). Matching rule, per submission name
(case-insensitive): a roster entry matches when its id, or the local part of its e-mail (before
the @), occurs in the name as a whole token, i.e. bounded by the ends of the name or by
characters that are neither letters nor digits (``hw1_jdoe_v2`` contains ``jdoe``; ``12345``
does not contain ``1234``). When one matching key lies inside a longer one (``doe`` inside
``jane.doe``) only the longer counts. Exactly one student: matched. None: ``unmatched``. More
than one: ``ambiguous``. A student matched by several submissions is a ``duplicate``: none of
them is exported for that student until the extra submissions are removed or renamed. Roster
students without a submission are listed as ``no-submission``. Only matched submissions appear
in canvas.csv and moodle.csv. Moodle needs a roster: it identifies users only by fields
the roster holds (file names are not Moodle usernames, and one unknown user aborts the whole
import), so ``moodle`` without ``--roster`` is refused.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from .gradebook import atomic_write
from .judge import SubmissionResult
from .spec import Assignment

FORMATS = ("canvas", "moodle")
GRADER_FAULTS = ("internal-error", "variant-mismatch")  # say nothing about the student
GRADESCOPE = ("Gradescope imports no grade file: it reads results only inside its own "
              "container. Upload the otter autograder zip that `neurograde release` writes "
              "(<slug>/<lang>/autograder/<slug>-<lang>-autograder.zip) as the autograder of a "
              "Gradescope programming assignment instead.")
MOODLE_NEEDS_ROSTER = ("moodle needs --roster FILE: Moodle identifies users by an id number, "
                       "e-mail or username from your roster and aborts the whole import at the "
                       "first unknown user, and submission file names are not usernames")
ID_HEADERS = ("student id", "studentid", "id", "sis user id", "sis id", "id number",
              "idnumber", "student number", "matricula")
NAME_HEADERS = ("name", "full name", "student", "student name", "fullname")
EMAIL_HEADERS = ("email", "e-mail", "email address", "mail")


class RosterError(ValueError):
    pass


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    email: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """Lower-case strings that identify the student inside a submission name."""
        local = self.email.split("@", 1)[0].strip().lower() if self.email else ""
        return tuple(k for k in dict.fromkeys((self.id.strip().lower(), local)) if k)


@dataclass(frozen=True)
class Match:
    submission: str | None
    student: Student | None
    status: str  # matched | unmatched | ambiguous | duplicate | no-submission | by-name | not-graded
    detail: str = ""


@dataclass(frozen=True)
class ExportOutcome:
    folder: Path
    written: tuple[Path, ...]
    matches: tuple[Match, ...] = field(default_factory=tuple)

    def problems(self) -> list[Match]:
        return [m for m in self.matches
                if m.status in ("unmatched", "ambiguous", "duplicate", "not-graded")]

    def notes(self) -> list[str]:
        lines = [f"exports: {', '.join(str(p) for p in self.written)}"]
        problems = self.problems()
        if problems:
            lines.append(f"exports: {len(problems)} submission(s) are NOT in the LMS files "
                         f"(see {self.folder / 'roster-match.csv'}):")
            lines += [f"  {m.submission}: {m.status} - {m.detail}" for m in problems]
        missing = [m for m in self.matches if m.status == "no-submission"]
        if missing:
            lines.append(f"exports: {len(missing)} roster student(s) have no submission")
        return lines


def parse_formats(text: str) -> tuple[str, ...]:
    """'canvas,moodle' -> ('canvas', 'moodle'); ValueError naming an unknown format."""
    chosen = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    for name in chosen:
        if name == "gradescope":
            raise ValueError(GRADESCOPE)
        if name not in FORMATS:
            close = get_close_matches(name, FORMATS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown export format {name!r}.{hint} Known: "
                             f"{', '.join(FORMATS)} (comma-separated)")
    if not chosen:
        raise ValueError(f"no export format given; choose from {', '.join(FORMATS)}")
    return chosen


def _norm_header(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower().lstrip("\ufeff"))


def read_roster(path: Path) -> tuple[Student, ...]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"roster {path}: cannot read it ({exc}); give a UTF-8 CSV file") \
            from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise RosterError(f"roster {path}: empty; expected a header like "
                          f"'student id,name,email' and one row per student")
    names = [_norm_header(h) for h in header]

    def column(options, what, required=True):
        for option in options:
            if option in names:
                return names.index(option)
        if required:
            raise RosterError(f"roster {path}: no {what} column; the header has "
                              f"{', '.join(header)}; name it one of {', '.join(options)}")
        return None

    i_id = column(ID_HEADERS, "student id")
    i_name = column(NAME_HEADERS, "name")
    i_email = column(EMAIL_HEADERS, "e-mail", required=False)
    students, seen = [], {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        student = Student(cells[i_id].strip(), cells[i_name].strip(),
                          cells[i_email].strip() if i_email is not None else "")
        if not student.id:
            raise RosterError(f"roster {path}, line {line}: the student id is empty; every "
                              f"student needs one")
        if student.id.lower() in seen:
            raise RosterError(f"roster {path}, line {line}: student id {student.id!r} already "
                              f"appears on line {seen[student.id.lower()]}; ids must be unique")
        seen[student.id.lower()] = line
        students.append(student)
    if not students:
        raise RosterError(f"roster {path}: has a header but no students")
    return tuple(students)


def _token_spans(name: str, key: str) -> list[tuple[int, int]]:
    pattern = r"(?<![a-z0-9])" + re.escape(key) + r"(?![a-z0-9])"
    return [m.span() for m in re.finditer(pattern, name)]


def match_roster(submissions: list[str], roster: tuple[Student, ...]) -> list[Match]:
    """Apply the module's matching rule; returns one Match per submission and per absentee."""
    found: dict[str, list[Student]] = {}
    for sub in submissions:
        name = sub.lower()
        hits = [(span, student) for student in roster for key in student.keys
                for span in _token_spans(name, key)]
        # A key inside a longer matching key ("doe" in "jane.doe") is not a match of its own.
        kept = [(span, st) for span, st in hits
                if not any(o[0] <= span[0] and span[1] <= o[1] and o[1] - o[0] > span[1] - span[0]
                           for o, _ in hits)]
        found[sub] = list({st.id: st for _, st in kept}.values())
    by_student: dict[str, list[str]] = {}
    for sub, students in found.items():
        if len(students) == 1:
            by_student.setdefault(students[0].id, []).append(sub)
    matches = []
    for sub, students in found.items():
        if not students:
            matches.append(Match(sub, None, "unmatched",
                                 "no roster id or e-mail name occurs in the submission name"))
        elif len(students) > 1:
            who = ", ".join(f"{s.id} ({s.name})" for s in students)
            matches.append(Match(sub, None, "ambiguous", f"matches several students: {who}"))
        elif len(by_student[students[0].id]) > 1:
            others = ", ".join(x for x in by_student[students[0].id] if x != sub)
            matches.append(Match(sub, students[0], "duplicate",
                                 f"{students[0].id} ({students[0].name}) also matched by "
                                 f"{others}; keep one submission per student"))
        else:
            matches.append(Match(sub, students[0], "matched"))
    for student in roster:
        if student.id not in by_student:
            matches.append(Match(None, student, "no-submission", "no submission matched"))
    return matches


def _by_name(submissions: list[str]) -> list[Match]:
    return [Match(s, Student(s, s), "by-name", "identified by its file or folder name")
            for s in submissions]


def _num(x: float) -> str:
    return f"{x:g}"


def _title(assignment: Assignment) -> str:
    return assignment.title.get("en") or assignment.slug


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def canvas_csv(pairs, assignment: Assignment, with_roster: bool) -> str:
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", _title(assignment)],
            ["    Points Possible", "", "", "", "", _num(assignment.possible)]]
    for result, student in pairs:
        login = student.email if with_roster else result.submission
        sis_id = student.id if with_roster else ""
        rows.append([student.name, "", sis_id, login, "", _num(result.total)])
    return _csv_text(rows)


def moodle_csv(pairs, assignment: Assignment) -> str:
    """Rows for roster students only (write_exports refuses moodle without a roster)."""
    rows = [["ID number", "Email address", "Full name", _title(assignment), "Feedback"]]
    for result, student in pairs:
        rows.append([student.id, student.email, student.name, _num(result.total),
                     summary_line(result)])
    return _csv_text(rows)


def summary_line(result: SubmissionResult) -> str:
    """Short per-question feedback for an LMS comment field (no check details)."""
    parts = [f"{q.id} {_num(q.score)}/{_num(q.possible)}" for q in result.questions]
    text = f"{_num(result.total)}/{_num(result.possible)} ({'; '.join(parts)})"
    if result.status != "ok":
        text += f" - {result.status}: {result.message[:200]}"
    return text


def write_exports(results: list[SubmissionResult], assignment: Assignment, folder: Path,
                  formats: tuple[str, ...], roster: tuple[Student, ...] | None) -> ExportOutcome:
    if "moodle" in formats and not roster:
        raise RosterError(MOODLE_NEEDS_ROSTER)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(GRADESCOPE if "gradescope" in unknown else f"unknown formats {unknown}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [r.submission for r in results]
    matches = match_roster(names, roster) if roster else _by_name(names)
    by_sub = {r.submission: r for r in results}
    matches = [Match(m.submission, m.student, "not-graded",
                     f"{by_sub[m.submission].status}: a grader fault, not the student's; "
                     "re-run the grading to grade it") if m.submission in by_sub
               and m.status in ("matched", "by-name")
               and by_sub[m.submission].status in GRADER_FAULTS else m for m in matches]
    pairs = [(by_sub[m.submission], m.student) for m in matches
             if m.status in ("matched", "by-name")]
    written = []
    if "canvas" in formats:
        written.append(folder / "canvas.csv")
        atomic_write(written[-1], canvas_csv(pairs, assignment, roster is not None))
    if "moodle" in formats:
        written.append(folder / "moodle.csv")
        atomic_write(written[-1], moodle_csv(pairs, assignment))
    report = [["submission", "status", "student_id", "name", "email", "detail"]]
    report += [[m.submission or "", m.status, m.student.id if m.student else "",
                m.student.name if m.student else "", m.student.email if m.student else "",
                m.detail] for m in matches]
    atomic_write(folder / "roster-match.csv", _csv_text(report))
    return ExportOutcome(folder, tuple(written), tuple(matches))
