"""The result channel as the trusted side reads it (channel.py): what a student's process can
and cannot make the parent believe, and that hidden inputs never come back out.

The first group feeds hand-made channel lines to read_report (fast, exact); the second grades
hostile notebooks through the real sandbox and searches every file the batch wrote.
"""

import base64
import inspect
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neurograde import checklib
from neurograde.batch import BatchOptions, grade_batch
from neurograde.channel import ChannelCorrupt, SandboxSetupError, TAMPERED, read_report
from neurograde.collect import collect
from neurograde.execute import execute
from neurograde.grader import limits_for
from neurograde.probe import make_plan
from neurograde.sandbox.runner import AWAIT_HIDDEN, RawRun
from conftest import notebook_with

ORDER = ["q1.p1", "q1.p2", "q1.h1", "q1.h2"]
HIDDEN = {"q1.h1", "q1.h2"}
CELLS = [{"number": 2, "source": "import numpy as np\ndef f(x):\n    return 1 / 0\n"}]


def _line(**message) -> bytes:
    return json.dumps(message).encode()


def _ok(check_id, value=1.0) -> bytes:
    return _line(kind="check", id=check_id, outputs=checklib.encode({"y": value}))


def _honest(*, public=("q1.p1", "q1.p2"), hidden=("q1.h1", "q1.h2")) -> list[bytes]:
    return ([_line(kind="hello", pid=7), _line(kind="started"),
             _line(kind="cell", number=2, error=None)]
            + [_ok(c) for c in public] + [_line(kind="public-ended"),
                                          AWAIT_HIDDEN] + [_ok(c) for c in hidden]
            + [_line(kind="done")])


def _read(lines, oversized=0):
    await_index = lines.index(AWAIT_HIDDEN) if AWAIT_HIDDEN in lines else None
    raw = RawRun(0, False, False, tuple(lines), 0, oversized, b"", 0, await_index)
    return read_report(raw, ORDER, HIDDEN, CELLS, {"f"}, 10.0)


def _tampered(report) -> set[str]:
    return {k for k, run in report.checks.items() if run.tampered}


def test_honest_run_is_believed_in_full():
    """Is an honest run's every check taken, in order, with nothing marked tampered?"""
    report = _read(_honest())
    assert set(report.checks) == set(ORDER) and not _tampered(report)
    assert report.done and report.hidden_started
    assert all(run.outputs == {"y": 1.0} for run in report.checks.values())


def test_sandbox_error_counts_only_before_student_code_started():
    """Is sandbox-error a grader failure before `started`, and a forgery (failed check, not
    internal-error) when the student side writes it later?"""
    with pytest.raises(SandboxSetupError, match="landlock refused"):
        _read([_line(kind="hello"), _line(kind="sandbox-error", message="landlock refused")])
    lines = _honest()
    lines.insert(3, _line(kind="sandbox-error", message="please retry me"))
    report = _read(lines)
    assert _tampered(report) == {"q1.p1"}
    assert report.checks["q1.p1"].tampered == TAMPERED


def test_a_run_that_never_started_is_the_graders_failure():
    """Does a run with no `started` line (the interpreter could not even start, the probes
    failed to import, ...) raise SandboxSetupError rather than blame the student?"""
    with pytest.raises(SandboxSetupError, match="before running any of the submission"):
        _read([])
    with pytest.raises(SandboxSetupError):
        _read([b"Traceback (most recent call last):"])


@pytest.mark.parametrize("forge, bad", [
    (lambda ls: ls.insert(3, _ok("q1.p1", 9.0)), {"q1.p1"}),           # first report forged
    (lambda ls: ls.insert(6, _ok("q1.p2")), {"q1.p2"}),                # a second report
    (lambda ls: ls.insert(3, _ok("q1.h2")), {"q1.h2"}),                # not yet started
    (lambda ls: ls.insert(4, _line(kind="cell", number=2)), {"q1.p2"}),  # cell after a check
    (lambda ls: ls.insert(6, _ok("q9.h9")), {"q1.h1"}),                # unknown check id
    (lambda ls: ls.append(_line(kind="done")), set()),                 # after the end: noted
])
def test_forged_lines_fail_the_check_they_touch(forge, bad):
    """Does a duplicate report, a report for a check not yet started, or a line the student
    side may not send fail exactly the check it touches, whatever it claims?"""
    lines = _honest()
    forge(lines)
    report = _read(lines)
    assert _tampered(report) == bad
    for check_id in set(ORDER) - bad:
        assert report.checks[check_id].outputs == {"y": 1.0}


def test_public_checks_the_harness_did_not_report_are_not_run():
    """When public-ended comes before every public check was reported, are the unreported
    ones absent (not run) while the hidden checks still count?"""
    lines = _honest()
    del lines[4]                                          # q1.p2 never reported
    report = _read(lines)
    assert not _tampered(report) and "q1.p2" not in report.checks
    assert report.checks["q1.p1"].outputs == {"y": 1.0}
    assert report.checks["q1.h1"].outputs == report.checks["q1.h2"].outputs == {"y": 1.0}


def test_a_cut_line_fails_the_submission():
    """Is a report cut in half (no longer forgiven anywhere) an unreadable channel?"""
    lines = _honest()
    lines[4] = _ok("q1.p2")[:30]
    with pytest.raises(ChannelCorrupt):
        _read(lines)


def test_a_late_public_report_is_forged():
    """Is a public check report after public-ended (its process is gone) a forgery?"""
    lines = _honest()
    del lines[4]
    lines.insert(5, _ok("q1.p2"))                         # after public-ended
    report = _read(lines)
    assert _tampered(report) == {"q1.p2"}


def test_an_early_await_hidden_taints_everything_after_it():
    """A student who writes the await-hidden marker during the cells (to get hidden inputs
    early) gets every check that follows failed: none of them can be believed."""
    lines = _honest()
    lines.remove(AWAIT_HIDDEN)
    lines.insert(2, AWAIT_HIDDEN)           # before the cell line
    report = _read(lines)
    assert _tampered(report) == set(ORDER)


@pytest.mark.parametrize("line, oversized", [
    (b"not json", 0),
    (b"[" * 100_000, 0),
    (_line(kind="check", id="q1.p1", outputs={"a": 1}) + b"trailing", 0),
    (b"", 1),
])
def test_malformed_lines_fail_the_submission_not_the_grader(line, oversized):
    """Is a line that is not JSON, nested past any parser, or too long a ChannelCorrupt (the
    submission fails) and never a Python error of the grader?"""
    lines = _honest()
    if line:
        lines.insert(4, line)
    with pytest.raises(ChannelCorrupt):
        _read(lines, oversized)


def test_hidden_reports_carry_no_submission_text():
    """After await-hidden, are exception messages dropped, custom exception names and missing
    names replaced, and a 'where' rebuilt from the parent's copy of the notebook?"""
    lines = _honest(hidden=())
    lines[-1:-1] = [
        _line(kind="check", id="q1.h1", error={"type": "Leak_0_381", "message": "0.381",
                                               "where": "cell 2, line 3: 0.381"}),
        _line(kind="check", id="q1.h2", missing="secret_0_381")]
    report = _read(lines)
    error = report.checks["q1.h1"].error
    assert error == {"type": "Exception", "message": None,
                     "where": "cell 2, line 3: return 1 / 0"}
    assert report.checks["q1.h2"].missing == "a name this check needs"
    lines[-3] = _line(kind="check", id="q1.h1",
                      error={"type": "ZeroDivisionError", "where": "cell 2, line 99: x"})
    assert _read(lines).checks["q1.h1"].error["where"] is None   # no such line: dropped


# ---------------------------------------------------------------------------- real sandbox

def _reference(perceptron, *names):
    return "\n\n".join(inspect.getsource(getattr(perceptron.reference, n)) for n in names)


ALL = ("predict", "accuracy", "better_model", "train_perceptron")

# Every function leaks what it is called with, every way a function can: printing (stdout
# and stderr), exception text, an exception class named after the data, a file, the exit code,
# and a patched json.dumps that adds it to every report the harness sends.
LEAKY = '''
import sys, os, numpy as np
_seen = []
_calls = []

def _leak(*args):
    for a in args:
        a = np.asarray(a)
        if a.dtype.kind == "f" and a.size:
            text = "|".join(repr(float(v)) for v in a.ravel()[:3]) + " " + a.tobytes()[:24].hex()
            _seen.append(text)
            print("LEAK", text)
            print("LEAK", text, file=sys.stderr)
            with open("leak.txt", "a") as fh:
                fh.write(text + "\\n")

import json
_real_dumps = json.dumps

def _dumps(obj, *args, **kwargs):   # every report the harness sends carries the data too
    if isinstance(obj, dict):
        obj = dict(obj, leak=list(_seen[-3:]))
        if isinstance(obj.get("error"), dict):
            obj["error"] = dict(obj["error"], message="LEAK " + " ".join(_seen[-3:]))
    return _real_dumps(obj, *args, **kwargs)

json.dumps = _dumps

def predict(X, w, b):
    _leak(X, w)
    raise type("Leak_" + _seen[-1].split()[1][:16], (ValueError,), {})("LEAK " + _seen[-1])

def accuracy(y_true, y_pred):
    _leak(y_true, y_pred)
    raise RuntimeError("LEAK " + " ".join(_seen[-3:]))

def better_model(X, y, models):
    _leak(X)
    print(_seen)
    return "LEAK " + _seen[-1]

def train_perceptron(X, y, epochs, lr=1.0):
    _leak(X)
    _calls.append(1)
    if len(_calls) == 1:        # the public check: answer, so the hidden ones run
        return np.zeros(np.shape(X)[1]), 0.0, [0] * epochs
    os._exit(int(float(np.asarray(X).ravel()[0]) * 1000) % 200 + 20)
'''

# Writes the await-hidden marker during a cell, finds the hidden-input pipe among its own
# descriptors and reads it, then tries to get what it read onto the page.
EARLY = '''
import os, stat, sys
os.write(int(os.environ["NEUROGRADE_RESULT_FD"]), b'{"kind": "await-hidden"}\\n')
got = b""
for fd in range(4, 256):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.set_blocking(fd, True)
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                got += chunk
    except OSError:
        pass
print("EARLYLEAK", got[:3000])
print("EARLYLEAK", got[:3000], file=sys.stderr)
raise ValueError("EARLYLEAK " + got[:3000].decode(errors="replace"))
'''


def _hidden_needles(perceptron) -> set[str]:
    """Text a leak of the hidden inputs would contain: reprs and hex of their first values,
    and pieces of their encoding on the wire."""
    needles = set()
    for planned in make_plan(perceptron).checks:
        if not planned.check.hidden:
            continue
        for value in planned.inputs.values():
            a = np.asarray(value) if not isinstance(value, (dict, list)) else np.asarray([])
            if a.dtype.kind == "f" and a.size >= 3 and np.any(a != np.round(a)):
                needles.add("|".join(repr(float(v)) for v in a.ravel()[:3]))
                needles.add(a.tobytes()[:24].hex())
                needles.add(base64.b64encode(a.tobytes()).decode()[:24])
    assert len(needles) >= 6
    return needles


def _everything_written(out: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", errors="replace")
                     for p in sorted(out.rglob("*")) if p.is_file())


def test_hidden_inputs_never_reach_anything_the_student_sees(tmp_path, perceptron):
    """Does a notebook that leaks its hidden inputs every way it can (print, stderr, exception
    text and class name, a file, the exit code, an early await-hidden that reads the hidden
    pipe) find none of them in its feedback page, results JSON, grades.csv or gradebook?"""
    subs = tmp_path / "subs"
    notebook_with([LEAKY], subs / "late.ipynb")
    notebook_with(["import numpy as np\n" + _reference(perceptron, *ALL), EARLY],
                  subs / "early.ipynb")
    out = tmp_path / "out"
    summary = grade_batch(perceptron, [subs], out,
                          BatchOptions(jobs=2, timeout=30, quiet=True))
    rows = {r.submission: r for r in summary.results}
    assert len(rows) == 2
    assert all(r.status != "internal-error" for r in rows.values())
    written = _everything_written(out)
    assert "EARLYLEAK" not in written
    found = [n for n in _hidden_needles(perceptron) if n in written]
    assert found == []
    late = next(r for name, r in rows.items() if "late" in name)
    assert late.status == "crashed" and "exit code" not in late.message
    # The public checks ran before any hidden input existed: their leaks may show (they are
    # public inputs), which proves the late notebook really printed what it was given.
    assert "LEAK" in written


def test_a_forged_sandbox_error_is_the_students_failure(tmp_path, perceptron, box):
    """Does a notebook that writes a sandbox-error line get an ordinary row (not
    internal-error, so not retried) with only the check it disturbed failed?"""
    forge = ("import os\nos.write(int(os.environ['NEUROGRADE_RESULT_FD']), "
             "b'{\"kind\": \"sandbox-error\", \"message\": \"retry me\"}\\n')")
    path = notebook_with(["import numpy as np\n" + _reference(perceptron, *ALL), forge],
                         tmp_path / "forger.ipynb")
    plan = make_plan(perceptron)
    result = execute(collect([path])[0], plan, box, limits_for(perceptron, 30))
    assert result.status == "ok"
    assert [k for k, run in result.checks.items() if run.tampered] == ["q1.p1"]
    assert len(result.checks) == len(plan.checks)


def test_a_failure_of_the_graders_own_code_is_internal_error(tmp_path, perceptron, box,
                                                            monkeypatch):
    """When the grader's own code fails inside the sandbox before any student code ran (here:
    the probes do not import), is the row internal-error, never 'crashed' for the student?"""
    broken = tmp_path / "probes.py"
    broken.write_text("raise ImportError('the grader is misconfigured')\n")
    monkeypatch.setattr(type(perceptron), "probes_path", property(lambda self: broken))
    path = notebook_with(["import numpy as np\n" + _reference(perceptron, *ALL)],
                         tmp_path / "honest.ipynb")
    with pytest.raises(SandboxSetupError, match="before running any of the submission"):
        execute(collect([path])[0], make_plan(perceptron), box, limits_for(perceptron, 30))
