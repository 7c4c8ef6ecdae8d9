"""Command line: neurograde list | release | grade | merge | export | demo | data | selftest.

Exit codes: 0 when the command ran (whatever the scores), 2 on usage errors and when the
grader's self-check fails (nobody is graded), 1 when the environment cannot do what was asked
(e.g. no sandbox available).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .spec import LANGUAGES, SpecError, UnknownAssignment, all_assignments, known_slugs, \
    load_assignment

USAGE_ERROR = 2
ENV_ERROR = 1


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="neurograde",
                                description="Autograded neural-network assignments.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"neurograde {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="assignments, their questions and points")

    r = sub.add_parser("release", help="build student notebooks and otter autograder zips")
    r.add_argument("slugs", nargs="*", metavar="SLUG")
    r.add_argument("--all", action="store_true", help="every assignment")
    r.add_argument("--out", required=True, type=Path, metavar="DIR")
    r.add_argument("--lang", default="en", choices=LANGUAGES)
    r.add_argument("--roster", type=Path, default=None, metavar="FILE",
                   help="one notebook per student, each with the student's own numbers "
                        "(roster CSV: student id, name, email; needs the instructor secret)")
    r.add_argument("--secret-file", type=Path, default=None, metavar="FILE",
                   help="instructor secret for per-student variants (or $NEUROGRADE_SECRET)")

    g = sub.add_parser("grade", help="grade a batch of submissions")
    g.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    g.add_argument("--assignment", required=True, metavar="SLUG")
    g.add_argument("--out", required=True, type=Path, metavar="DIR")
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    g.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="wall clock per submission (default 300)")
    g.add_argument("--seed", type=int, default=None,
                   help="draw the hidden inputs from this number instead of the assignment's "
                        "own (which the released otter zip uses too: with --seed its scores "
                        "are no longer expected to match this grade)")
    g.add_argument("--lang", default=None, choices=LANGUAGES,
                   help="feedback language (default: each notebook's own; changing it only "
                        "redraws the pages, nothing is graded again)")
    g.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without isolation (trusted code only)")
    g.add_argument("--shard", default=None, metavar="I/N",
                   help="grade only shard I of N (from 1; split by a stable hash of each "
                        "submission's name, for CI matrices; join with `neurograde merge`)")
    g.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="grade on the dask.distributed scheduler at ADDRESS (every worker "
                        "sandboxes; results land in this --out gradebook)")
    _export_options(g, required=False)
    g.add_argument("--skip-self-check", action="store_true",
                   help="do not grade the reference solution and the untouched notebook "
                        "first (a misconfigured grader then blames every student)")
    g.add_argument("--secret-file", type=Path, default=None, metavar="FILE",
                   help="with --roster: grade each submission against its student's variant "
                        "and flag edited or foreign variants (or set $NEUROGRADE_SECRET)")

    m = sub.add_parser("merge", help="join shard gradebooks into one and publish it")
    m.add_argument("shards", nargs="+", type=Path, metavar="SHARD_DIR")
    m.add_argument("--out", required=True, type=Path, metavar="DIR")
    m.add_argument("--prefer-newest", action="store_true",
                   help="on a submission graded differently in two shards keep the newer row "
                        "(default: stop and name the conflicts)")
    m.add_argument("--assignment", default=None, metavar="SLUG",
                   help="needed only when the shards hold several assignments")
    m.add_argument("--lang", default=None, choices=LANGUAGES,
                   help="feedback language (default: each notebook's own)")
    _export_options(m, required=False)

    e = sub.add_parser("export", help="write LMS exports from an existing gradebook")
    e.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="folder holding gradebook.sqlite (the --out of grade or merge); "
                        "exports go to DIR/exports/")
    e.add_argument("--format", required=True, metavar="FORMATS",
                   help="comma-separated: canvas,moodle (Gradescope: upload the otter zip "
                             "that release writes)")
    e.add_argument("--roster", type=Path, default=None, metavar="FILE",
                   help="roster CSV with student id, name, email columns")
    e.add_argument("--assignment", default=None, metavar="SLUG",
                   help="needed only when the gradebook holds several assignments")

    s = sub.add_parser("similarity", help="report submissions that share student-written code")
    s.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    s.add_argument("--assignment", required=True, metavar="SLUG")
    s.add_argument("--out", required=True, type=Path, metavar="DIR")
    s.add_argument("--threshold", type=float, default=None, metavar="SCORE",
                   help="flag pairs whose score reaches this fraction (default 0.5)")
    s.add_argument("--top", type=int, default=None, metavar="N",
                   help="pairs shown with their matching code, besides flagged ones (default 50)")

    t = sub.add_parser("selftest", help="check the checks: grade mutants of the reference "
                                        "and print how many the checks catch")
    t.add_argument("--mutants", nargs="*", required=True, metavar="SLUG",
                   help="the assignments whose reference is mutated (or --all)")
    from .mutation import add_options as mutation_options
    mutation_options(t)

    d = sub.add_parser("demo", help="release everything and grade the bundled examples")
    d.add_argument("--out", type=Path, default=None, metavar="DIR")
    d.add_argument("--lang", default="en", choices=LANGUAGES)
    d.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    d.add_argument("--unsafe-no-sandbox", action="store_true")
    data = sub.add_parser("data", help="get the course data (CIFAR-10 for the autoencoder)")
    data_actions = data.add_subparsers(dest="action", required=True)
    fetch = data_actions.add_parser("fetch", help="download a data set with a progress bar "
                                                  "and keep it only if its SHA-256 matches")
    fetch.add_argument("dataset", choices=["cifar10"])
    fetch.add_argument("--data", dest="fetch_dir", type=Path, default=None, metavar="DIR",
                       help="download into DIR/cifar10/ (default: $NEUROGRADE_DATA if set, "
                            "else the user cache folder, where grade and release look)")
    fetch.add_argument("--url", default=None, metavar="URL",
                       help="a mirror of the official archive (the same file: its SHA-256 "
                            "is checked all the same)")
    for command in (r, g, d):
        command.add_argument("--data", type=Path, default=None, metavar="DIR",
                             help="folder holding the course data (cifar10/ in any supported "
                                  "form); default $NEUROGRADE_DATA, ../shared/datasets, the "
                                  "user cache")
    return p


def _use_data_dir(path: Path) -> None:
    """--data wins over $NEUROGRADE_DATA; checked strictly so a typo is not silently ignored."""
    from .data.cifar10 import find_cifar10
    find_cifar10(path)  # raises DataNotFound naming what it looked for
    os.environ["NEUROGRADE_DATA"] = str(Path(path).resolve())


def _export_options(parser, required: bool) -> None:
    parser.add_argument("--export", required=required, default=None, metavar="FORMATS",
                        help="also write LMS exports to DIR/exports/: comma-separated "
                             "canvas,moodle (Gradescope: upload the otter zip "
                             "that release writes)")
    parser.add_argument("--roster", type=Path, default=None, metavar="FILE",
                        help="roster CSV (student id, name, email) naming students in exports")


def _formats(text: str | None, roster: Path | None = None,
             has_roster: bool | None = None) -> tuple[str, ...]:
    """The export formats asked for; roster: a roster given only for the exports (an
    error without --export); has_roster: whether any roster is given (default: roster)."""
    from .exports import MOODLE_NEEDS_ROSTER, parse_formats
    if text is None:
        if roster is not None:
            raise UsageError("--roster only names students in LMS exports; add --export "
                             "canvas,moodle (or drop --roster)")
        return ()
    try:
        formats = parse_formats(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if "moodle" in formats and not (roster is not None if has_roster is None else has_roster):
        raise UsageError(MOODLE_NEEDS_ROSTER)
    return formats


def _asks_for(assignment, question) -> str:
    """The functions a question defines or, for one that defines none (the autoencoder's
    train-and-submit cell), its heading in the English text."""
    if question.defines:
        return ", ".join(question.defines)
    text = assignment.text_sections("en").get(question.id, "")
    heading = next((line.lstrip("#").strip() for line in text.splitlines()
                    if line.startswith("#")), "")
    return f"(no function: {heading.split(' — ', 1)[-1]})" if heading else "(no function)"


def cmd_list(args) -> int:
    for a in all_assignments():
        print(f"{a.slug}  ({a.possible:g} points)  {a.title.get('en', '')}")
        for q in a.questions:
            print(f"    {q.id}  {q.points:g} pts  {_asks_for(a, q)}")
    return 0


def cmd_release(args) -> int:
    from .release import release
    if args.all == bool(args.slugs):
        raise UsageError("give assignment slugs or --all (not both); known: "
                         + ", ".join(known_slugs()))
    slugs = known_slugs() if args.all else args.slugs
    assignments = [load_assignment(s) for s in slugs]  # unknown names fail before any work
    if args.roster is not None:
        return _release_roster(args, assignments)
    for a in assignments:
        rel = release(a, args.out, args.lang)
        print(f"{a.slug} ({args.lang}): {rel.notebook}  {rel.autograder_zip}  "
              f"(handout: {rel.student_dir.parent / 'README.md'})")
    return 0


def _release_roster(args, assignments) -> int:
    from .exports import RosterError, read_roster
    from .release import release_folder, release_roster
    from .variants import SecretError, read_secret
    try:
        roster = read_roster(args.roster)
        secret = read_secret(args.secret_file)
    except (RosterError, SecretError) as exc:
        raise UsageError(str(exc)) from None
    without = [a.slug for a in assignments if not a.has_variants]
    if without:
        raise UsageError(f"no per-student variants in: {', '.join(without)}")
    for a in assignments:
        releases = release_roster(a, args.out, args.lang, roster, secret)
        base = release_folder(args.out, a.slug, args.lang)
        print(f"{a.slug} ({args.lang}): {len(releases)} student notebooks in "
              f"{base / 'students'}, autograder zips in {base / 'autograder' / 'students'} "
              f"(handout: {base / 'README.md'})")
    return 0


def cmd_grade(args) -> int:
    from .batch import BatchOptions, grade_batch
    from .collect import CollectError
    from .distributed import DaskUnavailable, SchedulerUnreachable, Shard, ShardError
    from .exports import RosterError
    from .gradebook import format_table
    from .sandbox.box import SandboxUnavailable
    from .selfcheck import SelfCheckFailed
    from .variants import VariantError
    assignment = load_assignment(args.assignment)
    if args.jobs < 1 or args.timeout <= 0:
        raise UsageError("--jobs must be >= 1 and --timeout > 0")
    try:
        shard = Shard.parse(args.shard) if args.shard else None
    except ShardError as exc:
        raise UsageError(str(exc)) from None
    secret = None
    if args.secret_file is not None or (args.roster is not None and args.export is None):
        from .variants import SecretError, read_secret
        if args.roster is None:
            raise UsageError("--secret-file needs --roster (to know whose variant to expect)")
        try:
            secret = read_secret(args.secret_file)
        except SecretError as exc:
            raise UsageError(str(exc)) from None
    options = BatchOptions(jobs=args.jobs, timeout=args.timeout, seed=args.seed, lang=args.lang,
                           unsafe=args.unsafe_no_sandbox, force=args.force, shard=shard,
                           dask=args.dask,
                           exports=_formats(args.export, None if secret else args.roster,
                                            has_roster=args.roster is not None),
                           roster=args.roster, secret=secret,
                           self_check=not args.skip_self_check)
    try:
        summary = grade_batch(assignment, args.paths, args.out, options)
    except (CollectError, RosterError, VariantError) as exc:
        raise UsageError(str(exc)) from None
    except SelfCheckFailed as exc:
        print(f"neurograde grade: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except SchedulerUnreachable as exc:
        raise UsageError(str(exc)) from None
    except (SandboxUnavailable, DaskUnavailable) as exc:
        print(f"neurograde: {exc}", file=sys.stderr)
        return ENV_ERROR
    from .i18n import cli_text
    print(format_table(list(summary.results), assignment.question_ids, args.lang))
    outside = cli_text(args.lang, "outside", count=summary.outside_shard) if shard else ""
    print("\n" + cli_text(args.lang, "graded", csv=args.out / "grades.csv",
                          graded=summary.graded, skipped=summary.skipped, outside=outside,
                          report=args.out / "report.html"))
    return 0


def cmd_merge(args) -> int:
    from .batch import publish
    from .exports import RosterError, read_roster
    from .gradebook import Gradebook, GradebookError, format_table, merge, single_assignment
    formats = _formats(args.export, args.roster)
    try:
        roster = read_roster(args.roster) if args.roster else None
        rows = merge(args.shards, args.out, prefer_newest=args.prefer_newest)
        book = Gradebook.open_existing(args.out)
        try:
            assignment = load_assignment(single_assignment(book, args.assignment))
            results = publish(book, assignment, args.out, None, lang=args.lang,
                              formats=formats, roster=roster,
                              note=lambda text: print(text, file=sys.stderr))
        finally:
            book.close()
    except RosterError as exc:
        raise UsageError(str(exc)) from None
    except GradebookError as exc:
        print(f"neurograde merge: {exc}", file=sys.stderr)
        return ENV_ERROR
    from .i18n import cli_text
    print(format_table(results, assignment.question_ids, args.lang))
    print("\n" + cli_text(args.lang, "merged", shards=len(args.shards), rows=len(rows),
                          csv=args.out / "grades.csv", report=args.out / "report.html"))
    return 0


def cmd_export(args) -> int:
    from .batch import publish
    from .exports import RosterError, read_roster
    from .gradebook import Gradebook, GradebookError, single_assignment
    formats = _formats(args.format, has_roster=args.roster is not None)
    try:
        roster = read_roster(args.roster) if args.roster else None
        book = Gradebook.open_existing(args.out)
        try:
            assignment = load_assignment(single_assignment(book, args.assignment))
            publish(book, assignment, args.out, None, reports=False, formats=formats,
                    roster=roster, note=print)
        finally:
            book.close()
    except RosterError as exc:
        raise UsageError(str(exc)) from None
    except GradebookError as exc:
        print(f"neurograde export: {exc}", file=sys.stderr)
        return ENV_ERROR
    return 0


def cmd_demo(args) -> int:
    import shutil
    from .batch import BatchOptions, grade_batch
    from .data.cifar10 import DataNotFound
    from .examples import write_examples
    from .gradebook import format_table
    from .release import release
    from .sandbox.box import SandboxUnavailable
    from .selfcheck import SelfCheckFailed
    out = args.out or Path(tempfile.mkdtemp(prefix="neurograde-demo-"))
    print(f"neurograde demo: releasing every assignment and grading its examples in {out}\n")
    without_data = []
    for a in all_assignments():
        try:
            rel = release(a, out / "release", args.lang)
            print(f"released {a.slug}: {rel.notebook.relative_to(out)}, "
                  f"{rel.autograder_zip.relative_to(out)}")
            examples = write_examples(a, out / "submissions" / a.slug, args.lang)
            summary = grade_batch(a, examples, out / "grades" / a.slug,
                                  BatchOptions(jobs=args.jobs, timeout=300, lang=args.lang,
                                               unsafe=args.unsafe_no_sandbox, quiet=True))
        except DataNotFound:
            # One assignment's data missing must not stop the others: say so at the end.
            without_data.append(a.slug)
            shutil.rmtree(out / "release" / a.slug, ignore_errors=True)
            print(f"skipped {a.slug}: its data (CIFAR-10) is not on this machine\n")
            continue
        except SandboxUnavailable as exc:
            print(f"neurograde: {exc}", file=sys.stderr)
            return ENV_ERROR
        except SelfCheckFailed as exc:
            print(f"neurograde demo: {exc}", file=sys.stderr)
            return USAGE_ERROR
        print(format_table(list(summary.results), a.question_ids, args.lang))
        print()
    print(f"gradebooks: {out / 'grades'}/<assignment>/grades.csv")
    if without_data:
        print(f"\nneurograde demo: not released nor graded, CIFAR-10 not found: "
              f"{', '.join(without_data)}. Get the data with `neurograde data fetch cifar10` "
              f"(downloads the official archive, 170 MB, where the network allows it), or put "
              f"cifar-10-python.tar.gz in DIR/cifar10/ and pass --data DIR; then run "
              f"neurograde demo again.", file=sys.stderr)
        return ENV_ERROR
    return 0


def cmd_similarity(args) -> int:
    from .collect import CollectError
    from .similarity.report import SimilarityOptions, compare, write_report
    assignment = load_assignment(args.assignment)
    given = {name: value for name, value in (("threshold", args.threshold), ("top", args.top))
             if value is not None}
    try:
        options = SimilarityOptions(**given)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        report = compare(assignment, args.paths, options)
    except CollectError as exc:
        raise UsageError(str(exc)) from None
    for skipped in report.skipped:
        print(f"neurograde similarity: {skipped.message}", file=sys.stderr)
    html, table = write_report(report, args.out)
    print(f"{len(report.submissions)} submissions compared, {len(report.skipped)} unreadable, "
          f"{len(report.flagged)} pair(s) flagged")
    for pair in report.flagged[:20]:
        print(f"  {pair.score:4.0%}  {pair.a} <-> {pair.b}  ({pair.matched_tokens} tokens)")
    if len(report.flagged) > 20:
        print(f"  ... and {len(report.flagged) - 20} more flagged pairs (see the table)")
    print(f"report: {html}\ntable:  {table}")
    return 0


def cmd_selftest(args) -> int:
    """Mutation score (autograder/mutation.py): exit 1 below --min, 2 on a grader fault."""
    from .mutation import command
    return command(args.mutants, args)


def cmd_data(args) -> int:
    from .data.cifar10 import ENV_VAR, DownloadError, download_cifar10
    env = os.environ.get(ENV_VAR)
    root = args.fetch_dir or (Path(env).expanduser() if env else None)
    try:
        path = download_cifar10(root / "cifar10" if root is not None else None, url=args.url)
    except DownloadError as exc:
        print(f"neurograde data fetch: {exc}", file=sys.stderr)
        return ENV_ERROR
    print(f"CIFAR-10: {path} (size and SHA-256 checked)")
    if args.fetch_dir is not None:
        print(f"grade, release and demo find it with --data {args.fetch_dir} "
              f"(or {ENV_VAR}={args.fetch_dir})")
    return 0


COMMANDS = {"list": cmd_list, "release": cmd_release, "grade": cmd_grade, "demo": cmd_demo,
            "similarity": cmd_similarity, "merge": cmd_merge, "export": cmd_export,
            "data": cmd_data, "selftest": cmd_selftest}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage message
        return int(exc.code) if exc.code is not None else USAGE_ERROR
    from .data.cifar10 import DataNotFound
    try:
        if getattr(args, "data", None) is not None:
            _use_data_dir(args.data)
        from . import timing
        with timing.stage(None, "command"):
            return COMMANDS[args.command](args)
    except DataNotFound as exc:
        print(f"neurograde {args.command}: {exc}", file=sys.stderr)
        return ENV_ERROR
    except (UsageError, UnknownAssignment) as exc:
        print(f"neurograde {args.command}: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except SpecError as exc:
        print(f"neurograde {args.command}: assignment source error: {exc}", file=sys.stderr)
        return ENV_ERROR


if __name__ == "__main__":
    sys.exit(main())
