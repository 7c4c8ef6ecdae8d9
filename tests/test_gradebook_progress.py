"""Progress: a bar on a terminal, plain lines in CI logs, a clock that moves while a slow
submission runs (timer redraws, heartbeat lines) and a timer thread that always stops."""

import io
import subprocess
import sys
import textwrap
import threading
import time
from types import SimpleNamespace

import pytest

from neurograde import batch, progress as progress_module
from neurograde.batch import BatchOptions, grade_batch
from neurograde.grader import ungraded
from neurograde.i18n import cli_text
from neurograde.judge import SubmissionResult
from neurograde.progress import Progress

from conftest import notebook_with

WAIT = 20.0   # generous bound for another thread to act: only a broken timer takes this long


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


def test_ci_log_gets_one_plain_line_per_submission_with_elapsed_and_eta():
    """Without a tty (CI), is every submission one plain line, with no carriage returns, that
    says the time since grading started and the time left at the rate so far?"""
    stream, clock = io.StringIO(), Clock()
    progress = Progress(3, stream=stream, clock=clock)
    assert progress.mode == "log"
    progress.note("grading 3 submission(s)")
    clock.now = 10.0
    progress.update(_result("alice"))
    clock.now = 70.0
    progress.update(_result("bob", status="crashed", total=0))
    clock.now = 75.0
    progress.update(_result("carol"))
    progress.close()
    assert stream.getvalue() == (
        "grading 3 submission(s)\n"
        "[1/3] alice: 10/10 ok (0.2s)  elapsed 00:10, eta 00:20\n"
        "[2/3] bob: 0/10 crashed (0.2s)  elapsed 01:10, eta 00:35\n"
        "[3/3] carol: 10/10 ok (0.2s)  elapsed 01:15, eta 00:00\n")
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


# -- the clock keeps moving while nothing finishes --------------------------------------------

def _progress_threads():
    return [t for t in threading.enumerate() if t.name == progress_module.THREAD_NAME]


def _wait_for(predicate, what):
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


@pytest.fixture
def fast_timer(monkeypatch):
    """Timer ticks every 10 ms (the heartbeat interval stays the real 30 s of the fake clock)."""
    monkeypatch.setattr(progress_module, "TICK_SECONDS", 0.01)


def test_terminal_bar_redraws_on_the_timer_while_nothing_finishes(fast_timer):
    """On a tty, does the bar's elapsed time move on its own (the timer thread redraws it)
    although no submission finishes, with the time left unknown before the first one?"""
    stream, clock = FakeTerminal(), Clock()
    with Progress(3, stream=stream, clock=clock) as progress:
        assert progress.mode == "bar"
        clock.now = 65.0
        _wait_for(lambda: "elapsed 01:05, eta --:--" in stream.getvalue(), "a redraw at 01:05")
        clock.now = 125.0
        _wait_for(lambda: "elapsed 02:05, eta --:--" in stream.getvalue(), "a redraw at 02:05")
        clock.now = 130.0
        progress.update(_result("s1"))
        clock.now = 190.0
        _wait_for(lambda: "elapsed 03:10, eta 06:20" in stream.getvalue(),
                  "a redraw: one of three done in 190 s leaves 380 s")
    text = stream.getvalue()
    assert "\n" not in text[:-1], "timer redraws rewrite the one bar line, they add no lines"
    assert text.endswith("\n")


def test_log_heartbeat_after_thirty_silent_seconds_with_the_slowest_running():
    """In a log, is a "still grading" line printed once nothing was printed for
    HEARTBEAT_SECONDS (30 s), not before, with count, elapsed, time left and the submission
    that has been running longest; and does any printed line restart the silence?"""
    assert progress_module.HEARTBEAT_SECONDS <= 30
    stream, clock = io.StringIO(), Clock()
    progress = Progress(4, stream=stream, clock=clock)
    progress.started("quick")
    clock.now = 2.0
    progress.started("slowpoke")
    progress.update(_result("quick"))     # printed at 2 s: silence starts again here
    clock.now = 31.0
    progress.tick()
    assert "still grading" not in stream.getvalue(), "29 s of silence is not 30"
    clock.now = 32.0
    progress.tick()
    lines = stream.getvalue().splitlines()
    assert lines[-1] == ("still grading: 1 of 4 done, elapsed 00:32, eta 01:36; "
                         "slowest still running: slowpoke, 00:30 so far")
    clock.now = 61.0
    progress.tick()
    assert stream.getvalue().count("still grading") == 1, "the heartbeat restarts the silence"
    clock.now = 62.0
    progress.tick()
    assert stream.getvalue().count("still grading") == 2
    progress.update(_result("slowpoke"))
    clock.now = 95.0
    progress.tick()
    assert stream.getvalue().splitlines()[-1] == (
        "still grading: 2 of 4 done, elapsed 01:35, eta 01:35"), "nothing known to be running"
    progress.close()


def test_log_heartbeat_comes_from_the_timer_within_the_interval(fast_timer):
    """Does the timer thread itself print the heartbeat once 30 s pass without a line, while
    the grading loop is blocked on a slow submission?"""
    stream, clock = io.StringIO(), Clock()
    with Progress(2, stream=stream, clock=clock):
        clock.now = progress_module.HEARTBEAT_SECONDS
        _wait_for(lambda: "still grading: 0 of 2 done, elapsed 00:30, eta --:--"
                  in stream.getvalue(), "a heartbeat")
    assert "\r" not in stream.getvalue()


def test_heartbeat_and_timings_are_translated():
    """Are the elapsed/eta words and the heartbeat in the batch's language (es, pt), and does
    every language have the three texts?"""
    for lang, words in {"es": ("todavía corrigiendo", "transcurrido", "faltan", "la más lenta"),
                        "pt": ("ainda corrigindo", "decorrido", "faltam", "a mais lenta")}.items():
        stream, clock = io.StringIO(), Clock()
        progress = Progress(2, stream=stream, clock=clock, lang=lang)
        progress.started("ana")
        clock.now = 40.0
        progress.tick()
        progress.update(_result("ana"))
        progress.close()
        text = stream.getvalue()
        assert all(word in text for word in words), (lang, text)
        assert "elapsed" not in text and "still grading" not in text, (lang, text)
    for lang in ("en", "es", "pt"):
        for key in ("timing", "heartbeat", "slowest"):
            assert cli_text(lang, key, elapsed="e", eta="t", done=1, total=2, slowest="",
                            name="n", seconds="s")


def test_quiet_starts_no_timer_and_prints_nothing(fast_timer):
    """Does quiet mode start no thread and print nothing, whatever the clock says?"""
    stream, clock = FakeTerminal(), Clock()
    with Progress(2, stream=stream, clock=clock, mode="quiet") as progress:
        assert not _progress_threads()
        clock.now = 1000.0
        progress.started("a")
        progress.tick()
        time.sleep(0.05)
    assert stream.getvalue() == ""


@pytest.mark.parametrize("mode", ["bar", "log"])
def test_timer_thread_is_a_daemon_and_gone_after_close(fast_timer, mode):
    """Is the timer a daemon thread, and has it ended once close() returns?"""
    progress = Progress(2, stream=FakeTerminal(), mode=mode)
    progress.start()
    threads = _progress_threads()
    assert len(threads) == 1 and threads[0].daemon
    progress.close()
    assert not threads[0].is_alive() and not _progress_threads()
    progress.close()  # a second close is harmless


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_timer_thread_stops_when_grading_fails(fast_timer, error):
    """Does the timer stop when the grading loop raises (an error or Ctrl-C) inside
    `with Progress(...)` or the batch's try/finally?"""
    with pytest.raises(error):
        with Progress(2, stream=FakeTerminal()):
            assert _progress_threads()
            raise error("grading failed")
    assert not _progress_threads()
    progress = Progress(2, stream=io.StringIO())
    with pytest.raises(error):
        try:
            progress.start()
            raise error("grading failed")
        finally:
            progress.close()
    assert not _progress_threads()


def test_a_timer_left_running_does_not_keep_the_process_alive():
    """If a caller forgets close(), does the process still exit (daemon thread)?"""
    code = textwrap.dedent("""
        import sys
        from neurograde import progress
        progress.TICK_SECONDS = 0.01
        p = progress.Progress(5, stream=sys.stdout, mode="log")
        p.start()
        print("started", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "started\n"


def test_a_broken_stream_stops_the_timer_quietly(fast_timer):
    """If the stream breaks (a closed pipe), does the timer stop without a traceback while
    grading goes on?"""
    stream = FakeTerminal()
    progress = Progress(2, stream=stream)
    progress.start()
    thread = _progress_threads()[0]
    stream.close()
    thread.join(WAIT)
    assert not thread.is_alive()


# -- the batch drives it -----------------------------------------------------------------------

def test_batch_heartbeat_names_the_slow_submission_and_the_timer_stops(
        perceptron, tmp_path, monkeypatch):
    """Grading a batch with one slow submission in a log: do finished lines carry elapsed and
    time left, does the heartbeat come while the slow one runs and name it (the batch reports
    each start), and is the timer gone afterwards, also when grading is interrupted?"""
    monkeypatch.setattr(progress_module, "TICK_SECONDS", 0.01)
    monkeypatch.setattr(progress_module, "HEARTBEAT_SECONDS", 0.05)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    for stem in ("fast", "slow"):
        notebook_with(["x = 1"], tmp_path / "subs" / f"{stem}.ipynb")

    def fake_grader(plan, timeout, lang, unsafe, interrupt=False):
        def grade(sub):
            if interrupt:
                raise KeyboardInterrupt
            if sub.stem.startswith("slow"):   # the stem keeps the file's suffix
                _wait_for(lambda: "slowest still running: slow" in stream.getvalue(),
                          "a heartbeat naming the slow submission")
            return ungraded(sub, plan.assignment, "ok", "")
        return SimpleNamespace(grade=grade, box=SimpleNamespace(describe=lambda: "fake box"))

    monkeypatch.setattr(batch, "make_grader", fake_grader)
    options = BatchOptions(jobs=2, progress="log", self_check=False, reports=False)
    summary = grade_batch(perceptron, [tmp_path / "subs"], tmp_path / "out", options)
    assert summary.graded == 2
    text = stream.getvalue()
    assert "still grading: " in text
    assert "[1/2] fast" in text and "[2/2] slow" in text
    finished = [line for line in text.splitlines() if line.startswith("[")]
    assert all(", eta " in line and "  elapsed " in line for line in finished), finished
    assert not _progress_threads()

    monkeypatch.setattr(batch, "make_grader", lambda *a: fake_grader(*a, interrupt=True))
    with pytest.raises(KeyboardInterrupt):
        grade_batch(perceptron, [tmp_path / "subs"], tmp_path / "out2", options)
    assert not _progress_threads()
