"""Zip submissions (what grader.export writes) and junk in folder submissions: a zip is checked
from its central directory and refused with a per-submission `invalid` row for every hostile
shape (links, devices, paths outside, bombs, duplicates, too many files, not one notebook);
an honest one is collected exactly like the same files in a folder."""

from __future__ import annotations

import os
import stat
import struct
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from assignment_grading import notebook_with_mistakes
from neurograde import collect_zip
from neurograde.batch import BatchOptions, grade_batch
from neurograde.collect import SubmissionLimits, collect

LIMITS = SubmissionLimits()


def correct(perceptron, path: Path) -> Path:
    return notebook_with_mistakes(perceptron, {}, path)


def make_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def special(name: str, mode: int) -> zipfile.ZipInfo:
    """A zip entry whose Unix mode (external attributes) says link, device, FIFO..."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def one(path: Path, limits=LIMITS):
    [submission] = collect([path], limits)
    return submission


def refused(path: Path, *words: str, limits=LIMITS) -> str:
    submission = one(path, limits)
    assert submission.problem is not None and submission.files == (), path.name
    for word in words:
        assert word in submission.problem, submission.problem
    return submission.problem


def test_an_export_zip_is_collected_like_the_same_folder(perceptron, tmp_path):
    """The zip grader.export writes (notebook at the top, otter's __zip_filename__ and
    .OTTER_LOG) plus a checkpoint: collected under the zip's name with the notebook and the
    checkpoint only, at the same relative paths and with the same fingerprint as the folder
    holding those two files; a zip whose files sit in one top folder is the same submission."""
    folder = tmp_path / "folder"
    nb = correct(perceptron, folder / "perceptron.ipynb").read_bytes()
    (folder / "autoencoder.pt").write_bytes(b"\x00weights" * 100)
    export = make_zip(tmp_path / "subs" / "alice.zip", [
        ("perceptron.ipynb", nb), ("autoencoder.pt", b"\x00weights" * 100),
        ("__zip_filename__", b"alice.zip"), (".OTTER_LOG", b"x" * 5000)])
    wrapped = make_zip(tmp_path / "wrapped.zip", [
        ("alice/perceptron.ipynb", nb), ("alice/autoencoder.pt", b"\x00weights" * 100),
        ("alice/.ipynb_checkpoints/perceptron-checkpoint.ipynb", nb),
        ("__MACOSX/alice/._perceptron.ipynb", b"mac")])
    from_folder = one(folder)
    for path in (export, wrapped):
        sub = one(path)
        assert sub.problem is None, sub.problem
        assert sub.stem == path.name and sub.source == str(path)
        assert sorted(str(p.relative_to(sub.root)) for p in sub.files) == \
            ["autoencoder.pt", "perceptron.ipynb"]
        assert sub.notebook.read_bytes() == nb and sub.notebook.parent == sub.root
        assert sub.sha256 == from_folder.sha256
        assert tmp_path not in sub.root.parents  # unpacked in a private folder, not beside it
    assert [s.stem for s in collect([tmp_path / "subs"])] == ["alice.zip"]


def test_links_devices_and_paths_outside_are_refused(perceptron, tmp_path):
    """Absolute paths, `..`, drive letters, backslashes, symbolic links (also inside junk
    folders), character devices, FIFOs and encrypted entries: each zip gets a refusal naming
    the entry and the rule, and nothing is written outside the grader's own folder."""
    nb = correct(perceptron, tmp_path / "nb.ipynb").read_bytes()
    cases = {
        "absolute": ("/tmp/evil.txt", "absolute path"),
        "drive": ("C:/evil.txt", "absolute path"),
        "dotdot": ("../evil.txt", "outside the zip"),
        "backslash": ("..\\evil.txt", "backslash"),
        "link": (special("model.pt", stat.S_IFLNK | 0o777), "symbolic link"),
        "junk_link": (special("__MACOSX/._x", stat.S_IFLNK | 0o777), "symbolic link"),
        "device": (special("dev", stat.S_IFCHR | 0o666), "not a regular file"),
        "fifo": (special("pipe", stat.S_IFIFO | 0o644), "not a regular file"),
    }
    for label, (entry, words) in cases.items():
        path = make_zip(tmp_path / "subs" / f"{label}.zip",
                        [("perceptron.ipynb", nb), (entry, b"/etc/passwd")])
        refused(path, words)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
    encrypted = make_zip(tmp_path / "subs" / "encrypted.zip", [("perceptron.ipynb", nb),
                                                               ("secret.txt", b"x")])
    raw = bytearray(encrypted.read_bytes())  # zipfile cannot encrypt: set the flag by hand
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = -1
        while (at := raw.find(signature, at + 1)) >= 0:
            raw[at + flags_at] |= 0x1
    encrypted.write_bytes(bytes(raw))
    refused(encrypted, "encrypted")


def test_not_one_notebook_duplicates_and_clashes_are_refused(perceptron, tmp_path):
    """No notebook, two notebooks, the same name twice (also differing only in case), a file
    that other entries use as a folder, files outside the notebook's folder, and a file that
    is not a zip at all: one clear refusal each."""
    nb = correct(perceptron, tmp_path / "nb.ipynb").read_bytes()
    refused(make_zip(tmp_path / "none.zip", [("notes.txt", b"x")]), "no notebook")
    refused(make_zip(tmp_path / "two.zip", [("a.ipynb", nb), ("b/b.ipynb", nb)]),
            "2 notebooks", "a.ipynb", "b/b.ipynb")
    refused(make_zip(tmp_path / "case.zip", [("p.ipynb", nb), ("Model.pt", b"1"),
                                             ("model.pt", b"2")]), "same name")
    with_dup = tmp_path / "dup.zip"
    with zipfile.ZipFile(with_dup, "w") as zf:
        zf.writestr("p.ipynb", nb)
        zf.writestr("p.ipynb", b"{}")  # zipfile warns; a hostile zip does this on purpose
    refused(with_dup, "same name")
    refused(make_zip(tmp_path / "clash.zip", [("p.ipynb", nb), ("data", b"1"),
                                              ("data/x", b"2")]), "as a folder")
    refused(make_zip(tmp_path / "apart.zip", [("sub/p.ipynb", nb), ("model.pt", b"1")]),
            "not beside it")
    (tmp_path / "fake.zip").write_bytes(b"this is no zip at all" * 10)
    refused(tmp_path / "fake.zip", "not a readable zip")


def _bomb(path: Path, mib: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p.ipynb", b"{}")
        with zf.open("zeros.bin", "w", force_zip64=True) as out:
            block = bytes(1 << 20)
            for _ in range(mib):
                out.write(block)
    return path


def test_zip_bombs_and_oversized_entries_are_refused_before_unpacking(tmp_path):
    """A 300 MiB file of zeros packed into a few hundred KB is refused from its declared size
    (limit `checkpoint_bytes`, in well under a second, nothing unpacked); with a larger
    checkpoint limit the total (`folder_bytes`) refuses it; a notebook over notebook_bytes
    too; a zip file itself larger than folder_bytes is not even opened."""
    bomb = _bomb(tmp_path / "bomb.zip", 300)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    started = time.monotonic()
    refused(bomb, "(limit `checkpoint_bytes`)")
    assert time.monotonic() - started < 1.0
    roomy = SubmissionLimits(checkpoint_bytes=400 * 1024 * 1024)
    refused(bomb, "(limit `folder_bytes`)", limits=roomy)
    big_nb = make_zip(tmp_path / "bignb.zip", [("p.ipynb", b" " * (LIMITS.notebook_bytes + 1))])
    refused(big_nb, "(limit `notebook_bytes`)")
    refused(bomb, "the zip is", "(limit `folder_bytes`)",
            limits=SubmissionLimits(folder_bytes=bomb.stat().st_size - 1))


def test_a_size_that_lies_stops_at_the_declared_size(tmp_path):
    """An entry whose headers declare 1,000 bytes but whose data inflates to 10 MiB (the
    classic bomb that passes a size check) is refused as damaged, and no byte beyond the
    declared 1,000 is ever written."""
    path = make_zip(tmp_path / "liar.zip", [("p.ipynb", b"{}"), ("data.bin", bytes(10 << 20))])
    with zipfile.ZipFile(path) as zf:
        local = zf.getinfo("data.bin").header_offset
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46:central + 54] != b"data.bin":
        central = raw.find(b"PK\x01\x02", central + 1)
    raw[local + 22:local + 26] = struct.pack("<I", 1000)     # local header: uncompressed size
    raw[central + 24:central + 28] = struct.pack("<I", 1000)  # central directory: the same
    path.write_bytes(bytes(raw))
    refused(path, "damaged")
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(collect_zip.ZipRefused):
        collect_zip.unpack(path, os.open(path, os.O_RDONLY), LIMITS, staging)
    written = [f.stat().st_size for f in staging.rglob("*") if f.is_file()]
    assert written and max(written) <= 1000


def test_too_many_entries_are_refused_without_listing_them(tmp_path):
    """A zip with more files than the `files` limit is refused naming the limit; one with
    thousands of entries is refused from its end record, before its directory is read."""
    refused(make_zip(tmp_path / "many.zip", [("p.ipynb", b"{}")] +
                     [(f"f{i}.txt", b"x") for i in range(LIMITS.files + 5)]),
            "(limit `files`)")
    lots = make_zip(tmp_path / "lots.zip", [("p.ipynb", b"{}")] +
                    [(f"f{i}.txt", b"") for i in range(5000)])
    refused(lots, "more than", "entries", "(limit `files`)")


def test_folder_submissions_ignore_otter_log_and_known_junk(perceptron, tmp_path):
    """A student folder holding .OTTER_LOG (several MB, as grader.check leaves it),
    .ipynb_checkpoints/ (with a second notebook), __pycache__/, .DS_Store and __MACOSX/ is one
    submission whose files are the notebook and the checkpoint only: the junk is neither
    counted against the limits nor copied into the sandbox."""
    folder = tmp_path / "ana"
    correct(perceptron, folder / "perceptron.ipynb")
    (folder / "autoencoder.pt").write_bytes(b"w")
    (folder / ".OTTER_LOG").write_bytes(b"x" * (6 << 20))
    (folder / ".ipynb_checkpoints").mkdir()
    nbformat.write(nbformat.v4.new_notebook(),
                   str(folder / ".ipynb_checkpoints" / "perceptron-checkpoint.ipynb"))
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00")
    (folder / ".DS_Store").write_bytes(b"\x00")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / "._perceptron.ipynb").write_bytes(b"\x00")
    sub = one(folder, SubmissionLimits(folder_bytes=1 << 20, files=3))
    assert sub.problem is None, sub.problem
    assert sorted(p.name for p in sub.files) == ["autoencoder.pt", "perceptron.ipynb"]


def test_a_batch_with_hostile_zips_grades_the_honest_ones(perceptron, tmp_path, box):
    """Through grade_batch and the sandbox: an honest export zip gets full marks, the hostile
    zips beside it get `invalid` rows with 0 points and their reason, and the batch ends."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    nb = correct(perceptron, tmp_path / "nb.ipynb").read_bytes()
    make_zip(subs / "honest.zip", [("perceptron.ipynb", nb), (".OTTER_LOG", b"log"),
                                   ("__zip_filename__", b"honest.zip")])
    make_zip(subs / "link.zip", [("perceptron.ipynb", nb),
                                 (special("x", stat.S_IFLNK | 0o777), b"/etc/passwd")])
    make_zip(subs / "escape.zip", [("perceptron.ipynb", nb), ("../../evil.py", b"x")])
    make_zip(subs / "two.zip", [("a.ipynb", nb), ("b.ipynb", nb)])
    _bomb(subs / "bomb.zip", 300)
    summary = grade_batch(perceptron, [subs], out,
                          BatchOptions(jobs=2, timeout=60, quiet=True, reports=False))
    rows = {r.submission: r for r in summary.results}
    assert sorted(rows) == ["bomb.zip", "escape.zip", "honest.zip", "link.zip", "two.zip"]
    assert rows["honest.zip"].status == "ok"
    assert rows["honest.zip"].total == perceptron.possible
    for key in ("bomb.zip", "escape.zip", "link.zip", "two.zip"):
        assert (rows[key].status, rows[key].total) == ("invalid", 0), key
        assert "zip" in rows[key].message, rows[key].message
