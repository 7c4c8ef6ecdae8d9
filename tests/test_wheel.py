"""The installed distribution is complete (issue 13): built as a wheel and installed into a
fresh venv outside the checkout, neurograde lists, releases and grades the perceptron from any
folder, under the import name neurograde; the sdist carries the course too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from classroom import read_csv

from neurograde import __version__
from neurograde.release import reference_notebook
from neurograde.spec import load_assignment

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The wheel and the sdist, built from the checkout as pip builds them."""
    dist = tmp_path_factory.mktemp("dist")
    # From a copy without build products: setuptools reuses a build/ folder it finds, and a
    # file deleted since would still land in the wheel.
    source = tmp_path_factory.mktemp("src") / "neurograde"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".OTTER_LOG"))
    for kind in ("wheel", "sdist"):
        if kind == "wheel":
            # The venv's own setuptools (the test extra): no download while testing.
            cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                   "-q", "-w", str(dist), str(source)]
        else:
            cmd = [sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                   "print(b.build_sdist(sys.argv[1]))", str(dist)]
        proc = subprocess.run(cmd, cwd=source if kind == "sdist" else dist, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    wheels = list(dist.glob("neurograde-*.whl"))
    assert len(wheels) == 1, list(dist.iterdir())
    sdists = list(dist.glob("neurograde-*.tar.gz"))
    assert len(sdists) == 1, list(dist.iterdir())
    return wheels[0], sdists[0]


def test_wheel_carries_the_course_and_no_tests(built):
    wheel, sdist = built
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("neurograde/__main__.py", "neurograde/cli.py",
                   "neurograde/inside/harness.py",
                   "neurograde/course/assignments/perceptron/assignment.toml",
                   "neurograde/course/assignments/perceptron/text/es.md",
                   "neurograde/course/assignments/autoencoder/files/autoencoder.pt",
                   "neurograde/course/reference/perceptron.py",
                   "neurograde/course/templates/messages.toml",
                   "neurograde/course/templates/cells/question.md.j2"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "autograder/")) for n in names)
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    members = {m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m}
    assert {"assignments/perceptron/assignment.toml", "reference/perceptron.py",
            "templates/messages.toml", "LICENSE", "autograder/cli.py",
            "assignments/autoencoder/files/autoencoder.pt"} <= members


def _fresh_venv() -> Path:
    """A venv the sandbox's unprivileged uid can read, whose only neurograde is the wheel's.
    Its dependencies are the test venv's, hard-linked (no copy, no download) without the
    editable install of the checkout: the sandbox lets student code read the interpreter's own
    venv only, so they must live inside it."""
    base = Path(tempfile.mkdtemp(prefix="wheel-venv-", dir="/opt/neurograde"))
    os.chmod(base, 0o755)
    venv = base / "venv"
    home = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(home if home.exists() else sys.executable), "-m", "venv",
                    "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = Path(sysconfig.get_path("purelib"))
    for entry in ours.iterdir():
        if "neurograde" in entry.name.lower() or entry.name in ("__pycache__",):
            continue  # the checkout's editable install: the wheel replaces it
        target = site / entry.name
        if entry.is_dir() and not entry.is_symlink():
            subprocess.run(["cp", "-al", str(entry), str(target)], check=True)
        else:
            os.link(entry, target, follow_symlinks=False)
    return venv


def test_installed_wheel_releases_and_grades_from_any_folder(built, tmp_path):
    wheel, _ = built
    venv = _fresh_venv()
    try:
        install = subprocess.run([sys.executable, "-m", "pip", "--python",
                                  str(venv / "bin" / "python"), "install", "--no-deps",
                                  "--ignore-installed", "-q", str(wheel)],
                                 capture_output=True, text=True, timeout=600)
        assert install.returncode == 0, install.stderr[-2000:]
        subprocess.run(["chmod", "-R", "a+rX", str(venv.parent)], check=True)
        work = tmp_path / "elsewhere"
        work.mkdir()

        def run(*args, exe="neurograde"):
            return subprocess.run([str(venv / "bin" / exe), *map(str, args)], cwd=work,
                                  capture_output=True, text=True, timeout=900,
                                  env={k: v for k, v in os.environ.items()
                                       if k not in ("PYTHONPATH",)})
        where = run("-c", "import neurograde; print(neurograde.__file__)", exe="python")
        assert where.returncode == 0 and str(venv) in where.stdout, where.stdout + where.stderr
        assert run("--version").stdout.strip() == f"neurograde {__version__}"
        assert run("-m", "neurograde", "--version", exe="python").returncode == 0
        listed = run("list")
        assert listed.returncode == 0 and "perceptron" in listed.stdout and "autoencoder" in \
            listed.stdout, listed.stderr
        released = run("release", "perceptron", "--out", "dist", "--lang", "en")
        assert released.returncode == 0, released.stderr[-2000:]
        assert list((work / "dist").rglob("*-autograder.zip"))
        subs = work / "subs"
        subs.mkdir()
        nbformat.write(reference_notebook(load_assignment("perceptron"), "en"),
                       str(subs / "alice.ipynb"))
        graded = run("grade", "--assignment", "perceptron", subs / "alice.ipynb",
                     "--out", "grades", "--jobs", "1")
        assert graded.returncode == 0, graded.stderr[-3000:]
        rows = read_csv(work / "grades" / "grades.csv")
        assert len(rows) == 1 and rows[0]["submission"].startswith("alice"), rows
        assert abs(float(rows[0]["total"]) - load_assignment("perceptron").possible) < 1e-9, rows
    finally:
        shutil.rmtree(venv.parent, ignore_errors=True)
