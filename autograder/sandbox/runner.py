"""Running one prepared job under the sandbox: the fresh-process path and what both paths share.

A run's raw outcome is a `RawRun` (exit status, whether the wall clock or the memory limit
ended it, the bytes from the result channel and from stdout/stderr, each capped). execute.py
turns it into an Execution; warmpool.py produces the same from a warm worker's child.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from . import box as sandbox
from . import confine
from ..collect import Submission
from .limits import CGroup, Limits, apply_rlimits, owner_alive, remove_stale_cgroups


@dataclass(frozen=True)
class RawRun:
    returncode: int | None   # negative: killed by that signal; None: unknown
    timed_out: bool
    oom: bool
    channel: bytes
    channel_dropped: int
    output: bytes
    output_dropped: int


class Reader(threading.Thread):
    """Drains a pipe, keeping at most `cap` bytes so a flood cannot exhaust our memory.

    It keeps reading (and counting) past the cap, so the writer never blocks on a full pipe:
    a flood costs the submission its own wall-clock time, nothing else.
    """

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
    """The submission's files into its private work folder, owned by the sandbox uid."""
    work_dir.mkdir(parents=True, exist_ok=True)
    for path in submission.files:
        target = work_dir / path.relative_to(submission.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
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


def run_fresh(submission: Submission, job: dict, probes_path: Path, box: sandbox.Sandbox,
              limits: Limits, base: Path) -> RawRun:
    """One new interpreter for this submission, in a sandbox of its own (the fallback path)."""
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
    raw = _run(cmd, cwd, env, box, limits, res_r, res_w)
    code = raw.returncode
    if box.namespaces and code is not None and 128 < code <= 128 + 64:
        # bubblewrap's init exits with 128 + N when the harness died of signal N.
        raw = dataclasses.replace(raw, returncode=-(code - 128))
    return raw


def _run(cmd, cwd, env, box, limits, res_r, res_w) -> RawRun:
    cgroup = CGroup(box.use_cgroups, limits)
    out_r, out_w = os.pipe()

    def preexec():
        if not box.namespaces:
            confine.die_with_parent()  # bwrap does it with --die-with-parent
        cgroup.enter()
        # Set before bwrap starts, so the count is the host's: only meaningful for the
        # sandbox uid (inside a user namespace of our own, the warm path can do better).
        apply_rlimits(limits, cgroups=box.use_cgroups, own_process_count=box.drop_uid)

    channel = Reader(res_r, limits.channel_mb * 1024 * 1024)
    output = Reader(out_r, limits.output_kb * 1024)
    timed_out = False
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out_w,
                                stderr=out_w, pass_fds=(res_w,), preexec_fn=preexec,
                                start_new_session=True)
    except BaseException:
        for fd in (res_r, out_r):
            os.close(fd)
        cgroup.remove()
        raise
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
    return RawRun(proc.returncode, timed_out, oom, channel.data(), channel.dropped,
                  output.data(), output.dropped)
