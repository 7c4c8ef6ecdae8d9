"""Per-student variants: each student's numbers come from HMAC(instructor secret, student id).

The release writes the variant into the notebook's metadata with a signature; the grader
recomputes both from the roster student a submission is filed under. A submission whose tag was
edited, or that carries another student's variant, is graded against the variant of the student
it is filed under and flagged. Without the secret nobody can derive or forge a variant.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .spec import Assignment

SECRET_ENV = "NEUROGRADE_SECRET"
MIN_SECRET_BYTES = 16
META_KEY = "neurograde"
MISMATCH = "variant-mismatch"


class SecretError(ValueError):
    pass


class VariantError(ValueError):
    """Variants were asked for in a way that cannot work (e.g. with --dask)."""


def read_secret(path: Path | None) -> bytes:
    """The instructor secret from --secret-file, else $NEUROGRADE_SECRET."""
    if path is not None:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise SecretError(f"cannot read the secret file {path}: {exc.strerror}") from None
        where = str(path)
    elif os.environ.get(SECRET_ENV):
        secret, where = os.environ[SECRET_ENV].encode().strip(), f"${SECRET_ENV}"
    else:
        raise SecretError(f"per-student variants need the instructor secret: pass "
                          f"--secret-file FILE or set {SECRET_ENV} (keep it out of the "
                          f"student release; e.g. `head -c 32 /dev/urandom | base64 > secret`)")
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretError(f"the secret in {where} is {len(secret)} bytes; use at least "
                          f"{MIN_SECRET_BYTES} random bytes")
    return secret


def _mac(secret: bytes, message: str) -> bytes:
    return hmac.new(secret, message.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class VariantTag:
    student: str
    seed: int
    signature: str

    def metadata(self) -> dict:
        return {"student": self.student, "variant": self.seed, "signature": self.signature}


def tag_for(secret: bytes, assignment: Assignment, student: str) -> VariantTag:
    seed = int.from_bytes(_mac(secret, f"variant:{assignment.slug}:{student}")[:6], "big")
    signature = _mac(secret, f"sign:{assignment.slug}:{assignment.version}:{student}:{seed}")
    return VariantTag(student, seed, signature.hex()[:32])


def read_tag(notebook: Path) -> dict | None:
    """The variant tag stored in a submitted notebook, or None (unreadable or absent)."""
    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except Exception:  # a broken notebook is reported by the execute stage
        return None
    meta = nb.get("metadata", {}).get(META_KEY, {})
    return meta if isinstance(meta, dict) and "signature" in meta else None


def verify(secret: bytes, assignment: Assignment, student: str, notebook: Path) -> str | None:
    """None when the notebook carries this student's genuine variant, else why it does not."""
    expected = tag_for(secret, assignment, student)
    found = read_tag(notebook)
    if found is None:
        return (f"the notebook carries no variant tag; graded against the variant of "
                f"{student}")
    if found.get("student") != student:
        return (f"the notebook carries the variant of {found.get('student')!r}, but is filed "
                f"under {student}; graded against {student}'s variant")
    if found.get("variant") != expected.seed or \
            not hmac.compare_digest(str(found.get("signature")), expected.signature):
        return (f"the notebook's variant tag was altered (signature does not match); "
                f"graded against the variant of {student}")
    return None


class VariantGrading:
    """Grades each submission against the variant of the roster student it is filed under.

    Filing uses the roster matching rule of the exports (student id or e-mail name in the file
    or folder name). A submission that matches no student (or several) is graded against the
    canonical variant and flagged; so is one whose notebook carries another or an altered
    variant tag (graded against the filed student's variant).
    """

    def __init__(self, assignment: Assignment, secret: bytes, roster, submissions,
                 make_grader, seed: int | None):
        import threading
        from .exports import match_roster
        self.assignment, self.secret = assignment, secret
        self._make_grader, self._seed = make_grader, seed
        self._graders: dict = {}
        self._lock = threading.Lock()
        self.filed: dict[str, str] = {}
        self.problem: dict[str, str] = {}
        for m in match_roster([s.stem for s in submissions], roster):
            if m.submission is None:
                continue
            if m.status in ("matched", "duplicate") and m.student is not None:
                self.filed[m.submission] = m.student.id
            else:
                self.problem[m.submission] = m.detail or m.status

    def grader(self, variant: int | None):
        from .probe import make_plan
        with self._lock:  # expectations are computed once per variant, not per submission
            if variant not in self._graders:
                self._graders[variant] = self._make_grader(
                    make_plan(self.assignment, self._seed, variant=variant))
            return self._graders[variant]

    def describe(self) -> str:
        return self.grader(None).box.describe()

    def grade(self, sub):
        import dataclasses
        student = self.filed.get(sub.stem)
        if student is None:
            result = self.grader(None).grade(sub)
            why = (f"not filed under a roster student ({self.problem.get(sub.stem, 'no match')}); "
                   f"graded against the canonical variant")
        else:
            result = self.grader(tag_for(self.secret, self.assignment, student).seed).grade(sub)
            why = verify(self.secret, self.assignment, student, sub.notebook)
        extra = {**result.extra, "student": student}
        if why is None:
            return dataclasses.replace(result, extra=extra)
        message = why + (f"; {result.message}" if result.message else "")
        status = MISMATCH if result.status == "ok" else result.status
        return dataclasses.replace(result, status=status, message=message,
                                   extra={**extra, "variant_flag": why})
