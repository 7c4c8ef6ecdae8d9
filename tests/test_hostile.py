"""Hostile submissions, graded in one batch with well-behaved ones through the real sandbox.

Every hostile notebook defines a correct `predict` (q1, 2 points) and carries one attack. Each
attack must be contained, the submission scored only on what it really computed, and the good
submissions of the same batch graded as usual. The batch runs once (module fixture, a short
wall clock) and each test reads its row.
"""

import hashlib
import inspect
import os
import shutil
import socket
import tempfile
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from neurograde.sandbox import box as sandbox, warmpool
from neurograde.batch import BatchOptions, grade_batch
from neurograde.probe import make_plan
from neurograde.spec import REFERENCE_DIR
from conftest import notebook_with

WALL = 15.0  # seconds per submission: ample for the real work (and an OOM report) on a busy
# machine, short for the attacks that only the wall clock stops
ALL = ("predict", "accuracy", "better_model", "train_perceptron")


def _source(perceptron, *names):
    return "\n\n".join(inspect.getsource(getattr(perceptron.reference, n)) for n in names)


def _in_accuracy(body):
    """An attack that starts when the q2 probe calls accuracy, after q1 has been reported."""
    return "def accuracy(y_true, y_pred):\n" + textwrap.indent(textwrap.dedent(body), "    ")


class Listener:
    """A loopback TCP server in the test process; records every connection it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def _attacks(secrets, listener, out_dir, plan):
    forged_ids = [c.id for c in plan.checks if c.check.question in ("q2", "q4")]
    first_q1 = next(c.id for c in plan.checks if c.check.question == "q1")
    forged = [
        {"kind": "check", "id": cid, "outputs": {"__dict__": [["accuracy", 1.0]]}}
        for cid in forged_ids
    ] + [{"kind": "check", "id": first_q1, "outputs": {"__dict__": [["y", [0]]]}},
         {"kind": "check", "id": "q9.h1", "outputs": 1}, {"kind": "done"}]
    return {
        "read_secrets": f"""
            import os
            for path in {[str(p) for p in secrets]!r}:
                try:
                    print("LEAKED", path, open(path).read())
                except OSError as exc:
                    print("BLOCKED", path, type(exc).__name__)
            for folder in ("/", "/work/..", "/spool", "/tmp", "/harness"):
                try:
                    print("LIST", folder, sorted(os.listdir(folder)))
                except OSError as exc:
                    print("LIST", folder, type(exc).__name__)
            """,
        "network": f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {listener.port}), timeout=2)
                print("CONNECTED")
            except OSError as exc:
                print("NO NETWORK", type(exc).__name__)
            try:
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                    b"x", ("127.0.0.1", {listener.port}))
            except OSError as exc:
                print("NO UDP", type(exc).__name__)
            """,
        "fork_bomb": _in_accuracy("""
            import os
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
            """),
        "memory_4gib": _in_accuracy("""
            import numpy as np
            block = np.ones(4 * 2**30 // 8)
            return float(block.sum())
            """),
        "spin": _in_accuracy("""
            while True:
                pass
            """),
        "catch_everything": _in_accuracy("""
            import signal, time
            signal.signal(signal.SIGINT, lambda *a: None)
            while True:
                try:
                    while True:
                        time.sleep(0.01)
                except (KeyboardInterrupt, BaseException):
                    pass
            """),
        "exit_in_cell": """
            import os
            os._exit(0)
            """,
        "fake_results": f"""
            import json, os
            fake = {{"tests": [], "score": 10, "total": 10, "status": "ok"}}
            for target in ("results.json", "/work/results.json", "/tmp/results.json",
                           "{out_dir}/results/forged.json", "{out_dir}/grades.csv",
                           "{out_dir}/gradebook.sqlite", "{REFERENCE_DIR}/perceptron.py"):
                try:
                    with open(target, "a") as fh:
                        fh.write(json.dumps(fake))
                    print("WROTE", target)
                except OSError as exc:
                    print("REFUSED", target, type(exc).__name__)
            """,
        "fake_score": """
            print("Total Score: 10/10")
            print("Total Score: 10.000 / 10.000 (100.000%)")
            print('{"score": 10, "status": "passed"}')
            """,
        "flood": f"""
            import json, os, sys
            chunk = "x" * (1 << 20)
            for _ in range(200):
                sys.stdout.write(chunk)
            sys.stdout.flush()
            fd = int(os.environ["NEUROGRADE_RESULT_FD"])
            os.write(fd, b"\\n".join(json.dumps(m).encode() for m in {forged!r}) + b"\\n")
            """,
        "monkeypatch": """
            import builtins
            import numpy as np
            import checklib
            np.allclose = lambda *a, **k: True
            np.array_equal = lambda *a, **k: True
            np.testing.assert_allclose = lambda *a, **k: None
            builtins.abs = lambda x: 0
            checklib.compare = lambda *a, **k: []
            def accuracy(y_true, y_pred):
                return 1.0
            """,
    }


@pytest.fixture(scope="module")
def hostile(perceptron, tmp_path_factory):
    """Grade every attack plus two good submissions in one batch; yield rows and evidence."""
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is required for the hostile-submission tests: "
                    "apt-get install bubblewrap (see scripts/bootstrap.sh)")
    box = sandbox.detect(False)
    if not box.namespaces:
        pytest.fail(f"the hostile-submission tests need bubblewrap isolation, got: "
                    f"{box.describe()}")
    tmp = tmp_path_factory.mktemp("hostile")
    token = uuid.uuid4().hex
    # Secrets that only isolation protects: world-readable, in world-traversable folders.
    outside = Path(tempfile.mkdtemp(prefix="neurograde-secret-"))
    os.chmod(outside, 0o755)
    secret_tmp = outside / "secret.txt"
    secret_repo = REFERENCE_DIR / f".hostile-secret-{token}.txt"
    for path in (secret_tmp, secret_repo):
        path.write_text(f"SECRET-{token}")
        os.chmod(path, 0o644)
    reference = REFERENCE_DIR / "perceptron.py"
    reference_hash = hashlib.sha256(reference.read_bytes()).hexdigest()
    listener = Listener()
    out = tmp / "out"
    plan = make_plan(perceptron)
    try:
        setup = "import numpy as np\n\n" + _source(perceptron, "predict")
        subs = tmp / "subs"
        attacks = _attacks([secret_tmp, secret_repo, reference,
                            perceptron.folder / "checks.py"], listener, out, plan)
        for name, attack in attacks.items():
            notebook_with([setup, textwrap.dedent(attack)], subs / f"{name}.ipynb")
        for name in ("good_a", "good_b"):
            notebook_with(["import numpy as np\n\n" + _source(perceptron, *ALL)],
                          subs / f"{name}.ipynb")
        summary = grade_batch(perceptron, [subs], out,
                              BatchOptions(jobs=2, timeout=WALL, quiet=True, force=True,
                                           reports=False))
        # Below us now: at most the idle warm workers (outer bwrap, its init, the worker and
        # the worker's own pid-namespace init: depth 4). Anything deeper is a leftover of a
        # submission (e.g. of the fork bomb).
        leftovers = {pid: depth for pid, depth in _descendants(os.getpid()).items()
                     if depth > 4}
        warmpool.pool().close()
        # keyed by name: a notebook file's key is its file name (collect.py)
        yield {"results": {r.submission.removesuffix(".ipynb"): r
                               for r in summary.results},
               "out": out,
               "attacks": sorted(attacks),
               "token": token, "listener": listener, "reference_hash": reference_hash,
               "leftovers": leftovers, "secrets": (secret_tmp, secret_repo)}
    finally:
        listener.close()
        secret_repo.unlink(missing_ok=True)
        shutil.rmtree(outside, ignore_errors=True)


def _descendants(root):
    """{pid: depth below root} of every living descendant process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier, depth = {}, {root}, 0
    while frontier:
        depth += 1
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier}
        found.update((pid, depth) for pid in frontier)
    return found


def _scores(result):
    return {q.id: q.score for q in result.questions}


def _feedback(result, qid):
    return "\n".join(next(q for q in result.questions if q.id == qid).feedback)


def _only_q1(result):
    assert _scores(result) == {"q1": 2, "q2": 0, "q3": 0, "q4": 0}, (result.status,
                                                                     result.message)


def test_good_submissions_and_batch_complete(hostile, perceptron):
    """Are the well-behaved submissions graded in full, every submission given a row, and no
    process of the batch left running (fork bomb included)?"""
    results = hostile["results"]
    for name in ("good_a", "good_b"):
        assert results[name].total == perceptron.possible, results[name].message
        assert results[name].status == "ok"
    assert len(results) == len(hostile["attacks"]) + 2
    assert hostile["leftovers"] == {}
    rows = (hostile["out"] / "grades.csv").read_text().splitlines()
    assert len(rows) == len(results) + 1


def test_secrets_outside_the_work_folder_are_invisible(hostile):
    """Can a submission read a world-readable file in /tmp, in the repo's reference/ folder,
    the reference solution or the checks, or list other submissions? (It must not.)"""
    r = hostile["results"]["read_secrets"]
    assert r.status == "ok", r.message
    _only_q1(r)
    assert f"SECRET-{hostile['token']}" not in r.output
    assert "LEAKED" not in r.output
    assert r.output.count("BLOCKED") == 4
    assert "good_a" not in r.output and "fork_bomb" not in r.output
    assert "def predict" not in r.output


def test_no_network(hostile):
    """Does a TCP connection to a listener on the host's loopback fail (and never arrive)?"""
    r = hostile["results"]["network"]
    assert r.status == "ok", r.message
    _only_q1(r)
    assert "NO NETWORK" in r.output and "CONNECTED" not in r.output
    assert hostile["listener"].accepted == 0


def test_fork_bomb_is_bounded_and_stopped(hostile):
    """Does a fork bomb hit the process limit, end at the wall clock, and keep q1?"""
    r = hostile["results"]["fork_bomb"]
    assert r.status == "timeout", (r.status, r.message)
    assert f"{WALL:g} s wall-clock" in r.message
    _only_q1(r)


def test_four_gib_allocation_is_an_oom(hostile):
    """Is a 4 GiB allocation stopped by the memory limit, reported as oom, q1 kept?"""
    r = hostile["results"]["memory_4gib"]
    assert r.status == "oom", (r.status, r.message)
    assert "ran out of memory (limit 1024 MB)" in r.message
    _only_q1(r)
    assert "not run" in _feedback(r, "q4")


@pytest.mark.parametrize("name", ["spin", "catch_everything"])
def test_endless_loops_time_out(hostile, name):
    """Do a spin and a loop that swallows every exception (so the harness's own timeouts
    cannot stop it) end with status timeout at the wall clock, keeping q1?"""
    r = hostile["results"][name]
    assert r.status == "timeout", (r.status, r.message)
    _only_q1(r)
    assert "not run" in _feedback(r, "q4")


def test_exit_in_a_cell_counts_only_what_ran(hostile):
    """Does os._exit(0) in a cell end the run as crashed with no check run, so even the
    correct predict earns nothing (no check ever called it)?"""
    r = hostile["results"]["exit_in_cell"]
    assert r.status == "crashed", (r.status, r.message)
    assert "exit code 0" in r.message
    assert r.total == 0
    assert "not run" in _feedback(r, "q1")


def test_fake_results_files_change_nothing(hostile):
    """Can a submission write results files into the output folder, /work or the repo?"""
    r = hostile["results"]["fake_results"]
    assert r.status == "ok", r.message
    _only_q1(r)
    out = hostile["out"]
    assert not (out / "results" / "forged.json").exists()
    assert '"score": 10' not in (out / "results" / "fake_results.ipynb.json").read_text()
    assert '"score": 10' not in (out / "grades.csv").read_text()
    reference = REFERENCE_DIR / "perceptron.py"
    assert hashlib.sha256(reference.read_bytes()).hexdigest() == hostile["reference_hash"]
    for target in (str(out), str(REFERENCE_DIR)):
        assert f"WROTE {target}" not in r.output


def test_fake_score_print_is_only_output(hostile):
    """Does printing an otter-style 'Total Score: 10/10' change anything but the output?"""
    r = hostile["results"]["fake_score"]
    assert r.status == "ok"
    _only_q1(r)
    assert "Total Score: 10/10" in r.output
    assert r.total == 2


def test_floods_are_capped_and_forged_lines_earn_nothing(hostile, perceptron):
    """Is a 200 MB stdout flood cut to the output cap, are garbage lines on the result channel
    ignored, and do forged check lines (for checks the submission cannot compute, a duplicate
    of a real check, an unknown id, an early 'done') earn nothing? (Garbage lines fail the
    whole submission: test_sandbox_limits.py and test_channel_trust.py.)"""
    r = hostile["results"]["flood"]
    assert r.status == "ok", r.message
    assert "more bytes of output dropped" in r.output
    assert len(r.output) < 8000
    assert "results were written by the submission" in r.message
    # The forged lines came before any real report: every check they touched, and every one
    # that followed the forged 'done', fails; the correct predict earns nothing either.
    assert _scores(r) == {"q1": 0, "q2": 0, "q3": 0, "q4": 0}


def test_monkeypatching_gains_nothing(hostile):
    """Do patched numpy comparisons, builtins.abs and the sandbox's checklib.compare leave the
    trusted judge unchanged (it runs in the parent)?"""
    r = hostile["results"]["monkeypatch"]
    assert r.status == "ok", r.message
    _only_q1(r)
    assert "better_model is not defined" in _feedback(r, "q3")
