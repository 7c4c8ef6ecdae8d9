"""Stage 4: the gradebook — one row per submission, committed as each one finishes.

SQLite is the source of truth (a killed batch loses nothing; a re-run skips what is done);
grades.csv and results/<stem>.json are exports written from it.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from pathlib import Path

from .judge import SubmissionResult

DB_NAME = "gradebook.sqlite"
FIXED_COLUMNS = ("submission", "assignment")
TAIL_COLUMNS = ("total", "possible", "status", "message")


class Gradebook:
    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / DB_NAME
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("""CREATE TABLE IF NOT EXISTS results (
            assignment TEXT NOT NULL, submission TEXT NOT NULL, sha256 TEXT NOT NULL,
            autograder_version TEXT NOT NULL, status TEXT NOT NULL, total REAL NOT NULL,
            possible REAL NOT NULL, result_json TEXT NOT NULL, graded_at REAL NOT NULL,
            PRIMARY KEY (assignment, submission))""")

    def close(self) -> None:
        self._db.close()

    def done(self, assignment: str, submission: str, sha256: str, version: str) -> bool:
        row = self._db.execute(
            "SELECT sha256, autograder_version FROM results WHERE assignment=? AND submission=?",
            (assignment, submission)).fetchone()
        return row is not None and row == (sha256, version)

    def record(self, result: SubmissionResult, version: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?)",
            (result.assignment, result.submission, result.sha256, version, result.status,
             result.total, result.possible, json.dumps(result.to_dict()), time.time()))

    def results(self, assignment: str | None = None) -> list[SubmissionResult]:
        query = "SELECT result_json FROM results"
        args: tuple = ()
        if assignment:
            query += " WHERE assignment=?"
            args = (assignment,)
        rows = self._db.execute(query + " ORDER BY assignment, submission", args).fetchall()
        return [SubmissionResult.from_dict(json.loads(r[0])) for r in rows]

    # -- exports -----------------------------------------------------------------------------
    def export(self, question_ids: list[str], assignment: str | None = None,
               only: set[str] | None = None) -> list[SubmissionResult]:
        """Write grades.csv and results/*.json for the rows (optionally only `only` stems)."""
        results = [r for r in self.results(assignment) if only is None or r.submission in only]
        write_csv(self.out_dir / "grades.csv", results, question_ids)
        folder = self.out_dir / "results"
        folder.mkdir(exist_ok=True)
        for r in results:
            _atomic_write(folder / f"{r.submission}.json", json.dumps(r.to_dict(), indent=2))
        return results


def csv_rows(results: list[SubmissionResult], question_ids: list[str]) -> list[dict]:
    rows = []
    for r in results:
        scores = {q.id: q.score for q in r.questions}
        row = {"submission": r.submission, "assignment": r.assignment}
        row.update({qid: _num(scores.get(qid, 0.0)) for qid in question_ids})
        row.update({"total": _num(r.total), "possible": _num(r.possible), "status": r.status,
                    "message": r.message})
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


def format_table(results: list[SubmissionResult], question_ids: list[str]) -> str:
    """The gradebook as an aligned text table for the terminal."""
    header = ["submission", "assignment", *question_ids, "total", "status", "message"]
    rows = [header]
    for r in results:
        scores = {q.id: q.score for q in r.questions}
        rows.append([r.submission, r.assignment, *[_num(scores.get(q, 0.0)) for q in question_ids],
                     f"{_num(r.total)}/{_num(r.possible)}", r.status, r.message[:70]])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in rows)


def _num(x: float) -> str:
    return f"{x:g}"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
