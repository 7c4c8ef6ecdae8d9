"""NEUROGRADE_TIMINGS: where a batch's time went, per submission and stage, measured by the
grader's own clock (what benchmarks/bench_grading.py prints). Off by default."""

import json
import os

from classroom import cli, write_class

SANDBOX_STAGES = ("sandbox: cgroup re-armed, request sent, child forked",
                  "sandbox: set-up inside (namespaces, mounts, confinement)",
                  "notebook cells", "probes: public checks", "probes: hidden checks")


def test_a_timed_batch_writes_every_stage_of_every_submission(tmp_path, perceptron):
    subs = tmp_path / "subs"
    write_class(perceptron, subs, 4, kinds=("correct", "partly_wrong"))
    timings = tmp_path / "timings.json"
    env = {**os.environ, "NEUROGRADE_TIMINGS": str(timings)}
    done = cli("grade", "--assignment", "perceptron", subs, "--out", tmp_path / "out",
               "--jobs", "1", "--timeout", "60", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(timings.read_text())
    stems = {p.name for p in subs.iterdir()}
    assert stems <= set(data["submissions"])  # (the self-check's two runs are there too)
    loop = data["batch"]["grading loop (first submission to last row)"]
    assert 0 < loop < data["batch"]["command"]
    for stem in stems:
        stages = data["submissions"][stem]
        assert all(stages.get(name, 0) > 0 for name in SANDBOX_STAGES), (stem, stages)
        assert all(seconds >= 0 for seconds in stages.values())
        assert {"judge", "gradebook commit", "feedback page"} <= set(stages)
    # One job: the submissions' stages (pages are written after the loop) fit in the loop.
    in_loop = sum(seconds for stem in stems for name, seconds in
                  data["submissions"][stem].items() if name != "feedback page")
    assert in_loop <= loop * 1.05

