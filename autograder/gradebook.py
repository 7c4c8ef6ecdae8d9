"""Stage 4: the gradebook — one row per submission, committed as each one finishes.

SQLite is the source of truth: every result is its own committed transaction (WAL journal,
synchronous=FULL), so a batch killed at any moment (SIGKILL included) loses at most the
submissions that were still running, and a re-run of the same command grades only those.
grades.csv and results/<stem>.json are written from the database, each replaced atomically.

A row is *done* when its content hash and autograder version match the current ones and its
status is not ``internal-error`` (a grader failure says nothing about the student, so a re-run
retries it). Shard gradebooks are joined with :func:`merge`; see its docstring for the rule on
conflicting duplicates.

Each row keeps the submission's key (collect.py: its path relative to the PATH given) and the
path it was found at (``source``, also in grades.csv and results/<key>.json); gradebooks from
before that column are migrated when opened. The ``attempts`` table counts gradings that were
started but never recorded: a submission that keeps killing the grader itself (see
batch.py) is recognised by it on the next run instead of stopping every run.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .i18n import cli_text, status_word
from .judge import SubmissionResult

DB_NAME = "gradebook.sqlite"
FIXED_COLUMNS = ("submission", "assignment")
TAIL_COLUMNS = ("total", "possible", "status", "message", "source")
RETRIED_STATUSES = ("internal-error",)
ROW_FIELDS = ("assignment", "submission", "sha256", "autograder_version", "status", "total",
              "possible", "result_json", "graded_at", "source")


class GradebookError(ValueError):
    """A gradebook that cannot be read or merged; the message says which and what to do."""


@dataclass(frozen=True)
class Row:
    """One stored row, as merge sees it (the result stays serialized)."""
    assignment: str
    submission: str
    sha256: str
    autograder_version: str
    status: str
    total: float
    possible: float
    result_json: str
    graded_at: float
    source: str = ""

    def same_grade(self, other: "Row") -> bool:
        """Same input, same grader, same outcome: the two rows are interchangeable."""
        return (self.sha256, self.autograder_version, self.status, self.total) == \
            (other.sha256, other.autograder_version, other.status, other.total)


class Gradebook:
    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / DB_NAME
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is in the log file when it returns, so a killed grader
        # (kill -9, OOM) loses nothing it committed; only a power cut can undo the last few
        # commits, which a re-run then simply grades again. FULL would add an fsync per
        # commit (two per submission with the attempts table) for that case alone.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("""CREATE TABLE IF NOT EXISTS results (
            assignment TEXT NOT NULL, submission TEXT NOT NULL, sha256 TEXT NOT NULL,
            autograder_version TEXT NOT NULL, status TEXT NOT NULL, total REAL NOT NULL,
            possible REAL NOT NULL, result_json TEXT NOT NULL, graded_at REAL NOT NULL,
            source TEXT NOT NULL DEFAULT '', PRIMARY KEY (assignment, submission))""")
        self._migrate()
        self._db.execute("""CREATE TABLE IF NOT EXISTS attempts (
            assignment TEXT NOT NULL, submission TEXT NOT NULL, sha256 TEXT NOT NULL,
            autograder_version TEXT NOT NULL, count INTEGER NOT NULL, started_at REAL NOT NULL,
            PRIMARY KEY (assignment, submission))""")
        # One connection serves the batch's grading threads: one transaction at a time.
        self._lock = threading.Lock()

    def _migrate(self) -> None:
        """Books written before the source column get it (empty for their old rows)."""
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(results)")}
        if "source" not in columns:
            try:
                self._db.execute("ALTER TABLE results ADD COLUMN source TEXT NOT NULL "
                                 "DEFAULT ''")
            except sqlite3.OperationalError as exc:  # another process migrated it just now
                if "duplicate column" not in str(exc):
                    raise

    @classmethod
    def open_existing(cls, folder: Path) -> "Gradebook":
        """Open the gradebook in folder, refusing (instead of creating) a missing one."""
        folder = Path(folder)
        if not (folder / DB_NAME).is_file():
            raise GradebookError(f"{folder}: no {DB_NAME} here; give the --out folder of a "
                                 f"`neurograde grade` run")
        try:
            return cls(folder)
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{folder / DB_NAME}: not a readable gradebook ({exc}); "
                                 f"re-grade into a fresh --out folder") from None

    def close(self) -> None:
        # Fold the WAL back into the main file so the folder can be copied (CI artifacts) as is.
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()

    def done(self, assignment: str, submission: str, sha256: str, version: str) -> bool:
        row = self._db.execute(
            "SELECT sha256, autograder_version, status FROM results "
            "WHERE assignment=? AND submission=?", (assignment, submission)).fetchone()
        return row is not None and row[:2] == (sha256, version) and \
            row[2] not in RETRIED_STATUSES

    def record(self, result: SubmissionResult, version: str) -> None:
        """Store the result (its source path comes from result.extra["source"])."""
        self.put(Row(result.assignment, result.submission, result.sha256, version,
                     result.status, result.total, result.possible,
                     json.dumps(result.to_dict()), time.time(),
                     str(result.extra.get("source", ""))))

    def put(self, row: Row) -> None:
        self.put_many([row])

    def put_many(self, rows: list[Row]) -> None:
        """Store rows in one transaction: all of them or, if killed, none. A stored row ends
        its submission's unfinished attempts."""
        with self._lock, self._db:  # the context manager commits, or rolls back on an error
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                f"INSERT OR REPLACE INTO results ({', '.join(ROW_FIELDS)}) "
                f"VALUES ({', '.join('?' * len(ROW_FIELDS))})",
                [tuple(getattr(r, f) for f in ROW_FIELDS) for r in rows])
            self._db.executemany("DELETE FROM attempts WHERE assignment=? AND submission=?",
                                 [(r.assignment, r.submission) for r in rows])

    # -- attempts: gradings started and never recorded ----------------------------------------
    def start_attempt(self, assignment: str, submission: str, sha256: str, version: str) -> int:
        """Count one more grading of this content by this grader, committed before it starts;
        returns how many were started without a recorded result (this one included)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            before = self._unfinished(assignment, submission, sha256, version)
            self._db.execute("INSERT OR REPLACE INTO attempts VALUES (?,?,?,?,?,?)",
                             (assignment, submission, sha256, version, before + 1, time.time()))
        return before + 1

    def unfinished_attempts(self, assignment: str, submission: str, sha256: str,
                            version: str) -> int:
        """Gradings of this content by this grader that started and never recorded a row (the
        grader was killed meanwhile); other content or another grader counts from zero."""
        with self._lock:
            return self._unfinished(assignment, submission, sha256, version)

    def _unfinished(self, assignment, submission, sha256, version) -> int:
        row = self._db.execute(
            "SELECT sha256, autograder_version, count FROM attempts WHERE assignment=? AND "
            "submission=?", (assignment, submission)).fetchone()
        return row[2] if row is not None and row[:2] == (sha256, version) else 0

    def forget_attempts(self, assignment: str, submissions: list[str]) -> None:
        """--force: a fresh start for these submissions."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM attempts WHERE assignment=? AND submission=?",
                                 [(assignment, s) for s in submissions])

    def rows(self) -> list[Row]:
        found = self._db.execute(f"SELECT {', '.join(ROW_FIELDS)} FROM results "
                                 "ORDER BY assignment, submission").fetchall()
        return [Row(*r) for r in found]

    def assignments(self) -> list[str]:
        return [r[0] for r in self._db.execute(
            "SELECT DISTINCT assignment FROM results ORDER BY assignment")]

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def results(self, assignment: str | None = None) -> list[SubmissionResult]:
        query = "SELECT result_json FROM results"
        args: tuple = ()
        if assignment:
            query += " WHERE assignment=?"
            args = (assignment,)
        # One row at a time, each string shared with the rows before it that hold the same
        # text: a class's results repeat most of their words (check names, messages), and a
        # publish holds them all at once.
        shared: dict[str, str] = {}
        return [SubmissionResult.from_dict(_share(json.loads(text), shared))
                for (text,) in self._db.execute(query + " ORDER BY assignment, submission",
                                                args)]

    def versions(self, assignment: str) -> dict[str, str]:
        """submission -> autograder version that graded it."""
        return dict(self._db.execute(
            "SELECT submission, autograder_version FROM results WHERE assignment=?",
            (assignment,)).fetchall())

    # -- exports -----------------------------------------------------------------------------
    def export(self, question_ids: list[str], assignment: str | None = None,
               only: set[str] | None = None) -> list[SubmissionResult]:
        """Write grades.csv and results/*.json for the rows (optionally only `only` stems)."""
        results = [r for r in self.results(assignment) if only is None or r.submission in only]
        write_csv(self.out_dir / "grades.csv", results, question_ids)
        folder = self.out_dir / "results"
        folder.mkdir(exist_ok=True)
        for r in results:
            atomic_write(folder / f"{r.submission}.json", json.dumps(r.to_dict(), indent=2))
        return results


def _share(value, memo: dict[str, str]):
    """value (decoded JSON) with each string replaced by the equal one already in memo."""
    if isinstance(value, str):
        return memo.setdefault(value, value)
    if isinstance(value, list):
        return [_share(v, memo) for v in value]
    if isinstance(value, dict):
        return {memo.setdefault(k, k): _share(v, memo) for k, v in value.items()}
    return value


def single_assignment(book: Gradebook, wanted: str | None) -> str:
    """The assignment whose rows to publish: `wanted`, or the only one in the gradebook."""
    present = book.assignments()
    if wanted:
        if wanted not in present:
            raise GradebookError(f"{book.path}: no rows for assignment {wanted!r}; it holds "
                                 f"{', '.join(present) or 'no rows at all'}")
        return wanted
    if len(present) != 1:
        raise GradebookError(f"{book.path}: holds "
                             f"{'no rows' if not present else 'rows of ' + ', '.join(present)}"
                             f"; name one with --assignment")
    return present[0]


def merge(sources: list[Path], out_dir: Path, prefer_newest: bool = False) -> list[Row]:
    """Join shard gradebooks (and any rows already in out_dir) into out_dir's gradebook.

    Rule for a submission present in more than one source: rows with the same content hash,
    autograder version, status and total are the same grade and one is kept. Any other pair is
    a *conflict*: by default nothing is written and GradebookError names every conflicting
    submission with the folders and times involved, because silently picking one could publish
    a grade for a file that is no longer the one submitted. With prefer_newest=True the row
    graded last wins. Returns the rows of the merged gradebook.
    """
    out_dir = Path(out_dir)
    if not sources:
        raise GradebookError("merge needs at least one shard folder (the --out of a "
                             "`neurograde grade --shard I/N` run)")
    # The out folder's own rows (a repeated merge) take part like any shard; a source that
    # *is* the out folder is read once.
    resolved = out_dir.resolve()
    had_rows = (out_dir / DB_NAME).exists()
    books: list[Gradebook] = []
    target: Gradebook | None = None
    try:
        for source in dict.fromkeys(Path(s) for s in sources):
            if source.resolve() != resolved:
                books.append(Gradebook.open_existing(source))
        target = Gradebook(out_dir)
        chosen: dict[tuple[str, str], tuple[Row, Path]] = {}
        conflicts: dict[tuple[str, str], list[tuple[Row, Path]]] = {}
        for book in ([target] if had_rows else []) + books:
            for row in book.rows():
                key = (row.assignment, row.submission)
                if key not in chosen:
                    chosen[key] = (row, book.out_dir)
                    continue
                kept, kept_where = chosen[key]
                if not kept.same_grade(row):
                    conflicts.setdefault(key, [(kept, kept_where)]).append((row, book.out_dir))
                if row.graded_at > kept.graded_at:
                    chosen[key] = (row, book.out_dir)
        if conflicts and not prefer_newest:
            raise GradebookError(_conflict_message(conflicts))
        target.put_many([row for row, _ in chosen.values()])
        return target.rows()
    finally:
        for book in books + ([target] if target else []):
            book.close()


def _conflict_message(conflicts) -> str:
    lines = [f"{len(conflicts)} submission(s) were graded differently in more than one "
             f"gradebook:"]
    for (assignment, submission), rows in sorted(conflicts.items()):
        seen = "; ".join(
            f"{where}: {row.status} {row.total:g}/{row.possible:g}, content "
            f"{row.sha256[:10]}, grader {row.autograder_version}, graded "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(row.graded_at))} UTC"
            for row, where in rows)
        lines.append(f"  {assignment}/{submission}: {seen}")
    lines.append("Each submission must be graded in one shard only. Remove the stale shard "
                 "folder, merge into a fresh --out folder, or pass --prefer-newest to keep "
                 "the row graded last.")
    return "\n".join(lines)


def question_ids_of(results: list[SubmissionResult]) -> list[str]:
    """Question ids in first-seen order (a gradebook read without its assignment spec)."""
    seen: dict[str, None] = {}
    for r in results:
        for q in r.questions:
            seen.setdefault(q.id, None)
    return list(seen)


def csv_rows(results: list[SubmissionResult], question_ids: list[str]) -> list[dict]:
    rows = []
    for r in results:
        scores = {q.id: q.score for q in r.questions}
        row = {"submission": r.submission, "assignment": r.assignment}
        row.update({qid: _num(scores.get(qid, 0.0)) for qid in question_ids})
        row.update({"total": _num(r.total), "possible": _num(r.possible), "status": r.status,
                    "message": r.message, "source": str(r.extra.get("source", ""))})
        rows.append(row)
    return rows


def write_csv(path: Path, results: list[SubmissionResult], question_ids: list[str]) -> None:
    columns = list(FIXED_COLUMNS) + list(question_ids) + list(TAIL_COLUMNS)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(csv_rows(results, question_ids))
    os.replace(tmp, path)


def format_table(results: list[SubmissionResult], question_ids: list[str],
                 lang: str | None = None) -> str:
    """The gradebook as an aligned text table for the terminal (lang None: English)."""
    say = partial(cli_text, lang)
    header = [say("col_submission"), say("col_assignment"), *question_ids, say("col_total"),
              say("col_status"), say("col_message")]
    rows = [header]
    for r in results:
        scores = {q.id: q.score for q in r.questions}
        rows.append([r.submission, r.assignment, *[_num(scores.get(q, 0.0)) for q in question_ids],
                     f"{_num(r.total)}/{_num(r.possible)}", status_word(lang, r.status),
                     _message(r, lang)[:70]])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in rows)


def _message(result: SubmissionResult, lang: str | None) -> str:
    if not lang or lang == "en":
        return result.message
    from .report import message_in
    return message_in(result, lang, result.assignment)


def _num(x: float) -> str:
    return f"{x:g}"


def atomic_write(path: Path, text: str) -> None:
    """Replace path in one step, so a kill mid-write leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)

