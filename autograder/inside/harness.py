"""The untrusted side of grading: runs inside the sandbox, one process per submission.

It executes the notebook's code cells, then calls the student's functions through the
assignment's probes and streams the raw return values, as plain data, to the parent over a
dedicated file descriptor. It never sees an expected value, a test file or the reference: the
parent judges. Student code shares this process, so the parent believes nothing here beyond
raw return values, and it checks the order of what arrives (see the protocol below).

Protocol on the result channel (line-delimited JSON), in this order:

    hello                    after confinement; before it only `sandbox-error` may come
    started                  right before the first student cell: from here on every line may
                             be the student's, so the parent believes no `sandbox-error` after it
    cell ...                 one per code cell
    check (public) ...       one per public check, in the job's order
    public-ended             only with hidden checks
    await-hidden             only when the job has hidden checks: the parent answers by writing
                             the hidden checks' inputs to our stdin (read once, before student
                             code runs, then replaced by /dev/null); nothing the process emits
                             after this line reaches the student's feedback but check statuses
    check (hidden) ...       one per hidden check, in the job's order
    done

Standalone on purpose: it is copied into the sandbox with checklib.py, confine.py and probes.py.
Usage: python -I harness.py JOB_JSON   (result channel: fd in $NEUROGRADE_RESULT_FD; hidden
inputs: stdin); the warm worker (worker.py) imports it and calls grade() in a forked child.
"""

import importlib.util
import json
import linecache
import os
import random
import re
import signal
import sys
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402  (after sys.path set-up, by design)

import checklib  # noqa: E402


# Taken before any student code runs: a notebook that patches json (by accident or not) must
# not change what the harness writes, nor stop it from reading its inputs.
_dumps, _loads = json.dumps, json.loads


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that `except Exception` in student code misses it."""


_armed = [False]


def _on_alarm(signum, frame):
    # A SIGALRM that arrives just as the timer is cancelled is handled at the next bytecode,
    # which may already be inside channel.send(): only an armed alarm may interrupt, so a
    # report is never cut in half or followed by a second one for the same check.
    if _armed[0]:
        _armed[0] = False
        raise _Timeout()


def _arm(seconds):
    _armed[0] = True
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _disarm():
    _armed[0] = False
    signal.setitimer(signal.ITIMER_REAL, 0)


class Channel:
    """Line-delimited JSON to the parent; opened before any student code runs."""

    def __init__(self, fd):
        self._file = os.fdopen(fd, "w", buffering=1, closefd=True)

    def send(self, **message):
        try:
            self._file.write(_dumps(message) + "\n")
            self._file.flush()
        except (OSError, ValueError):
            # The student closed or broke our descriptor; nothing more can be reported.
            pass


# ---------------------------------------------------------------------------- notebook cells

_CELL_MAGIC_RUN_BODY = {"time", "timeit", "capture", "prun"}


def transform_cell(source):
    """Drop IPython-only syntax (line magics, shell escapes, help) while keeping line numbers.

    Shell escapes are never executed: grading has no business running `!pip install`.
    """
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split()[0] if lines[0].lstrip()[2:].split() else ""
        if magic not in _CELL_MAGIC_RUN_BODY:
            return ""
        lines = ["pass"] + lines[1:]
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("%", "!")) or re.match(r"^[\w.]+\?\??$", stripped):
            out.append(indent + "pass")
        elif re.match(r"^\w+\s*=\s*[!%]", stripped):
            # `files = !ls` captures shell output: keep the name defined, run nothing.
            out.append(indent + stripped.split("=")[0].rstrip() + " = []")
        else:
            out.append(line)
    return "\n".join(out)


def _fake_otter():
    """Stand-in for otter inside grading: grader.check() must not need test files here."""
    module = types.ModuleType("otter")

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    module.Notebook = Notebook
    return module


def student_location(tb):
    """The deepest traceback frame in the student's cells, as 'cell N, line L: code'."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith("<cell "):
            found = (name, lineno)
    if found is None:
        return None
    name, lineno = found
    code = linecache.getline(name, lineno).strip()
    return f"{name[1:-1]}, line {lineno}: {code}"


def describe_exception(exc):
    message = str(exc)
    if len(message) > 500:
        message = message[:500] + "..."
    return {"type": type(exc).__name__, "message": message,
            "where": student_location(exc.__traceback__)}


def run_cells(cells, namespace, channel, cell_timeout):
    for cell in cells:
        number, source = cell["number"], transform_cell(cell["source"])
        filename = f"<cell {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        started = time.monotonic()
        error = None
        try:
            code = compile(source, filename, "exec")
        except SyntaxError as exc:
            error = {"type": "SyntaxError", "message": exc.msg,
                     "where": f"cell {number}, line {exc.lineno}: {(exc.text or '').strip()}"}
            code = None
        if code is not None:
            _arm(cell_timeout)
            try:
                exec(code, namespace)
            except _Timeout:
                error = {"type": "Timeout", "where": f"cell {number}",
                         "message": f"the cell ran longer than {cell_timeout:g} s and was "
                                    f"stopped; grading continues with the next cell"}
            except BaseException as exc:  # SystemExit, KeyboardInterrupt too: keep grading
                error = describe_exception(exc)
            finally:
                _disarm()
        channel.send(kind="cell", number=number, error=error,
                     seconds=round(time.monotonic() - started, 3))


# ---------------------------------------------------------------------------- probes

def load_probes(path):
    spec = importlib.util.spec_from_file_location("neurograde_probes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_checks(checks, probes, namespace, channel, check_timeout, deadline=None):
    """Run each check's probe under its own alarm. With a deadline (time.monotonic()), checks
    that would start after it are reported as timed out without running."""
    names = checklib.Names(namespace)
    for check in checks:
        probe = getattr(probes, check["probe"])
        allowed = check_timeout
        if deadline is not None:
            allowed = min(check_timeout, deadline - time.monotonic())
            if allowed <= 0.05:
                channel.send(kind="check", id=check["id"], timeout=0)
                continue
        try:
            if check.get("inputs") is None:
                raise ValueError("the grader sent no inputs for this check")
            inputs = checklib.decode(check["inputs"])
        except ValueError as exc:
            channel.send(kind="check", id=check["id"], harness_error=str(exc))
            continue
        _arm(allowed)
        try:
            outputs = probe(names, **inputs)
            _disarm()
            channel.send(kind="check", id=check["id"], outputs=checklib.encode(outputs))
        except checklib.MissingName as exc:
            channel.send(kind="check", id=check["id"], missing=exc.name)
        except _Timeout:
            channel.send(kind="check", id=check["id"], timeout=round(allowed, 3))
        except BaseException as exc:
            channel.send(kind="check", id=check["id"], error=describe_exception(exc))
        finally:
            _disarm()


def take_stdin():
    """Keep the parent's hidden-input pipe (stdin) on a private descriptor and give student
    code /dev/null instead, so an `input()` in a cell fails at once as it always did."""
    private = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return private


def read_hidden_inputs(fd):
    """The parent's answer to await-hidden: {check id: encoded inputs}, up to end of file."""
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    data = b"".join(chunks)
    return _loads(data) if data else {}


def grade(job, channel, probes):
    """Run the cells and checks of one job, report them, and end this process."""
    hidden_fd = take_stdin()
    channel.send(kind="hello", pid=os.getpid())
    signal.signal(signal.SIGALRM, _on_alarm)
    sys.modules["otter"] = _fake_otter()
    random.seed(0)
    np.random.seed(0)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    public = [c for c in job["checks"] if not c.get("hidden")]
    hidden = [c for c in job["checks"] if c.get("hidden")]
    channel.send(kind="started")
    run_cells(job["cells"], namespace, channel, float(job["cell_timeout"]))
    if not hidden:
        run_checks(public, probes, namespace, channel, float(job["check_timeout"]))
    else:
        # Public checks get a share of the time, so that a slow one still leaves the hidden
        # checks time to run (a crash here is the parent's to handle: it re-runs the notebook
        # for the hidden checks alone, see execute.py).
        budget = float(job.get("public_seconds") or job["check_timeout"])
        run_checks(public, probes, namespace, channel, float(job["check_timeout"]),
                   time.monotonic() + budget)
        channel.send(kind="public-ended")
        sys.stdout.flush()
        sys.stderr.flush()
        channel.send(kind="await-hidden")
        try:
            inputs = read_hidden_inputs(hidden_fd)
        except (OSError, ValueError):
            inputs = {}
        hidden = [{**c, "inputs": inputs.get(c["id"])} for c in hidden]
        run_checks(hidden, probes, namespace, channel, float(job["check_timeout"]))
    channel.send(kind="done")
    sys.stdout.flush()
    # Skip interpreter teardown: student objects' __del__ or atexit hooks cannot add anything.
    os._exit(0)


def confine_or_exit(spec, channel):
    """Apply the parent's confinement spec (confine.py); never run student code without it."""
    if spec is None:
        return
    try:
        import confine
        confine.apply(spec)
    except Exception as exc:  # any failure here means: not isolated, so stop
        channel.send(kind="sandbox-error", message=f"{type(exc).__name__}: {exc}"[:500])
        os._exit(70)


def main(argv):
    with open(argv[1]) as fh:
        job = json.load(fh)
    channel = Channel(int(os.environ["NEUROGRADE_RESULT_FD"]))
    probes = load_probes(os.path.join(HERE, "probes.py"))
    confine_or_exit(job.get("confine"), channel)
    grade(job, channel, probes)


if __name__ == "__main__":
    main(sys.argv)
