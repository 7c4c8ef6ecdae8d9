"""Stage 2b: run one submission in a fresh isolated process and collect its raw outputs.

The parent reads the notebook (a broken file never reaches the sandbox), prepares a private
work folder (a copy of the submission's files + job.json), starts harness.py under the sandbox
with a wall-clock deadline, and reads line-delimited JSON from fd 3. Results that arrived
before a hang, crash or OOM are kept; what did not run is reported as such by the judge.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import checklib, sandbox
from .collect import Submission
from .probe import Plan

HARNESS_FILES = ("harness.py", "checklib.py")


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


def _prepare(submission: Submission, plan: Plan, cells: list[dict], base: Path,
             cell_timeout: float, check_timeout: float) -> tuple[Path, Path]:
    harness_dir = base / "harness"
    work_dir = base / "work"
    harness_dir.mkdir()
    work_dir.mkdir()
    here = Path(__file__).parent
    for name in HARNESS_FILES:
        shutil.copy(here / name, harness_dir / name)
    shutil.copy(plan.assignment.probes_path, harness_dir / "probes.py")
    for path in submission.files:
        target = work_dir / path.relative_to(submission.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    job = {"cells": cells, "checks": [c.wire() for c in plan.checks],
           "cell_timeout": cell_timeout, "check_timeout": check_timeout}
    (harness_dir / "job.json").write_text(json.dumps(job))
    for root, dirs, files in os.walk(base):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(work_dir):
            os.chown(root, sandbox.SANDBOX_UID, sandbox.SANDBOX_GID)
            for name in files:
                os.chown(os.path.join(root, name), sandbox.SANDBOX_UID, sandbox.SANDBOX_GID)
    return harness_dir, work_dir


class _Reader(threading.Thread):
    """Drains a pipe, keeping at most `cap` bytes so a flood cannot exhaust our memory."""

    def __init__(self, fd: int, cap: int):
        super().__init__(daemon=True)
        self.fd, self.cap = fd, cap
        self.chunks: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            room = self.cap - self.kept
            if room > 0:
                self.chunks.append(chunk[:room])
                self.kept += min(room, len(chunk))
            self.dropped += max(0, len(chunk) - max(room, 0))
        os.close(self.fd)

    def data(self) -> bytes:
        return b"".join(self.chunks)


def execute(submission: Submission, plan: Plan, box: sandbox.Sandbox,
            limits: sandbox.Limits) -> Execution:
    started = time.monotonic()
    assignment = plan.assignment
    try:
        cells = notebook_cells(submission.notebook)
    except ValueError as exc:
        return Execution(submission, "invalid", f"{submission.notebook.name}: {exc}",
                         sandbox=box.describe())
    with tempfile.TemporaryDirectory(prefix="neurograde-run-") as tmp:
        base = Path(tmp)
        os.chmod(base, 0o755)
        check_timeout = max(5.0, min(limits.wall_seconds, assignment.timeout) / 2)
        harness_dir, work_dir = _prepare(submission, plan, cells, base,
                                         min(assignment.cell_timeout, limits.wall_seconds),
                                         check_timeout)
        res_r, res_w = os.pipe()
        if box.mode == "none":
            argv = [sys.executable, "-I", str(harness_dir / "harness.py"),
                    str(harness_dir / "job.json")]
            cwd = str(work_dir)
            env = {**sandbox.sandbox_env(res_w), "HOME": str(work_dir)}
        else:
            argv = [sys.executable, "-I", "/harness/harness.py", "/harness/job.json"]
            cwd, env = None, None
        cmd = sandbox.command(box, harness_dir, work_dir, argv, limits, result_fd=res_w)
        result = _run(cmd, cwd, env, box, limits, res_r, res_w)
    return _interpret(submission, result, limits, box, time.monotonic() - started)


def _run(cmd, cwd, env, box, limits, res_r, res_w) -> dict:
    cgroup = sandbox.CGroup(box.use_cgroups, limits)
    out_r, out_w = os.pipe()

    def preexec():
        cgroup.enter()
        sandbox.apply_rlimits(limits, memory_by_cgroup=box.use_cgroups)

    channel = _Reader(res_r, limits.channel_mb * 1024 * 1024)
    output = _Reader(out_r, limits.output_kb * 1024)
    timed_out = False
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out_w,
                                stderr=out_w, pass_fds=(res_w,), preexec_fn=preexec,
                                start_new_session=True)
    finally:
        os.close(res_w)
        os.close(out_w)
    channel.start()
    output.start()
    try:
        proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    cgroup.kill_all()
    proc.wait()
    channel.join(timeout=10)
    output.join(timeout=10)
    oom = cgroup.oom_killed()
    cgroup.remove()
    return {"returncode": proc.returncode, "timed_out": timed_out, "oom": oom,
            "channel": channel.data(), "channel_dropped": channel.dropped,
            "output": output.data(), "output_dropped": output.dropped}


def _interpret(submission, result, limits, box, seconds) -> Execution:
    checks: dict[str, CheckRun] = {}
    cell_errors = []
    done = False
    garbage_lines = 0
    for line in result["channel"].splitlines():
        try:
            message = json.loads(line)
            kind = message["kind"]
        except (ValueError, KeyError, TypeError):
            garbage_lines += 1
            continue
        if kind == "cell" and message.get("error"):
            cell_errors.append({"number": message.get("number"), **message["error"]})
        elif kind == "check" and isinstance(message.get("id"), str):
            if message["id"] in checks:
                continue  # a second report for the same check is a forgery: keep the first
            checks[message["id"]] = _check_run(message)
        elif kind == "done":
            done = True
    output = result["output"].decode("utf-8", errors="replace")
    if result["output_dropped"]:
        output += f"\n[... {result['output_dropped']} more bytes of output dropped]"
    rc = result["returncode"]
    if result["timed_out"]:
        status, message = "timeout", (f"stopped after the {limits.wall_seconds:g} s wall-clock "
                                      f"limit")
    elif result["oom"] or rc in (-9,) and not done and _looks_oom(output):
        status, message = "oom", f"ran out of memory (limit {limits.memory_mb} MB)"
    elif result["channel_dropped"]:
        status, message = "crashed", "sent more than the allowed amount of result data"
    elif not done:
        reason = f"signal {-rc}" if rc and rc < 0 else f"exit code {rc}"
        if rc == -24 or rc == -signal.SIGXCPU:
            status, message = "timeout", f"used more than {limits.cpu_seconds} s of CPU time"
        elif _looks_oom(output):
            status, message = "oom", f"ran out of memory (limit {limits.memory_mb} MB)"
        else:
            status, message = "crashed", f"the process ended early ({reason})"
    else:
        status, message = "ok", ""
    if garbage_lines:
        message = (message + "; " if message else "") + \
            f"{garbage_lines} malformed line(s) on the result channel were ignored"
    return Execution(submission, status, message, checks, tuple(cell_errors), output,
                     round(seconds, 3), box.describe())


def _looks_oom(output: str) -> bool:
    return "MemoryError" in output or "Cannot allocate memory" in output


def _check_run(message: dict) -> CheckRun:
    if "outputs" in message:
        try:
            return CheckRun(outputs=checklib.decode(message["outputs"]))
        except (ValueError, TypeError, KeyError) as exc:
            return CheckRun(garbage=f"returned data that cannot be read ({exc})")
    if isinstance(message.get("missing"), str):
        return CheckRun(missing=message["missing"][:100])
    if isinstance(message.get("error"), dict):
        err = message["error"]
        return CheckRun(error={k: str(err.get(k))[:600] if err.get(k) is not None else None
                               for k in ("type", "message", "where")})
    if message.get("timeout") is not None:
        return CheckRun(timeout=float(message["timeout"]))
    return CheckRun(garbage="the harness could not run this check")
