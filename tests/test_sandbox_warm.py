"""Warm workers: reused, isolated between the submissions they run, replaced when broken,
and never a reason for a different grade than a fresh process gives."""

import dataclasses
import inspect
import os
from pathlib import Path

import pytest

from neurograde import execute as ex
from neurograde.sandbox import warmpool
from neurograde.collect import collect
from neurograde.sandbox.limits import Limits
from neurograde.probe import make_plan
from conftest import notebook_with

ALL = ("predict", "accuracy", "better_model", "train_perceptron")


@pytest.fixture
def grade(box, perceptron, tmp_path, pool):
    """grade(cells, warm=True) -> Execution, one submission at a time (same worker)."""
    if not box.namespaces:
        pytest.fail(f"these tests need bubblewrap isolation (apt-get install bubblewrap), "
                    f"got: {box.describe()}")
    plan = make_plan(perceptron)
    counter = iter(range(10_000))

    def run(cells, warm=True, **limits):
        path = notebook_with(cells, tmp_path / f"s{next(counter)}.ipynb")
        limits = Limits(**{"wall_seconds": 30, "cpu_seconds": 60, "memory_mb": 1024,
                           **limits})
        return ex.execute(collect([path])[0], plan, dataclasses.replace(box, warm=warm),
                          limits)
    return run


def _reference(perceptron):
    return ["import numpy as np\n\n" + "\n\n".join(
        inspect.getsource(getattr(perceptron.reference, n)) for n in ALL)]


def _idle_workers(pool):
    return [w for _, w in pool._idle]


def test_one_worker_serves_consecutive_submissions(grade, pool, perceptron):
    """Is the same warm worker reused for the next submission of a slot?"""
    first = grade(_reference(perceptron) + ["import subprocess\n"
                                            "subprocess.Popen(['sleep', '613.25'])"])
    (worker,) = _idle_workers(pool)
    second = grade(_reference(perceptron))
    assert _idle_workers(pool) == [worker]
    for result in (first, second):
        assert result.status == "ok" and "warm worker" in result.sandbox


def test_siblings_share_nothing_writable(grade, pool):
    """Can a submission leave anything for the next one of the same worker: files in /tmp,
    /dev/shm, its work folder, /, /harness or the spool, a lingering process? (No.)"""
    plant = ("import os, subprocess\n"
             "for path in ('/tmp/planted', '/dev/shm/planted', '/work/planted', '/planted',\n"
             "             '/harness/planted', '/spool/planted'):\n"
             "    try:\n"
             "        open(path, 'w').write('from the previous submission')\n"
             "        print('PLANTED', path)\n"
             "    except OSError as exc:\n"
             "        print('REFUSED', path, type(exc).__name__)\n"
             "subprocess.Popen(['sleep', '600'], start_new_session=True)")
    look = ("import os\n"
            "found = [d for d in ('/tmp', '/dev/shm', '/work', '/', '/harness', '/spool')\n"
            "         if os.path.exists(d + '/planted')]\n"
            "print('FOUND', found)\n"
            "print('PIDS', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    planted = grade([plant])
    assert "PLANTED /tmp/planted" in planted.output  # writable for itself...
    (worker,) = _idle_workers(pool)
    looked = grade([look])
    assert _idle_workers(pool) == [worker]  # ...and the next one ran in the same worker
    assert "FOUND []" in looked.output
    assert "PIDS [1, 2]" in looked.output  # alone in its pid namespace: no sleeper


def test_dead_worker_is_replaced(grade, pool, perceptron):
    """If a worker dies between submissions, does the next one start a new worker?"""
    grade(_reference(perceptron))
    (worker,) = _idle_workers(pool)
    os.killpg(worker.proc.pid, 9)
    worker.proc.wait()
    result = grade(_reference(perceptron))
    assert result.status == "ok" and result.checks and "warm worker" in result.sandbox
    (replacement,) = _idle_workers(pool)
    assert replacement is not worker


def test_worker_dying_mid_run_falls_back_to_a_fresh_process(grade, pool, perceptron,
                                                            monkeypatch):
    """If the worker dies while it has a submission, is that submission graded again in a
    fresh process (its grade does not depend on our failure)?"""
    original = warmpool.WarmWorker._run

    def die_first(self, *args, **kwargs):
        os.killpg(self.proc.pid, 9)
        self.proc.wait()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(warmpool.WarmWorker, "_run", die_first)
    result = grade(_reference(perceptron))
    assert result.status == "ok" and "fresh process" in result.sandbox
    assert len(result.checks) == len(make_plan(perceptron).checks)


def test_worker_that_cannot_start_means_fresh_processes(grade, pool, perceptron,
                                                        monkeypatch, capsys):
    """When workers cannot start, is every submission still graded (fresh processes), and
    does the pool stop trying after a few failures, saying so once?"""
    attempts = []

    def broken(*args, **kwargs):
        attempts.append(1)
        raise warmpool.WorkerBroken("simulated start failure")

    monkeypatch.setattr(warmpool, "WarmWorker", broken)
    for _ in range(warmpool.MAX_FAILURES + 2):
        result = grade(_reference(perceptron))
        assert result.status == "ok" and "fresh process" in result.sandbox
    assert len(attempts) == warmpool.MAX_FAILURES
    assert capsys.readouterr().err.count("warm workers keep failing") == 1


def test_warm_and_fresh_give_the_same_outputs(grade, perceptron):
    """Do a warm child and a fresh process report identical raw outputs, cell errors and
    status for the same notebook (right and wrong answers, an error, a seeded random draw)?"""
    cells = _reference(perceptron) + [
        "import random\nnp.random.seed(None) if False else None\n"
        "DRAW = (random.random(), float(np.random.rand()))\n"
        "def better_model(X, y, models):\n    return str(DRAW)",
        "raise ValueError('a cell that fails')",
    ]
    warm, fresh = grade(cells, warm=True), grade(cells, warm=False)
    assert "warm worker" in warm.sandbox and "fresh process" in fresh.sandbox
    assert warm.status == fresh.status == "ok"
    assert warm.cell_errors == fresh.cell_errors
    assert set(warm.checks) == set(fresh.checks)
    for key in warm.checks:
        assert repr(warm.checks[key]) == repr(fresh.checks[key]), key


def test_worker_files_are_removed(grade, pool, perceptron):
    """Are a closed worker's spool and harness folders removed with it?"""
    grade(_reference(perceptron))
    (worker,) = _idle_workers(pool)
    base = Path(worker.base)
    assert base.exists() and not any((base / "spool").iterdir())  # each run cleans up
    pool.close()
    assert not base.exists()
    assert worker.proc.poll() is not None


def test_leftovers_of_a_killed_grader_are_cleaned_up(tmp_path, perceptron, monkeypatch):
    """After a grader is killed with SIGKILL mid-run, is nothing of its submissions still
    running, and does the next grader remove its folders and cgroups?"""
    import signal
    import subprocess
    import sys
    import time

    from neurograde.sandbox import runner
    from neurograde.sandbox.limits import CGROUP_PARENT, CGROUP_ROOT

    spin = ("import numpy as np\n\n" + inspect.getsource(perceptron.reference.predict)
            + "\ndef accuracy(y_true, y_pred):\n    while True:\n        pass\n")
    for i in range(2):
        notebook_with([spin], tmp_path / "subs" / f"spin{i}.ipynb")
    grader = subprocess.Popen([sys.executable, "-m", "neurograde", "grade", "--assignment",
                               "perceptron", str(tmp_path / "subs"), "--out",
                               str(tmp_path / "out"), "--jobs", "2", "--timeout", "120"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = f"-{grader.pid}-"

    def leftovers():
        folders = [n for root in ("/dev/shm", "/tmp") if os.path.isdir(root)
                   for n in os.listdir(root) if n.startswith("neurograde-") and marker in n]
        groups = [p for p in (CGROUP_ROOT / "pids" / CGROUP_PARENT).glob(f"*{marker}*")]
        return folders, groups

    deadline = time.monotonic() + 60
    while not (leftovers()[0] and leftovers()[1]) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # the spinning submissions are running now
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    time.sleep(1)
    folders, groups = leftovers()
    assert folders, "the killed grader should have left its folders"
    for group in groups:
        assert (group / "cgroup.procs").read_text().split() == []  # nothing still running
    monkeypatch.setattr(runner, "_cleaned", False)
    runner.remove_stale_leftovers()
    assert leftovers() == ([], [])


def test_a_warm_child_draws_what_a_fresh_interpreter_draws(box, pool, tmp_path):
    """A torch assignment's worker imports the notebook's modules and runs a tiny training
    step before it forks any child (what torch loads on first use then costs nothing per
    submission): does a child still draw the same numbers from numpy and random, and from
    torch once seeded (unseeded, torch draws differ between interpreters anyway), with the
    same defaults, as a submission run in a fresh interpreter?"""
    from neurograde.spec import load_assignment
    vae = load_assignment("vae")
    assert vae.uses_torch
    plan = make_plan(vae)
    cell = ("import random, sys\nimport numpy as np\nimport torch\n"
            "torch.manual_seed(3)\n"
            "print('DRAWS', torch.rand(3).tolist(), torch.nn.Linear(2, 1).weight.tolist(), "
            "np.random.rand(2).tolist(), random.random(), torch.get_num_threads(), "
            "torch.is_grad_enabled(), torch.get_default_dtype(), "
            "torch.are_deterministic_algorithms_enabled())")
    seen = {}
    for warm in (True, False):
        path = notebook_with([cell], tmp_path / f"warm-{warm}.ipynb")
        run = ex.execute(collect([path])[0], plan, dataclasses.replace(box, warm=warm),
                         Limits(wall_seconds=120, cpu_seconds=240, memory_mb=2048))
        assert ("warm worker" in run.sandbox) == warm, run.sandbox
        seen[warm] = [line for line in run.output.splitlines() if line.startswith("DRAWS")]
    assert len(seen[True]) == 1 and seen[True] == seen[False]


def test_the_next_run_starts_only_after_the_previous_run_is_gone(grade, pool, perceptron):
    """A run returns as soon as the submission's process has ended and its pipes are closed;
    the rest of its teardown (its pid namespace going away) overlaps with the judge. Does the
    next run wait for it, so that it never meets anything of the previous one, not even a
    process the previous one left running?"""
    first = grade(_reference(perceptron))
    (worker,) = _idle_workers(pool)
    pending = worker._pending
    assert first.status == "ok" and pending is not None
    second = grade(["import os\nprint('PIDS', sorted(int(p) for p in os.listdir('/proc') "
                    "if p.isdigit()))"])
    assert "PIDS [1, 2]" in second.output
    assert pending[0].fileno() == -1  # settled (and closed) before the second run began
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if b"613.25" in _read(p)]


def _read(path):
    try:
        return path.read_bytes()
    except OSError:
        return b""
