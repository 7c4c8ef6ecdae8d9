"""Command line: neurograde list | release | grade | demo.

Exit codes: 0 when the command ran (whatever the scores), 2 on usage errors, 1 when the
environment cannot do what was asked (e.g. no sandbox available).
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
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="assignments, their questions and points")

    r = sub.add_parser("release", help="build student notebooks and otter autograder zips")
    r.add_argument("slugs", nargs="*", metavar="SLUG")
    r.add_argument("--all", action="store_true", help="every assignment")
    r.add_argument("--out", required=True, type=Path, metavar="DIR")
    r.add_argument("--lang", default="en", choices=LANGUAGES)

    g = sub.add_parser("grade", help="grade a batch of submissions")
    g.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    g.add_argument("--assignment", required=True, metavar="SLUG")
    g.add_argument("--out", required=True, type=Path, metavar="DIR")
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    g.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="wall clock per submission (default 300)")
    g.add_argument("--seed", type=int, default=None, help="grading seed for hidden inputs")
    g.add_argument("--lang", default="en", choices=LANGUAGES, help="feedback language")
    g.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without isolation (trusted code only)")

    d = sub.add_parser("demo", help="release everything and grade the bundled examples")
    d.add_argument("--out", type=Path, default=None, metavar="DIR")
    d.add_argument("--lang", default="en", choices=LANGUAGES)
    d.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    d.add_argument("--unsafe-no-sandbox", action="store_true")
    return p


def cmd_list(args) -> int:
    for a in all_assignments():
        print(f"{a.slug}  ({a.possible:g} points)  {a.title.get('en', '')}")
        for q in a.questions:
            print(f"    {q.id}  {q.points:g} pts  {', '.join(q.defines)}")
    return 0


def cmd_release(args) -> int:
    from .release import release
    if args.all == bool(args.slugs):
        raise UsageError("give assignment slugs or --all (not both); known: "
                         + ", ".join(known_slugs()))
    slugs = known_slugs() if args.all else args.slugs
    assignments = [load_assignment(s) for s in slugs]  # unknown names fail before any work
    for a in assignments:
        rel = release(a, args.out, args.lang)
        print(f"{a.slug}: {rel.notebook}  {rel.autograder_zip}")
    return 0


def cmd_grade(args) -> int:
    from .batch import BatchOptions, grade_batch
    from .collect import CollectError
    from .gradebook import format_table
    from .sandbox import SandboxUnavailable
    assignment = load_assignment(args.assignment)
    if args.jobs < 1 or args.timeout <= 0:
        raise UsageError("--jobs must be >= 1 and --timeout > 0")
    options = BatchOptions(jobs=args.jobs, timeout=args.timeout, seed=args.seed, lang=args.lang,
                           unsafe=args.unsafe_no_sandbox, force=args.force)
    try:
        summary = grade_batch(assignment, args.paths, args.out, options)
    except CollectError as exc:
        raise UsageError(str(exc)) from None
    except SandboxUnavailable as exc:
        print(f"neurograde: {exc}", file=sys.stderr)
        return ENV_ERROR
    print(format_table(list(summary.results), assignment.question_ids))
    print(f"\ngradebook: {args.out / 'grades.csv'}  ({summary.graded} graded, "
          f"{summary.skipped} unchanged)")
    return 0


def cmd_demo(args) -> int:
    from .batch import BatchOptions, grade_batch
    from .examples import write_examples
    from .gradebook import format_table
    from .release import release
    from .sandbox import SandboxUnavailable
    out = args.out or Path(tempfile.mkdtemp(prefix="neurograde-demo-"))
    print(f"neurograde demo: releasing every assignment and grading its examples in {out}\n")
    for a in all_assignments():
        rel = release(a, out / "release", args.lang)
        print(f"released {a.slug}: {rel.notebook.relative_to(out)}, "
              f"{rel.autograder_zip.relative_to(out)}")
        examples = write_examples(a, out / "submissions" / a.slug, args.lang)
        try:
            summary = grade_batch(a, examples, out / "grades" / a.slug,
                                  BatchOptions(jobs=args.jobs, timeout=300, lang=args.lang,
                                               unsafe=args.unsafe_no_sandbox, quiet=True))
        except SandboxUnavailable as exc:
            print(f"neurograde: {exc}", file=sys.stderr)
            return ENV_ERROR
        print(format_table(list(summary.results), a.question_ids))
        print()
    print(f"gradebooks: {out / 'grades'}/<assignment>/grades.csv")
    return 0


COMMANDS = {"list": cmd_list, "release": cmd_release, "grade": cmd_grade, "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage message
        return int(exc.code) if exc.code is not None else USAGE_ERROR
    try:
        return COMMANDS[args.command](args)
    except (UsageError, UnknownAssignment) as exc:
        print(f"neurograde {args.command}: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except SpecError as exc:
        print(f"neurograde {args.command}: assignment source error: {exc}", file=sys.stderr)
        return ENV_ERROR


if __name__ == "__main__":
    sys.exit(main())
