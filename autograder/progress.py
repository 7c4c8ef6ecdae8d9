"""Batch progress on stderr: a redrawn bar on a terminal, one plain line per submission in CI.

A bar that rewrites itself with carriage returns turns a CI log into one unreadable line, and
a line per submission floods a terminal; so the mode follows ``stream.isatty()`` unless the
caller forces one. On a terminal, submissions that did not finish normally (timeout, crash,
out of memory, grader error) still get a permanent line above the bar, so they are not lost
when the bar moves on.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from .i18n import cli_text, status_word
from .judge import SubmissionResult

MODES = ("auto", "bar", "log", "quiet")
REDRAW_SECONDS = 0.1   # a bar redrawn faster than the eye reads only costs terminal time


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, mode: str = "auto",
                 clock=time.monotonic, lang: str | None = None):
        if mode not in MODES:
            raise ValueError(f"progress mode {mode!r} is unknown; choose one of {MODES}")
        self.stream = sys.stderr if stream is None else stream
        if mode == "auto":
            isatty = getattr(self.stream, "isatty", lambda: False)
            mode = "bar" if isatty() else "log"
        self.mode = mode
        self.total = total
        self.lang = lang   # None: English
        self.done = 0
        self._clock = clock
        self._started = clock()
        self._drawn_at = float("-inf")
        self._last = ""
        self._bar_visible = False
        self._closed = False

    def note(self, text: str) -> None:
        """A message that stays (start-up, warnings), in every mode except quiet."""
        if self.mode == "quiet":
            return
        self._clear_bar()
        print(text, file=self.stream, flush=True)
        self._draw(force=True)

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        line = (f"[{self.done}/{self.total}] {result.submission}: {result.total:g}/"
                f"{result.possible:g} {status_word(self.lang, result.status)} "
                f"({result.seconds:.1f}s)")
        if self.mode == "log":
            print(line, file=self.stream, flush=True)
        elif self.mode == "bar":
            self._last = f"{result.submission} {result.total:g}/{result.possible:g}"
            redraw = self.done == self.total
            if result.status != "ok":
                self._clear_bar()
                message = self._message(result)
                text = f"{line}  {message}" if message else line
                print(text[:_width() - 1], file=self.stream, flush=True)
                redraw = True  # the bar was just erased: put it back at once
            self._draw(force=redraw)

    def _message(self, result: SubmissionResult) -> str:
        if not self.lang or self.lang == "en":
            return result.message
        from .report import message_in
        return message_in(result, self.lang, result.assignment)

    def close(self) -> None:
        """Leave the final bar on screen; later notes print as plain lines."""
        if self.mode == "bar" and self._bar_visible:
            self._draw(force=True)
            print(file=self.stream, flush=True)
            self._bar_visible = False
        self._closed = True

    # -- the bar ---------------------------------------------------------------------------
    def _clear_bar(self) -> None:
        if self.mode == "bar" and self._bar_visible:
            self.stream.write("\r\033[K")
            self._bar_visible = False

    def _draw(self, force: bool = False) -> None:
        if self.mode != "bar" or self.total == 0 or self._closed:
            return
        now = self._clock()
        if not force and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        self.stream.write("\r\033[K" + self.render(now))
        self.stream.flush()
        self._bar_visible = True

    def render(self, now: float | None = None) -> str:
        """One bar line, cut to the terminal width: bar, count, rate, time left, last name."""
        now = self._clock() if now is None else now
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else None
        cells = 24
        filled = int(cells * self.done / self.total) if self.total else cells
        bar = "#" * filled + "-" * (cells - filled)
        eta = "--:--" if left is None else _clock_text(left)
        text = (f"[{bar}] {self.done}/{self.total} {100 * self.done / self.total:3.0f}% "
                f"{rate:5.1f}/s {cli_text(self.lang, 'eta')} {eta}  {self._last}")
        return text[:_width() - 1]


def _width() -> int:
    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}h{(seconds % 3600) // 60:02d}"
