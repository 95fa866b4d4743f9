"""A scores-over-time line chart drawn on the server as inline SVG (no JavaScript)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import GradeEvent

WIDTH, HEIGHT, PAD = 600, 220, 36


def scores_chart(events: list[GradeEvent]) -> SafeString:
    if not events:
        return mark_safe('<p class="meta">Your chart appears after your first graded submission.</p>')
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    start = events[0].graded_at.timestamp()
    span = max(events[-1].graded_at.timestamp() - start, 1.0)
    points = []
    for n, event in enumerate(events):
        if len(events) == 1:
            x = PAD + plot_w / 2
        else:
            x = PAD + plot_w * (event.graded_at.timestamp() - start) / span
        y = PAD + plot_h * (1 - min(max(event.percent, 0), 100) / 100)
        points.append((x, y, event, n))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Scores over time, {len(events)} graded submissions" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#99a" />',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#99a" />',
    ]
    for pct in (0, 50, 100):
        y = PAD + plot_h * (1 - pct / 100)
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="11" fill="#556">{pct}%</text>')
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" '
                     'stroke="#e3e7ef" />')
    parts.append(
        '<polyline fill="none" stroke="#2456c5" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points) + '" />'
    )
    for x, y, event, _ in points:
        label = escape(f"{event.course_id}/{event.assignment_id}: {event.score:g}/"
                       f"{event.max_score:g} on {event.graded_at:%Y-%m-%d}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2456c5">'
                     f"<title>{label}</title></circle>")
    first, last = events[0].graded_at, events[-1].graded_at
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="11" fill="#556">'
                 f"{first:%Y-%m-%d}</text>")
    parts.append(f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="11" fill="#556" '
                 f'text-anchor="end">{last:%Y-%m-%d}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
