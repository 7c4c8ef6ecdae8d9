"""A grading batch: collect -> plan -> (execute -> judge -> record) per submission -> publish.

Expected values are computed once per batch (once per worker with dask). Every submission ends
with exactly one gradebook row, whatever happens to it; a crash of the grader's own code on one
submission becomes that submission's row ("internal-error", retried by the next run), never a
crashed batch. Rows are committed as each submission finishes, so a killed batch resumes where
it stopped; ``publish`` then writes everything else (grades.csv, results/*.json, feedback pages,
the class report, LMS exports) from the gradebook, never from memory.

Before anything is graded the grader checks itself (selfcheck.py: the reference must get full
marks and the stub 0 through the same sandbox and limits). Submissions that collection refused
(links, limits, name collisions) get their `invalid` row without running. Each grading is
counted as an attempt, committed before it starts, and cleared when its row is recorded: a
submission that gets the grader itself killed (say, by the machine's OOM killer) is graded
first and alone on the next run, and after `max_attempts` unfinished attempts it gets a
`grader-killed` row instead of stopping every run of the batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import timing
from .collect import Submission, collect
from .i18n import cli_text
from .gradebook import Gradebook
from .grader import autograder_version, grader_killed, limits_for, make_grader, refused
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
    lang: str | None = None              # feedback language; None: each notebook's own
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
    self_check: bool = True              # grade the reference and the stub first (selfcheck.py)
    max_attempts: int = 3                # unfinished gradings before a `grader-killed` row


@dataclass(frozen=True)
class BatchSummary:
    graded: int
    skipped: int
    results: tuple[SubmissionResult, ...]
    sandbox: str
    outside_shard: int = 0    # submissions found but left to other shards


def grade_batch(assignment: Assignment, paths: list[Path], out_dir: Path,
                options: BatchOptions) -> BatchSummary:
    with timing.stage(None, "collect"):
        submissions = collect(paths, assignment.limits)
    in_batch = submissions
    if options.shard is not None:
        in_batch = [s for s in submissions if options.shard.selects(s.stem)]
    roster = None
    if options.exports or options.roster:
        from .exports import read_roster  # fail on a bad roster before grading, not after
        roster = read_roster(options.roster) if options.roster else None
    with timing.stage(None, "plan (inputs drawn) and grader version"):
        plan = make_plan(assignment, options.seed)
        version = autograder_version(assignment, plan.seed)
    if options.secret is not None:
        if options.dask:
            from .variants import VariantError
            raise VariantError("per-student variants (--secret-file) are not supported with "
                               "--dask yet; grade variants locally or by --shard")
        # A different secret means different variants: stored rows must not count as done.
        version += "+v" + hashlib.sha256(options.secret).hexdigest()[:8]
    if options.dask:
        from .distributed import check_scheduler
        check_scheduler(options.dask)  # before anything is written
    book = Gradebook(out_dir)
    try:
        slug = assignment.slug
        todo = [s for s in in_batch
                if options.force or not book.done(slug, s.stem, s.sha256, version)]
        skipped = len(in_batch) - len(todo)
        if options.force:
            book.forget_attempts(slug, [s.stem for s in todo])
        runnable = [s for s in todo if s.problem is None]
        tries = {s.stem: book.unfinished_attempts(slug, s.stem, s.sha256, version)
                 for s in runnable}
        killed = [s for s in runnable if tries[s.stem] >= options.max_attempts]
        to_grade = [s for s in runnable if tries[s.stem] < options.max_attempts]
        progress = Progress(len(todo), mode="quiet" if options.quiet else options.progress,
                            lang=options.lang)
        grading = _grading(assignment, plan, version, to_grade, roster, options,
                           on_start=progress.started)
        grade, where = grading.grade, grading.where
        if to_grade and options.self_check:
            with timing.stage(None, "self-check"):
                _check_self(assignment, grading, version, out_dir, options, progress)
        # Submissions whose grading never finished before run first and alone, so a poison
        # one only takes itself (not the submissions beside it) towards `grader-killed`.
        suspects = [s for s in to_grade if tries[s.stem]]
        results = _chain(
            (refused(s, assignment) for s in todo if s.problem is not None),
            (grader_killed(s, assignment, tries[s.stem]) for s in killed),
            grade(suspects, 1, book, version),
            grade([s for s in to_grade if not tries[s.stem]], options.jobs, book, version))
        say = partial(cli_text, options.lang)
        shard = say("shard", shard=options.shard, selected=len(in_batch),
                    found=len(submissions)) if options.shard is not None else ""
        held = len(todo) - len(to_grade)
        progress.note(say("grading", count=len(to_grade), slug=slug, shard=shard,
                          skipped=skipped, held=say("held", count=held) if held else "",
                          workers="dask" if options.dask else say("jobs", jobs=options.jobs),
                          where=where))
        sources = {s.stem: s.source for s in in_batch}
        try:
            progress.start()  # the timer thread: stopped by close() below, whatever happens
            with timing.stage(None, "grading loop (first submission to last row)"):
                for result in results:
                    result = dataclasses.replace(result, extra={
                        **result.extra, "source": sources.get(result.submission, "")})
                    with timing.stage(result.submission, "gradebook commit"):
                        book.record(result, version)  # committed before anything else reads it
                    progress.update(result)
        finally:
            progress.close()
        with timing.stage(None, "publish (feedback pages, class report, exports)"):
            published = publish(book, assignment, out_dir, {s.stem for s in in_batch},
                                lang=options.lang, reports=options.reports,
                                formats=options.exports, roster=roster, note=progress.note)
    finally:
        book.close()
    return BatchSummary(len(todo), skipped, tuple(published), where,
                        outside_shard=len(submissions) - len(in_batch))


def _chain(*parts: Iterable[SubmissionResult]) -> Iterator[SubmissionResult]:
    for part in parts:
        yield from part


GradeFn = Callable[[list[Submission], int, Gradebook, str], Iterator[SubmissionResult]]


@dataclass(frozen=True)
class _Grading:
    grade: GradeFn                  # (submissions, jobs, book, version) -> results
    where: str                      # for the log and the rows
    canonical: Callable[[list[Submission]], Iterator[SubmissionResult]] | None = None
    box: object | None = None       # the local sandbox, for the self-check's diagnosis


def _grading(assignment: Assignment, plan, version: str, to_grade: list[Submission], roster,
             options: BatchOptions,
             on_start: Callable[[str], None] = lambda stem: None) -> _Grading:
    """How this batch grades a list of submissions, and where (on_start(stem) as each one
    begins running locally, for the progress heartbeat)."""
    if options.dask:
        from .distributed import grade_on_dask

        def on_dask(subs, jobs, book, version):  # the workers die, not this process
            return grade_on_dask(options.dask, plan, version, subs, options)
        return _Grading(on_dask, f"dask scheduler {options.dask} (each worker sandboxes)",
                        lambda subs: on_dask(subs, 0, None, version))
    if not to_grade:
        return _Grading(lambda subs, jobs, book, version: iter(()),
                        sandbox_description(options.unsafe))
    grader = make_grader(plan, options.timeout, options.lang or "en", options.unsafe)
    one, where = grader.grade, grader.box.describe()
    if options.secret is not None:
        from .variants import VariantGrading
        router = VariantGrading(
            assignment, options.secret, roster or (), to_grade,
            lambda p: make_grader(p, options.timeout, options.lang or "en", options.unsafe),
            options.seed)
        one, where = router.grade, router.describe() + "; per-student variants"

    def locally(subs, jobs, book, version):
        def attempt(sub: Submission) -> SubmissionResult:
            with timing.stage(sub.stem, "gradebook: attempt committed"):
                book.start_attempt(assignment.slug, sub.stem, sub.sha256, version)
            on_start(sub.stem)
            return one(sub)
        return _grade_locally(attempt, subs, jobs)
    # The self-check's two runs share the batch's job slots (up to two at once), warming the
    # workers the batch then reuses.
    return _Grading(locally, where,
                    lambda subs: _grade_locally(grader.grade, subs, min(2, options.jobs)),
                    grader.box)


def _check_self(assignment: Assignment, grading: _Grading, version: str, out_dir: Path,
                options: BatchOptions, progress: Progress) -> None:
    """selfcheck.self_check through this batch's own sandbox and limits (canonical variant)."""
    from .selfcheck import self_check
    limits = limits_for(assignment, options.timeout)
    key = {"version": version, "sandbox": grading.where, "interpreter": sys.executable,
           "limits": dataclasses.asdict(limits), "lang": options.lang}
    if self_check(assignment, grading.canonical, out_dir, key, grading.box, options.lang or "en",
                  remember=not options.dask):
        progress.note(cli_text(options.lang, "self_check"))


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
        # as_completed lets go of each future once it is yielded; no list here holds them,
        # so a result is freed as soon as the caller has recorded it (memory stays flat).
        for future in as_completed([pool.submit(grade, s) for s in todo]):
            yield future.result()
    finally:
        # On Ctrl-C do not start the queued submissions; running ones end within their limit.
        pool.shutdown(wait=False, cancel_futures=True)


def publish(book: Gradebook, assignment: Assignment, out_dir: Path, only: set[str] | None, *,
            lang: str | None = None, reports: bool = True, formats: Iterable[str] = (),
            roster=None, note: Callable[[str], None] = lambda text: None) -> list[SubmissionResult]:
    """Write every output from the gradebook rows of `assignment` (only the `only` stems)."""
    out_dir = Path(out_dir)
    results = book.export(assignment.question_ids, assignment.slug, only=only)
    if reports:
        from .report import write_reports
        written = write_reports(results, assignment, out_dir, lang)
        note(cli_text(lang, "published", folder=out_dir / "feedback", written=written,
                      report=out_dir / "report.html"))
    formats = tuple(formats)
    if formats:
        from .exports import write_exports
        outcome = write_exports(results, assignment, out_dir / "exports", formats, roster)
        for line in outcome.notes():
            note(line)
    return results
