"""Inline SVG charts for the dashboard: pure functions from numbers to markup, so the page needs
no script library and no asset from outside the app.

x values are Unix seconds; the x axis is labelled in minutes before `x_end` ("-60m" ... "now").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 22
PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#be123c")


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float | None]]  # (x, y); y None leaves a gap
    color: str = PALETTE[0]


@dataclass(frozen=True)
class Bar:
    x: float
    stack: tuple[float, ...]  # stacked values, bottom first


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2 or 5 times 10^k that is >= value (and at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


class _Frame:
    """Maps data to pixels and draws the axes."""

    def __init__(self, x_start: float, x_end: float, y_max: float) -> None:
        self.x_start, self.x_end = x_start, max(x_end, x_start + 1)
        self.y_max = nice_ceiling(y_max)

    def x(self, value: float) -> float:
        span = self.x_end - self.x_start
        return round(LEFT + (value - self.x_start) / span * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        return round(HEIGHT - BOTTOM - value / self.y_max * (HEIGHT - TOP - BOTTOM), 1)

    def axes(self) -> list[str]:
        parts = []
        for fraction in (0, 0.5, 1):
            value = self.y_max * fraction
            y = self.y(value)
            parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
            parts.append(
                f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{_fmt(value)}</text>'
            )
        minutes = round((self.x_end - self.x_start) / 60)
        for step in range(5):
            before = minutes - minutes * step // 4
            x = self.x(self.x_end - before * 60)
            label = "now" if before == 0 else f"-{before}m"
            parts.append(f'<text class="tick" x="{x}" y="{HEIGHT - 6}" text-anchor="middle">{label}</text>')
        return parts


def _svg(title: str, body: list[str], legend: list[tuple[str, str]]) -> str:
    keys = "".join(
        f'<span class="key"><i style="background:{color}"></i>{escape(name)}</span>' for name, color in legend
    )
    return (
        f'<figure class="chart"><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
        f"<figcaption>{keys}</figcaption></figure>"
    )


def line_chart(title: str, series: list[Series], x_start: float, x_end: float) -> str:
    values = [y for s in series for _, y in s.points if y is not None]
    frame = _Frame(x_start, x_end, max(values, default=0))
    body = frame.axes()
    for s in series:
        runs: list[list[str]] = [[]]
        for x, y in s.points:
            if y is None:
                runs.append([])
            else:
                runs[-1].append(f"{frame.x(x)},{frame.y(y)}")
        for run in runs:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                body.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{s.color}"/>')
            elif run:
                body.append(
                    f'<polyline fill="none" stroke="{s.color}" stroke-width="2" points="{" ".join(run)}"/>'
                )
    return _svg(title, body, [(s.name, s.color) for s in series])


def bar_chart(
    title: str, bars: list[Bar], names: tuple[str, ...], x_start: float, x_end: float, step: float
) -> str:
    """Stacked bars, each `step` seconds wide starting at its x."""
    colors = (PALETTE[1], "#dc2626", *PALETTE[2:])
    frame = _Frame(x_start, x_end, max((sum(b.stack) for b in bars), default=0))
    body = frame.axes()
    for bar in bars:
        left, right = frame.x(bar.x), frame.x(bar.x + step)
        width = max(1.0, round(right - left - 1, 1))
        base = 0.0
        for index, value in enumerate(bar.stack):
            if value > 0:
                top, bottom = frame.y(base + value), frame.y(base)
                body.append(
                    f'<rect x="{left}" y="{top}" width="{width}" height="{round(bottom - top, 1)}" '
                    f'fill="{colors[index % len(colors)]}"/>'
                )
            base += value
    return _svg(title, body, [(name, colors[i % len(colors)]) for i, name in enumerate(names)])
