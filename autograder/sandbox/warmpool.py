"""The trusted side of warm workers: start them, hand them submissions, restart or give up.

One worker (worker.py, inside the sandbox) per job slot and assignment, started on first use
and reused for the next submissions of the batch; each submission still gets its own forked
child (own pid/mount/ipc namespaces, /work, /tmp), pipes and limits: the worker's cgroup,
re-armed before each child, which then runs alone in it. The pool never lets a problem with a
worker reach a grade: a worker that cannot start, dies or stops answering is replaced, the
submission is re-run in a fresh process (runner.run_fresh), and after repeated failures the
pool stops trying for that assignment (every submission then takes the fresh path).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from . import box as sandbox
from .. import timing
from ..collect import Submission
from .limits import CGroup, Limits
from .runner import (SMALL_SUBMISSION, RawRun, copy_submission, install_harness, make_pump,
                     owner_for, private_dir, scratch_prefix, scratch_root,
                     submission_bytes)

START_TIMEOUT = 120.0   # torch takes seconds to import on a cold cache
HANDSHAKE_TIMEOUT = 10.0
STATUS_GRACE = 10.0     # after a kill, how long the worker may take to report the status
PIPES_GRACE = 0.2       # after the submission's process ended, for its pipes to reach EOF
IDLE_SECONDS = 300      # a worker nobody uses exits on its own
MAX_FAILURES = 3
# A job this small travels inside the request (one message on the control socket, well below
# its buffer); a bigger one is written to a file in the spool.
INLINE_JOB = 64 * 1024


class WorkerBroken(RuntimeError):
    """The worker (not the submission) failed: the caller re-runs the job in a fresh process."""


class WarmWorker:
    def __init__(self, box: sandbox.Sandbox, probes_path: Path, uses_torch: bool,
                 preload: tuple[str, ...] = ()):
        self.box = box
        self.cgroup: CGroup | None = None  # one for all its children, made on first use
        self._pending: tuple | None = None  # the previous run, while its teardown goes on
        self.base = Path(tempfile.mkdtemp(prefix=scratch_prefix("worker"), dir=scratch_root()))
        os.chmod(self.base, 0o755)
        self.harness_dir = self.base / "harness"
        self.spool = self.base / "spool"
        install_harness(self.harness_dir, probes_path)
        self.spool.mkdir()
        os.chmod(self.spool, 0o755)
        inside = Path("/harness") if box.namespaces else self.harness_dir
        self.spool_inside = Path("/spool") if box.namespaces else self.spool
        config = {"probes": str(inside / "probes.py"), "torch": uses_torch,
                  "preload": list(preload),
                  "namespaces": box.namespaces, "die_with_parent": not box.namespaces,
                  "idle_seconds": IDLE_SECONDS,
                  "test_confine": box.confinement(inside, []) or {}}
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.worker_pid: int | None = None
        argv = [sys.executable, "-I", str(inside / "worker.py"), str(theirs.fileno()),
                json.dumps(config)]
        cmd = sandbox.worker_command(box, self.harness_dir, self.spool, argv, Limits())
        self.log = open(self.base / "worker.log", "wb")
        env = None if box.namespaces else sandbox.host_env(self.spool, self.spool)
        try:
            self.proc = _spawner().call(lambda: subprocess.Popen(
                cmd, pass_fds=(theirs.fileno(),), cwd=self.spool, env=env,
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                start_new_session=True))
        except OSError as exc:
            self.close()
            raise WorkerBroken(f"cannot start a warm worker: {exc}") from None
        finally:
            theirs.close()
        self.control.settimeout(START_TIMEOUT)
        try:
            message, ancillary, _, _ = self.control.recvmsg(1 << 16, socket.CMSG_SPACE(12))
            hello = json.loads(message or b"{}")
            self.worker_pid = _sender_pid(ancillary)
        except (OSError, ValueError):
            hello = {}
        if not hello.get("ready") or self.worker_pid is None:
            reason = hello.get("error") or self._log_tail() or "no answer"
            self.close()
            raise WorkerBroken(f"the warm worker did not start: {reason}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _log_tail(self) -> str:
        try:
            return (self.base / "worker.log").read_bytes()[-400:].decode(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        if getattr(self, "_pending", None) is not None:
            self._pending[0].close()
            self._pending = None
        try:
            self.control.close()
        except OSError:
            pass
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.cgroup.remove()
        if hasattr(self, "log"):
            self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)

    # -- one submission -------------------------------------------------------------------
    def run(self, submission: Submission, job: dict, hidden: bytes, limits: Limits) -> RawRun:
        owner = owner_for(self.box)
        token = uuid.uuid4().hex
        folder = self.spool / token
        folder.mkdir()
        os.chmod(folder, 0o755)
        try:
            copying = time.perf_counter()
            copy_submission(submission, folder / "work", owner)
            tmp = private_dir(folder / "tmp", owner)
            inside = self.spool_inside / token
            if self.box.namespaces:
                spec = self.box.confinement(Path("/harness"), [Path("/work")])
                env = sandbox.sandbox_env(3)
            else:
                spec = self.box.confinement(self.harness_dir, [folder / "work", tmp])
                env = sandbox.host_env(folder / "work", tmp, 3)
            job = {**job, "confine": spec}
            job_text = json.dumps(job)
            inline = len(job_text) <= INLINE_JOB
            if not inline:
                (folder / "job.json").write_text(job_text)
                os.chmod(folder / "job.json", 0o644)
            timing.add(submission.stem, "sandbox: copy-in (work folder, job file)",
                       time.perf_counter() - copying)
            request = {"job": str(inside / "job.json"), "work": str(inside / "work"),
                       **({"job_data": job} if inline else {}),
                       "tmp_bytes": limits.tmp_mb * 1024 * 1024, "env": env,
                       "rlimits": limits.rlimits(self.box.use_cgroups,
                                                 self.box.drop_uid or self.box.mode == "bwrap"),
                       "confine": spec}
            return self._run(request, hidden, limits, submission.stem)
        finally:
            with timing.stage(submission.stem, "sandbox: clean-up (work folder)"):
                shutil.rmtree(folder, ignore_errors=True)

    def _run(self, request: dict, hidden: bytes, limits: Limits, stem: str) -> RawRun:
        self._settle(stem)
        arming = time.perf_counter()
        cgroup = self._cgroup(limits)  # re-armed before the child exists
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        in_r, in_w = os.pipe()
        sync, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sync.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()],
                            [res_w, out_w, in_r, theirs.fileno()])
        except OSError as exc:
            for fd in (res_r, out_r, in_w):
                os.close(fd)
            raise WorkerBroken(f"the warm worker is gone ({exc})") from None
        finally:
            for fd in (res_w, out_w, in_r):
                os.close(fd)
            theirs.close()
        pump = make_pump(limits, res_r, out_r, in_w, hidden)
        pump.start()
        pid = None
        status, timed_out, ended, deferred = None, False, False, False
        ready = finished = None
        try:
            pid = self._handshake(sync)
            ready = time.monotonic()
            timing.add(stem, "sandbox: cgroup re-armed, request sent, child forked",
                       time.perf_counter() - arming)
            deadline = time.monotonic() + limits.wall_seconds
            status, timed_out, ended = self._wait(sync, deadline, until_status=True)
            finished = time.monotonic()
            if status is not None and not ended:
                # The submission's process has ended. Its pipes close with it, unless
                # something it left behind holds them (then wait for the whole run to go).
                pump.join(timeout=PIPES_GRACE)
                deferred = not pump.is_alive()
            if not ended and not deferred and not timed_out:
                late, timed_out, ended = self._wait(sync, deadline)
                status = late if status is None else status
            if not ended and not deferred:
                late, ended = self._kill_and_wait(sync, cgroup, pid)
                status = late if status is None else status
        finally:
            # The worker closes the socket only once nothing of the run is left (its pid
            # namespace is gone, or its orphans are reaped): only kill if it did not.
            if deferred:
                # The rest of the teardown (the run's namespace going away) overlaps with
                # judging this submission; the next run waits for it (_settle) first.
                self._pending = (sync, cgroup, pid)
            else:
                if not ended:
                    if pid is not None:
                        self._kill(cgroup, pid)
                    else:  # no handshake: whatever the worker forked is still in the cgroup
                        cgroup.kill_all(frozenset({self.worker_pid}))
                sync.close()
            pump.join(timeout=10)
            oom = cgroup.oom_killed()
        if status is None or not (ended or deferred):
            raise WorkerBroken("the warm worker did not report how the submission ended")
        timing.channel_stages(stem, tuple(pump.lines), tuple(pump.arrivals), ready, finished)
        return pump.raw(os.waitstatus_to_exitcode(status), timed_out, oom)

    def _settle(self, stem: str) -> None:
        """Wait until nothing of the previous run is left (the worker closes its socket then);
        kill it if it takes too long. Before anything of the next run exists."""
        if self._pending is None:
            return
        sync, cgroup, pid = self._pending
        self._pending = None
        started = time.perf_counter()
        try:
            _, _, ended = self._wait(sync, time.monotonic() + STATUS_GRACE)
            if not ended:
                _, ended = self._kill_and_wait(sync, cgroup, pid)
        finally:
            sync.close()
        timing.add(stem, "sandbox: the previous run's teardown awaited",
                   time.perf_counter() - started)
        if not ended:
            raise WorkerBroken("the warm worker did not finish the previous submission")

    def _kill_and_wait(self, sync: socket.socket, cgroup: CGroup,
                       pid: int) -> tuple[int | None, bool]:
        """Kill the run, then give the worker STATUS_GRACE to report and close the socket:
        (status reported, socket closed)."""
        self._kill(cgroup, pid)
        status, _, ended = self._wait(sync, time.monotonic() + STATUS_GRACE)
        return status, ended

    def _cgroup(self, limits: Limits) -> CGroup:
        """The worker's cgroup, which each child inherits by fork: no task migration per run
        (one costs milliseconds on cgroup v1). The worker lives in it (its memory stays
        charged where it was allocated), counted in pids.max on top of the run's own limit;
        the child marks itself the OOM killer's first choice (worker.py)."""
        keep = frozenset({self.worker_pid})
        try:
            if self.cgroup is None:
                self.cgroup = CGroup(self.box.use_cgroups, limits, label="worker",
                                     freezer=not self.box.namespaces, reserve=1)
                if self.box.use_cgroups:
                    self.cgroup.add(self.worker_pid)
            if self.cgroup.begin(limits, keep):
                return self.cgroup
        except OSError as exc:
            raise WorkerBroken(f"cannot set up the worker's cgroup: {exc}") from None
        raise WorkerBroken("the previous run's processes did not go away")

    def _handshake(self, sync: socket.socket) -> int:
        """The child's pid, as the kernel translated it for us (SO_PASSCRED)."""
        sync.settimeout(HANDSHAKE_TIMEOUT)
        try:
            message, ancillary, _, _ = sync.recvmsg(16, socket.CMSG_SPACE(12))
        except OSError:
            message, ancillary = b"", []
        pid = _sender_pid(ancillary)
        if message != b"ready" or pid is None:
            raise WorkerBroken("the warm worker did not start the submission's child")
        return pid

    @staticmethod
    def _wait(sync: socket.socket, deadline: float,
              until_status: bool = False) -> tuple[int | None, bool, bool]:
        """(first wait status reported, deadline passed, worker closed the socket); with
        until_status, return as soon as the first status is in.

        The first status is the grader's own (from its pid-1 parent, or from the worker when
        there is no namespace); the worker then reports its child and closes the socket."""
        status = None
        while True:
            if until_status and status is not None:
                return status, False, False
            left = deadline - time.monotonic()
            if left <= 0:
                return status, True, False
            sync.settimeout(left)
            try:
                message = sync.recv(256)
            except socket.timeout:
                return status, True, False
            except OSError:
                return status, False, True
            if not message:
                return status, False, True
            try:
                value = int(json.loads(message)["status"])
            except (ValueError, KeyError, TypeError):
                continue
            status = value if status is None else status

    def _kill(self, cgroup: CGroup, pid: int) -> None:
        """End the run: its first process (with namespaces the pid-namespace init, whose
        death ends everything in it), its session, and everything in the cgroup but the
        worker."""
        for kill in (os.kill, os.killpg):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        cgroup.kill_all(frozenset({self.worker_pid}))


class _Spawner(threading.Thread):
    """Starts every warm worker from one thread that lives as long as the process.

    Without namespaces a worker asks to be killed when its parent dies (PR_SET_PDEATHSIG),
    and for the kernel the parent is the *thread* that forked it: a worker started from a
    grading thread that then ends (a finished thread pool, the batch's self-check) would be
    killed while idle in the pool."""

    def __init__(self):
        super().__init__(daemon=True, name="neurograde-spawner")
        self._jobs: list = []
        self._ready = threading.Condition()

    def run(self) -> None:  # type: ignore[override]
        while True:
            with self._ready:
                while not self._jobs:
                    self._ready.wait()
                fn, box = self._jobs.pop(0)
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed back to the caller
                box["error"] = exc
            box["done"].set()

    def call(self, fn):
        box = {"done": threading.Event()}
        with self._ready:
            self._jobs.append((fn, box))
            self._ready.notify()
        box["done"].wait()
        if "error" in box:
            raise box["error"]
        return box["value"]


_SPAWNER: _Spawner | None = None
_SPAWNER_LOCK = threading.Lock()


def _spawner() -> _Spawner:
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None or not _SPAWNER.is_alive():
            _SPAWNER = _Spawner()
            _SPAWNER.start()
        return _SPAWNER


def _sender_pid(ancillary) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(data) >= 12:
            return struct.unpack("3i", data[:12])[0]
    return None


class WorkerPool:
    """Idle workers by key; a thread checks one out for one submission at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list[tuple[tuple, WarmWorker]] = []
        self._failures: dict[tuple, int] = {}
        self.notes: dict[tuple, str] = {}

    @staticmethod
    def key(box: sandbox.Sandbox, probes_path: Path, uses_torch: bool,
            preload: tuple[str, ...] = ()) -> tuple:
        digest = hashlib.sha256(Path(probes_path).read_bytes()).hexdigest()
        return (box, str(probes_path), digest, uses_torch, tuple(preload))

    def usable(self, key: tuple) -> bool:
        return self._failures.get(key, 0) < MAX_FAILURES

    @contextmanager
    def checkout(self, key: tuple) -> Iterator[WarmWorker]:
        worker = None
        stale = []
        with self._lock:
            keep = []
            for k, w in self._idle:
                if k == key and worker is None and w.alive():
                    worker = w
                elif k == key and w.alive():
                    keep.append((k, w))
                else:
                    stale.append(w)  # dead, or another assignment's: batches rarely interleave
            self._idle = keep
        for w in stale:
            w.close()
        if worker is None:
            box, probes_path, _, uses_torch, preload = key
            with timing.stage(None, "warm worker start"):
                worker = WarmWorker(box, Path(probes_path), uses_torch, preload)
        healthy = False
        try:
            yield worker
            healthy = True
        finally:
            if healthy and worker.alive():
                with self._lock:
                    self._idle.append((key, worker))
                    self._failures[key] = 0
            else:
                worker.close()

    def failed(self, key: tuple, reason: str) -> None:
        with self._lock:
            self._failures[key] = self._failures.get(key, 0) + 1
            if self._failures[key] >= MAX_FAILURES and key not in self.notes:
                self.notes[key] = reason
                print(f"neurograde: warm workers keep failing ({reason}); grading with a fresh "
                      f"process per submission from now on", file=sys.stderr, flush=True)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, worker in idle:
            worker.close()


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> WorkerPool:
    """The process-wide pool, created on first use (closed at exit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool()
            atexit.register(_POOL.close)
        return _POOL


def run_warm(submission: Submission, job: dict, hidden: bytes, probes_path: Path,
             uses_torch: bool, box: sandbox.Sandbox, limits: Limits,
             preload: tuple[str, ...] = ()) -> RawRun | None:
    """The run through a warm worker, or None when the caller should use a fresh process.
    preload: modules the worker imports once (what the assignment's notebook imports), so
    that no child pays for them."""
    workers = pool()
    key = workers.key(box, probes_path, uses_torch, preload)
    if not workers.usable(key) or submission_bytes(submission) > SMALL_SUBMISSION:
        return None  # big submissions are copied to disk by the fresh path, not to tmpfs
    try:
        with workers.checkout(key) as worker:
            return worker.run(submission, job, hidden, limits)
    except WorkerBroken as exc:
        workers.failed(key, str(exc))
        return None
