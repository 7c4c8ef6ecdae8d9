"""What an instructor reads beside a release: the handout (README.md) and otter parity.

A release folder OUT/<slug>/<lang>/ gets README.md, in the release's language: what to give
students, what to upload to Gradescope, how to grade with neurograde, and when the otter zip and
`neurograde grade` may score a notebook differently. autograder/parity.json says the last part
for tools (tests/test_otter_parity.py holds the release to it).

Both graders use the same checks, the same hidden inputs (probe.default_seed, plus the student's
variant where there is one) and the same rule for partial credit (checklib.awarded), so they
agree on every notebook except in the cases `differences` lists. Nothing here is secret: check
ids only, no check name, input or expected value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import __version__
from .probe import check_ids
from .spec import LANGUAGES, TEMPLATES_DIR, Assignment, SpecError

PARITY_FILE = "parity.json"
PARITY_SCHEMA = 1


@dataclass(frozen=True)
class Difference:
    """A case where the otter zip and `neurograde grade` may give a notebook different
    scores. checks: the check ids concerned (empty: any check of the notebook)."""
    id: str
    checks: tuple[str, ...]
    why: str


def differences(assignment: Assignment) -> list[Difference]:
    """Where exact parity between the otter zip and the grader is impossible, and why."""
    found = [
        Difference("limits", (), "neurograde stops a submission at its time and memory limits "
                   "and scores the checks that ran before; the otter zip has no limit of its "
                   "own (Gradescope's autograder timeout fails the whole run)"),
        Difference("check-position", (), "otter runs a question's checks where its "
                   "grader.check cell stands, on the names defined up to there; neurograde runs "
                   "every check after the whole notebook ran: a notebook that redefines a "
                   "function after its check cell, or breaks the kernel later, may score "
                   "differently"),
    ]
    checks = assignment.checks_for(None)
    parent = tuple(i for c, i in zip(checks, check_ids(checks)) if c.parent_namespace)
    if parent:
        found.append(Difference(
            "parent-only", parent, "these checks grade files the student submits (e.g. a "
            "trained checkpoint): neurograde loads them into its own copy of the prescribed "
            "model, outside the student's process; the otter zip uses the notebook's own class "
            "in the student's kernel. Same score when the notebook's class is the prescribed "
            "one; they may differ otherwise"))
    return found


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "handout")),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              autoescape=False)


def write_release_notes(assignment: Assignment, folder: Path, lang: str) -> Path:
    """README.md (in lang) and autograder/parity.json for the release folder `folder`,
    describing what it holds: student/ (one notebook for all), students/<id>/ (per-student
    variants) or both, with their autograder zips."""
    if lang not in LANGUAGES:
        raise SpecError(f"language {lang!r} is not supported; choose one of "
                        f"{', '.join(LANGUAGES)}")
    folder = Path(folder)
    found = differences(assignment)
    (folder / "autograder").mkdir(parents=True, exist_ok=True)
    parity = {"schema": PARITY_SCHEMA, "assignment": assignment.slug,
              "version": assignment.version, "lang": lang,
              "differences": [{"id": d.id, "checks": list(d.checks), "why": d.why}
                              for d in found]}
    (folder / "autograder" / PARITY_FILE).write_text(json.dumps(parity, indent=2) + "\n")
    zips = sorted(p.relative_to(folder).as_posix()
                  for p in (folder / "autograder").rglob("*.zip"))
    text = _env().get_template(f"{lang}.md.j2").render(
        title=assignment.title.get(lang) or assignment.title.get("en") or assignment.slug,
        slug=assignment.slug, version=assignment.version, engine=__version__,
        shared=(folder / "student").is_dir(), roster=(folder / "students").is_dir(),
        student_files=[Path(f).name for f in assignment.student_files],
        submit_files=list(assignment.extra.get("submit_files", [])),
        zip=next((z for z in zips if "/students/" not in z), None),
        differences={d.id: d for d in found}, parity=f"autograder/{PARITY_FILE}")
    path = folder / "README.md"
    path.write_text(text)
    return path
