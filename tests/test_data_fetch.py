"""Downloading CIFAR-10 (autograder/data/fetch.py, download_cifar10, `neurograde data fetch`):
never the real network. A small fake archive is served by an http.server on localhost (or a
file:// URL) with the checksum and size patched to match it."""
import hashlib
import http.server
import socket
import threading

import pytest

from neurograde import cli
from neurograde.data import cifar10
from neurograde.data.cifar10 import DownloadError, download_cifar10, find_cifar10, load_cifar10
from test_cifar10_data import _write_batches, _write_tar


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("NEUROGRADE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(cifar10, "SHARED_DATASETS", tmp_path / "no-shared")


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A tiny but real CIFAR-10 tarball; the module's SHA-256 and size are patched to it."""
    _write_batches(tmp_path / "b" / "cifar-10-batches-py")
    tar = _write_tar(tmp_path / "src", tmp_path / "b" / "cifar-10-batches-py")
    data = tar.read_bytes()
    monkeypatch.setattr(cifar10, "CIFAR10_SHA256", hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(cifar10, "CIFAR10_BYTES", len(data))
    return data


class _Server:
    """Serves `body` for any GET on 127.0.0.1; counts requests."""

    def __init__(self, body: bytes):
        self.body, self.requests = body, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/cifar-10-python.tar.gz"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(body):
        servers.append(_Server(body))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def test_download_shows_progress_checks_and_is_found_by_the_loader(archive, serve, tmp_path,
                                                                    capsys):
    """A download over HTTP draws a progress bar, keeps the file under cifar10/ where
    load_cifar10 finds it, and is not fetched again once there and intact."""
    server = serve(archive)
    path = download_cifar10(tmp_path / "data" / "cifar10", url=server.url)
    assert path == tmp_path / "data" / "cifar10" / "cifar-10-python.tar.gz"
    assert path.read_bytes() == archive
    bar = capsys.readouterr().err
    assert "CIFAR-10 [" in bar and "100%" in bar
    assert find_cifar10(tmp_path / "data") == path
    X, y, _ = load_cifar10(tmp_path / "data", split="test", cache_dir=tmp_path / "cache")
    assert X.shape == (4, 32, 32, 3) and y.shape == (4,)
    download_cifar10(tmp_path / "data" / "cifar10", url=server.url)
    assert server.requests == 1


def test_file_url_works_and_the_default_place_is_the_user_cache(archive, tmp_path):
    """A file:// URL (a copy on a USB stick, a mirror folder) downloads like HTTP; without
    dest_dir the archive lands in the user cache folder, which load_cifar10 searches."""
    source = tmp_path / "stick" / "cifar-10-python.tar.gz"
    source.parent.mkdir()
    source.write_bytes(archive)
    path = download_cifar10(url=source.as_uri(), progress=False)
    assert path == tmp_path / "xdg-cache" / "neurograde" / "cifar10" / "cifar-10-python.tar.gz"
    assert find_cifar10() == path


def test_a_wrong_checksum_is_refused_and_the_file_removed(archive, serve, tmp_path):
    """A file of the right size whose SHA-256 differs (tampered) is refused: the message gives
    both checksums and says it was removed; nothing is left in the folder, not even a part
    file, and an intact copy already there is never replaced by a bad one."""
    tampered = bytearray(archive)
    tampered[len(tampered) // 2] ^= 0xFF
    server = serve(bytes(tampered))
    dest = tmp_path / "dl"
    with pytest.raises(DownloadError) as info:
        download_cifar10(dest, url=server.url, progress=False)
    message = str(info.value)
    assert cifar10.CIFAR10_SHA256 in message and "removed" in message
    assert hashlib.sha256(bytes(tampered)).hexdigest() in message
    assert list(dest.iterdir()) == []


def test_too_long_or_cut_short_downloads_are_refused(archive, serve, tmp_path):
    """A server sending more bytes than the archive has is cut off at the size (it cannot
    fill the disk); one sending fewer is refused as cut short. Both leave nothing behind."""
    for body, words in ((archive + b"x" * 100, "sent more than"), (archive[:-10], "cut short")):
        server = serve(body)
        dest = tmp_path / words.replace(" ", "_")
        with pytest.raises(DownloadError, match=words):
            download_cifar10(dest, url=server.url, progress=False)
        assert list(dest.iterdir()) == []


def test_no_network_says_where_to_put_the_data(tmp_path):
    """Nothing listening (no network): the error names the official URL, its SHA-256 and the
    exact path to copy the archive to; no part file is left."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dest = tmp_path / "dl"
    with pytest.raises(DownloadError) as info:
        download_cifar10(dest, url=f"http://127.0.0.1:{port}/cifar-10-python.tar.gz",
                         timeout=5, progress=False)
    message = str(info.value)
    assert str(dest / "cifar-10-python.tar.gz") in message
    assert cifar10.CIFAR10_URL in message and cifar10.CIFAR10_SHA256 in message
    assert list(dest.iterdir()) == []


def test_cli_data_fetch_downloads_into_data_dir_and_reports_failures(archive, serve, tmp_path,
                                                                     capsys):
    """`neurograde data fetch cifar10 --data DIR --url URL` puts the archive in DIR/cifar10/
    (where --data DIR finds it) and exits 0; a refused download exits 1 with the reason, and
    `grade --data DIR` accepts the folder afterwards."""
    server = serve(archive)
    code = cli.main(["data", "fetch", "cifar10", "--data", str(tmp_path / "course"),
                     "--url", server.url])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert (tmp_path / "course" / "cifar10" / "cifar-10-python.tar.gz").read_bytes() == archive
    assert f"--data {tmp_path / 'course'}" in out.out
    cli._use_data_dir(tmp_path / "course")  # what `grade --data DIR` does first: no error
    bad = serve(b"not the archive")
    code = cli.main(["data", "fetch", "cifar10", "--data", str(tmp_path / "other"),
                     "--url", bad.url])
    err = capsys.readouterr().err
    assert code == cli.ENV_ERROR
    assert "neurograde data fetch:" in err and "cut short" in err
    assert not (tmp_path / "other" / "cifar10" / "cifar-10-python.tar.gz").exists()


DEMO_WITHOUT_CIFAR = """
import sys
from pathlib import Path
from neurograde import cli, spec
from neurograde.data import cifar10
cifar10.SHARED_DATASETS = Path({missing!r})  # this machine has no CIFAR-10 anywhere
cli.all_assignments = lambda: [spec.load_assignment(s) for s in ("autoencoder", "perceptron")]
sys.exit(cli.main(["demo", "--out", {out!r}, "--jobs", "1"]))
"""


def test_demo_without_cifar10_grades_the_others_and_says_how_to_get_it(tmp_path, box):
    """`neurograde demo` on a machine without CIFAR-10 (in a fresh process: nothing cached)
    skips the autoencoder, still releases and grades the other assignments (here the
    perceptron), leaves no half-made autoencoder release, then names the command that
    fetches the data and --data, and exits 1."""
    import os
    import subprocess
    import sys
    from neurograde.spec import ROOT
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "NEUROGRADE_DATA"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "empty-cache")
    code = DEMO_WITHOUT_CIFAR.format(missing=str(tmp_path / "no-data"), out=str(out))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env=env)
    assert proc.returncode == cli.ENV_ERROR, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "skipped autoencoder" in proc.stdout
    assert "released perceptron" in proc.stdout
    assert (out / "grades" / "perceptron" / "grades.csv").is_file()
    assert not (out / "grades" / "autoencoder").exists()
    assert not (out / "release" / "autoencoder").exists()
    assert "neurograde data fetch cifar10" in proc.stderr and "--data DIR" in proc.stderr
