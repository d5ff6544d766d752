"""Charts of a :func:`kg.tables.timeline`: PNG/SVG by matplotlib, and an HTML
page holding a hand-drawn SVG (no script, nothing fetched: it works offline
and inside a sandboxed iframe).

Both show two panels over the same periods: the matching articles (bars, or
a line per provider or story) and their share of all articles of the period
(Media Cloud's *attention*), with a title, axis labels and a legend.  A split
timeline shows its ``top`` groups by matching articles, the rest summed as
"other".

matplotlib comes with the ``charts`` extra (``pip install 'newskg[charts]'``);
the HTML chart needs only pandas.

>>> import kg
>>> from kg.graph import build_graph
>>> from kg.tables import timeline
>>> t = timeline(build_graph(kg.load("seeds")), "facial", by="month")
>>> page = timeline_html(t)
>>> page.startswith("<!DOCTYPE html>") and "<script" not in page
True
"""

from __future__ import annotations

import html
import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._util import require_extra

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TimelineChart", "timeline_chart", "timeline_html", "render_timeline", "chart_title", "PALETTE",
           "TIMELINE_FORMATS"]

#: Okabe and Ito's colour-blind-safe palette (yellow last: it is faint on white),
#: then grey for "other".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442")
OTHER = "#999999"
#: What :func:`render_timeline` writes.
TIMELINE_FORMATS = ("csv", "json", "png", "svg", "html")
_UNIT = {"day": "day", "week": "week (starting Monday)", "month": "month"}


def chart_title(df: pd.DataFrame) -> str:
    """The default title, from the timeline's ``attrs``.

    >>> import pandas as pd
    >>> t = pd.DataFrame(); t.attrs.update(match="covid", by="week", split="provider")
    >>> chart_title(t)
    'Articles matching "covid" per week, by provider'
    """
    a = df.attrs
    what = f'Articles matching "{a["match"]}"' if a.get("match") else "Articles"
    title = f"{what} per {a.get('by', 'period')}"
    if a.get("split"):
        title += f", by {a['split']}"
    if a.get("since") or a.get("until"):
        title += f" ({a.get('since') or '…'} to {a.get('until') or '…'})"
    return title


def _series(df: pd.DataFrame, top: int) -> tuple[list, list[tuple[str, list[int], list[float]]]]:
    """Periods, and (name, matching, share %) per line: one line without a
    split, else the ``top`` groups and "other"."""
    periods = sorted(df["period"].unique())
    split = df.attrs.get("split") or next((c for c in ("provider", "story") if c in df.columns), None)
    if split is None:
        share = [float(s) * 100 if s == s else math.nan for s in df["share"]]
        return periods, [("matching articles", df["matching"].astype(int).tolist(), share)]
    ranked = df.groupby(split)["matching"].sum().sort_values(ascending=False, kind="stable")
    ranked = ranked[ranked > 0]
    names = ranked.index.tolist()
    shown, rest = names[:top], names[top:]
    lines = []
    for name in shown + ([None] if rest else []):
        part = df[df[split].isin(rest)] if name is None else df[df[split] == name]
        g = part.groupby("period")[["matching", "total"]].sum().reindex(periods, fill_value=0)
        if split == "story":  # totals are all articles of the period, the same on every row
            g["total"] = part.groupby("period")["total"].first().reindex(periods, fill_value=0)
        share = (g["matching"] / g["total"].where(g["total"] > 0) * 100).tolist()
        label = name if name is not None else f"other ({len(rest)} {split}s)"
        lines.append((str(label), g["matching"].astype(int).tolist(), [float(s) for s in share]))
    return periods, lines


def _share_label(df: pd.DataFrame) -> str:
    if (df.attrs.get("split") or ("provider" if "provider" in df.columns else None)) == "provider":
        return "share of the provider's articles (%)"
    return "share of all articles (%)"


def timeline_chart(df: pd.DataFrame, *, format: str = "png", title: str | None = None,
                   top: int = 7) -> bytes:
    """The timeline as a PNG or SVG image (matplotlib), its bytes.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.tables import timeline
    >>> t = timeline(build_graph(kg.load("seeds")), "facial", by="month")
    >>> timeline_chart(t)[:4]
    b'\\x89PNG'
    """
    if format not in ("png", "svg"):
        raise ValueError(f"charts are png or svg, not {format!r}")
    mpl = require_extra("matplotlib", "charts")
    mpl.use("Agg")
    from matplotlib.figure import Figure

    periods, lines = _series(df, top)
    x = [p.to_pydatetime() for p in periods]
    fig = Figure(figsize=(12.8, 7.2), dpi=100, layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    fig.suptitle(title or chart_title(df), fontsize=15)
    by = df.attrs.get("by", "week")
    width = {"day": 0.8, "week": 5.6, "month": 24}.get(by, 0.8)
    for i, (name, matching, share) in enumerate(lines):
        colour = OTHER if name.startswith("other (") else PALETTE[i % len(PALETTE)]
        if len(lines) == 1:
            ax1.bar(x, matching, width=width, color=colour, label=name, align="edge")
            ax2.plot(x, share, color=PALETTE[3], label="share", linewidth=1.5, marker="o", markersize=3)
        else:
            ax1.plot(x, matching, color=colour, label=name, linewidth=1.6)
            ax2.plot(x, share, color=colour, label=name, linewidth=1.2)
    ax1.set_ylabel("matching articles", fontsize=12)
    ax2.set_ylabel(_share_label(df), fontsize=12)
    ax2.set_xlabel(_UNIT.get(by, by), fontsize=12)
    ax2.set_ylim(bottom=0)
    ax1.set_ylim(bottom=0)
    for ax in (ax1, ax2):
        ax.grid(axis="y", color="#dddddd")
        ax.tick_params(labelsize=10)
    if lines:
        ax1.legend(loc="upper left", fontsize=10, frameon=False, ncols=1 if len(lines) < 5 else 2)
    else:
        ax1.text(0.5, 0.5, "no matching articles", transform=ax1.transAxes, ha="center", fontsize=14)
    if len(lines) == 1:
        ax2.legend(loc="upper left", fontsize=10, frameon=False)
    buf = io.BytesIO()
    # No creation date or random ids: the same timeline gives the same bytes.
    metadata = {"Date": None} if format == "svg" else {"Software": None}
    with mpl.rc_context({"svg.hashsalt": "newskg", "svg.fonttype": "none"}):
        fig.savefig(buf, format=format, metadata=metadata)
    return buf.getvalue()


def _ticks(n: int, room: int) -> list[int]:
    step = max(1, math.ceil(n / room))
    return list(range(0, n, step))


def _nice_max(v: float) -> float:
    if v <= 0 or v != v:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= v)


def timeline_html(df: pd.DataFrame, *, title: str | None = None, top: int = 7) -> str:
    """The timeline as a self-contained HTML page holding an SVG chart: no
    script, nothing fetched; every label escaped; a tooltip per point."""
    periods, lines = _series(df, top)
    e = html.escape
    title = title or chart_title(df)
    by = df.attrs.get("by", "week")
    W, left, right = 1200, 80, 260
    plot_w = W - left - right
    n = max(len(periods), 1)
    step = plot_w / n
    panels: list[tuple[int, int, str, list[list[float]]]] = [
        (60, 330, "matching articles", [[float(v) for v in m] for _, m, _ in lines]),
        (440, 200, _share_label(df), [s for _, _, s in lines])]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} 720" width="{W}" height="720" '
           f'role="img" aria-label="{e(title)}" font-family="sans-serif">',
           f'<text x="{W / 2}" y="30" text-anchor="middle" font-size="20">{e(title)}</text>']
    for top_y, h, label, values in panels:
        finite = [v for vs in values for v in vs if v == v]
        # Five intervals and counts of at least 5: whole numbers on the axis.
        vmax = _nice_max(max(finite + [5.0 if label == "matching articles" else 0.0]))
        y = lambda v, top_y=top_y, h=h, vmax=vmax: top_y + h - (v / vmax) * h  # noqa: E731
        for k in range(6):
            v = vmax * k / 5
            out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                       f'stroke="#ddd"/><text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" '
                       f'font-size="12">{v:g}</text>')
        out.append(f'<text transform="translate(20 {top_y + h / 2}) rotate(-90)" text-anchor="middle" '
                   f'font-size="14">{e(label)}</text>')
        for i, (name, matching, share) in enumerate(lines):
            colour = OTHER if name.startswith("other (") else PALETTE[i % len(PALETTE)]
            vs = matching if label == "matching articles" else share
            if len(lines) == 1 and label == "matching articles":
                for j, v in enumerate(vs):
                    tip = f"{periods[j].strftime('%Y-%m-%d')}: {v} matching"
                    out.append(f'<rect x="{left + j * step:.1f}" y="{y(v):.1f}" '
                               f'width="{max(step * 0.85, 0.5):.1f}" height="{top_y + h - y(v):.1f}" '
                               f'fill="{colour}"><title>{e(tip)}</title></rect>')
                continue
            pts = [(left + (j + 0.5) * step, y(v), v, j) for j, v in enumerate(vs) if v == v]
            colour = PALETTE[3] if len(lines) == 1 else colour
            # A period without articles has no share: the line breaks there
            # rather than bridging the gap; a lone point is a dot.
            runs: list[list[tuple]] = []
            for pt in pts:
                if runs and runs[-1][-1][3] == pt[3] - 1:
                    runs[-1].append(pt)
                else:
                    runs.append([pt])
            for run in runs:
                if len(run) == 1:
                    out.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="2" fill="{colour}"/>')
                    continue
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in run)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2">'
                           f'<title>{e(name)}</title></polyline>')
            for px, py, v, j in pts:
                unit = "%" if label != "matching articles" else " matching"
                tip = f"{name}, {periods[j].strftime('%Y-%m-%d')}: {v:.3g}{unit}"
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="6" fill="{colour}" '
                           f'fill-opacity="0"><title>{e(tip)}</title></circle>')
    for j in _ticks(n, 12):
        if j < len(periods):
            px = left + (j + 0.5) * step
            out.append(f'<text x="{px:.1f}" y="665" text-anchor="middle" font-size="12">'
                       f'{periods[j].strftime("%Y-%m-%d" if by != "month" else "%Y-%m")}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="695" text-anchor="middle" font-size="14">'
               f'{e(_UNIT.get(by, by))}</text>')
    legend = ([("matching articles", PALETTE[0]), ("share", PALETTE[3])] if len(lines) == 1 else
              [(name, OTHER if name.startswith("other (") else PALETTE[i % len(PALETTE)])
               for i, (name, _, _) in enumerate(lines)])
    lx = left + plot_w + 20
    for k, (name, colour) in enumerate(legend):
        ly = 70 + k * 24
        short = name if len(name) <= 30 else name[:29] + "…"
        out.append(f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" fill="{colour}"/>'
                   f'<text x="{lx + 20}" y="{ly}" font-size="13"><title>{e(name)}</title>{e(short)}</text>')
    out.append("</svg>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title>"
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            'style-src \'unsafe-inline\'">'
            "<style>body{margin:16px;background:#fff;color:#222}</style></head><body>\n"
            + "\n".join(out) + "\n</body></html>\n")


def render_timeline(df: pd.DataFrame, format: str, *, title: str | None = None, top: int = 7) -> bytes:
    """A timeline as ``csv``, ``json`` (one object per row, with the
    arguments), ``png``, ``svg`` or ``html``: the bytes of the file.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.tables import timeline
    >>> t = timeline(build_graph(kg.load("seeds")), "facial", by="month")
    >>> print(render_timeline(t, "csv").decode(), end="")
    period,matching,total,share
    2021-12-01,1,1,1.0
    """
    if format == "csv":
        return df.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d").encode()
    if format == "json":
        import json

        from .tables import timeline_records

        return (json.dumps({**df.attrs, "rows": timeline_records(df)}, ensure_ascii=False, indent=1)
                + "\n").encode()
    if format == "html":
        return timeline_html(df, title=title, top=top).encode()
    if format in ("png", "svg"):
        return timeline_chart(df, format=format, title=title, top=top)
    raise ValueError(f"unknown timeline format {format!r} (one of {', '.join(TIMELINE_FORMATS)})")


class TimelineChart:
    """A timeline's chart for a notebook: Jupyter shows it inline (the HTML
    chart in a sandboxed iframe, like the views); ``.save(path)`` writes it,
    the format taken from the suffix (``.png``, ``.svg``, ``.html``, ...).

    >>> import kg, tempfile, os
    >>> from kg.graph import build_graph
    >>> from kg.tables import timeline
    >>> chart = TimelineChart(timeline(build_graph(kg.load("seeds")), "facial", by="month"))
    >>> chart._repr_html_().startswith("<iframe srcdoc=")
    True
    >>> chart.save(os.path.join(tempfile.mkdtemp(), "t.html")).suffix
    '.html'
    """

    def __init__(self, df: pd.DataFrame, *, title: str | None = None, top: int = 7) -> None:
        self.df, self.title, self.top = df, title, top

    def html(self) -> str:
        return timeline_html(self.df, title=self.title, top=self.top)

    def save(self, path: str | os.PathLike) -> Path:
        from ._util import atomic_writer

        path = Path(path)
        data = render_timeline(self.df, path.suffix.lstrip(".").lower(), title=self.title, top=self.top)
        with atomic_writer(path, "wb") as f:
            f.write(data)
        return path

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" '
                'style="width:100%;height:760px;border:0" sandbox></iframe>')
