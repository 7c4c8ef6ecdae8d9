"""Grading beyond one machine: deterministic shards for CI matrices, and a dask.distributed runner.

Shards (``--shard I/N``, I counted from 1): a submission belongs to shard
``sha256(name) mod N + 1``, where name is its gradebook name (file or folder stem). The hash of
the name alone, not its position in a sorted list, decides, so adding or removing a submission
never moves another one to a different shard, and every machine computes the same split.

Dask (``--dask ADDRESS``): each submission becomes one task that carries the submission's bytes
(workers need not share a file system with the client) and runs the normal pipeline on the
worker: sandboxed execute, then judge against expected values the worker computes once. The
task returns the plain result dict; the client records each result in its one gradebook as
the task completes, so the kill-and-resume guarantee holds as in a local batch. A worker whose
neurograde differs from the client's (autograder version) refuses to grade, and a task that
fails outright (worker lost, no sandbox on the worker) becomes an ``internal-error`` row that
the next run retries.

A task's key names everything that decides its row (slug, submission, content, autograder
version, seed, language, limits, sandbox mode), so two clients on one cluster never share a
result they should not. Each future is released as soon as its row is recorded, so a worker
lost later recomputes nothing already recorded; a task whose worker dies before it finishes is
retried by dask (``retries``). The scheduler is checked before anything is written: an
unreachable one is a usage error naming the address. A worker removes the submission copies
that a killed worker process left in its temp folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .collect import Submission, read_regular
from .judge import SubmissionResult
from .probe import Plan


CONNECT_SECONDS = 30   # how long to wait for the scheduler before giving up
CHECK_SECONDS = 5      # the first look at the scheduler's port, before anything is written
RETRIES = 2            # dask's own retries of a task whose worker was lost
TMP_PREFIX = "neurograde-dask-"


class ShardError(ValueError):
    pass


class DaskUnavailable(RuntimeError):
    """dask is not installed or the scheduler cannot be reached; the message says what to do."""


class SchedulerUnreachable(DaskUnavailable):
    """Nothing answers at the --dask address (a usage error: the address is the user's)."""


def check_scheduler(address: str, seconds: float | None = None) -> None:
    """Fail fast, before a gradebook is created, when nothing listens at address."""
    seconds = CHECK_SECONDS if seconds is None else seconds
    match = re.fullmatch(r"(?:(\w+)://)?\[?([^\]/]+?)\]?:(\d+)/?", address.strip())
    if not match or match.group(1) not in (None, "tcp", "tls"):
        raise SchedulerUnreachable(
            f"--dask {address!r}: expected a scheduler address like tcp://HOST:8786")
    try:
        socket.create_connection((match.group(2), int(match.group(3))), timeout=seconds).close()
    except OSError as exc:
        raise SchedulerUnreachable(
            f"cannot reach the dask scheduler at {address} ({exc.strerror or exc}); start one "
            f"with `dask scheduler` and workers with `dask worker ADDRESS`, or check the "
            f"address. Nothing was graded or written.") from None


@dataclass(frozen=True)
class Shard:
    index: int   # 1..count
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """'I/N' -> Shard; ShardError explains a malformed value."""
        parts = str(text).split("/")
        try:
            index, count = (int(p) for p in parts)
        except ValueError:
            raise ShardError(f"--shard {text!r}: expected I/N with whole numbers, e.g. 2/4 "
                             f"for the second of four shards") from None
        if count < 1 or not 1 <= index <= count:
            raise ShardError(f"--shard {text}: need 1 <= I <= N (shards are numbered from 1), "
                             f"e.g. 1/{max(count, 1)} .. {max(count, 1)}/{max(count, 1)}")
        return cls(index, count)

    def selects(self, name: str) -> bool:
        return shard_of(name, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(name: str, count: int) -> int:
    """The shard (1..count) that grades the submission called name."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


# -- dask ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskSpec:
    """What a worker needs besides the submission: small, picklable, the same for every task."""
    slug: str
    seed: int
    version: str
    timeout: float
    lang: str
    unsafe: bool

    def key(self, sub: Submission) -> str:
        """The task key: everything that decides the submission's row."""
        decides = repr((dataclasses.astuple(self), sub.stem, sub.sha256))
        digest = hashlib.sha256(decides.encode("utf-8")).hexdigest()[:24]
        return f"neurograde-{self.slug}-{sub.stem}-{digest}"


@dataclass(frozen=True)
class Payload:
    """A submission as bytes, so a worker on another machine can rebuild it."""
    stem: str
    sha256: str
    notebook: str                              # path relative to the submission root
    files: tuple[tuple[str, bytes], ...]       # (relative path, content)

    @classmethod
    def of(cls, sub: Submission) -> "Payload":
        # Read as the copy into a local sandbox reads: no link followed, regular files only.
        rels = [p.relative_to(sub.root) for p in sub.files]
        files = tuple((str(rel), read_regular(sub.root, rel)) for rel in rels)
        return cls(sub.stem, sub.sha256, str(sub.notebook.relative_to(sub.root)), files)

    def materialize(self, folder: Path) -> Submission:
        paths = []
        for rel, data in self.files:
            target = (folder / rel).resolve()
            if folder.resolve() not in target.parents:
                raise ValueError(f"{self.stem}: file {rel!r} would land outside its folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            paths.append(target)
        return Submission(stem=self.stem, notebook=(folder / self.notebook).resolve(),
                          files=tuple(paths), root=folder.resolve(), sha256=self.sha256)


_graders: dict[TaskSpec, object] = {}
_graders_lock = threading.Lock()


def _grader_for(spec: TaskSpec):
    """The worker's Grader for spec, built once per worker process (expected values included)."""
    from .grader import autograder_version, make_grader
    from .probe import make_plan
    from .spec import load_assignment
    with _graders_lock:
        if spec not in _graders:
            assignment = load_assignment(spec.slug)
            plan = make_plan(assignment, spec.seed)
            mine = autograder_version(assignment, plan.seed)
            if mine != spec.version:
                raise RuntimeError(
                    f"this dask worker runs autograder {mine} but the client runs "
                    f"{spec.version}: install the same neurograde commit on the client and "
                    f"every worker, then re-run (these rows are retried)")
            _graders[spec] = make_grader(plan, spec.timeout, spec.lang, spec.unsafe)
        return _graders[spec]


_swept = False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_copies(folder: Path | None = None) -> list[Path]:
    """Remove submission copies whose worker process is gone (killed before its cleanup):
    folders named neurograde-dask-<pid>-... whose pid no longer runs. Returns them."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    for path in folder.glob(f"{TMP_PREFIX}*"):
        match = re.match(rf"{TMP_PREFIX}(\d+)-", path.name)
        if match and path.is_dir() and not path.is_symlink() \
                and not _pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def grade_task(spec: TaskSpec, payload: Payload) -> dict:
    """The dask task: rebuild the submission, grade it in the worker's sandbox, return a dict."""
    global _swept
    if not _swept:  # once per worker process
        _swept = True
        sweep_stale_copies()
    grader = _grader_for(spec)
    with tempfile.TemporaryDirectory(prefix=f"{TMP_PREFIX}{os.getpid()}-") as tmp:
        result = grader.grade(payload.materialize(Path(tmp) / "submission"))
    try:
        from distributed import get_worker
        worker = get_worker().address
    except (ImportError, ValueError):
        worker = "unknown"
    return dataclasses.replace(result, extra={**result.extra, "dask_worker": worker}).to_dict()


def grade_on_dask(address: str, plan: Plan, version: str, todo: list[Submission],
                  options) -> Iterator[SubmissionResult]:
    """Submit every submission to the cluster at address; yield results as they complete."""
    if not todo:
        return
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise DaskUnavailable("--dask needs dask.distributed: pip install "
                              "'neurograde[dask]' (or 'dask[distributed]') into the grading "
                              "environment, on the client and on every worker") from None
    from .grader import internal_error
    try:
        # Not the process's default client: two batches in one process keep their own.
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DaskUnavailable(f"cannot reach the dask scheduler at {address} ({exc}); start "
                              f"one with `dask scheduler` and workers with `dask worker "
                              f"ADDRESS`, or check the address") from None
    spec = TaskSpec(plan.assignment.slug, plan.seed, version, options.timeout, options.lang,
                    options.unsafe)
    try:
        futures = {}
        for sub in todo:
            futures[client.submit(grade_task, spec, Payload.of(sub), key=spec.key(sub),
                                  pure=False, retries=RETRIES)] = sub
        for future in as_completed(futures, loop=client.loop):
            sub = futures.pop(future)
            try:
                result = SubmissionResult.from_dict(future.result())
            except Exception as exc:  # the task or its worker failed: one row, retried later
                result = internal_error(sub, plan.assignment, exc, f"dask at {address}")
            yield result  # recorded in the gradebook before this generator resumes
            future.release()  # the scheduler forgets it: a lost worker recomputes nothing
            del future
    finally:
        client.close()
