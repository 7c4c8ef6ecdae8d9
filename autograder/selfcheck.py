"""A grader that checks itself before grading anyone.

Before a batch grades its first submission, the reference solution (pasted into the student
notebook, with its checkpoint where the assignment needs one) and the untouched student
notebook go through the very path students take: collection, the sandbox, the limits of the
batch, the judge. The reference must get full marks and the stub 0; otherwise the grader is
misconfigured (the sandbox cannot start the grading interpreter, a module is missing, the
--timeout is too short for the reference ...) and every student would be blamed for it, so the
batch stops with SelfCheckFailed naming the cause. A pass is remembered in the out folder
(self-check.json) and, for a local sandbox, in the process (a dask cluster's workers can change
under a running client), per autograder version, sandbox, interpreter and limits, so re-runs
do not pay it twice.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable

import nbformat

from .collect import Submission, collect
from .gradebook import atomic_write
from .judge import SubmissionResult
from .sandbox import box as sandbox
from .spec import Assignment

CACHE_NAME = "self-check.json"
_passed: set[str] = set()
_passed_lock = threading.Lock()


class SelfCheckFailed(RuntimeError):
    """The grader cannot grade correctly here; the message names the cause and the fix."""


def self_check(assignment: Assignment, grade_all: Callable[[list[Submission]],
                                                           Iterable[SubmissionResult]],
               out_dir: Path, key: dict, box: sandbox.Sandbox | None, lang: str = "en",
               remember: bool = True) -> bool:
    """Grade the reference and the stub with grade_all; raise SelfCheckFailed unless they get
    full marks and 0. key identifies the grader (version, sandbox, limits ...); a pass under the
    same key in out_dir (or, with remember, in this process) is not repeated. Returns True when
    the check ran, False when a pass was reused."""
    token = json.dumps(key, sort_keys=True)
    cache = Path(out_dir) / CACHE_NAME
    with _passed_lock:
        if remember and token in _passed:
            return False
    try:
        if json.loads(cache.read_text()).get("passed") == json.loads(token):
            if remember:
                with _passed_lock:
                    _passed.add(token)
            return False
    except (OSError, ValueError, AttributeError):
        pass  # no pass recorded (or an unreadable file): check
    with tempfile.TemporaryDirectory(prefix="neurograde-selfcheck-") as tmp:
        reference, stub = _write_pair(assignment, Path(tmp), lang)
        subs = collect([reference, stub], assignment.limits)
        by_path = {s.source: s.stem for s in subs}
        results = {r.submission: r for r in grade_all(subs)}
        ref = results.get(by_path.get(str(reference)))
        blank = results.get(by_path.get(str(stub)))
    problems = []
    if ref is None or ref.status != "ok" or ref.total < ref.possible - 1e-6:
        problems.append("the reference solution " + _outcome(ref) + " instead of full marks")
    if blank is None or blank.total > 1e-9:
        problems.append("the untouched student notebook " + _outcome(blank) + " instead of 0")
    if problems:
        cause = interpreter_problem(box) if box is not None else None
        raise SelfCheckFailed(
            f"self-check failed for {assignment.slug}, nobody was graded: "
            + "; ".join(problems) + ". "
            + (f"Cause: {cause}. " if cause else "")
            + "Fix the grading environment (or the assignment) and run again; "
              "--skip-self-check grades anyway, with rows that would be wrong.")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    atomic_write(cache, json.dumps({"passed": json.loads(token)}, indent=2))
    if remember:
        with _passed_lock:
            _passed.add(token)
    return True


def _write_pair(assignment: Assignment, folder: Path, lang: str) -> tuple[Path, Path]:
    from .examples import write_reference_submission
    from .release import build_notebook
    reference = write_reference_submission(assignment, folder / "reference", lang)
    stub = folder / "stub.ipynb"
    nbformat.write(build_notebook(assignment, lang), str(stub))
    return reference, stub


def _outcome(result: SubmissionResult | None) -> str:
    if result is None:
        return "got no result"
    why = f": {result.message}" if result.message else ""
    return f"got {result.total:g}/{result.possible:g} (status {result.status}{why})"


def interpreter_problem(box: sandbox.Sandbox) -> str | None:
    """Why the sandbox cannot start the grading interpreter (sys.executable), if we can tell."""
    exe = Path(sys.executable)
    advice = ("install the grading venv where every user can read it and outside /tmp, e.g. "
              "/opt/neurograde/venv (scripts/bootstrap.sh), and run neurograde from it")
    if box.drop_uid and os.geteuid() == 0:
        for path in dict.fromkeys((exe, exe.resolve())):
            closed = _closed_folder(path)
            if closed is not None:
                return (f"the sandbox cannot run the grading interpreter {exe}: {closed} is "
                        f"closed to other users and the sandbox runs as uid "
                        f"{sandbox.SANDBOX_UID}; {advice}")
    if not box.namespaces:
        return None
    visible = [Path("/usr")] + sandbox.python_roots()
    hidden = [Path("/tmp"), Path("/dev/shm")]  # each a fresh empty tmpfs in the sandbox
    if not any(_under(exe, root) for root in visible) or any(_under(exe, h) for h in hidden):
        return (f"the sandbox cannot run the grading interpreter {exe}: inside the sandbox "
                f"only /usr and {', '.join(map(str, visible[1:])) or 'nothing else'} are "
                f"visible, with an empty /tmp; {advice}")
    return _trial(box, exe, advice)


def _closed_folder(path: Path) -> Path | None:
    current = Path(path.anchor)
    for part in path.parts[1:-1]:
        current = current / part
        try:
            info = os.lstat(current)
        except OSError:
            return current
        if stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o001:
            return current
    return None


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _trial(box: sandbox.Sandbox, exe: Path, advice: str) -> str | None:
    """Start the interpreter in an empty sandbox and import what every grading run imports."""
    with tempfile.TemporaryDirectory(prefix="neurograde-trial-") as tmp:
        harness, work = Path(tmp) / "harness", Path(tmp) / "work"
        for folder in (Path(tmp), harness, work):
            folder.mkdir(exist_ok=True)
            os.chmod(folder, 0o755)
        argv = [str(exe), "-I", "-c", "import json, numpy"]
        cmd = sandbox.command(box, harness, work, argv, sandbox.Limits())
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=60, cwd=work)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the sandbox cannot run the grading interpreter {exe} ({exc}); {advice}"
    if proc.returncode != 0:
        said = proc.stderr.decode(errors="replace").strip()[-300:]
        return (f"the sandbox cannot run the grading interpreter {exe} (exit code "
                f"{proc.returncode}{': ' + said if said else ''}); {advice}")
    return None
