"""A grading batch: collect -> plan -> (execute -> judge -> record) per submission, in parallel.

Expected values are computed once per batch. Every submission ends with exactly one gradebook
row, whatever happens to it; a crash of the grader's own code on one submission becomes that
submission's row ("internal-error"), never a crashed batch.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import __version__, sandbox
from .collect import Submission, collect
from .execute import Execution, execute
from .gradebook import Gradebook
from .judge import SubmissionResult, expectations, judge
from .probe import make_plan
from .spec import ROOT, Assignment


@dataclass(frozen=True)
class BatchOptions:
    jobs: int = 1
    timeout: float = 300.0
    seed: int | None = None
    lang: str = "en"
    unsafe: bool = False
    force: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class BatchSummary:
    graded: int
    skipped: int
    results: tuple[SubmissionResult, ...]
    sandbox: str


def autograder_version(assignment: Assignment, seed: int) -> str:
    """Changes whenever anything that decides a grade changes: engine, checks, reference, seed."""
    digest = hashlib.sha256(f"{__version__}:{assignment.version}:{seed}".encode())
    files = sorted(assignment.folder.rglob("*.py")) + [assignment.reference_path] + \
        sorted((ROOT / "autograder").glob("*.py"))
    for path in files:
        if path.exists() and "examples" not in path.parts:
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def _internal_error(sub: Submission, assignment: Assignment, exc: BaseException,
                    box: str) -> SubmissionResult:
    from .judge import QuestionResult
    questions = tuple(QuestionResult(q.id, 0.0, q.points, "failed", ("not graded",))
                      for q in assignment.questions)
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return SubmissionResult(sub.stem, assignment.slug, assignment.version, sub.sha256,
                            "internal-error", f"the grader failed on this submission: {detail}",
                            0.0, assignment.possible, questions, (), sandbox=box)


def grade_batch(assignment: Assignment, paths: list[Path], out_dir: Path,
                options: BatchOptions) -> BatchSummary:
    submissions = collect(paths)
    box = sandbox.detect(options.unsafe)
    plan = make_plan(assignment, options.seed)
    version = autograder_version(assignment, plan.seed)
    book = Gradebook(out_dir)
    todo = [s for s in submissions
            if options.force or not book.done(assignment.slug, s.stem, s.sha256, version)]
    skipped = len(submissions) - len(todo)
    exp = expectations(plan) if todo else None
    limits = sandbox.Limits(wall_seconds=options.timeout, memory_mb=assignment.memory_mb,
                            cpu_seconds=int(options.timeout * 2) + 10)
    lock = threading.Lock()
    log = (lambda *a: None) if options.quiet else (lambda *a: print(*a, file=sys.stderr,
                                                                      flush=True))
    log(f"grading {len(todo)} submission(s) of {assignment.slug} "
        f"({skipped} unchanged, skipped) with {options.jobs} job(s); sandbox: {box.describe()}")

    def one(sub: Submission) -> SubmissionResult:
        try:
            execution: Execution = execute(sub, plan, box, limits)
            result = judge(execution, plan, exp, options.lang)
        except Exception as exc:  # grader bug on this input: record it, keep going
            result = _internal_error(sub, assignment, exc, box.describe())
        with lock:
            book.record(result, version)
        return result

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {pool.submit(one, s): s for s in todo}
        for future in as_completed(futures):
            result = future.result()
            done += 1
            log(f"[{done}/{len(todo)}] {result.submission}: {result.total:g}/"
                f"{result.possible:g} {result.status} ({result.seconds:.1f}s)")
    results = book.export(assignment.question_ids, assignment.slug,
                          only={s.stem for s in submissions})
    book.close()
    return BatchSummary(len(todo), skipped, tuple(results), box.describe())
