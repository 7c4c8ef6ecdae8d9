"""Where the grading time goes: wall-clock seconds per stage and submission (or per batch).

Off unless the environment variable NEUROGRADE_TIMINGS names a file: then every stage timed
through this module is added up in memory and written to that file as JSON when the process
exits ({"submissions": {stem: {stage: seconds}}, "batch": {stage: seconds}}). The benchmark
(benchmarks/bench_grading.py) prints it as a table. Every time is taken by the trusted parent
with its own clock: a stage inside the sandbox is the time between two lines of the result
channel as they arrived here, never a duration the sandbox reported. Grades never depend on
anything here; when off, each call costs one attribute lookup.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

_PATH = os.environ.get("NEUROGRADE_TIMINGS") or None
ENABLED = _PATH is not None
_lock = threading.Lock()
_per_submission: dict[str, dict[str, float]] = {}
_per_batch: dict[str, float] = {}


def add(stem: str | None, stage: str, seconds: float) -> None:
    """Add seconds to a stage of one submission (stem) or of the whole batch (None)."""
    if not ENABLED:
        return
    with _lock:
        row = _per_batch if stem is None else _per_submission.setdefault(stem, {})
        row[stage] = row.get(stage, 0.0) + seconds


@contextmanager
def stage(stem: str | None, name: str) -> Iterator[None]:
    if not ENABLED:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        add(stem, name, time.perf_counter() - started)


def channel_stages(stem: str, lines: tuple[bytes, ...], arrivals: tuple[float, ...],
                   ready: float | None, ended: float | None) -> None:
    """The run's stages from when its result-channel lines arrived (parent's monotonic clock):
    ready (the child exists) -> hello (confined) -> started -> cells -> first check ->
    await-hidden -> first hidden check -> done -> ended (nothing of the run left)."""
    if not ENABLED or ready is None or not arrivals:
        return
    marks: dict[str, float] = {}
    for line, at in zip(lines, arrivals):
        kind = _kind(line)
        if kind in ("hello", "started", "await-hidden", "done") and kind not in marks:
            marks[kind] = at
        elif kind == "check":
            hidden = "await-hidden" in marks
            marks.setdefault("first-hidden" if hidden else "first-check", at)
    points = [("sandbox: set-up inside (namespaces, mounts, confinement)", ready, "hello"),
              ("harness start (until the first cell)", "hello", "started"),
              ("notebook cells", "started", "first-check"),
              ("probes: public checks", "first-check", "await-hidden"),
              ("hidden inputs handed over", "await-hidden", "first-hidden"),
              ("probes: hidden checks", "first-hidden", "done"),
              ("sandbox: teardown until the pipes close (the rest overlaps)", "done",
               ended)]
    for name, start, end in points:
        a = start if isinstance(start, float) else marks.get(start)
        b = end if isinstance(end, float) else marks.get(end)
        if a is not None and b is not None and b >= a:
            add(stem, name, b - a)


def _kind(line: bytes) -> str:
    head = line[:40]
    start = head.find(b'"kind": "')
    if start < 0:
        return ""
    rest = head[start + 9:]
    return rest[:rest.find(b'"')].decode(errors="replace") if b'"' in rest else ""


def dump() -> None:
    if not ENABLED:
        return
    with _lock:
        data = {"submissions": _per_submission, "batch": _per_batch}
        text = json.dumps(data)
    with open(_PATH, "w") as fh:  # type: ignore[arg-type]
        fh.write(text)


if ENABLED:
    atexit.register(dump)
