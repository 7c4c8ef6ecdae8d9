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
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .collect import Submission, collect
from .gradebook import Gradebook
from .grader import autograder_version, make_grader
from .judge import SubmissionResult
from .probe import make_plan
from .progress import Progress
from .sandbox import box as sandbox
from .spec import Assignment

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
