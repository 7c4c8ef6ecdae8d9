"""Batch progress on stderr: a redrawn bar on a terminal, one plain line per submission in CI.

A bar that rewrites itself with carriage returns turns a CI log into one unreadable line, and
a line per submission floods a terminal; so the mode follows ``stream.isatty()`` unless the
caller forces one. On a terminal, submissions that did not finish normally (timeout, crash,
out of memory, grader error) still get a permanent line above the bar, so they are not lost
when the bar moves on.

One slow submission must not look like a hung grader, so between ``start()`` and ``close()`` a
daemon timer thread keeps the clock moving: on a terminal it redraws the bar every
``TICK_SECONDS`` (elapsed time, time left); in a log it prints a heartbeat line ("still
grading: 3 of 40 done, ...", and the slowest submission still running if the caller reports
starts with ``started``) whenever nothing was printed for ``HEARTBEAT_SECONDS``. Every write, from the timer or
from the grading loop, happens under one lock, so a line is never cut by a redraw.

The bar is hand-written rather than ``rich`` or ``tqdm``: neither prints heartbeat lines for a
CI log nor takes its words from our en/es/pt templates, so a dependency would still leave both
of those to this module.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO

from .i18n import cli_text, status_word
from .judge import SubmissionResult

MODES = ("auto", "bar", "log", "quiet")
REDRAW_SECONDS = 0.1      # a bar redrawn faster than the eye reads only costs terminal time
TICK_SECONDS = 0.5        # timer redraw of the bar: elapsed time moves while nothing finishes
HEARTBEAT_SECONDS = 30.0  # longest silence in a log while grading goes on
THREAD_NAME = "neurograde-progress"


class Progress:
    """Progress of one batch of `total` submissions.

    ``start()`` starts the clock (elapsed time and the rate behind the time left count from
    there, so a self-check before it does not skew them) and the timer thread; ``close()``
    stops the thread and must follow in a ``finally`` (or use ``with Progress(...)``).
    ``started(name)`` tells which submissions are running, for the heartbeat; callable from
    any thread.
    """

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
        self._printed_at = self._started   # last line in log mode: when the heartbeat is due
        self._drawn_at = float("-inf")
        self._last = ""
        self._running: dict[str, float] = {}
        self._bar_visible = False
        self._closed = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> "Progress":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Grading begins now: reset the clock, start the timer (not in quiet mode)."""
        with self._lock:
            if self._ticker is not None or self._closed:
                return
            self._started = self._printed_at = self._clock()
            if self.mode == "quiet" or self.total == 0:
                return
            self._ticker = threading.Thread(target=self._tick_until_stopped, name=THREAD_NAME,
                                            daemon=True)  # never keeps the process alive
            self._ticker.start()

    def started(self, name: str) -> None:
        """Submission `name` began running (from any thread)."""
        with self._lock:
            self._running[name] = self._clock()

    def note(self, text: str) -> None:
        """A message that stays (start-up, warnings), in every mode except quiet."""
        if self.mode == "quiet":
            return
        with self._lock:
            self._clear_bar()
            print(text, file=self.stream, flush=True)
            self._printed_at = self._clock()
            self._draw(force=True)

    def update(self, result: SubmissionResult) -> None:
        with self._lock:
            self._update(result)

    def _update(self, result: SubmissionResult) -> None:
        self.done += 1
        self._running.pop(result.submission, None)
        line = (f"[{self.done}/{self.total}] {result.submission}: {result.total:g}/"
                f"{result.possible:g} {status_word(self.lang, result.status)} "
                f"({result.seconds:.1f}s)")
        if self.mode == "log":
            now = self._clock()
            print(f"{line}  {self._timing(now)}", file=self.stream, flush=True)
            self._printed_at = now
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

    def tick(self) -> None:
        """What the timer does every TICK_SECONDS: redraw the bar, or print the heartbeat if
        the log has been silent for HEARTBEAT_SECONDS."""
        with self._lock:
            if self._closed:
                return
            if self.mode == "bar":
                self._draw(force=True)
            elif self.mode == "log":
                now = self._clock()
                if now - self._printed_at >= HEARTBEAT_SECONDS:
                    print(self.heartbeat(now), file=self.stream, flush=True)
                    self._printed_at = now

    def heartbeat(self, now: float | None = None) -> str:
        """The log's "still grading" line: count, elapsed, time left, slowest running one."""
        now = self._clock() if now is None else now
        slowest = ""
        if self._running:
            name, since = min(self._running.items(), key=lambda item: item[1])
            slowest = cli_text(self.lang, "slowest", name=name,
                               seconds=_clock_text(max(0.0, now - since)))
        elapsed, eta = self._times(now)
        return cli_text(self.lang, "heartbeat", done=self.done, total=self.total,
                        elapsed=elapsed, eta=eta, slowest=slowest)

    def close(self) -> None:
        """Stop the timer; leave the final bar on screen; later notes print as plain lines."""
        self._stop.set()
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=max(5.0, 2 * TICK_SECONDS))  # it holds the lock only to write
        with self._lock:
            if self.mode == "bar" and self._bar_visible:
                self._draw(force=True)
                print(file=self.stream, flush=True)
                self._bar_visible = False
            self._closed = True

    def _tick_until_stopped(self) -> None:
        interval = TICK_SECONDS if self.mode == "bar" else min(TICK_SECONDS, HEARTBEAT_SECONDS)
        while not self._stop.wait(interval):
            try:
                self.tick()
            except (OSError, ValueError):
                return  # the stream is gone (closed pipe or file): grading goes on unseen

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
        """One bar line, cut to the terminal width: bar, count, rate, elapsed and time left,
        last name."""
        now = self._clock() if now is None else now
        rate = self.done / max(now - self._started, 1e-9)
        cells = 24
        filled = int(cells * self.done / self.total) if self.total else cells
        bar = "#" * filled + "-" * (cells - filled)
        text = (f"[{bar}] {self.done}/{self.total} {100 * self.done / self.total:3.0f}% "
                f"{rate:5.1f}/s {self._timing(now)}  {self._last}")
        return text[:_width() - 1]

    def _times(self, now: float) -> tuple[str, str]:
        """Elapsed time and time left at the batch's rate so far ("--:--" before the first)."""
        elapsed = max(now - self._started, 0.0)
        left = None
        if self.done and elapsed > 0:
            left = (self.total - self.done) * elapsed / self.done
        return _clock_text(elapsed), "--:--" if left is None else _clock_text(left)

    def _timing(self, now: float) -> str:
        elapsed, eta = self._times(now)
        return cli_text(self.lang, "timing", elapsed=elapsed, eta=eta)


def _width() -> int:
    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}h{(seconds % 3600) // 60:02d}"
