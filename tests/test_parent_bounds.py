"""The grading parent's own memory does not grow with what a submission sends it.

Each case grades one submission in a separate Python process (so its peak RSS is its own) and
compares the peak with that of grading an honest submission the same way.
"""

import inspect
import subprocess
import sys

import pytest

from conftest import notebook_with

GRADE_ONE = """
import resource, sys
from neurograde.collect import collect
from neurograde.execute import execute
from neurograde.grader import limits_for
from neurograde.probe import make_plan
from neurograde.sandbox import box
from neurograde.spec import load_assignment
a = load_assignment("perceptron")
result = execute(collect([sys.argv[1]])[0], make_plan(a), box.detect(False), limits_for(a, 60))
print(result.status, "|", result.message[:200])
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

FLOODS = {
    # one 250 MB line, never ended: longer than any line the parent keeps
    "huge line": "import os\nfd = int(os.environ['NEUROGRADE_RESULT_FD'])\n"
                 "for _ in range(250):\n    os.write(fd, b'7' * (1 << 20))",
    # 250 MB of well-formed but forged lines: past the channel's total cap
    "many lines": "import os\nfd = int(os.environ['NEUROGRADE_RESULT_FD'])\n"
                  "line = b'{\"kind\": \"cell\", \"number\": 1, \"pad\": \"' + b'x' * 4000 + b'\"}\\n'\n"
                  "for _ in range(62_000):\n    os.write(fd, line)",
    # 250 MB printed
    "output": "import sys\nfor _ in range(250):\n    sys.stdout.write('y' * (1 << 20))",
}


def _peak(path) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-c", GRADE_ONE, str(path)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = int(proc.stdout.split("PEAK_KB")[1])
    return peak, proc.stdout.split("\n")[0]


@pytest.fixture(scope="module")
def honest_peak(tmp_path_factory, perceptron):
    source = "\n\n".join(inspect.getsource(getattr(perceptron.reference, n))
                         for n in ("predict", "accuracy", "better_model", "train_perceptron"))
    path = notebook_with(["import numpy as np\n" + source],
                         tmp_path_factory.mktemp("honest") / "honest.ipynb")
    peak, status = _peak(path)
    assert status.startswith("ok")
    return peak


@pytest.mark.parametrize("kind", sorted(FLOODS))
def test_a_flood_does_not_grow_the_parent(tmp_path, perceptron, honest_peak, kind):
    """Does a submission that sends 250 MB (one endless channel line, many forged lines, or
    printed output) leave the parent's peak memory within 100 MB of an honest run's, and end
    as the submission's failure (never the grader's)?"""
    path = notebook_with(["import numpy as np", FLOODS[kind]], tmp_path / "flood.ipynb")
    peak, status = _peak(path)
    assert (peak - honest_peak) < 100 * 1024, (peak, honest_peak, status)
    expected = "ok" if kind == "output" else "crashed"
    assert status.startswith(expected), status
