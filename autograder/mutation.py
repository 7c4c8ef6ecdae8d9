"""Mutation testing: how many wrong programs do an assignment's checks catch?

Mechanical mutants of ``reference/<slug>.py`` (mutants.py: operators, comparisons, numbers,
negations, axes, booleans and defaults in the functions students write, each with an id like
``function: before -> after``) are sampled, at most --limit per assignment, seeded by the
slug. Each mutant becomes a submission, the student notebook with the reference pasted in
and the mutated function in its question cell, and all of an assignment's mutants are graded
in one batch with the unmutated reference (grade_batch: the sandbox and the judge, exactly as
students' work). A mutant is killed when it scores less than full marks. The reference must
get full marks, or the run stops: that is a grader fault, not a mutant's result.

Mutants the checks cannot catch because they compute the same thing are listed in the
assignment's README.md, section ``## Mutation testing``: a table whose first column holds the
mutant id in backticks and the second why it is equivalent. The score is killed / (mutants -
listed equivalent mutants that survived); a listed mutant that is killed or no longer made is
reported as a stale entry.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .mutants import Mutant, MutationError, mutants_of_source, sample
from .spec import Assignment

__all__ = ["Mutant", "MutationError", "Outcome", "Report", "assignment_mutants", "choose",
           "format_report", "grade_mutants", "main", "mutants_of_source", "read_equivalents",
           "report_for", "run", "sample", "write_submissions"]

README_SECTION = "## Mutation testing"
DEFAULT_LIMIT = 60
DEFAULT_MIN_SCORE = 95.0
SLOW = ("autoencoder",)  # trains models in its checks: graded only when named


def assignment_mutants(assignment: Assignment) -> list[Mutant]:
    """Every mutant of the functions the assignment's questions define, question order."""
    names = [name for q in assignment.questions for name in q.defines]
    return mutants_of_source(assignment.reference_path.read_text(), names)


# -- submissions and grading ------------------------------------------------------------------

REFERENCE_NAME = "reference"


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    killed: bool
    status: str
    total: float
    possible: float


def mutant_sources(assignment: Assignment, mutant: Mutant | None,
                   reference: dict[str, str] | None = None) -> dict[str, str]:
    """The question cells of a submission: the reference's code, except the mutant's
    question, whose cell holds the mutated function instead of the reference's."""
    from .release import solution_source
    sources = dict(reference or {q: solution_source(assignment, q, assignment.reference)
                                 for q in assignment.question_ids})
    if mutant is not None:
        qid = assignment.question_of(mutant.function).id
        if mutant.original not in sources[qid]:
            raise MutationError(f"{assignment.slug}: the code of {mutant.function} in question "
                                f"{qid}'s cell is not the reference file's (was "
                                f"{assignment.reference_path} edited during the run?)")
        sources[qid] = sources[qid].replace(mutant.original, mutant.source, 1)
    return sources


def write_submissions(assignment: Assignment, mutants: list[Mutant], folder: Path,
                      lang: str = "en") -> dict[str, tuple[Path, Mutant | None]]:
    """The unmutated reference and one submission per mutant under folder (a notebook, or
    a folder with the files the assignment's submissions carry, e.g. the autoencoder's
    checkpoint): name -> (path, mutant or None for the reference)."""
    from .examples import _write
    from .release import build_notebook, fill_notebook, solution_source
    nb = build_notebook(assignment, lang)
    reference = {q: solution_source(assignment, q, assignment.reference)
                 for q in assignment.question_ids}
    named = {REFERENCE_NAME: None, **{f"mutant-{i:03d}": m for i, m in enumerate(mutants)}}
    return {name: (_write(assignment, fill_notebook(nb, mutant_sources(assignment, m, reference)),
                          Path(folder) / name, "correct"), m)
            for name, m in named.items()}


def grade_mutants(assignment: Assignment, mutants: list[Mutant], *, jobs: int = 2,
                  timeout: float | None = None, keep: Path | None = None,
                  lang: str = "en") -> list[Outcome]:
    """Grade the mutants and the unmutated reference in one grade_batch (sandbox, limits,
    judge); MutationError if the reference does not get full marks."""
    import shutil
    from .batch import BatchOptions, grade_batch
    from .selfcheck import SelfCheckFailed
    options = BatchOptions(jobs=jobs, timeout=timeout or assignment.timeout, quiet=True,
                           force=True, reports=False, lang=lang)
    with tempfile.TemporaryDirectory(prefix=f"neurograde-mutants-{assignment.slug}-") as tmp:
        base = Path(keep) if keep is not None else Path(tmp)
        shutil.rmtree(base / "submissions", ignore_errors=True)
        written = write_submissions(assignment, mutants, base / "submissions", lang)
        try:
            summary = grade_batch(assignment, [path for path, _ in written.values()],
                                  base / "grades", options)
        except SelfCheckFailed as exc:
            raise MutationError(f"grader fault, no mutant result: {exc}") from None
        except Exception as exc:  # e.g. the reference fails on a check's inputs
            raise MutationError(f"no mutant result: grading {assignment.slug} failed before "
                                f"any mutant was judged: "
                                f"{type(exc).__name__}: {exc}") from exc
    results = {r.submission.removesuffix(".ipynb"): r for r in summary.results}
    ref = results.get(REFERENCE_NAME)
    if ref is None or ref.status != "ok" or ref.total < ref.possible - 1e-6:
        got = "no result" if ref is None else f"{ref.status}, {ref.total:g}/{ref.possible:g}"
        detail = f": {ref.message}" if ref is not None and ref.message else ""
        raise MutationError(f"grader fault, no mutant result: the unmutated reference of "
                            f"{assignment.slug} got {got} instead of full marks{detail}")
    outcomes = []
    for name, (_, mutant) in written.items():
        if mutant is None:
            continue
        r = results.get(name)
        if r is None:
            raise MutationError(f"{assignment.slug}: the batch returned no row for {name} "
                                f"({mutant.id})")
        killed = r.status != "ok" or r.total < r.possible - 1e-6
        outcomes.append(Outcome(mutant, killed, r.status, r.total, r.possible))
    return outcomes


# -- equivalent mutants and the score ---------------------------------------------------------

def readme_path(assignment: Assignment) -> Path:
    return assignment.folder / "README.md"


def read_equivalents(readme: Path) -> dict[str, str]:
    """Mutant id -> why it is equivalent, from the table in the README's `## Mutation
    testing` section (first column: the id in backticks, `|` written as `\\|`)."""
    path = Path(readme)
    if not path.exists():
        return {}
    found, inside = {}, False
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            inside = line.strip() == README_SECTION
            continue
        if not (inside and line.lstrip().startswith("|")):
            continue
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        match = re.fullmatch(r"\s*`(.+)`\s*", cells[0])
        if match:  # the header and the |---| line hold no id
            found[match.group(1).replace("\\|", "|")] = \
                cells[1].strip().replace("\\|", "|") if len(cells) > 1 else ""
    return found


@dataclass(frozen=True)
class Report:
    slug: str
    made: int                            # mutants made before sampling
    outcomes: tuple[Outcome, ...]        # the graded ones
    equivalent: dict[str, str] = field(default_factory=dict)   # listed in the README
    stale: tuple[tuple[str, str], ...] = ()                     # (listed id, why stale)
    readme: str = ""

    @property
    def killed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.killed]

    @property
    def equivalent_survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.killed and o.mutant.id in self.equivalent]

    @property
    def survivors(self) -> list[Outcome]:
        """Surviving mutants not listed as equivalent: a check is missing."""
        return [o for o in self.outcomes if not o.killed and o.mutant.id not in self.equivalent]

    @property
    def score(self) -> float:
        counted = len(self.outcomes) - len(self.equivalent_survivors)
        return 100.0 * len(self.killed) / counted if counted else 100.0


def report_for(slug: str, made: list[Mutant], outcomes: list[Outcome],
               equivalent: dict[str, str], readme: str = "") -> Report:
    """The score, and the listed equivalents that are stale: killed, or no longer made."""
    ids = {m.id for m in made}
    by_id = {o.mutant.id: o for o in outcomes}
    stale = []
    for mid in equivalent:
        if mid not in ids:
            stale.append((mid, "no longer made by the mutation tool"))
        elif mid in by_id and by_id[mid].killed:
            o = by_id[mid]
            stale.append((mid, f"killed ({o.status}, {o.total:g}/{o.possible:g})"))
    return Report(slug, len(made), tuple(outcomes), dict(equivalent), tuple(stale), readme)


def format_report(report: Report) -> str:
    lines = [f"{report.slug}: {len(report.outcomes)} mutants graded ({report.made} made), "
             f"{len(report.killed)} killed, {len(report.equivalent_survivors)} equivalent, "
             f"score {report.score:.1f}%"]
    if report.survivors:
        lines.append(f"  surviving, not listed as equivalent ({len(report.survivors)}):")
        lines += [f"    {o.mutant.id}" for o in report.survivors]
    if report.equivalent_survivors:
        lines.append(f"  surviving, listed as equivalent ({len(report.equivalent_survivors)}):")
        lines += [f"    {o.mutant.id}" for o in report.equivalent_survivors]
    if report.stale:
        lines.append(f"  stale entries in {report.readme or 'the README'} "
                     f"({README_SECTION}):")
        lines += [f"    `{mid}`: {why}" for mid, why in report.stale]
    return "\n".join(lines)


def below(reports: Iterable[Report], min_score: float) -> list[str]:
    """The assignments scoring below min_score (percent)."""
    return [r.slug for r in reports if r.score < min_score - 1e-9]


# -- running it -------------------------------------------------------------------------------

def choose(assignment: Assignment, limit: int | None, ids: Iterable[str] = ()) -> tuple[
        list[Mutant], list[Mutant]]:
    """(every mutant made, the ones to grade): the given ids, else the sample of `limit`."""
    made = assignment_mutants(assignment)
    ids = list(ids)
    if not ids:
        return made, sample(made, limit, assignment.slug)
    by_id = {m.id: m for m in made}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(by_id), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise MutationError(f"{assignment.slug}: no mutant {unknown[0]!r}{hint} (--list shows "
                            f"the ids)")
    return made, [by_id[i] for i in dict.fromkeys(ids)]


def run(assignment: Assignment, *, limit: int | None = DEFAULT_LIMIT, jobs: int = 2,
        timeout: float | None = None, readme: Path | None = None, ids: Iterable[str] = (),
        keep: Path | None = None) -> Report:
    made, chosen = choose(assignment, limit, ids)
    readme = Path(readme) if readme is not None else readme_path(assignment)
    outcomes = grade_mutants(assignment, chosen, jobs=jobs, timeout=timeout, keep=keep)
    return report_for(assignment.slug, made, outcomes, read_equivalents(readme), str(readme))


def add_options(parser) -> None:
    """The options of `benchmarks/mutation.py` and `neurograde selftest --mutants`."""
    parser.add_argument("--all", action="store_true",
                        help=f"every assignment except the slow ones ({', '.join(SLOW)}: it "
                             f"trains in its checks and carries a checkpoint; name it to "
                             f"include it)")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                        help=f"grade at most N mutants per assignment, a sample seeded by its "
                             f"name (default {DEFAULT_LIMIT}; 0: all)")
    parser.add_argument("--jobs", type=int, default=2, metavar="N",
                        help="submissions graded at once (default 2)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="wall clock per submission (default: the assignment's timeout)")
    parser.add_argument("--min", type=float, default=DEFAULT_MIN_SCORE, metavar="PERCENT",
                        dest="min_score",
                        help=f"exit 1 if an assignment scores below this (default "
                             f"{DEFAULT_MIN_SCORE:g})")
    parser.add_argument("--list", action="store_true",
                        help="print the ids of the mutants that would be graded; grade nothing")
    parser.add_argument("--id", action="append", default=[], metavar="ID", dest="ids",
                        help="grade only this mutant (repeatable; one assignment)")
    parser.add_argument("--readme", type=Path, default=None, metavar="FILE",
                        help="read the equivalent mutants from FILE instead of "
                             "assignments/<slug>/README.md (one assignment)")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="write the submissions and the gradebook to DIR (one assignment) "
                             "instead of a temporary folder")


def command(slugs: list[str], args, out: Callable[[str], None] = print,
            err: Callable[[str], None] | None = None) -> int:
    """Exit 0 when every assignment reaches --min, 1 when one does not, 2 on a usage error or
    a grader fault (the unmutated reference without full marks)."""
    import sys
    import time
    from .spec import SpecError, UnknownAssignment, known_slugs, load_assignment
    err = err or (lambda text: print(text, file=sys.stderr, flush=True))
    slugs = list(dict.fromkeys([*([s for s in known_slugs() if s not in SLOW]
                                  if args.all else []), *slugs]))
    if not slugs:
        err("mutation: name assignments (SLUG ...) or pass --all")
        return 2
    single = [name for name, value in (("--id", args.ids), ("--readme", args.readme),
                                       ("--keep", args.keep)) if value]
    if len(slugs) > 1 and single:
        err(f"mutation: {', '.join(single)} need a single assignment")
        return 2
    if args.jobs < 1 or args.limit < 0 or (args.timeout is not None and args.timeout <= 0):
        err("mutation: --jobs must be >= 1, --limit >= 0 and --timeout > 0")
        return 2
    reports = []
    try:
        assignments = [load_assignment(s) for s in slugs]
        for assignment in assignments:
            if args.list:
                made, chosen = choose(assignment, args.limit, args.ids)
                out(f"# {assignment.slug}: {len(chosen)} of {len(made)} mutants")
                for m in chosen:
                    out(m.id)
                continue
            started = time.monotonic()
            made, chosen = choose(assignment, args.limit, args.ids)
            err(f"{assignment.slug}: grading {len(chosen)} of {len(made)} mutants and the "
                f"reference ({args.jobs} jobs)")
            report = run(assignment, limit=args.limit, jobs=args.jobs, timeout=args.timeout,
                         readme=args.readme, ids=args.ids, keep=args.keep)
            out(format_report(report))
            err(f"{assignment.slug}: {time.monotonic() - started:.0f} s")
            reports.append(report)
    except (MutationError, UnknownAssignment, SpecError) as exc:
        err(f"mutation: {exc}")
        return 2
    failing = below(reports, args.min_score)
    if failing:
        out(f"below {args.min_score:g}%: {', '.join(failing)}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(
        prog="mutation", description="Grade mechanical mutants of reference/<slug>.py as "
        "submissions and print the share the checks catch (equivalent mutants: the table in "
        f"assignments/<slug>/README.md, section {README_SECTION!r}).")
    parser.add_argument("slugs", nargs="*", metavar="SLUG")
    add_options(parser)
    args = parser.parse_args(argv)
    return command(args.slugs, args)
