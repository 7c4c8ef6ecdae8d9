"""Building the grader of a batch: plan + expected values + sandbox + limits -> one row each.

Shared by local batches (batch.py) and dask workers (distributed.py), so neither imports the
other. Also decides the autograder version that stored rows are compared against.
"""

from __future__ import annotations

import hashlib
import threading
import traceback
from dataclasses import dataclass

from . import __version__, timing
from .checklib import say
from .collect import Submission
from .execute import execute
from .judge import (Expectations, QuestionResult, SubmissionResult, expectations, judge,
                    parent_runs)
from .probe import Plan
from .sandbox import box as sandbox
from .spec import ENGINE_DIR, Assignment

# Modules that only present, store or move results: editing them must not invalidate every
# stored grade. Anything else under autograder/ (new modules included) counts as grading code.
NOT_GRADING_CODE = frozenset({"cli.py", "gradebook.py", "report.py", "exports.py",
                              "progress.py", "distributed.py", "release.py", "examples.py",
                              "selfcheck.py", "handout.py", "similarity"})


def autograder_version(assignment: Assignment, seed: int) -> str:
    """Changes whenever anything that decides a grade changes: engine, checks, reference, seed."""
    digest = hashlib.sha256(f"{__version__}:{assignment.version}:{seed}".encode())
    engine = [p for p in sorted(ENGINE_DIR.rglob("*.py"))
              if not NOT_GRADING_CODE.intersection(p.relative_to(ENGINE_DIR).parts)]
    # files/: what submissions are graded with besides code (reference checkpoints, data)
    bundled = sorted(p for p in (assignment.folder / "files").rglob("*") if p.is_file())
    files = sorted(assignment.folder.rglob("*.py")) + bundled + [assignment.reference_path] \
        + engine
    for path in files:
        if path.exists() and "examples" not in path.parts:
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def limits_for(assignment: Assignment, timeout: float) -> sandbox.Limits:
    return sandbox.Limits(wall_seconds=timeout, memory_mb=assignment.memory_mb,
                          cpu_seconds=int(timeout * 2) + 10)


def ungraded(sub: Submission, assignment: Assignment, status: str, message: str,
             box: str = "", notice: dict | None = None) -> SubmissionResult:
    """A row with 0 points for a submission that was not (or could not be) graded; notice
    says why to the student, in any language (message is the instructor's English)."""
    questions = tuple(QuestionResult(q.id, 0.0, q.points, "failed", ("not graded",))
                      for q in assignment.questions)
    return SubmissionResult(sub.stem, assignment.slug, assignment.version, sub.sha256,
                            status, message, 0.0, assignment.possible, questions, (), sandbox=box,
                            extra={"notice": [notice]} if notice else {})


def internal_error(sub: Submission, assignment: Assignment, exc: BaseException,
                   box: str) -> SubmissionResult:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return ungraded(sub, assignment, "internal-error",
                    f"the grader failed on this submission: {detail}", box,
                    say("status.internal-error"))


def refused(sub: Submission, assignment: Assignment) -> SubmissionResult:
    """The `invalid` row of a submission that collection refused (sub.problem says why)."""
    return ungraded(sub, assignment, "invalid", f"not graded: {sub.problem}",
                    notice=say("status.refused", why=str(sub.problem)))


def grader_killed(sub: Submission, assignment: Assignment, attempts: int) -> SubmissionResult:
    """The row of a submission during which the grading process itself died `attempts` times
    (e.g. killed for memory): recorded so that the batch finishes and is published."""
    return ungraded(sub, assignment, "grader-killed",
                    f"the grading process itself was killed {attempts} times while grading "
                    f"this submission, so it was not graded (0 points). Ask your instructor to "
                    f"look at it. Instructor: grade it alone with more memory for the grader "
                    f"(neurograde grade ... <its path> --force) and check the logs of the "
                    f"killed runs", notice=say("status.grader-killed", attempts=attempts))


@dataclass(frozen=True)
class Grader:
    """Everything needed to grade one submission; built once per batch or per dask worker."""
    plan: Plan
    expected: Expectations
    box: sandbox.Sandbox
    limits: sandbox.Limits
    lang: str

    def grade(self, sub: Submission) -> SubmissionResult:
        try:
            parent = _Beside(lambda: parent_runs(self.plan, sub)) if self.plan.parent_checks \
                else None
            run = execute(sub, self.plan, self.box, self.limits)
            with timing.stage(sub.stem, "judge"):
                return judge(run, self.plan, self.expected, self.lang,
                             parent=parent.result() if parent is not None else None)
        except Exception as exc:  # grader bug on this input: record it, keep going
            return internal_error(sub, self.plan.assignment, exc, self.box.describe())


class _Beside(threading.Thread):
    """fn() in a thread of its own: the judge-only checks (say, a trained model evaluated on
    hidden images: hundreds of milliseconds of torch, which releases the GIL) run while the
    sandbox runs the notebook, on the core the sandbox leaves free. result() waits for it and
    raises what fn raised."""

    def __init__(self, fn):
        super().__init__(daemon=True, name="neurograde-judge-only")
        self._fn, self._value, self._error = fn, None, None
        self.start()

    def run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to the grading thread by result()
            self._error = exc

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error
        return self._value


def make_grader(plan: Plan, timeout: float, lang: str, unsafe: bool) -> Grader:
    with timing.stage(None, "sandbox detection"):
        box = sandbox.detect(unsafe)  # before the reference runs: refuse early without isolation
    with timing.stage(None, "expected values"):
        expected = expectations(plan)
    return Grader(plan, expected, box, limits_for(plan.assignment, timeout), lang)
