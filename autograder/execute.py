"""Stage 2b: run one submission isolated and collect its raw outputs.

The parent reads the notebook (a broken file never reaches the sandbox) and builds the job
(cells, probe calls with their inputs, timeouts). The job runs in a child forked from a warm
worker (warmpool.py, worker.py) or, where that is unavailable or fails, in a fresh interpreter
(runner.run_fresh); either way in its own namespaces and work folder, under its own limits,
with a wall-clock deadline, reporting line-delimited JSON on a pipe. Results that arrived
before a hang, crash or OOM are kept; what did not run is reported as such by the judge.
"""

from __future__ import annotations

import json
import os
import re
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


from .channel import ChannelCorrupt, CheckRun, Report, SandboxSetupError, read_report  # noqa
from . import timing
from .checklib import say
from .collect import Submission
from .i18n import say_in
from .probe import Plan
from .sandbox import box as sandbox
from .spec import TEMPLATES_DIR
from .sandbox.runner import (RawRun, remove_stale_leftovers, run_fresh, scratch_prefix,
                             scratch_root, submission_bytes)
from .sandbox.warmpool import run_warm


@dataclass(frozen=True)
class Execution:
    submission: Submission
    status: str          # ok | timeout | oom | crashed | invalid
    message: str
    checks: dict[str, CheckRun] = field(default_factory=dict)
    cell_errors: tuple[dict, ...] = ()
    output: str = ""
    seconds: float = 0.0
    sandbox: str = ""
    notice: tuple = ()   # message says the same as messages (checklib.say), for any language


def notebook_cells(path: Path) -> list[dict]:
    """Code cells as [{'number': 1-based cell position, 'source': str}]; ValueError if broken.

    A version-4 notebook (what Jupyter, Colab and our releases write) is read as plain JSON:
    nbformat would build and schema-check a full object tree (about 1 ms a notebook) only for
    us to take the code cells' sources, and it lets a notebook that breaks the schema through
    anyway. Older versions go through nbformat, which converts them."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict) and data.get("nbformat") == 4 and \
                isinstance(data.get("cells"), list):
            return _code_cells(data["cells"])
        import nbformat  # older notebook versions only (its import alone takes 50 ms)
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises many types for garbage input
        # Never the exception's text: parsers quote the file (a link's target, a secret).
        line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        where = f" at line {line}, column {column}" if isinstance(line, int) and \
            isinstance(column, int) else ""
        raise ValueError(f"not a readable Jupyter notebook ({type(exc).__name__}{where}); "
                         f"open it in Jupyter, save it and submit the .ipynb file again") \
            from None
    return _code_cells(nb.get("cells", []))


def _code_cells(cells: list) -> list[dict]:
    found = []
    for number, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(str(part) for part in source)
            found.append({"number": number, "source": str(source)})
    return found


_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w., \t]+?)\s*(?:#.*)?$)",
                     re.MULTILINE)
_preloads: dict[tuple, tuple[str, ...]] = {}


def warm_imports(assignment) -> tuple[str, ...]:
    """The modules a warm worker imports once for this assignment: numpy.random (numpy loads
    it lazily; the harness seeds it in every run) and whatever the notebook students get
    imports in its code cells (the set-up cell's standard modules, the stubs' imports).
    otter is left out: the sandbox stands in for it. Public material only, so the list tells
    a submission nothing it could not read in its own notebook."""
    key = (str(assignment.folder), assignment.version)
    if key not in _preloads:
        sources = list(assignment.stub_sections().values())
        sources += [p.read_text() for p in sorted((TEMPLATES_DIR / "cells").glob("*.py.j2"))]
        names = ["numpy", "numpy.random"]
        for source in sources:
            for start, plain in _IMPORT.findall(source):
                for item in ([start] if start else plain.split(",")):
                    name = item.split(" as ")[0].strip()
                    if re.fullmatch(r"[A-Za-z_][\w.]*", name) and \
                            name.split(".")[0] != "otter" and not name.startswith("_"):
                        names.append(name)
        _preloads[key] = tuple(dict.fromkeys(names))
    return _preloads[key]


def make_job(plan: Plan, cells: list[dict], wall_seconds: float) -> tuple[dict, bytes]:
    """Everything the harness needs, as plain data: no expected value, no reference, and no
    hidden input. Public checks come first, then hidden ones (ids and probe names only): their
    inputs are the second value, written to the sandbox only after the notebook ran."""
    assignment = plan.assignment
    public, hidden, payload = plan.wire
    job = {"cells": cells, "checks": [*public, *hidden],
           "cell_timeout": min(assignment.cell_timeout, wall_seconds),
           "check_timeout": max(5.0, min(wall_seconds, assignment.timeout) / 2),
           "public_seconds": max(5.0, min(wall_seconds, assignment.timeout) / 3)}
    return job, payload


def execute(submission: Submission, plan: Plan, box: sandbox.Sandbox,
            limits: sandbox.Limits) -> Execution:
    started = time.monotonic()
    assignment = plan.assignment
    try:
        with timing.stage(submission.stem, "notebook read (parent)"):
            cells = notebook_cells(submission.notebook)
    except ValueError as exc:
        return Execution(submission, "invalid", f"{submission.notebook.name}: {exc}",
                         sandbox=box.describe(),
                         notice=(say("status.invalid", file=submission.notebook.name),))
    job, hidden = make_job(plan, cells, limits.wall_seconds)
    remove_stale_leftovers()
    names = {name for q in assignment.questions for name in q.defines}

    def run(job: dict) -> tuple[Execution, Report | None]:
        result, path = None, "fresh process"
        if box.warm:
            result = run_warm(submission, job, hidden, assignment.probes_path,
                              assignment.uses_torch, box, limits, warm_imports(assignment))
            path = "fresh process" if result is None else "warm worker"
        if result is None:
            scratch = scratch_root(submission_bytes(submission))
            with tempfile.TemporaryDirectory(prefix=scratch_prefix("run"), dir=scratch) as tmp:
                os.chmod(tmp, 0o755)
                result = run_fresh(submission, job, hidden, assignment.probes_path, box,
                                   limits, Path(tmp))
        return _interpret(submission, result, limits, f"{box.describe()}, {path}",
                          time.monotonic() - started, [c["id"] for c in job["checks"]],
                          {c["id"] for c in job["checks"] if c.get("hidden")}, cells, names,
                          float(job["check_timeout"]))

    first, report = run(job)
    hidden_checks = [c for c in job["checks"] if c.get("hidden")]
    if hidden_checks and report is not None and report.checks_started and \
            not report.hidden_started and first.status in ("crashed", "oom", "timeout"):
        # The run ended during the public checks (a crash, the memory limit, a hang past
        # every alarm), before any hidden input was sent: the hidden checks, of other
        # questions too, deserve their chance, so the notebook runs again for them alone.
        second, _ = run({**job, "checks": hidden_checks})
        return _merge(first, second, {c["id"] for c in hidden_checks})
    return first


def _merge(first: Execution, second: Execution, hidden: set[str]) -> Execution:
    """The public half of the first run with the hidden half of the second."""
    checks = {k: v for k, v in first.checks.items() if k not in hidden}
    checks.update({k: v for k, v in second.checks.items() if k in hidden})
    again = second.message or "ok"
    return Execution(first.submission, first.status,
                     f"{first.message}; the hidden checks ran in a second run ({again})",
                     checks, first.cell_errors, first.output,
                     round(first.seconds + second.seconds, 3), first.sandbox,
                     first.notice + (say("status.second-run"),))


def _interpret(submission: Submission, result: RawRun, limits: sandbox.Limits, where: str,
               seconds: float, order: list[str], hidden: set[str], cells: list[dict],
               names: set[str], check_timeout: float) -> tuple[Execution, Report | None]:
    """Turn the raw run into an Execution (channel.py decides what is believed), with the
    channel's report (None when the channel was unreadable)."""
    output = result.output.decode("utf-8", errors="replace")
    if result.output_dropped:
        output += f"\n[... {result.output_dropped} more bytes of output dropped]"
    try:
        with timing.stage(submission.stem, "channel decode"):
            report = read_report(result, order, hidden, cells, names, check_timeout)
    except SandboxSetupError as exc:
        raise SandboxSetupError(f"{submission.stem}: {exc}") from None
    except ChannelCorrupt as exc:
        return Execution(submission, "crashed",
                         f"the submission wrote data to the grader's result channel that is "
                         f"not a check report ({exc}): all checks fail", {}, (), output,
                         round(seconds, 3), where, (say("status.channel-corrupt"),)), None
    checks, cell_errors, done = report.checks, list(report.cell_errors), report.done
    rc = result.returncode
    oom = say("status.oom", limit=limits.memory_mb)
    if result.timed_out:
        status, notice = "timeout", say("status.wall", seconds=limits.wall_seconds)
    elif result.oom or (rc == -signal.SIGKILL and not done and _looks_oom(output)):
        status, notice = "oom", oom
    elif result.channel_dropped:
        status, notice = "crashed", say("status.too-much-data")
    elif not done:
        reason = say("reason.signal", signal=-rc) if rc is not None and rc < 0 else \
            say("reason.exit", code=rc)
        if report.hidden_started:  # the exit code is the submission's to pick
            reason = say("reason.hidden")
        if rc == -signal.SIGXCPU:
            status, notice = "timeout", say("status.cpu", seconds=limits.cpu_seconds)
        elif _looks_oom(output):
            status, notice = "oom", oom
        else:
            status, notice = "crashed", say("status.ended", reason=reason)
    elif _raised_memory_error(checks, cell_errors):
        # Without a memory cgroup (RLIMIT_DATA) an allocation fails with MemoryError instead of
        # the OOM killer: same limit, same status.
        status, notice = "oom", oom
    else:
        status, notice = "ok", None
    notices = (notice,) if notice else ()
    tampered = sum(1 for run in checks.values() if run.tampered)
    if tampered:
        notices += (say("status.tampered", count=tampered),)
    message = "; ".join(say_in("en", n) for n in notices)
    return Execution(submission, status, message, checks, tuple(cell_errors), output,
                     round(seconds, 3), where, notices), report


def _raised_memory_error(checks: dict[str, CheckRun], cell_errors: list[dict]) -> bool:
    errors = [run.error for run in checks.values() if run.error] + cell_errors
    return any(err.get("type") == "MemoryError" for err in errors)


def _looks_oom(output: str) -> bool:
    return "MemoryError" in output or "Cannot allocate memory" in output
