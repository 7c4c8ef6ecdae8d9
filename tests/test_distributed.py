"""Scale: deterministic shards + merge, grading on a dask cluster (the GitHub Actions workflow:
tests/test_workflow.py)."""

import dataclasses

import pytest

import neurograde.distributed as distributed
from neurograde.batch import BatchOptions, grade_batch
from neurograde.distributed import SchedulerUnreachable, Shard, ShardError, TaskSpec, shard_of
from neurograde.gradebook import Gradebook
from neurograde.selfcheck import SelfCheckFailed
from classroom import cli, read_csv, write_class

COUNT = 12


@pytest.fixture(scope="module")
def klass(tmp_path_factory, perceptron):
    folder = tmp_path_factory.mktemp("dist") / "subs"
    write_class(perceptron, folder, COUNT)
    return folder


@pytest.fixture(scope="module")
def local_run(klass, perceptron, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    summary = grade_batch(perceptron, [klass], out, BatchOptions(jobs=2, timeout=60,
                                                                 quiet=True, reports=False))
    return out, summary


def _scores(results):
    return {r.submission: (r.status, r.total, tuple(q.score for q in r.questions), r.message)
            for r in results}


def test_shards_partition_names_and_adding_one_moves_no_other():
    """Does every name land in exactly one of N shards, roughly evenly, and keep its shard
    when other submissions are added?"""
    names = [f"student-{i}" for i in range(400)]
    for count in (1, 3, 4):
        shards = [Shard(i, count) for i in range(1, count + 1)]
        assert all(sum(s.selects(n) for s in shards) == 1 for n in names)
        sizes = [sum(s.selects(n) for n in names) for s in shards]
        assert min(sizes) > 400 / count * 0.7
    before = {n: shard_of(n, 4) for n in names}
    assert {n: shard_of(n, 4) for n in names + ["new-1", "new-2"]
            if n in before} == before
    # Pinned: the split is a pure function of the name, the same on every machine and run.
    assert [shard_of(n, 4) for n in ("alice", "bob", "s00", "s01")] == [4, 3, 4, 3]


@pytest.mark.parametrize("text, needle", [("0/3", "1 <= I <= N"), ("4/3", "1 <= I <= N"),
                                          ("a/b", "expected I/N"), ("3", "expected I/N")])
def test_bad_shard_values_are_explained(text, needle):
    """Is a malformed --shard refused with the expected form?"""
    with pytest.raises(ShardError, match=needle):
        Shard.parse(text)


def test_cli_shards_then_merge_equal_one_run(klass, local_run, tmp_path):
    """Do three `grade --shard i/3` runs joined with `neurograde merge` give the same
    grades.csv as one unsharded run, with the report and the exports written?"""
    local_out, _ = local_run
    shard_dirs, graded = [], 0
    for i in (1, 2, 3):
        out = tmp_path / f"shard-{i}"
        proc = cli("grade", "--assignment", "perceptron", klass, "--out", out, "--jobs", "2",
                   "--shard", f"{i}/3")
        assert proc.returncode == 0, proc.stderr
        assert "in other shards" in proc.stdout
        graded += len(read_csv(out / "grades.csv"))
        shard_dirs.append(out)
    assert graded == COUNT
    proc = cli("merge", *shard_dirs, "--out", tmp_path / "merged", "--export", "canvas")
    assert proc.returncode == 0, proc.stderr
    assert read_csv(tmp_path / "merged" / "grades.csv") == read_csv(local_out / "grades.csv")
    assert (tmp_path / "merged" / "report.html").exists()
    assert len(list((tmp_path / "merged" / "feedback").glob("*.html"))) == COUNT
    assert len(read_csv(tmp_path / "merged" / "exports" / "canvas.csv")) == COUNT + 1
    proc = cli("grade", "--assignment", "perceptron", klass, "--out", tmp_path / "x",
               "--shard", "0/3")
    assert proc.returncode == 2 and "numbered from 1" in proc.stderr


@pytest.fixture(scope="module")
def cluster():
    distributed_pkg = pytest.importorskip("distributed")
    with distributed_pkg.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                      dashboard_address=None, protocol="tcp",
                                      host="127.0.0.1") as local:
        yield local


def test_dask_cluster_grades_like_a_local_run(klass, perceptron, local_run, cluster, tmp_path):
    """Graded on a dask LocalCluster, does every submission land in the one client gradebook
    with the same scores as a local run, and does a re-run skip them all?"""
    _, local = local_run
    out = tmp_path / "out"
    options = BatchOptions(timeout=60, quiet=True, reports=False,
                           dask=cluster.scheduler_address)
    summary = grade_batch(perceptron, [klass], out, options)
    assert summary.graded == COUNT
    assert _scores(summary.results) == _scores(local.results)
    assert all(r.extra.get("dask_worker", "").startswith("tcp://127.0.0.1")
               for r in summary.results if r.status != "invalid")
    book = Gradebook(out)
    assert book.count() == COUNT
    book.close()
    again = grade_batch(perceptron, [klass], out, options)
    assert (again.graded, again.skipped) == (0, COUNT)


def test_cli_dask_over_tcp(klass, local_run, cluster, tmp_path):
    """Does `neurograde grade --dask tcp://...` from another process grade through the
    cluster (submissions shipped as bytes) and write the usual grades.csv?"""
    local_out, _ = local_run
    proc = cli("grade", "--assignment", "perceptron", klass, "--out", tmp_path / "out",
               "--dask", cluster.scheduler_address)
    assert proc.returncode == 0, proc.stderr
    assert "dask scheduler" in proc.stderr
    assert read_csv(tmp_path / "out" / "grades.csv") == read_csv(local_out / "grades.csv")


def test_failed_dask_tasks_become_rows_that_are_retried(klass, perceptron, cluster, tmp_path,
                                                        monkeypatch):
    """When every task fails on the workers, does each submission still get one row
    (internal-error, saying why), and does the next run grade them properly? (With the
    self-check on, such a cluster is refused before anyone is graded, naming the failure.)"""
    def broken(spec):
        raise RuntimeError("worker cannot build its grader")

    out = tmp_path / "out"
    options = BatchOptions(timeout=60, quiet=True, reports=False,
                           dask=cluster.scheduler_address)
    monkeypatch.setattr(distributed, "_grader_for", broken)  # in-process workers see it
    with pytest.raises(SelfCheckFailed, match="worker cannot build its grader"):
        grade_batch(perceptron, [klass], tmp_path / "checked", options)
    failed = grade_batch(perceptron, [klass], out,
                         dataclasses.replace(options, self_check=False))
    assert {r.status for r in failed.results} == {"internal-error"}
    assert "worker cannot build its grader" in failed.results[0].message
    monkeypatch.undo()
    fixed = grade_batch(perceptron, [klass], out, options)
    assert fixed.graded == COUNT and "internal-error" not in {r.status for r in fixed.results}


def test_worker_with_other_version_refuses(perceptron):
    """Does a worker whose autograder differs from the client's refuse, saying what to do?"""
    spec = TaskSpec("perceptron", 1, "0.0.0+other", 60.0, "en", False)
    with pytest.raises(RuntimeError, match="install the same neurograde commit"):
        distributed._grader_for(spec)


def test_unreachable_scheduler_is_a_usage_error_that_writes_nothing(klass, perceptron,
                                                                     tmp_path):
    """Is a scheduler that cannot be reached refused at once (not after a 30 s wait), with
    the address and what to start, exit code 2 and no gradebook or folder written?"""
    import time
    options = BatchOptions(timeout=60, quiet=True, reports=False, dask="tcp://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match="cannot reach the dask scheduler at "
                                                   "tcp://127.0.0.1:9.*dask scheduler"):
        grade_batch(perceptron, [klass], tmp_path / "out", options)
    assert time.monotonic() - started < distributed.CONNECT_SECONDS
    assert not (tmp_path / "out").exists()
    proc = cli("grade", "--assignment", "perceptron", klass, "--out", tmp_path / "cli",
               "--dask", "tcp://127.0.0.1:9")
    assert proc.returncode == 2 and "tcp://127.0.0.1:9" in proc.stderr, proc.stderr
    assert not (tmp_path / "cli").exists()
    with pytest.raises(SchedulerUnreachable, match="expected a scheduler address"):
        distributed.check_scheduler("not an address")


def test_task_key_names_everything_that_decides_a_row(klass, perceptron):
    """Two runs that would record different rows for one submission (another language, seed,
    time limit, sandbox mode or autograder) never share a task key; the same run does."""
    from neurograde.collect import collect
    sub = collect([klass], perceptron.limits)[0]
    base = TaskSpec("perceptron", 1, "1.0+abc", 60.0, "en", False)
    others = [dataclasses.replace(base, lang="es"), dataclasses.replace(base, seed=2),
              dataclasses.replace(base, timeout=30.0), dataclasses.replace(base, unsafe=True),
              dataclasses.replace(base, version="1.0+abd")]
    keys = {base.key(sub)} | {o.key(sub) for o in others}
    assert len(keys) == 1 + len(others)
    assert base.key(sub) == TaskSpec("perceptron", 1, "1.0+abc", 60.0, "en", False).key(sub)
    assert sub.stem in base.key(sub)


class _LangGrader:
    """A stand-in worker grader that says which language it was built for."""

    def __init__(self, spec):
        self.spec = spec

    def grade(self, sub):
        import time
        from neurograde.grader import ungraded
        from neurograde.spec import load_assignment
        time.sleep(0.05)
        result = ungraded(sub, load_assignment(self.spec.slug), "ok", "")
        return dataclasses.replace(result, extra={"built_for": self.spec.lang})


def test_two_clients_with_different_languages_get_their_own_results(
        klass, perceptron, cluster, monkeypatch):
    """An en and an es client grading the same submissions on one cluster at the same time
    each get the rows built for their own language (with one key per submission they were
    handed each other's)."""
    import threading
    from neurograde.collect import collect
    from neurograde.probe import make_plan
    monkeypatch.setattr(distributed, "_grader_for", _LangGrader)  # in-process workers
    plan = make_plan(perceptron, None)
    subs = collect([klass], perceptron.limits)
    got = {}

    def run(lang):
        options = BatchOptions(timeout=60, quiet=True, lang=lang, dask=cluster.scheduler_address)
        try:
            got[lang] = list(distributed.grade_on_dask(cluster.scheduler_address, plan, "v",
                                                       subs, options))
        except BaseException as exc:  # shown by the assertion below, not lost in a thread
            got[lang] = exc
    threads = [threading.Thread(target=run, args=(lang,)) for lang in ("en", "es")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for lang in ("en", "es"):
        assert isinstance(got.get(lang), list), (lang, repr(got.get(lang)))
        assert len(got[lang]) == len(subs)
        assert {r.extra.get("built_for") for r in got[lang]} == {lang}, lang


def test_recorded_rows_are_released_from_the_cluster(klass, perceptron, cluster, monkeypatch):
    """Once a row is handed over (and recorded), its task is gone from the scheduler, so a
    worker lost afterwards has nothing of it to recompute; tasks are submitted with retries."""
    from neurograde.collect import collect
    from neurograde.probe import make_plan
    monkeypatch.setattr(distributed, "_grader_for", _LangGrader)
    submitted = []
    import distributed as dask_distributed
    real_submit = dask_distributed.Client.submit

    def spy(self, *args, **kwargs):
        submitted.append(kwargs.get("retries"))
        return real_submit(self, *args, **kwargs)
    monkeypatch.setattr(dask_distributed.Client, "submit", spy)
    plan = make_plan(perceptron, None)
    subs = collect([klass], perceptron.limits)
    options = BatchOptions(timeout=60, quiet=True, lang="en", dask=cluster.scheduler_address)
    rows = distributed.grade_on_dask(cluster.scheduler_address, plan, "v", subs, options)
    scheduler = cluster.scheduler
    seen = []
    for result in rows:
        seen.append(result.submission)
        if len(seen) > 1:  # the previous row was recorded: its task must be forgotten soon
            import time
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(
                    key.startswith(f"neurograde-perceptron-{seen[-2]}-")
                    for key in map(str, scheduler.tasks)):
                time.sleep(0.02)
            assert not any(key.startswith(f"neurograde-perceptron-{seen[-2]}-")
                           for key in map(str, scheduler.tasks)), seen[-2]
    assert len(seen) == len(subs)
    assert submitted and set(submitted) == {distributed.RETRIES} and distributed.RETRIES >= 1


def test_stale_submission_copies_of_killed_workers_are_removed(tmp_path):
    """A copy left by a worker process that no longer runs is removed; a live worker's copy,
    other folders and a link named like a copy are left alone."""
    import os
    import subprocess
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its pid runs no more
    stale = tmp_path / f"{distributed.TMP_PREFIX}{dead.pid}-abc"
    live = tmp_path / f"{distributed.TMP_PREFIX}{os.getpid()}-def"
    other = tmp_path / "keep-me"
    for folder in (stale, live, other):
        (folder / "submission").mkdir(parents=True)
    link = tmp_path / f"{distributed.TMP_PREFIX}{dead.pid}-link"
    link.symlink_to(other)
    assert distributed.sweep_stale_copies(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and other.exists() and link.is_symlink()

