"""Running one prepared job under the sandbox: the fresh-process path and what both paths share.

A run's raw outcome is a `RawRun` (exit status, whether the wall clock or the memory limit
ended it, the bytes from the result channel and from stdout/stderr, each capped). execute.py
turns it into an Execution; warmpool.py produces the same from a warm worker's child.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import box as sandbox
from . import confine
from .. import timing
from ..collect import Submission
from .limits import CGroup, Limits, apply_rlimits, owner_alive, remove_stale_cgroups


# The harness's marker that public work is over; the parent matches these exact bytes.
AWAIT_HIDDEN = b'{"kind": "await-hidden"}'


@dataclass(frozen=True)
class RawRun:
    returncode: int | None   # negative: killed by that signal; None: unknown
    timed_out: bool
    oom: bool
    lines: tuple[bytes, ...]  # complete result-channel lines (oversized ones left out)
    channel_dropped: int      # bytes past the channel cap, not kept
    oversized_lines: int      # lines longer than the line cap, not kept
    output: bytes             # stdout/stderr written before the hidden inputs were sent
    output_dropped: int       # ... past the output cap
    await_index: int | None = None   # index in lines of the first await-hidden marker
    hidden_output: int = 0    # bytes written after the hidden inputs were sent: never shown


class Pump(threading.Thread):
    """Moves one run's bytes, in one thread: result channel and output in, hidden inputs out.

    Everything read is capped (the channel in total and per line, the output in total), so a
    flood costs the submission its own wall-clock time and never the parent's memory; reading
    goes on past the caps, so the writer never blocks on a full pipe.

    Hidden inputs are written to the run's stdin only after the channel carried the
    await-hidden marker. At that moment the output pipe is drained first: the harness flushed
    its output before sending the marker, so what is in the pipe then was written before any
    hidden input existed in the sandbox, and what arrives later is counted, never kept.
    """

    def __init__(self, channel_fd: int, output_fd: int, input_fd: int, hidden: bytes,
                 channel_cap: int, line_cap: int, output_cap: int):
        super().__init__(daemon=True)
        self.channel_fd, self.output_fd, self.input_fd = channel_fd, output_fd, input_fd
        self.hidden = memoryview(hidden)
        self.channel_cap, self.line_cap, self.output_cap = channel_cap, line_cap, output_cap
        self.lines: list[bytes] = []
        self._partial = bytearray()
        self._skipping = False      # inside a line that went over the line cap
        self.kept = 0
        self.channel_dropped = 0
        self.oversized_lines = 0
        self.output = bytearray()
        self.output_dropped = 0
        self.hidden_output = 0
        self.await_index: int | None = None
        self.arrivals: list[float] = []   # when each kept line arrived (timing.py only)
        os.set_blocking(output_fd, False)
        os.set_blocking(input_fd, False)

    # -- result channel ------------------------------------------------------------------
    def _channel_bytes(self, chunk: bytes) -> bool:
        """Split into lines; True when the await-hidden marker just arrived."""
        triggered = False
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not self._skipping:
                if len(self._partial) + len(piece) > self.line_cap:
                    self._skipping = True
                    self._partial.clear()
                else:
                    self._partial += piece
            if end < 0:
                return triggered
            if self._skipping:
                self.oversized_lines += 1
                self._skipping = False
            else:
                triggered |= self._line(bytes(self._partial))
            self._partial.clear()
            start = end + 1

    def _line(self, line: bytes) -> bool:
        if self.kept + len(line) > self.channel_cap:
            self.channel_dropped += len(line) + 1
            return False
        self.kept += len(line) + 1
        self.lines.append(line)
        if timing.ENABLED:
            self.arrivals.append(time.monotonic())
        if self.await_index is None and line == AWAIT_HIDDEN:
            self.await_index = len(self.lines) - 1
            return True
        return False

    # -- output ---------------------------------------------------------------------------
    def _output_bytes(self, chunk: bytes) -> None:
        if self.await_index is not None:
            self.hidden_output += len(chunk)
            return
        room = self.output_cap - len(self.output)
        if room > 0:
            self.output += chunk[:room]
        self.output_dropped += max(0, len(chunk) - max(room, 0))

    def _drain_output(self) -> bool:
        """Read what is in the output pipe now; False at end of file."""
        while True:
            try:
                chunk = os.read(self.output_fd, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._output_bytes(chunk)

    def run(self) -> None:
        poller = select.poll()
        open_fds = {self.channel_fd, self.output_fd}
        for fd in open_fds:
            poller.register(fd, select.POLLIN)
        writing = False
        try:
            while open_fds:
                for fd, _event in poller.poll():
                    if fd == self.input_fd:
                        writing = self._write_hidden(poller)
                        continue
                    if fd not in open_fds:
                        continue
                    try:
                        chunk = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    except OSError:
                        chunk = b""
                    if not chunk:
                        poller.unregister(fd)
                        open_fds.discard(fd)
                    elif fd == self.output_fd:
                        self._output_bytes(chunk)
                    elif self._channel_bytes(chunk):
                        if self.output_fd in open_fds and not self._drain_before_hidden():
                            poller.unregister(self.output_fd)
                            open_fds.discard(self.output_fd)
                        if self.hidden:
                            poller.register(self.input_fd, select.POLLOUT)
                            writing = True
        finally:
            if writing:
                poller.unregister(self.input_fd)
            for fd in (self.channel_fd, self.output_fd, self.input_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _drain_before_hidden(self) -> bool:
        """Keep what was written before the marker (await_index is already set, so undo the
        taint for this drain only)."""
        index, self.await_index = self.await_index, None
        try:
            return self._drain_output()
        finally:
            self.await_index = index

    def _write_hidden(self, poller) -> bool:
        """Write the next part of the hidden inputs; False once all is written or refused."""
        try:
            written = os.write(self.input_fd, self.hidden[:1 << 16])
        except BlockingIOError:
            return True
        except OSError:
            written = len(self.hidden)      # the run is gone or closed its stdin
        self.hidden = self.hidden[written:]
        if self.hidden:
            return True
        poller.unregister(self.input_fd)
        os.close(self.input_fd)
        self.input_fd = -1
        return False

    def raw(self, returncode, timed_out: bool, oom: bool) -> RawRun:
        return RawRun(returncode, timed_out, oom, tuple(self.lines), self.channel_dropped,
                      self.oversized_lines, bytes(self.output), self.output_dropped,
                      self.await_index, self.hidden_output)


SMALL_SUBMISSION = 64 * 1024 * 1024


def scratch_root(submission_bytes: int = 0) -> str:
    """Where runs keep their files: a tmpfs (/dev/shm) when the submission is small, since a
    run creates and deletes a handful of files and folders (about 0.2 ms there against about
    10 ms on a busy disk); the temp folder otherwise. NEUROGRADE_SCRATCH overrides."""
    chosen = os.environ.get("NEUROGRADE_SCRATCH")
    if chosen:
        return chosen
    shm = "/dev/shm"
    if submission_bytes <= SMALL_SUBMISSION and os.path.isdir(shm) and \
            os.access(shm, os.W_OK | os.X_OK):
        stats = os.statvfs(shm)
        if stats.f_bavail * stats.f_frsize > 8 * SMALL_SUBMISSION:
            return shm
    return tempfile.gettempdir()


def scratch_prefix(kind: str) -> str:
    """'neurograde-<kind>-<our pid>-': lets a later grader remove what a killed one left."""
    return f"neurograde-{kind}-{os.getpid()}-"


_CLEANED = threading.Lock()
_cleaned = False


def remove_stale_leftovers() -> None:
    """Once per process: folders and cgroups of graders that were killed (SIGKILL) mid-run,
    processes included (a submission orphaned by its dead worker would otherwise run on)."""
    global _cleaned
    with _CLEANED:
        if _cleaned:
            return
        _cleaned = True
    remove_stale_cgroups()
    for root in {scratch_root(), tempfile.gettempdir()}:
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for name in entries:
            if name.startswith(("neurograde-run-", "neurograde-worker-")) and \
                    not owner_alive(name):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def submission_bytes(submission: Submission) -> int:
    return sum(path.stat().st_size for path in submission.files)


def copy_submission(submission: Submission, work_dir: Path, owner: int | None) -> None:
    """The submission's files into its private work folder, owned by the sandbox uid.

    We are root here: every file is opened without following a link on any path component and
    must be a regular file (collect.open_regular), so a link swapped in after collection is
    refused (UnsafeFile: an internal-error row; the next run's collection names the link)."""
    from ..collect import open_regular
    work_dir.mkdir(parents=True, exist_ok=True)
    for path in submission.files:
        rel = path.relative_to(submission.root)
        target = work_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(open_regular(submission.root, rel), "rb") as src, \
                os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                                  | os.O_CLOEXEC, 0o644), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    for root, dirs, files in os.walk(work_dir):
        os.chmod(root, 0o755)
        if owner is not None:
            os.chown(root, owner, owner)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
            if owner is not None:
                os.chown(os.path.join(root, name), owner, owner)


def private_dir(path: Path, owner: int | None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def install_harness(harness_dir: Path, probes_path: Path) -> None:
    """The sandbox-side modules plus the assignment's probes, read-only for the sandbox."""
    harness_dir.mkdir(parents=True, exist_ok=True)
    for name, source in sandbox.SANDBOX_FILES.items():
        shutil.copyfile(source, harness_dir / name)
    shutil.copyfile(probes_path, harness_dir / "probes.py")
    os.chmod(harness_dir, 0o755)
    for name in os.listdir(harness_dir):
        os.chmod(harness_dir / name, 0o644)


def owner_for(box: sandbox.Sandbox) -> int | None:
    return sandbox.SANDBOX_UID if box.drop_uid and os.geteuid() == 0 else None


def run_fresh(submission: Submission, job: dict, hidden: bytes, probes_path: Path,
              box: sandbox.Sandbox, limits: Limits, base: Path) -> RawRun:
    """One new interpreter for this submission, in a sandbox of its own (the fallback path).
    `hidden` (the hidden checks' inputs) is written to its stdin only on await-hidden."""
    owner = owner_for(box)
    harness_dir, work_dir = base / "harness", base / "work"
    install_harness(harness_dir, probes_path)
    copy_submission(submission, work_dir, owner)
    tmp_dir = private_dir(base / "tmp", owner)
    if box.namespaces:
        job = {**job, "confine": box.confinement(Path("/harness"), [Path("/work")])}
    else:
        job = {**job, "confine": box.confinement(harness_dir, [work_dir, tmp_dir])}
    (harness_dir / "job.json").write_text(json.dumps(job))
    os.chmod(harness_dir / "job.json", 0o644)
    res_r, res_w = os.pipe()
    if box.namespaces:
        argv = [sys.executable, "-I", "/harness/harness.py", "/harness/job.json"]
        cwd, env = None, None
    else:
        argv = [sys.executable, "-I", str(harness_dir / "harness.py"),
                str(harness_dir / "job.json")]
        cwd, env = str(work_dir), sandbox.host_env(work_dir, tmp_dir, res_w)
    cmd = sandbox.command(box, harness_dir, work_dir, argv, limits, result_fd=res_w)
    raw = _run(cmd, cwd, env, box, limits, res_r, res_w, hidden)
    code = raw.returncode
    if box.namespaces and code is not None and 128 < code <= 128 + 64:
        # bubblewrap's init exits with 128 + N when the harness died of signal N.
        raw = dataclasses.replace(raw, returncode=-(code - 128))
    return raw


def make_pump(limits: Limits, res_r: int, out_r: int, in_w: int, hidden: bytes) -> Pump:
    channel_cap = limits.channel_mb * 1024 * 1024
    return Pump(res_r, out_r, in_w, hidden, channel_cap,
                min(channel_cap, limits.line_mb * 1024 * 1024), limits.output_kb * 1024)


def _run(cmd, cwd, env, box, limits, res_r, res_w, hidden: bytes) -> RawRun:
    cgroup = CGroup(box.use_cgroups, limits)
    out_r, out_w = os.pipe()
    in_r, in_w = os.pipe()

    def preexec():
        if not box.namespaces:
            confine.die_with_parent()  # bwrap does it with --die-with-parent
        cgroup.enter()
        # Set before bwrap starts, so the count is the host's: only meaningful for the
        # sandbox uid (inside a user namespace of our own, the warm path can do better).
        apply_rlimits(limits, cgroups=box.use_cgroups, own_process_count=box.drop_uid)

    timed_out = False
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=in_r, stdout=out_w,
                                stderr=out_w, pass_fds=(res_w,), preexec_fn=preexec,
                                start_new_session=True)
    except BaseException:
        for fd in (res_r, out_r, in_w):
            os.close(fd)
        cgroup.remove()
        raise
    finally:
        for fd in (res_w, out_w, in_r):
            os.close(fd)
    pump = make_pump(limits, res_r, out_r, in_w, hidden)
    pump.start()
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
    pump.join(timeout=10)
    oom = cgroup.oom_killed()
    cgroup.remove()
    return pump.raw(proc.returncode, timed_out, oom)
