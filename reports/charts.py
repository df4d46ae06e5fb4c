"""Charts as SVG drawn on the server (no chart library, no CDN): the page puts the markup in place as it
is. Colours are classes (``c-done`` …) the page's stylesheet fills from Bitrix24's design tokens, so no
colour is chosen here. Every text from the portal (names, regions) is XML-escaped."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

NS = 'xmlns="http://www.w3.org/2000/svg"'
ROW, LABEL_W, W = 24, 170, 720


def _t(text) -> str:
    return escape(str(text if text is not None else ""), {'"': "&quot;"})


def _num(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and v != int(v):
        return f"{v:.1f}"
    return f"{int(v):,}".replace(",", "\u202f")


def _svg(name: str, height: int, body: str, title: str) -> str:
    return (f'<svg {NS} class="chart" data-chart="{_t(name)}" viewBox="0 0 {W} {height}" width="100%" '
            f'role="img" aria-label="{_t(title)}" preserveAspectRatio="xMinYMin meet">{body}</svg>')


def _legend(y: int, keys, words, x: int = LABEL_W) -> str:
    out = []
    for k in keys:
        out.append(f'<rect class="c-{_t(k)}" x="{x}" y="{y}" width="10" height="10" rx="2"/>'
                   f'<text class="legend" x="{x + 14}" y="{y + 9}">{_t(words.get(k, k))}</text>')
        x += 24 + 8 * len(str(words.get(k, k)))
    return "".join(out)


def stacked(name: str, title: str, rows: list[dict], keys, label, words) -> str:
    """One horizontal bar per row, one segment per key, scaled to the largest row; the total at its end."""
    top = 20
    height = top + ROW * max(len(rows), 1) + 6
    scale_w = W - LABEL_W - 60
    peak = max([sum(r.get(k) or 0 for k in keys) for r in rows] + [1])
    out = [_legend(2, keys, words)]
    for i, r in enumerate(rows):
        y = top + i * ROW
        out.append(f'<text class="label" x="0" y="{y + 15}">{_t(label(r))[:40]}</text>')
        x = LABEL_W
        for k in keys:
            w = scale_w * (r.get(k) or 0) / peak
            if w > 0:
                out.append(f'<rect class="bar c-{_t(k)}" data-key="{_t(k)}" data-value="{r.get(k) or 0}" x="{x:.1f}" '
                           f'y="{y + 3}" width="{w:.1f}" height="{ROW - 8}"><title>{_t(words.get(k, k))}: '
                           f'{_num(r.get(k))}</title></rect>')
                x += w
        out.append(f'<text class="value" x="{x + 6:.1f}" y="{y + 15}">{_num(sum(r.get(k) or 0 for k in keys))}</text>')
    return _svg(name, height, "".join(out), title)


def paired(name: str, title: str, rows: list[dict], keys, label, words, own_scale: bool = False) -> str:
    """Two thin bars per row (plan and fact, on site and travel), each with its number. ``own_scale``:
    each key against its own largest value (money next to a count of visits)."""
    top, row = 20, ROW + 8
    height = top + row * max(len(rows), 1) + 6
    scale_w = W - LABEL_W - 70
    peaks = {k: max([r.get(k) or 0 for r in rows] + [1]) for k in keys}
    common = max(peaks.values())
    out = [_legend(2, keys, words)]
    for i, r in enumerate(rows):
        y = top + i * row
        out.append(f'<text class="label" x="0" y="{y + 17}">{_t(label(r))[:40]}</text>')
        for j, k in enumerate(keys):
            v = r.get(k) or 0
            w = scale_w * v / (peaks[k] if own_scale else common)
            yy = y + 3 + j * 13
            out.append(f'<rect class="bar c-{_t(k)}" data-key="{_t(k)}" data-value="{v}" x="{LABEL_W}" y="{yy}" '
                       f'width="{max(w, 0.5):.1f}" height="11"><title>{_t(words.get(k, k))}: '
                       f'{_num(r.get(k))}</title></rect>'
                       f'<text class="value" x="{LABEL_W + w + 6:.1f}" y="{yy + 10}">{_num(r.get(k))}</text>')
    return _svg(name, height, "".join(out), title)


def trend(name: str, title: str, points: list[dict], keys, words) -> str:
    """Lines over periods (plan and fact per month), a dot and number at each point, months underneath."""
    height, left, right, top, bottom = 230, 40, W - 30, 34, 200
    peak = max([p.get(k) or 0 for p in points for k in keys] + [1])
    n = max(len(points), 1)
    step = (right - left) / max(n - 1, 1)

    def xy(i, v):
        return left + (i * step if n > 1 else (right - left) / 2), bottom - (bottom - top - 10) * (v or 0) / peak

    out = [_legend(2, keys, words, x=left),
           f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>']
    for k in keys:
        pts = [xy(i, p.get(k)) for i, p in enumerate(points) if p.get(k) is not None]
        if len(pts) > 1:
            out.append(f'<polyline class="line s-{_t(k)}" fill="none" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for i, p in enumerate(points):
            if p.get(k) is None:
                continue
            x, y = xy(i, p.get(k))
            out.append(f'<circle class="dot c-{_t(k)}" data-key="{_t(k)}" data-month="{_t(p["month"])}" '
                       f'data-value="{p.get(k)}" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{_t(p["label"])} · '
                       f'{_t(words.get(k, k))}: {_num(p.get(k))}</title></circle>'
                       f'<text class="value" x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">{_num(p.get(k))}</text>')
    for i, p in enumerate(points):
        x, _ = xy(i, 0)
        out.append(f'<text class="label" x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">{_t(p["label"])}</text>')
    return _svg(name, height, "".join(out), title)


def donut(name: str, title: str, parts: list[dict], words) -> str:
    """Shares of a whole (visit types): a ring of arcs and a legend with count and percent."""
    height, cx, cy, r, inner = max(180, 30 + 22 * len(parts)), 90, 90, 80, 48
    total = sum(p["count"] for p in parts) or 1
    out, a0 = [], -math.pi / 2
    for i, p in enumerate(parts):
        if p["count"] <= 0:
            continue
        a1 = a0 + 2 * math.pi * p["count"] / total
        if p["count"] == total:
            a1 -= 1e-4
        large = 1 if a1 - a0 > math.pi else 0
        pts = [(cx + r * math.cos(a0), cy + r * math.sin(a0)), (cx + r * math.cos(a1), cy + r * math.sin(a1)),
               (cx + inner * math.cos(a1), cy + inner * math.sin(a1)),
               (cx + inner * math.cos(a0), cy + inner * math.sin(a0))]
        d = (f"M{pts[0][0]:.2f},{pts[0][1]:.2f} A{r},{r} 0 {large} 1 {pts[1][0]:.2f},{pts[1][1]:.2f} "
             f"L{pts[2][0]:.2f},{pts[2][1]:.2f} A{inner},{inner} 0 {large} 0 {pts[3][0]:.2f},{pts[3][1]:.2f} Z")
        out.append(f'<path class="slice c-t{i % 8}" data-key="{_t(p["type"])}" data-value="{p["count"]}" d="{d}">'
                   f'<title>{_t(p["label"])}: {p["count"]} ({p["share"]}%)</title></path>')
        a0 = a1
    out.append(f'<text class="total" x="{cx}" y="{cy + 6}" text-anchor="middle">{total if parts else 0}</text>')
    for i, p in enumerate(parts):
        y = 20 + i * 22
        out.append(f'<rect class="c-t{i % 8}" x="200" y="{y}" width="12" height="12" rx="2"/>'
                   f'<text class="label" x="220" y="{y + 11}">{_t(p["label"])} — {p["count"]} ({p["share"]}%)</text>')
    return _svg(name, height, "".join(out), title)
