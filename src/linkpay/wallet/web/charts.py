"""Small server-rendered SVG charts (no JavaScript): vertical bars over days and
horizontal bars for categories. Labels are escaped; every chart has a <title> and a
text summary for screen readers."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from linkpay.wallet.policy.words import money

INK = "#1d4f91"
MUTED = "#5b6573"
TRACK = "#e3e8ef"


def day_bars(points: list[tuple[str, int]], *, title: str) -> Markup:
    """One bar per day; the tallest bar fills the height."""
    width, height, pad = 600, 160, 24
    top = max([amount for _day, amount in points] + [1])
    slot = (width - 2 * pad) / max(1, len(points))
    bars = []
    for index, (day, amount) in enumerate(points):
        bar = (height - 2 * pad) * amount / top
        x = pad + index * slot + slot * 0.15
        y = height - pad - bar
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar:.1f}" '
            f'fill="{INK}"><title>{escape(day)}: {escape(money(amount))}</title></rect>'
        )
    first, last = (points[0][0], points[-1][0]) if points else ("", "")
    svg = (
        f'<svg viewBox="0 0 {width} {height}" role="img" class="chart" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="{MUTED}"/>{"".join(bars)}'
        f'<text x="{pad}" y="{height - 6}" font-size="12" fill="{MUTED}">{escape(first)}</text>'
        f'<text x="{width - pad}" y="{height - 6}" font-size="12" fill="{MUTED}" '
        f'text-anchor="end">{escape(last)}</text>'
        f'<text x="{pad}" y="16" font-size="12" fill="{MUTED}">max {escape(money(top))}</text>'
        "</svg>"
    )
    return Markup(svg)  # noqa: S704 - every interpolated text is escaped above


def category_bars(
    rows: list[tuple[str, int, int | None]], *, title: str, unit: str = "money"
) -> Markup:
    """Horizontal bars: (label, value, of) — `of` draws a track (a budget's size)."""
    width, row_h, label_w = 600, 30, 200
    top = max([max(value, of or 0) for _label, value, of in rows] + [1])
    parts = []
    for index, (label, value, of) in enumerate(rows):
        y = index * row_h + 6
        span = width - label_w - 90
        shown = money(value) if unit == "money" else str(value)
        if of is not None:
            shown += f" of {money(of)}" if unit == "money" else f" of {of}"
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{span * of / top:.1f}" height="18" '
                f'fill="{TRACK}"/>'
            )
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="13" fill="#1b1f24">{escape(label[:28])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{span * value / top:.1f}" height="18" '
            f'fill="{INK}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{width - 4}" y="{y + 14}" font-size="12" fill="{MUTED}" '
            f'text-anchor="end">{escape(shown)}</text>'
        )
    height = max(1, len(rows)) * row_h + 6
    svg = (
        f'<svg viewBox="0 0 {width} {height}" role="img" class="chart" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )
    return Markup(svg)  # noqa: S704 - every interpolated text is escaped above
