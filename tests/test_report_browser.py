"""The class report as a person sees it: rendered by headless Debian Chromium."""

import os
import shutil
import subprocess

import pytest
from PIL import Image

from neurograde.batch import BatchOptions, grade_batch
from classroom import write_class
from conftest import notebook_with
from test_report import Page

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--hide-scrollbars", "--virtual-time-budget=5000"]

# Added to a copy of the page only: after load, record on each image whether it decoded.
PROBE = """<script>
window.addEventListener("load", function () {
  for (const img of document.images) {
    img.setAttribute("data-natural-width", String(img.naturalWidth));
    img.setAttribute("data-complete", String(img.complete));
  }
  document.body.setAttribute("data-probed", "yes");
});
</script>
</body>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is needed to check the class report: apt-get install -y "
                "chromium (scripts/bootstrap.sh does this)")


def _run(tmp_path, *args) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}", *map(str, args)],
                          capture_output=True, text=True, timeout=180, env=env)


@pytest.fixture(scope="module")
def report(tmp_path_factory, perceptron):
    base = tmp_path_factory.mktemp("browser")
    write_class(perceptron, base / "subs", 10)
    notebook_with(["while True:\n    pass"], base / "subs" / "spinner.ipynb")
    out = base / "out"
    summary = grade_batch(perceptron, [base / "subs"], out,
                          BatchOptions(jobs=2, timeout=3, quiet=True))
    return out, len(summary.results)


def test_chromium_shows_the_plots_and_the_table(report, tmp_path):
    """Rendered in Chromium, does every plot decode to a real image and does the submissions
    table show one row per submission, with the status counts?"""
    out, count = report
    probe = out / "probe.html"
    probe.write_text((out / "report.html").read_text().replace("</body>", PROBE, 1))
    proc = _run(tmp_path, "--dump-dom", probe.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Page(proc.stdout)
    assert 'data-probed="yes"' in proc.stdout, "the page never finished loading"
    assert len(dom.images) >= 3
    for img in dom.images:
        assert img["data-complete"] == "true"
        assert int(img["data-natural-width"]) > 200, img.get("alt")
    assert len(dom.tables["submissions"]) == count + 1
    statuses = {row[0]: row[1] for row in dom.tables["statuses"][1:]}
    assert statuses.get("timeout") == "1"


def test_chromium_draws_the_feedback_chart(report, tmp_path):
    """Does a feedback page's points-per-question chart (an SVG image) decode in Chromium at
    its full width, on a page with some points but not all?"""
    out, _ = report
    pages = [p for p in sorted((out / "feedback").glob("*.html"))
             if "data:image/svg+xml;base64," in p.read_text()]
    assert pages, "no feedback page has a chart"
    probe = out / "feedback" / "probe.html"
    probe.write_text(pages[0].read_text().replace("</body>", PROBE, 1))
    proc = _run(tmp_path, "--dump-dom", probe.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Page(proc.stdout)
    charts = [img for img in dom.images if img["src"].startswith("data:image/svg+xml")]
    assert len(charts) == 1
    assert charts[0]["data-complete"] == "true"
    assert int(charts[0]["data-natural-width"]) > 500


def test_chromium_screenshot_is_not_blank(report, tmp_path):
    """Does a screenshot of the report show the plots' colours (the histogram's blue bars and
    the coloured difficulty bars), i.e. more than an empty page?"""
    out, _ = report
    shot = out / "report.png"
    proc = _run(tmp_path, "--window-size=1280,1800", f"--screenshot={shot}",
                (out / "report.html").as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1800)
    colours = image.getcolors(maxcolors=1 << 20)
    blue = sum(n for n, (r, g, b) in colours if b > 150 and r < 60 and 80 < g < 130)
    dark = sum(n for n, (r, g, b) in colours if r + g + b < 200)
    assert blue > 2000, "no histogram bars visible"
    assert dark > 2000, "no text visible"
