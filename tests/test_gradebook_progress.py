"""Progress: a bar on a terminal, plain lines in CI logs."""

import io

from autograder.judge import SubmissionResult
from autograder.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _result(name, status="ok", total=10.0, message=""):
    return SubmissionResult(name, "perceptron", "1", "0" * 64, status, message, total, 10.0,
                            (), (), seconds=0.2)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_terminal_gets_a_redrawn_bar_with_count_rate_and_eta():
    """On a tty, is progress one line redrawn with \\r (count, percent, rate, time left), with
    failed runs printed on their own lines above it?"""
    stream, clock = FakeTerminal(), Clock()
    progress = Progress(4, stream=stream, clock=clock)
    assert progress.mode == "bar"
    for i, status in enumerate(["ok", "timeout", "ok", "ok"], start=1):
        clock.now = float(i)
        progress.update(_result(f"s{i}", status=status, message="stopped after 5 s"))
    progress.close()
    text = stream.getvalue()
    assert "\r\033[K[" in text
    assert "4/4 100%" in text and "1.0/s" in text and "eta 00:00" in text
    assert "[2/4] s2: 10/10 timeout (0.2s)  stopped after 5 s\n" in text
    assert "[1/4] s1" not in text, "normal results only move the bar on a terminal"
    assert text.endswith("\n")


def test_ci_log_gets_one_plain_line_per_submission():
    """Without a tty (CI), is every submission one plain line, with no carriage returns?"""
    stream = io.StringIO()
    progress = Progress(2, stream=stream)
    assert progress.mode == "log"
    progress.note("grading 2 submission(s)")
    progress.update(_result("alice"))
    progress.update(_result("bob", status="crashed", total=0))
    progress.close()
    assert stream.getvalue() == ("grading 2 submission(s)\n"
                                 "[1/2] alice: 10/10 ok (0.2s)\n"
                                 "[2/2] bob: 0/10 crashed (0.2s)\n")
    assert "\r" not in stream.getvalue()


def test_bar_redraws_are_throttled_and_notes_after_close_stay_plain():
    """Are bar redraws limited to about ten a second, and is a note after close a plain line
    (no bar drawn again under the summary)?"""
    stream, clock = FakeTerminal(), Clock()
    progress = Progress(100, stream=stream, clock=clock)
    for i in range(50):
        clock.now = i * 0.001
        progress.update(_result(f"s{i}"))
    assert stream.getvalue().count("\r") <= 2
    progress.close()
    before = stream.getvalue()
    progress.note("feedback pages: out/feedback")
    assert stream.getvalue() == before + "feedback pages: out/feedback\n"


def test_quiet_prints_nothing():
    """Does quiet mode print nothing at all?"""
    stream = FakeTerminal()
    progress = Progress(1, stream=stream, mode="quiet")
    progress.note("x")
    progress.update(_result("a"))
    progress.close()
    assert stream.getvalue() == ""
