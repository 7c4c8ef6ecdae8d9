"""The fallback mechanisms, forced on this machine: bubblewrap without a user namespace (as
root) and Landlock + seccomp + uid drop (no namespaces). Each must hide a world-readable file
outside the work folder, refuse writes outside it, cut the network, keep grading correct, and
leave no process behind; in a warm worker and in a fresh process."""

import dataclasses
import inspect
import os
import shutil
import socket
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from neurograde.sandbox import box as sandbox, confine, warmpool
from neurograde.batch import BatchOptions, grade_batch
from neurograde.spec import REFERENCE_DIR
from conftest import notebook_with

ALL = ("predict", "accuracy", "better_model", "train_perceptron")


def _forced(mode):
    if os.geteuid() != 0:
        pytest.skip(f"{mode} is tested as root (it drops to the sandbox uid)")
    if mode == "landlock" and confine.landlock_abi() < 1:
        pytest.skip("this kernel has no Landlock")
    if mode == "bwrap-root" and shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is missing: apt-get install bubblewrap")
    box = sandbox.Sandbox(mode, drop_uid=True, use_cgroups=sandbox.cgroups_available(),
                          landlock_abi=confine.landlock_abi())
    error = sandbox._trial_run(box)
    assert error is None, f"{mode} does not work here: {error}"
    return box


MODES = [("landlock", True), ("landlock", False), ("bwrap-root", True), ("bwrap-root", False)]


@pytest.fixture(params=MODES, ids=lambda p: f"{p[0]}-{'warm' if p[1] else 'fresh'}")
def graded(request, perceptron, tmp_path, monkeypatch):
    mode, warm = request.param
    box = dataclasses.replace(_forced(mode), warm=warm)
    monkeypatch.setattr(sandbox, "detect", lambda unsafe=False: box)
    pool = warmpool.WorkerPool()
    monkeypatch.setattr(warmpool, "_POOL", pool)
    outside = Path(tempfile.mkdtemp(prefix="neurograde-secret-"))
    os.chmod(outside, 0o755)
    secret = outside / "secret.txt"
    secret.write_text("SECRET-MODES")
    os.chmod(secret, 0o644)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    accepted = []

    def accept():
        while server.fileno() >= 0:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                if server.fileno() < 0:
                    return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    attack = textwrap.dedent(f"""
        import os, socket, subprocess, time
        for path in ({str(secret)!r}, {str(REFERENCE_DIR / 'perceptron.py')!r}):
            try:
                print("LEAKED", open(path).read()[:30])
            except OSError as exc:
                print("BLOCKED", type(exc).__name__)
        for path in ({str(outside / 'planted')!r}, "/usr/planted"):
            try:
                open(path, "w").write("x")
                print("WROTE", path)
            except OSError as exc:
                print("NOWRITE", type(exc).__name__)
        try:
            socket.create_connection(("127.0.0.1", {server.getsockname()[1]}), timeout=2)
            print("CONNECTED")
        except OSError as exc:
            print("NO NETWORK", type(exc).__name__)
        open(os.path.join(os.environ["TMPDIR"], "scratch"), "w").write("ok")
        print("UID", os.getuid())
        subprocess.Popen(["sleep", "613"], start_new_session=True)
        """)
    source = "import numpy as np\n\n" + "\n\n".join(
        inspect.getsource(getattr(perceptron.reference, n)) for n in ALL)
    subs = tmp_path / "subs"
    notebook_with([source], subs / "good.ipynb")
    notebook_with([source, attack], subs / "attack.ipynb")
    try:
        summary = grade_batch(perceptron, [subs], tmp_path / "out",
                              BatchOptions(jobs=2, timeout=30, quiet=True, reports=False))
        pool.close()
        # keyed by name: a notebook file's key is its file name (collect.py)
        yield {"results": {r.submission.removesuffix(".ipynb"): r
                               for r in summary.results},
               "accepted": accepted,
               "outside": outside, "warm": warm, "mode": mode}
    finally:
        server.close()
        thread.join()
        shutil.rmtree(outside, ignore_errors=True)


def test_fallback_mode_isolates_and_grades(graded, perceptron):
    """Is a hostile submission contained in the forced mode, and are both graded in full?"""
    results = graded["results"]
    for name in ("good", "attack"):
        r = results[name]
        assert r.status == "ok", r.message
        assert r.total == perceptron.possible
        assert ("warm worker" if graded["warm"] else "fresh process") in r.sandbox
    out = results["attack"].output
    assert "LEAKED" not in out and out.count("BLOCKED") == 2
    assert "WROTE" not in out and out.count("NOWRITE") == 2
    assert not (graded["outside"] / "planted").exists()
    assert "NO NETWORK" in out and "CONNECTED" not in out
    assert graded["accepted"] == []
    assert f"UID {sandbox.SANDBOX_UID}" in out


def test_fallback_mode_leaves_no_process(graded):
    """Is the detached `sleep 613` of the attack gone once the batch is over?"""
    mine = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            if cmdline == b"sleep\x00613\x00" and f"Uid:\t{sandbox.SANDBOX_UID}" in status:
                mine.append(int(entry))
    assert mine == []


def test_a_worker_outlives_the_thread_that_asked_for_it(perceptron, tmp_path, monkeypatch):
    """Without namespaces a worker is killed when its parent dies (PR_SET_PDEATHSIG), which
    the kernel tracks per thread: is a worker first used from a thread that then ended (as
    the batch's self-check does) still alive and reused by the next submission?"""
    from neurograde.collect import collect
    from neurograde.execute import execute
    from neurograde.grader import limits_for
    from neurograde.probe import make_plan
    box = dataclasses.replace(_forced("landlock"), warm=True)
    pool = warmpool.WorkerPool()
    monkeypatch.setattr(warmpool, "_POOL", pool)
    source = "import numpy as np\n\n" + "\n\n".join(
        inspect.getsource(getattr(perceptron.reference, n)) for n in ALL)
    path = notebook_with([source], tmp_path / "good.ipynb")
    plan, limits = make_plan(perceptron), limits_for(perceptron, 30)
    first = []
    worker = threading.Thread(target=lambda: first.append(
        execute(collect([path])[0], plan, box, limits)))
    worker.start()
    worker.join()
    try:
        (idle,) = [w for _, w in pool._idle]
        time.sleep(0.3)                  # a parent-death signal would have landed by now
        assert idle.alive()
        second = execute(collect([path])[0], plan, box, limits)
        assert "warm worker" in first[0].sandbox and "warm worker" in second.sandbox
        assert [w for _, w in pool._idle] == [idle]
    finally:
        pool.close()
