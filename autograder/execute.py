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
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import checklib
from .collect import Submission
from .probe import Plan
from .sandbox import box as sandbox
from .sandbox.runner import (RawRun, remove_stale_leftovers, run_fresh, scratch_prefix, scratch_root,
                     submission_bytes)
from .sandbox.warmpool import run_warm


class SandboxSetupError(RuntimeError):
    """The sandbox could not be set up for a submission (a grader problem, not the student's)."""


@dataclass(frozen=True)
class CheckRun:
    """What the sandbox reported for one check (exactly one of the fields is set)."""
    outputs: object = None
    missing: str | None = None
    error: dict | None = None
    timeout: float | None = None
    garbage: str | None = None


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


def notebook_cells(path: Path) -> list[dict]:
    """Code cells as [{'number': 1-based cell position, 'source': str}]; ValueError if broken."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises many types for garbage input
        raise ValueError(f"not a readable Jupyter notebook ({type(exc).__name__}: "
                         f"{str(exc)[:200]})") from None
    cells = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(source)
            cells.append({"number": number, "source": str(source)})
    return cells


def make_job(plan: Plan, cells: list[dict], wall_seconds: float) -> dict:
    """Everything the harness needs, as plain data: no expected value, no reference."""
    assignment = plan.assignment
    return {"cells": cells, "checks": [c.wire() for c in plan.checks],
            "cell_timeout": min(assignment.cell_timeout, wall_seconds),
            "check_timeout": max(5.0, min(wall_seconds, assignment.timeout) / 2)}


def execute(submission: Submission, plan: Plan, box: sandbox.Sandbox,
            limits: sandbox.Limits) -> Execution:
    started = time.monotonic()
    assignment = plan.assignment
    try:
        cells = notebook_cells(submission.notebook)
    except ValueError as exc:
        return Execution(submission, "invalid", f"{submission.notebook.name}: {exc}",
                         sandbox=box.describe())
    job = make_job(plan, cells, limits.wall_seconds)
    remove_stale_leftovers()
    result, path = None, "fresh process"
    if box.warm:
        result = run_warm(submission, job, assignment.probes_path, assignment.uses_torch, box,
                          limits)
        path = "fresh process" if result is None else "warm worker"
    if result is None:
        scratch = scratch_root(submission_bytes(submission))
        with tempfile.TemporaryDirectory(prefix=scratch_prefix("run"), dir=scratch) as tmp:
            os.chmod(tmp, 0o755)
            result = run_fresh(submission, job, assignment.probes_path, box, limits, Path(tmp))
    return _interpret(submission, result, limits, f"{box.describe()}, {path}",
                      time.monotonic() - started, {c.id for c in plan.checks})


MAX_CELL_ERRORS = 50


def _interpret(submission: Submission, result: RawRun, limits: sandbox.Limits,
               where: str, seconds: float, known_ids: set[str]) -> Execution:
    """Turn the raw run into an Execution. The channel is untrusted (student code could write
    to it): malformed lines are counted and ignored, unknown check ids dropped, the first report
    of a check id wins, and everything kept is validated and size-capped."""
    checks: dict[str, CheckRun] = {}
    cell_errors: list[dict] = []
    done = started = False
    garbage_lines = 0
    for line in result.channel.splitlines():
        try:
            message = json.loads(line)
            kind = message["kind"]
        except (ValueError, KeyError, TypeError, IndexError):
            garbage_lines += 1
            continue
        if kind == "sandbox-error" and not started:
            raise SandboxSetupError(f"the sandbox could not be set up for "
                                    f"{submission.stem}: {str(message.get('message'))[:500]}")
        if kind == "cell":
            started = True
            error = message.get("error")
            if isinstance(error, dict) and len(cell_errors) < MAX_CELL_ERRORS:
                cell_errors.append({"number": _int_or_none(message.get("number")),
                                    **_clean_error(error)})
        elif kind == "check" and message.get("id") in known_ids:
            started = True
            if message["id"] in checks:
                continue  # a second report for the same check is a forgery: keep the first
            checks[message["id"]] = _check_run(message)
        elif kind == "done":
            done = True
        elif kind != "hello":
            garbage_lines += 1
    output = result.output.decode("utf-8", errors="replace")
    if result.output_dropped:
        output += f"\n[... {result.output_dropped} more bytes of output dropped]"
    rc = result.returncode
    if result.timed_out:
        status, message = "timeout", (f"stopped after the {limits.wall_seconds:g} s wall-clock "
                                      f"limit")
    elif result.oom or (rc == -signal.SIGKILL and not done and _looks_oom(output)):
        status, message = "oom", f"ran out of memory (limit {limits.memory_mb} MB)"
    elif result.channel_dropped:
        status, message = "crashed", "sent more than the allowed amount of result data"
    elif not done:
        reason = f"signal {-rc}" if rc is not None and rc < 0 else f"exit code {rc}"
        if rc == -signal.SIGXCPU:
            status, message = "timeout", f"used more than {limits.cpu_seconds} s of CPU time"
        elif _looks_oom(output):
            status, message = "oom", f"ran out of memory (limit {limits.memory_mb} MB)"
        else:
            status, message = "crashed", f"the process ended early ({reason})"
    elif _raised_memory_error(checks, cell_errors):
        # Without a memory cgroup (RLIMIT_DATA) an allocation fails with MemoryError instead of
        # the OOM killer: same limit, same status.
        status, message = "oom", f"ran out of memory (limit {limits.memory_mb} MB)"
    else:
        status, message = "ok", ""
    if garbage_lines:
        message = (message + "; " if message else "") + \
            f"{garbage_lines} malformed line(s) on the result channel were ignored"
    return Execution(submission, status, message, checks, tuple(cell_errors), output,
                     round(seconds, 3), where)


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _clean_error(err: dict) -> dict:
    return {k: str(err.get(k))[:600] if err.get(k) is not None else None
            for k in ("type", "message", "where")}


def _raised_memory_error(checks: dict[str, CheckRun], cell_errors: list[dict]) -> bool:
    errors = [run.error for run in checks.values() if run.error] + cell_errors
    return any(err.get("type") == "MemoryError" for err in errors)


def _looks_oom(output: str) -> bool:
    return "MemoryError" in output or "Cannot allocate memory" in output


def _check_run(message: dict) -> CheckRun:
    if "outputs" in message:
        try:
            return CheckRun(outputs=checklib.decode(message["outputs"]))
        except Exception as exc:  # untrusted data: whatever fails to decode is garbage
            return CheckRun(garbage=f"returned data that cannot be read ({exc})")
    if isinstance(message.get("missing"), str):
        return CheckRun(missing=message["missing"][:100])
    if isinstance(message.get("error"), dict):
        return CheckRun(error=_clean_error(message["error"]))
    if isinstance(message.get("timeout"), (int, float)):
        return CheckRun(timeout=float(message["timeout"]))
    return CheckRun(garbage="the harness could not run this check")
