"""What the ``kg`` command prints: progress on stderr, build summaries, result tables."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

DEFAULT_OUT = Path("exports")


def unit(stage: str) -> str:
    """What a counted stage counts: "reading files" -> " files"."""
    last = stage.split()[-1]
    return {"RDF": " graphs", "changes": " files"}.get(last, f" {last}")


def progress(quiet: bool, stream: TextIO | None = None) -> Callable[[str, int, int], None] | None:
    """Progress on stderr (tqdm), only for a terminal and once a second has passed.

    A counted stage (``total`` > 0) gets a bar (done/total, rate, time left);
    a stage without a count gets a line as it starts.
    """
    stream = stream or sys.stderr
    if quiet or not stream.isatty():
        return None
    from tqdm import tqdm

    # A terminal that reports no size (script(1)'s, some CI runners') gets
    # 80x24: given 0 rows, tqdm hides every bar.
    size = shutil.get_terminal_size()

    started = time.monotonic()
    state: dict = {"stage": None, "bar": None}

    def show(stage: str, done: int, total: int) -> None:
        bar = state["bar"]
        if stage != state["stage"]:
            state["stage"] = stage
            if bar is not None:
                bar.close()
            bar = state["bar"] = None
            if not total:
                if time.monotonic() - started >= 1:
                    print(f"{stage} ...", file=stream, flush=True)
                return
            bar = state["bar"] = tqdm(total=total, desc=stage, file=stream, unit=unit(stage),
                                      delay=max(0.0, 1 - (time.monotonic() - started)),
                                      ncols=size.columns, nrows=size.lines, leave=True)
        if bar is not None:
            if total != bar.total:
                bar.total = total
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
                state["bar"] = None

    return show


def print_summary(s: dict, title: str, extensions: tuple[str, ...] = ()) -> None:
    """The summary of a build; ``extensions``: the name endings it read."""
    print(title)
    nodes, edges = list(s["nodes"].items()), list(s["edges"].items())
    print(f"  {'nodes':<24}{'edges'}")
    for (k, n), (r, m) in zip(nodes, edges):
        print(f"  {k:<12}{n:>9,}   {r:<12}{m:>9,}")
    print(f"  articles with a file: {s['articles_with_file']:,}; "
          f"known only by reference: {s['articles_reference_only']:,}")
    if s.get("date_range"):
        print(f"  published: {s['date_range'][0][:10]} .. {s['date_range'][1][:10]}")
    for label, key in (("top providers", "top_providers"), ("top topics", "top_topics"),
                       ("top people", "top_people")):
        if s.get(key):
            print(f"  {label}: " + ", ".join(f"{name} ({n:,})" for name, n in s[key][:8]))
    files = s.get("files")
    if files:
        read = f" ({', '.join(extensions)})" if extensions else ""
        line = (f"  files{read}: {files['read']:,} read, {files['articles']:,} articles, "
                f"{files['skipped']:,} skipped")
        if files.get("skipped_by"):
            line += " (" + ", ".join(f"{r} {n:,}" for r, n in files["skipped_by"].items()) + ")"
        if files.get("not_read"):
            line += "; not read: " + ", ".join(f"{r} {n:,}" for r, n in files["not_read"].items())
        if files.get("left_out"):
            flags = ["--only-news"] if files["left_out"].keys() - {"draft"} else []
            flags += ["--no-drafts"] if "draft" in files["left_out"] else []
            line += f"; left out ({', '.join(flags)}): " + ", ".join(
                f"{r} {n:,}" for r, n in files["left_out"].items())
        print(line)
    if s.get("drafts"):
        print(f"  drafts: {s['drafts']:,} (built and marked; --no-drafts leaves them out)")
    if s.get("not_news"):
        print("  not news: " + ", ".join(f"{r} {n:,}" for r, n in s["not_news"].items()))
    if "problems" in s:
        probs = s["problems"]
        print("  problems: " + (", ".join(f"{r} {n:,}" for r, n in probs.items()) or "none"))
    if s.get("unknown_keys"):  # key -> [files, first file]; the most frequent first
        keys = sorted(s["unknown_keys"].items(), key=lambda kv: (-kv[1][0], kv[0]))
        more = f", and {len(keys) - 10:,} more in problems.jsonl" if len(keys) > 10 else ""
        print("  unknown keys (not read): " + ", ".join(
            f"{k} {n:,} ({first})" for k, (n, first) in keys[:10]) + more)


def result_table(result) -> str:
    """A SELECT result as an aligned text table; ASK as true/false."""
    from ..store import PREFIXES

    if result.kind == "ask":
        return "true" if result.boolean else "false"

    def cell(term) -> str:
        if term is None:
            return ""
        value = term.value
        if type(term).__name__ == "NamedNode":
            for p, ns in PREFIXES.items():
                if value.startswith(ns):
                    value = f"{p}:{value[len(ns):]}"
                    break
        value = value.replace("\n", " ")
        return value if len(value) <= 70 else value[:69] + "…"

    rows = [[cell(t) for t in row] for row in result.terms]
    header = result.variables
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


#: What commands leave to the end of the ``kg`` process (:func:`keep_until_exit`);
#: ``None`` unless ``console_main`` runs them (not when a test calls ``main()``).
kept: list[object] | None = None


def keep_until_exit(obj: object) -> None:
    """Let ``obj`` (a build, with its whole graph) outlive the command, never
    freed: the process ends just after, and freeing millions of objects one
    by one would only delay that by seconds (see ``console_main``)."""
    if kept is not None:
        kept.append(obj)
