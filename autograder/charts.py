"""The pages' charts written as SVG text: the class report's histogram, columns and horizontal
bars, and a feedback page's share of points per question.

Drawing them with a plotting library cost about half a second a batch (import and rendering),
a large share of grading a hundred submissions; these take a fraction of a millisecond. Words
come in already translated; every text is escaped, since ids and labels come from data. The
elements a reader would measure carry a class (bar, mean, value, tick) so tests can read them.
Text widths are estimated (no font metrics here): ASCII_WIDTH em per character is on the wide
side for sans-serif faces, so labels get a little more room than they need, never less.
"""

from __future__ import annotations

import base64
import html
import math

WIDTH = 750
FONT = 15
SMALL = 13
ASCII_WIDTH = 0.6
AXIS = "#424242"
GRID = "#e0e0e0"


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def ticks(upper: float, integer: bool = False, most: int = 6) -> list[float]:
    """Round tick values from 0 up to the first one at or above upper (a step of 1, 2 or 5
    times a power of ten; integer: no step below 1), at most about most + 1 of them."""
    upper = upper if upper > 0 and math.isfinite(upper) else 1.0
    raw = upper / most
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10)
                if m * power >= raw and not (integer and m == 2.5))
    if integer:
        step = max(1.0, round(step))
    count = math.ceil(upper / step - 1e-9)
    return [round(k * step, 10) for k in range(count + 1)]


def number(value: float) -> str:
    """A tick label: no trailing zeros (2, 2.5, 0.2)."""
    return f"{value:.6g}"


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * size * ASCII_WIDTH


def _text(x: float, y: float, text: str, size: float = FONT, anchor: str = "middle",
          css: str = "", extra: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return (f'<text{cls} x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"'
            f'{extra}>{html.escape(text)}</text>')


def _vertical_label(x: float, y: float, text: str) -> str:
    return _text(x, y, text, extra=f' transform="rotate(-90 {x:.1f} {y:.1f})"')


def _frame(width: float, height: float, body: list[str]) -> str:
    return "".join([f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
                    f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
                    f'font-family="sans-serif" fill="#212121">',
                    f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
                    *body, "</svg>"])


def _value_axis(values: list[float], left: float, top: float, right: float,
                bottom: float) -> list[str]:
    """Horizontal grid lines and labels of a vertical axis running from 0 (at bottom) to
    values[-1] (at top), with the axis line itself."""
    parts = []
    for v in values:
        y = bottom - (bottom - top) * v / values[-1]
        if v:
            parts.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" '
                         f'stroke="{GRID}"/>')
        parts += [f'<line x1="{left - 5:.1f}" y1="{y:.1f}" x2="{left:.1f}" y2="{y:.1f}" '
                  f'stroke="{AXIS}"/>',
                  _text(left - 8, y + SMALL * 0.35, number(v), SMALL, "end", "tick")]
    parts.append(f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" '
                 f'stroke="{AXIS}"/>')
    return parts


def histogram(values: list[float], upper: float, bins: int, color: str, xlabel: str,
              ylabel: str, mean: float | None = None, mean_label: str = "",
              mean_color: str = "#c62828") -> str:
    """Counts of values in bins equal-width bins over [0, upper] (values clipped into it; each
    bin holds its left edge, the last also its right one), with a dashed line at mean and its
    legend above the plot."""
    upper = upper if upper > 0 else 1.0
    bins = max(1, int(bins))
    edges = [upper * k / bins for k in range(bins + 1)]
    counts = [0] * bins
    for v in values:
        v = min(upper, max(0.0, float(v)))
        i = min(bins - 1, int(v / upper * bins))
        # The division can land one bin off at an edge; the edges decide.
        if v < edges[i]:
            i -= 1
        elif v >= edges[i + 1] and i < bins - 1:
            i += 1
        counts[i] += 1
    left, right, top, height = 72, WIDTH - 24, 44, 340
    bottom = height - 58
    scale = ticks(max(counts + [1]), integer=True)
    parts = _value_axis(scale, left, top, right, bottom)
    slot = (right - left) / bins
    for k, c in enumerate(counts):
        if c:
            h = (bottom - top) * c / scale[-1]
            parts.append(f'<rect class="bar" x="{left + k * slot:.2f}" y="{bottom - h:.2f}" '
                         f'width="{slot:.2f}" height="{h:.2f}" fill="{color}" stroke="white"/>')
    for v in ticks(upper, most=8):
        if v > upper + 1e-9:
            break
        x = left + (right - left) * v / upper
        parts += [f'<line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" y2="{bottom + 5:.1f}" '
                  f'stroke="{AXIS}"/>', _text(x, bottom + 20, number(v), SMALL, css="tick")]
    parts += [f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
              f'stroke="{AXIS}"/>',
              _text((left + right) / 2, height - 10, xlabel),
              _vertical_label(18, (top + bottom) / 2, ylabel)]
    if mean is not None:
        x = left + (right - left) * min(1.0, max(0.0, mean / upper))
        dash = f'stroke="{mean_color}" stroke-width="2" stroke-dasharray="7 4"'
        middle = (left + right) / 2
        legend = text_width(mean_label) + 40
        parts += [f'<line class="mean" x1="{x:.2f}" y1="{top - 6:.1f}" x2="{x:.2f}" '
                  f'y2="{bottom:.1f}" {dash}/>',
                  f'<line x1="{middle - legend / 2:.1f}" y1="20" '
                  f'x2="{middle - legend / 2 + 30:.1f}" y2="20" {dash}/>',
                  _text(middle - legend / 2 + 38, 20 + FONT * 0.35, mean_label, anchor="start",
                        css="legend")]
    return _frame(WIDTH, height, parts)


def columns(names: list[str], values: list[float], colors: list[str], ylabel: str,
            value_labels: list[str], scale: list[float], least_slots: int = 1) -> str:
    """One column per name (placed by position: two names may be the same word), heights on
    the axis given by scale (its last value at the top; taller values are cut there), each
    labelled above with its value_label. Names that would overlap are slanted."""
    n = len(names)
    slots = max(n, least_slots)
    left, right, top = 72, WIDTH - 24, 30
    slot = (right - left) / slots
    widest = max([text_width(s, SMALL) for s in names] + [0])
    slanted = widest > slot - 6
    drop = min(170.0, widest * 0.7 + 12) if slanted else 24
    bottom = 270
    height = bottom + drop + 12
    parts = _value_axis(scale, left, top, right, bottom)
    offset = left + (slots - n) * slot / 2
    for k, (name, v, color, label) in enumerate(zip(names, values, colors, value_labels)):
        middle = offset + (k + 0.5) * slot
        h = (bottom - top) * min(1.0, max(0.0, v / scale[-1]))
        w = min(80.0, slot * 0.7)
        parts += [f'<rect class="bar" x="{middle - w / 2:.2f}" y="{bottom - h:.2f}" '
                  f'width="{w:.2f}" height="{h:.2f}" fill="{color}"/>',
                  _text(middle, bottom - h - 5, label, SMALL, css="value")]
        if slanted:
            x, y = middle + 4, bottom + 14
            parts.append(_text(x, y, name, SMALL, "end", "tick",
                               f' transform="rotate(-35 {x:.1f} {y:.1f})"'))
        else:
            parts.append(_text(middle, bottom + 18, name, SMALL, css="tick"))
    parts += [f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
              f'stroke="{AXIS}"/>', _vertical_label(18, (top + bottom) / 2, ylabel)]
    return _frame(WIDTH, height, parts)


def bars(names: list[str], counts: list[int], color: str, xlabel: str) -> str:
    """Horizontal bars, the first name on top, counts on an integer axis below and at each
    bar's end. Names longer than a third of the width are shortened (…)."""
    row, top = 30, 14
    most = int(WIDTH / 3 / (SMALL * ASCII_WIDTH))
    shown = [s if len(s) <= most else s[:most - 1] + "…" for s in names]
    left = 16 + max([text_width(s, SMALL) for s in shown] + [40])
    right = WIDTH - 40
    bottom = top + row * len(names)
    height = bottom + 62
    scale = ticks(max(counts + [1]), integer=True)
    parts = []
    for v in scale:
        x = left + (right - left) * v / scale[-1]
        if v:
            parts.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
                         f'stroke="{GRID}"/>')
        parts += [f'<line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" y2="{bottom + 5:.1f}" '
                  f'stroke="{AXIS}"/>', _text(x, bottom + 20, number(v), SMALL, css="tick")]
    for k, (name, c) in enumerate(zip(shown, counts)):
        y = top + k * row
        w = (right - left) * c / scale[-1]
        middle = y + row / 2 + SMALL * 0.35
        parts += [_text(left - 8, middle, name, SMALL, "end", "name"),
                  f'<rect class="bar" x="{left:.1f}" y="{y + 5:.1f}" width="{w:.2f}" '
                  f'height="{row - 10}" fill="{color}"/>',
                  _text(left + w + 5, middle, str(c), SMALL, "start", "value")]
    parts += [f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" '
              f'stroke="{AXIS}"/>',
              f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
              f'stroke="{AXIS}"/>',
              _text(min(WIDTH - 10 - text_width(xlabel) / 2,
                        max(10 + text_width(xlabel) / 2, (left + right) / 2)),
                    height - 12, xlabel)]
    return _frame(WIDTH, height, parts)


def shares(rows: list[tuple[str, float, str, str]]) -> str:
    """One row per (label, fraction 0..1, colour, value text): the label, a grey track and
    its filled share, the value beside it (a feedback page's points per question)."""
    row, label, track, gap = 30, 70, 440, 12
    width, height = label + track + 110, row * len(rows) + 2 * gap
    body = []
    for i, (name, fraction, colour, value) in enumerate(rows):
        y = gap + i * row
        middle = y + row / 2
        filled = track * min(1.0, max(0.0, fraction))
        body += [_text(label - 8, middle, name, 14, "end", extra=' dominant-baseline="middle"'),
                 f'<rect x="{label}" y="{y + 5}" width="{track}" height="{row - 10}" '
                 f'fill="#eeeeee"/>',
                 f'<rect x="{label}" y="{y + 5}" width="{filled:.1f}" height="{row - 10}" '
                 f'fill="{colour}"/>',
                 _text(label + track + 8, middle, value, 14, "start",
                       extra=' dominant-baseline="middle"')]
    return _frame(width, height, body)
