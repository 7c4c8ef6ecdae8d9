"""Download one data file with a progress bar and a SHA-256 check (used by cifar10.py).

Self-contained (standard library only): it is handed to students beside cifar10.py and runs
in a bare notebook. The file is written to ``<target>.<random>.part`` in the target's folder
and renamed into place only once its size and SHA-256 match, so an interrupted or tampered
download never leaves a file that looks complete; a refused download removes its part file.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """The download failed or was refused; the message says where to put the file by hand."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:  # not hashlib.file_digest: students may run Python 3.10
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _Bar:
    """A one-line text progress bar on stderr ("\\r" redraws it in terminals and notebooks)."""

    def __init__(self, label: str, total: int | None, stream=None, width: int = 30):
        self.label, self.total, self.width = label, total, width
        self.stream = stream if stream is not None else sys.stderr
        self.started = self.shown = time.monotonic()
        self.done = 0

    def update(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.shown >= 0.25:
            self.shown = now
            self._draw(now)

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        mb = self.done / 1e6
        rate = mb / max(now - self.started, 1e-6)
        if self.total:
            part = min(self.done / self.total, 1.0)
            filled = int(part * self.width)
            text = (f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                    f"{part:4.0%} {mb:.1f}/{self.total / 1e6:.1f} MB {rate:.1f} MB/s")
        else:
            text = f"\r{self.label} {mb:.1f} MB {rate:.1f} MB/s"
        self.stream.write(text)
        self.stream.flush()


def fetch(url: str, target: Path, *, sha256: str, size: int | None = None,
          manual: str = "", timeout: float = 60.0, progress: bool = True,
          label: str | None = None) -> Path:
    """Download url to target unless target already has the expected SHA-256.

    size, when known, is the exact length: a server sending more is cut off and refused (a
    hostile or wrong server cannot fill the disk). Raises DownloadError, whose message ends
    with `manual` (what to do by hand), on any network error, size or checksum mismatch."""
    target = Path(target)
    if target.is_file() and sha256_of(target) == sha256:
        return target
    where = f"\n{manual}" if manual else ""
    part = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, part = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
        digest, received = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
            total = size or (int(length) if length and length.isdigit() else None)
            bar = _Bar(label or target.name, total) if progress else None
            try:
                while chunk := resp.read(CHUNK):
                    received += len(chunk)
                    if size is not None and received > size:
                        raise DownloadError(f"{url} sent more than the {size} bytes of "
                                            f"{target.name}; the download was stopped and "
                                            f"removed (wrong or tampered file).{where}")
                    digest.update(chunk)
                    out.write(chunk)
                    if bar:
                        bar.update(len(chunk))
            finally:
                if bar:
                    bar.close()
        if size is not None and received != size:
            raise DownloadError(f"{url} sent {received} bytes, {target.name} has {size}: the "
                                f"download was cut short and removed; try again.{where}")
        if digest.hexdigest() != sha256:
            raise DownloadError(f"{url}: the downloaded file's SHA-256 is {digest.hexdigest()}, "
                                f"expected {sha256} (truncated or tampered file); it was "
                                f"removed.{where}")
        os.replace(part, target)
        part = None
    except DownloadError:
        raise
    except (OSError, ValueError, http.client.HTTPException) as err:  # URLError is an OSError
        raise DownloadError(f"could not download {url}: {err}.{where}") from err
    finally:
        if part is not None:
            Path(part).unlink(missing_ok=True)
    return target
