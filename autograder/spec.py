"""Assignment specifications: what each assignment asks, checks and is worth.

An assignment lives in ``assignments/<slug>/``:

    assignment.toml   slug, version, title per language, questions (id, points, defines), limits
    text/<lang>.md    notebook text, sections introduced by ``<!-- section: NAME -->``
    text/stubs.toml   the stubs' docstrings and comments in es/pt (autograder/stub_text.py)
    stubs.py          student stubs, sections introduced by ``# %% NAME`` (setup, q1, q2, ...)
    probes.py         what to call in the submission (runs inside the sandbox; no secrets)
    checks.py         ``checks()`` -> list[Check]: inputs and tolerances (trusted side only)
    judges.py         optional property judges (statistics, curves), embeddable in otter tests
    mistakes.py       ``MISTAKES``: known wrong variants, named in feedback (trusted side only)

and its reference implementation in ``reference/<slug>.py``.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

from . import checklib
from .checklib import DEFAULT, Tol
from .collect import SubmissionLimits

ENGINE_DIR = Path(__file__).resolve().parent
# An installed distribution carries the course beside the engine (package data); a checkout
# has it at the top of the repository.
_BUNDLED = ENGINE_DIR / "course"
ROOT = _BUNDLED if (_BUNDLED / "assignments").is_dir() else ENGINE_DIR.parent
ASSIGNMENTS_DIR = ROOT / "assignments"
REFERENCE_DIR = ROOT / "reference"
TEMPLATES_DIR = ROOT / "templates"
LANGUAGES = ("en", "es", "pt")


class SpecError(Exception):
    """An assignment's source files are inconsistent (an authoring error, not a student's)."""


class UnknownAssignment(KeyError):
    def __init__(self, slug: str, known: list[str]):
        close = difflib.get_close_matches(slug, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown assignment {slug!r}.{hint} Known: {', '.join(known)}")
        self.slug = slug
        self.known = known

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Check:
    """One graded call: a probe run on inputs, compared with the reference under a tolerance.

    inputs(rng) builds the probe's keyword arguments (plain data); public checks ignore rng and
    use fixed values. judge names a property judge in judges.py for checks that have no single
    right answer (random samples); it gets (inputs, outputs, expected) and returns
    (fraction of points, messages).

    parent_namespace(submission) -> mapping makes the check judge-only: it never enters the job
    sent to the sandbox (nor do its inputs); the trusted parent calls the probe itself on the
    namespace this builds from the submission's files (e.g. a submitted checkpoint loaded with
    weights_only into the reference architecture), and a refusal it raises is the feedback.

    validation marks a check of input validation (raises ValueError/TypeError on bad input):
    the course grades the mathematics, so these carry at most 10% of an assignment's points
    (Assignment.validation_points; each question's text says its share).
    """

    question: str
    name: str
    probe: str
    inputs: Callable[[Any], dict]
    points: float = 1.0
    hidden: bool = False
    tol: Tol | Mapping[str, Tol] = DEFAULT
    judge: str | None = None
    parent_namespace: Callable[[Any], Mapping] | None = None
    validation: bool = False

    def id_in(self, index: int) -> str:
        return f"{self.question}.{'h' if self.hidden else 'p'}{index}"


@dataclass(frozen=True)
class Question:
    id: str
    points: float
    defines: tuple[str, ...]


@dataclass(frozen=True)
class Mistake:
    id: str
    function: str
    variant: Callable
    message: Mapping[str, str]

    def text(self, lang: str) -> str:
        return self.message.get(lang) or self.message["en"]


@dataclass(frozen=True)
class Assignment:
    slug: str
    version: str
    title: Mapping[str, str]
    questions: tuple[Question, ...]
    folder: Path
    uses_torch: bool = False
    timeout: float = 120.0
    cell_timeout: float = 60.0
    memory_mb: int = 2048
    student_files: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()  # pip requirements beyond numpy/scipy/torch (otter zip)
    extra: Mapping[str, Any] = field(default_factory=dict)
    limits: SubmissionLimits = SubmissionLimits()  # [limits]: checked before grading

    # -- source files ---------------------------------------------------------------------
    @property
    def probes_path(self) -> Path:
        return self.folder / "probes.py"

    @property
    def judges_path(self) -> Path | None:
        path = self.folder / "judges.py"
        return path if path.exists() else None

    @property
    def reference_path(self) -> Path:
        return REFERENCE_DIR / f"{self.slug}.py"

    @cached_property
    def probes(self) -> ModuleType:
        return _load_module(self.probes_path, f"neurograde_probes_{self.slug}")

    @cached_property
    def judges(self) -> ModuleType | None:
        path = self.judges_path
        return _load_module(path, f"neurograde_judges_{self.slug}") if path else None

    @cached_property
    def reference(self) -> ModuleType:
        return _load_module(self.reference_path, f"neurograde_reference_{self.slug}")

    @cached_property
    def checks_module(self) -> ModuleType:
        return _load_module(self.folder / "checks.py", f"neurograde_checks_{self.slug}")

    @property
    def has_variants(self) -> bool:
        """An assignment opts into per-student variants by defining variant(rng) and
        CANONICAL in checks.py and taking the variant as checks(v)."""
        return hasattr(self.checks_module, "variant")

    def variant(self, seed: int | None = None) -> dict:
        """The numbers of one variant: the seed's canonical values when seed is None."""
        if not self.has_variants:
            return {}
        if seed is None:
            return dict(self.checks_module.CANONICAL)
        cache = self.__dict__.setdefault("_variants", {})
        if seed not in cache:  # some variants scan real data (GloVe): draw each one once
            import numpy as np
            cache[seed] = self.checks_module.variant(np.random.default_rng([0x7A21A, int(seed)]))
        return dict(cache[seed])

    def checks_for(self, seed: int | None = None) -> tuple[Check, ...]:
        """The checks of the variant drawn from seed (None: the canonical variant)."""
        if seed is None and "_canonical_checks" in self.__dict__:
            return self.__dict__["_canonical_checks"]
        module = self.checks_module
        checks = tuple(module.checks(self.variant(seed)) if self.has_variants
                       else module.checks())
        self._validate_checks(checks)
        if seed is None:
            self.__dict__["_canonical_checks"] = checks
        return checks

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.checks_for(None)

    @cached_property
    def mistakes(self) -> tuple[Mistake, ...]:
        path = self.folder / "mistakes.py"
        if not path.exists():
            return ()
        module = _load_module(path, f"neurograde_mistakes_{self.slug}")
        return tuple(Mistake(**entry) for entry in module.MISTAKES)

    def stub_sections(self) -> dict[str, str]:
        return split_sections((self.folder / "stubs.py").read_text(), r"^# %% (\w+)\s*$")

    def text_sections(self, lang: str) -> dict[str, str]:
        if lang not in LANGUAGES:
            raise SpecError(f"language {lang!r} is not supported; choose one of {LANGUAGES}")
        path = self.folder / "text" / f"{lang}.md"
        return split_sections(path.read_text(), r"^<!-- section: (\w+) -->\s*$")

    # -- derived --------------------------------------------------------------------------
    @property
    def question_ids(self) -> list[str]:
        return [q.id for q in self.questions]

    @property
    def possible(self) -> float:
        return sum(q.points for q in self.questions)

    def validation_points(self, qid: str | None = None) -> float:
        """Points of the input-validation checks (Check.validation) of question qid, or of
        the whole assignment; the same for every variant (tests/test_assessment_validity.py)."""
        return sum(c.points for c in self.checks if c.validation and qid in (None, c.question))

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise SpecError(f"{self.slug}: no question {qid!r}")

    def question_of(self, function: str) -> Question | None:
        for q in self.questions:
            if function in q.defines:
                return q
        return None

    def _validate_checks(self, checks: tuple[Check, ...]) -> None:
        for q in self.questions:
            total = sum(c.points for c in checks if c.question == q.id)
            if abs(total - q.points) > 1e-9:
                raise SpecError(f"{self.slug}/{q.id}: checks are worth {total} points but "
                                f"assignment.toml gives the question {q.points}")
        names = [(c.question, c.name) for c in checks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpecError(f"{self.slug}: check names must be unique per question (they key "
                            f"the random inputs): {dupes}")
        for c in checks:
            if c.question not in self.question_ids:
                raise SpecError(f"{self.slug}: check {c.name!r} names unknown question "
                                f"{c.question!r}")
            if not hasattr(self.probes, c.probe):
                raise SpecError(f"{self.slug}: check {c.name!r} uses probe {c.probe!r}, "
                                f"which probes.py does not define")
            if c.judge and not (self.judges and hasattr(self.judges, c.judge)):
                raise SpecError(f"{self.slug}: check {c.name!r} uses judge {c.judge!r}, "
                                f"which judges.py does not define")


def split_sections(text: str, pattern: str) -> dict[str, str]:
    """Split text at header lines matching pattern (group 1 = section name)."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        match = re.match(pattern, line)
        if match:
            current = match.group(1)
            if current in sections:
                raise SpecError(f"section {current!r} appears twice")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {name: "\n".join(lines).strip("\n") for name, lines in sections.items()}


def _load_module(path: Path, name: str) -> ModuleType:
    # probes.py and judges.py import `checklib` as a top-level module, as they do in the
    # sandbox and in otter test files; here it is the engine's own copy.
    sys.modules.setdefault("checklib", checklib)
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def known_slugs() -> list[str]:
    return sorted(p.parent.name for p in ASSIGNMENTS_DIR.glob("*/assignment.toml"))


def load_assignment(slug: str) -> Assignment:
    known = known_slugs()
    if slug not in known:
        raise UnknownAssignment(slug, known)
    folder = ASSIGNMENTS_DIR / slug
    try:
        data = tomllib.loads((folder / "assignment.toml").read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{folder / 'assignment.toml'}: {exc}") from exc
    questions = tuple(
        Question(id=q["id"], points=float(q["points"]), defines=tuple(q.get("defines", ())))
        for q in data.get("question", [])
    )
    if not questions:
        raise SpecError(f"{slug}: assignment.toml defines no [[question]]")
    known_keys = {"slug", "version", "title", "question", "torch", "timeout", "cell_timeout",
                  "memory_mb", "student_files", "requirements", "limits"}
    timeout = float(data.get("timeout", 120))
    return Assignment(
        slug=slug,
        version=str(data.get("version", "1")),
        title=data.get("title", {"en": slug}),
        questions=questions,
        folder=folder,
        uses_torch=bool(data.get("torch", False)),
        timeout=timeout,
        cell_timeout=float(data.get("cell_timeout", min(60.0, timeout / 2))),
        memory_mb=int(data.get("memory_mb", 2048)),
        student_files=tuple(data.get("student_files", ())),
        requirements=tuple(data.get("requirements", ())),
        extra={k: v for k, v in data.items() if k not in known_keys},
        limits=_submission_limits(folder, data.get("limits", {})),
    )


def _submission_limits(folder: Path, table: Any) -> SubmissionLimits:
    """The optional [limits] table: whole positive numbers, unnamed ones keep the defaults."""
    where = f"{folder / 'assignment.toml'} [limits]"
    if not isinstance(table, dict):
        raise SpecError(f"{where}: must be a table of numbers, e.g. notebook_bytes = 20971520")
    known = SubmissionLimits.names()
    for key, value in table.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SpecError(f"{where}: unknown limit {key!r}.{hint} Known: {', '.join(known)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"{where}: {key} must be a whole number >= 1, not {value!r}")
    return SubmissionLimits(**table)


def all_assignments() -> list[Assignment]:
    return [load_assignment(slug) for slug in known_slugs()]
