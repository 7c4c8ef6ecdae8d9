"""A grading batch: collect -> plan -> (execute -> judge -> record) per submission -> publish.

Expected values are computed once per batch (once per worker with dask). Every submission ends
with exactly one gradebook row, whatever happens to it; a crash of the grader's own code on one
submission becomes that submission's row ("internal-error", retried by the next run), never a
crashed batch. Rows are committed as each submission finishes, so a killed batch resumes where
it stopped; ``publish`` then writes everything else (grades.csv, results/*.json, feedback pages,
the class report, LMS exports) from the gradebook, never from memory.
"""

from __future__ import annotations

import hashlib
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import __version__, sandbox
from .collect import Submission, collect
from .execute import execute
from .gradebook import Gradebook
from .judge import Expectations, QuestionResult, SubmissionResult, expectations, judge
from .probe import Plan, make_plan
from .progress import Progress
from .spec import ROOT, Assignment

# Modules that only present, store or move results: editing them must not invalidate every
# stored grade. Anything else under autograder/ (new modules included) counts as grading code.
NOT_GRADING_CODE = frozenset({"cli.py", "gradebook.py", "report.py", "exports.py",
                              "progress.py", "distributed.py", "release.py", "examples.py",
                              "similarity.py"})


@dataclass(frozen=True)
class BatchOptions:
    jobs: int = 1
    timeout: float = 300.0
    seed: int | None = None
    lang: str = "en"
    unsafe: bool = False
    force: bool = False
    quiet: bool = False
    shard: object | None = None          # distributed.Shard: grade only this slice
    dask: str | None = None              # scheduler address: grade on a dask cluster
    exports: tuple[str, ...] = ()        # exports.FORMATS to write after grading
    roster: Path | None = None           # roster CSV for the exports
    reports: bool = True                 # feedback pages + class report
    progress: str = "auto"               # progress.MODES
    secret: bytes | None = None          # instructor secret: grade per-student variants


@dataclass(frozen=True)
class BatchSummary:
    graded: int
    skipped: int
    results: tuple[SubmissionResult, ...]
    sandbox: str
    outside_shard: int = 0    # submissions found but left to other shards


def autograder_version(assignment: Assignment, seed: int) -> str:
    """Changes whenever anything that decides a grade changes: engine, checks, reference, seed."""
    digest = hashlib.sha256(f"{__version__}:{assignment.version}:{seed}".encode())
    engine = [p for p in sorted((ROOT / "autograder").glob("*.py"))
              if p.name not in NOT_GRADING_CODE]
    files = sorted(assignment.folder.rglob("*.py")) + [assignment.reference_path] + engine
    for path in files:
        if path.exists() and "examples" not in path.parts:
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def limits_for(assignment: Assignment, timeout: float) -> sandbox.Limits:
    return sandbox.Limits(wall_seconds=timeout, memory_mb=assignment.memory_mb,
                          cpu_seconds=int(timeout * 2) + 10)


def internal_error(sub: Submission, assignment: Assignment, exc: BaseException,
                   box: str) -> SubmissionResult:
    questions = tuple(QuestionResult(q.id, 0.0, q.points, "failed", ("not graded",))
                      for q in assignment.questions)
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return SubmissionResult(sub.stem, assignment.slug, assignment.version, sub.sha256,
                            "internal-error", f"the grader failed on this submission: {detail}",
                            0.0, assignment.possible, questions, (), sandbox=box)


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
            return judge(execute(sub, self.plan, self.box, self.limits), self.plan,
                         self.expected, self.lang)
        except Exception as exc:  # grader bug on this input: record it, keep going
            return internal_error(sub, self.plan.assignment, exc, self.box.describe())


def make_grader(plan: Plan, timeout: float, lang: str, unsafe: bool) -> Grader:
    box = sandbox.detect(unsafe)  # before the reference runs: refuse early without isolation
    return Grader(plan, expectations(plan), box, limits_for(plan.assignment, timeout), lang)


def grade_batch(assignment: Assignment, paths: list[Path], out_dir: Path,
                options: BatchOptions) -> BatchSummary:
    submissions = collect(paths)
    in_batch = submissions
    if options.shard is not None:
        in_batch = [s for s in submissions if options.shard.selects(s.stem)]
    roster = None
    if options.exports or options.roster:
        from .exports import read_roster  # fail on a bad roster before grading, not after
        roster = read_roster(options.roster) if options.roster else None
    plan = make_plan(assignment, options.seed)
    version = autograder_version(assignment, plan.seed)
    if options.secret is not None:
        if options.dask:
            from .variants import VariantError
            raise VariantError("per-student variants (--secret-file) are not supported with "
                               "--dask yet; grade variants locally or by --shard")
        # A different secret means different variants: stored rows must not count as done.
        version += "+v" + hashlib.sha256(options.secret).hexdigest()[:8]
    book = Gradebook(out_dir)
    try:
        todo = [s for s in in_batch
                if options.force or not book.done(assignment.slug, s.stem, s.sha256, version)]
        skipped = len(in_batch) - len(todo)
        progress = Progress(len(todo), mode="quiet" if options.quiet else options.progress)
        if options.dask:
            from .distributed import grade_on_dask
            where = f"dask scheduler {options.dask} (each worker sandboxes)"
            results = grade_on_dask(options.dask, plan, version, todo, options)
        elif options.secret is not None and todo:
            from .variants import VariantGrading
            router = VariantGrading(
                assignment, options.secret, roster or (), todo,
                lambda p: make_grader(p, options.timeout, options.lang, options.unsafe),
                options.seed)
            where = router.describe() + "; per-student variants"
            results = _grade_locally(router.grade, todo, options.jobs)
        else:
            grader = make_grader(plan, options.timeout, options.lang, options.unsafe) \
                if todo else None
            where = grader.box.describe() if grader else sandbox_description(options.unsafe)
            results = _grade_locally(grader.grade if grader else None, todo, options.jobs)
        shard = f" (shard {options.shard}: {len(in_batch)} of {len(submissions)})" \
            if options.shard is not None else ""
        progress.note(f"grading {len(todo)} submission(s) of {assignment.slug}{shard} "
                      f"({skipped} unchanged, skipped) with "
                      f"{'dask' if options.dask else f'{options.jobs} job(s)'}; sandbox: {where}")
        try:
            for result in results:
                book.record(result, version)  # committed before anything else looks at it
                progress.update(result)
        finally:
            progress.close()
        published = publish(book, assignment, out_dir, {s.stem for s in in_batch},
                            lang=options.lang, reports=options.reports,
                            formats=options.exports, roster=roster, note=progress.note)
    finally:
        book.close()
    return BatchSummary(len(todo), skipped, tuple(published), where,
                        outside_shard=len(submissions) - len(in_batch))


def sandbox_description(unsafe: bool) -> str:
    try:
        return sandbox.detect(unsafe).describe()
    except sandbox.SandboxUnavailable:
        return "none needed (nothing to grade)"


def _grade_locally(grade: Callable[[Submission], SubmissionResult] | None,
                   todo: list[Submission], jobs: int) -> Iterator[SubmissionResult]:
    """Results in completion order; the pool is abandoned (not awaited) if the caller stops."""
    if not todo:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="neurograde")
    try:
        futures = [pool.submit(grade, s) for s in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # On Ctrl-C do not start the queued submissions; running ones end within their limit.
        pool.shutdown(wait=False, cancel_futures=True)


def publish(book: Gradebook, assignment: Assignment, out_dir: Path, only: set[str] | None, *,
            lang: str = "en", reports: bool = True, formats: Iterable[str] = (),
            roster=None, note: Callable[[str], None] = lambda text: None) -> list[SubmissionResult]:
    """Write every output from the gradebook rows of `assignment` (only the `only` stems)."""
    out_dir = Path(out_dir)
    results = book.export(assignment.question_ids, assignment.slug, only=only)
    if reports:
        from .report import write_reports
        written = write_reports(results, assignment, out_dir, lang)
        note(f"feedback pages: {out_dir / 'feedback'} ({written} updated); "
             f"class report: {out_dir / 'report.html'}")
    formats = tuple(formats)
    if formats:
        from .exports import write_exports
        outcome = write_exports(results, assignment, out_dir / "exports", formats, roster)
        for line in outcome.notes():
            note(line)
    return results
