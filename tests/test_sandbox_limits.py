"""Each resource limit of a run, proven by a submission that exceeds it, through execute().

Every test runs twice: in a child of a warm worker and in a fresh sandboxed process.
"""

import dataclasses
import inspect
import os
import re
from pathlib import Path

import pytest

from neurograde import execute as ex
from neurograde.sandbox import box as sandbox
from neurograde.collect import collect
from neurograde.sandbox.limits import Limits
from neurograde.spec import load_assignment
from neurograde.probe import make_plan
from conftest import notebook_with


@pytest.fixture(params=["warm", "fresh"])
def run(request, box, perceptron, tmp_path):
    """run(cells, **limits) -> Execution of a notebook with a correct predict plus cells."""
    if not box.namespaces:
        pytest.fail(f"these tests need bubblewrap isolation (apt-get install bubblewrap), "
                    f"got: {box.describe()}")
    chosen = dataclasses.replace(box, warm=request.param == "warm")
    plan = make_plan(perceptron)
    predict = "import numpy as np\n\n" + inspect.getsource(perceptron.reference.predict)

    def execute(cells, **limits):
        path = notebook_with([predict, *cells], tmp_path / f"s{len(os.listdir(tmp_path))}.ipynb")
        limits = {"wall_seconds": 30, "cpu_seconds": 60, "memory_mb": 1024, **limits}
        result = ex.execute(collect([path])[0], plan, chosen, Limits(**limits))
        assert request.param + (" worker" if request.param == "warm" else " process") \
            in result.sandbox
        return result
    return execute


def _q1_checks(result):
    return {k: v for k, v in result.checks.items() if k.startswith("q1.")}


Q1_CHECKS = sum(1 for c in load_assignment("perceptron").checks if c.question == "q1")


def _errors(result):
    return " | ".join(f"{e.get('type')}: {e.get('message')}" for e in result.cell_errors)


def test_cpu_time_limit(run):
    """Does a submission that spins past its CPU time end as a timeout that says so?"""
    spin = "def accuracy(y_true, y_pred):\n    while True:\n        pass"
    result = run([spin], cpu_seconds=1)
    assert result.status == "timeout", (result.status, result.message)
    assert "more than 1 s of CPU time" in result.message
    # what ran before is kept, and q1's hidden checks ran in a second run of the notebook
    assert len(_q1_checks(result)) == Q1_CHECKS and "second run" in result.message


def test_wall_clock_kills_a_sleeper(run):
    """Is a submission that sleeps (no CPU used) stopped by the wall clock?"""
    sleeper = "import time\ndef accuracy(y_true, y_pred):\n    time.sleep(600)"
    result = run([sleeper], wall_seconds=3)
    assert result.status == "timeout" and "3 s wall-clock" in result.message
    assert len(_q1_checks(result)) == Q1_CHECKS and "second run" in result.message


def test_file_size_limit(run):
    """Is writing a file larger than the file-size limit refused (and grading goes on)?"""
    big = "with open('big.bin', 'wb') as fh:\n    fh.write(b'x' * (3 << 20))"
    result = run([big], file_mb=1)
    assert result.status == "ok"
    assert "File too large" in _errors(result)
    assert len(_q1_checks(result)) == Q1_CHECKS


def test_private_tmp_is_size_capped(run):
    """Is the private /tmp (and /dev/shm) capped at its size?"""
    fill = ("for folder in ('/tmp', '/dev/shm'):\n"
            "    try:\n"
            "        with open(folder + '/fill', 'wb') as fh:\n"
            "            fh.write(b'x' * (8 << 20))\n"
            "    except OSError as exc:\n"
            "        print(folder, 'FULL', exc)")
    result = run([fill], tmp_mb=2, file_mb=64)
    assert "/tmp FULL" in result.output and "/dev/shm FULL" in result.output
    assert "No space left on device" in result.output


def test_process_limit(run):
    """Can a submission start more processes than the pids limit? (It must not.)"""
    fork = ("import os, time\nstarted = 0\n"
            "for _ in range(60):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(60)\n"
            "            os._exit(0)\n"
            "        started += 1\n"
            "    except OSError:\n"
            "        break\n"
            "print('STARTED', started)")
    result = run([fork], max_pids=12)
    started = int(re.search(r"STARTED (\d+)", result.output).group(1))
    assert 0 < started < 12
    assert result.status == "ok" and len(_q1_checks(result)) == Q1_CHECKS


def test_output_is_capped(run):
    """Is printed output kept only up to the output limit, the rest counted as dropped?"""
    result = run(["print('y' * 300_000)"], output_kb=4)
    assert result.status == "ok"
    assert len(result.output) < 4096 + 100
    assert "more bytes of output dropped" in result.output


@pytest.mark.parametrize("data, reason", [
    ("b'x' * (3 << 20)", "longer than the limit"),              # one endless line
    ("b'x\\n' * (2 << 20)", "not a check report"),               # many garbage lines
    ("b'[' * 200_000 + b'\\n'", "RecursionError"),               # nested past any parser
])
def test_result_channel_is_capped(run, data, reason):
    """Does flooding the result channel (one huge line, many lines, or a line nested too deep)
    end the run as a crashed submission with no points, never as a grader failure?"""
    flood = f"import os\nos.write(int(os.environ['NEUROGRADE_RESULT_FD']), {data})"
    result = run([flood], channel_mb=1)
    assert result.status == "crashed" and result.checks == {}
    assert reason in result.message and "result channel" in result.message


def test_no_process_outlives_its_run(run):
    """Do a zombie, an orphaned daemon (double fork, own session) and a plain child all end
    with the run, leaving nothing below the grader but the idle warm workers?"""
    leave = ("import os, time\n"
             "if os.fork() == 0:\n"
             "    os._exit(0)                      # a zombie: never waited for\n"
             "if os.fork() == 0:\n"
             "    os.setsid()\n"
             "    if os.fork() == 0:\n"
             "        time.sleep(600)              # a daemon, orphaned at once\n"
             "    os._exit(0)\n"
             "if os.fork() == 0:\n"
             "    time.sleep(600)                  # a child left running\n"
             "print('LEFT')")
    result = run([leave])
    assert "LEFT" in result.output and result.status == "ok"
    assert _deep_descendants(os.getpid(), 4) == []


def test_confinement_inside_the_sandbox(run):
    """Does student code run as the sandbox uid with no capabilities at all (bounding set
    included), no_new_privs, alone in its pid namespace, with only its folder writable?"""
    probe = ("import os\n"
             "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
             "for key in ('Uid', 'CapEff', 'CapPrm', 'CapBnd', 'CapAmb', 'NoNewPrivs'):\n"
             "    print(key, status[key].split()[0])\n"
             "print('PIDS', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
             "for target in ('/work/ok', '/usr/evil', '/harness/evil', '/evil'):\n"
             "    try:\n"
             "        open(target, 'w').close()\n"
             "        print('WRITABLE', target)\n"
             "    except OSError:\n"
             "        print('READONLY', target)")
    result = run([probe])
    out = result.output
    uid = sandbox.SANDBOX_UID if os.geteuid() == 0 else os.getuid()
    assert f"Uid {uid}" in out
    for key in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert f"{key} 0000000000000000" in out
    assert "NoNewPrivs 1" in out
    pids = eval(re.search(r"PIDS (\[.*\])", out).group(1))
    assert max(pids) < 10  # a fresh pid namespace: only this run's own processes
    assert "WRITABLE /work/ok" in out
    assert out.count("READONLY") == 3


def _deep_descendants(root, allowed_depth):
    """Living processes more than allowed_depth levels below root (warm workers are 4 deep)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(text.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    deep, frontier, depth = [], {root}, 0
    while frontier:
        depth += 1
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier}
        if depth > allowed_depth:
            deep += sorted(frontier)
    return deep
