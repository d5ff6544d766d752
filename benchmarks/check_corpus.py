"""Check that a corpus has the shapes of the real article files.

    python benchmarks/check_corpus.py CORPUS_DIR [--reference ../shared/corpus/real]

Parses the front matter (text between the first two ``---`` lines) of every
``*.md`` file with ``yaml.CSafeLoader`` and checks, per file, that top-level
keys come in the real files' order with the real files' types, that nested
provider / images / related entries are well formed, and that a related entry
whose webUrl is a file of the corpus repeats that file's title, excerpt,
date and provider (counted; a problem only with ``--exact-related``, since
real files drift).  Prints a JSON summary (key frequencies, list lengths,
share of related entries inside the corpus) and, with ``--reference``, the
same frequencies for a real corpus beside them.  Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

# Key order of the real files and the types each key takes there.
KEYS: dict[str, tuple[type, ...]] = {
    "category": (str,), "title": (str,), "excerpt": (str,), "publishedDateTime": (datetime,),
    "originalUrl": (str,), "webUrl": (str, type(None)), "ampWebUrl": (str, type(None)),
    "cdnAmpWebUrl": (str, type(None)), "type": (str,), "quality": (int,),
    "heat": (int, type(None)), "published": (bool,), "locale": (str,), "provider": (dict,),
    "topics": (list,), "tags": (list,), "images": (list, type(None)), "related": (list,),
    "secured": (str,),
}
RELATED_KEYS = ("title", "excerpt", "publishedDateTime", "webUrl", "ampWebUrl", "cdnAmpWebUrl",
                "type", "provider", "quality", "images")
REQUIRED = ("category", "title", "excerpt", "publishedDateTime", "webUrl", "type", "provider",
            "topics")


def front_matter(path: Path) -> dict[str, Any]:
    """The YAML front matter of one file, parsed with the C safe loader."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError("no front matter")
    end = text.index("\n---\n", 3)
    data = yaml.load(text[4:end], Loader=yaml.CSafeLoader)
    if not isinstance(data, dict):
        raise ValueError("front matter is not a mapping")
    return data


def _in_order(keys: list[str], order: tuple[str, ...] | list[str]) -> bool:
    pos = [order.index(k) for k in keys if k in order]
    return pos == sorted(pos) and all(k in order for k in keys)


def _image_ok(img: Any) -> bool:
    return (isinstance(img, dict) and isinstance(img.get("url"), str)
            and isinstance(img.get("width"), int) and isinstance(img.get("height"), int))


def check(corpus: Path, exact_related: bool = False) -> tuple[dict[str, Any], list[str]]:
    """(summary, problems) for every ``*.md`` file under ``corpus``.

    With ``exact_related``, a related entry that differs from the file it
    points at is a problem (true of generated corpora, not of real ones).
    """
    problems: list[str] = []
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(corpus.rglob("*.md")):
        try:
            docs[str(path.relative_to(corpus))] = front_matter(path)
        except (ValueError, yaml.YAMLError) as exc:
            problems.append(f"{path}: {exc}")
    by_url = {d["webUrl"]: d for d in docs.values() if isinstance(d.get("webUrl"), str)}
    keys: Counter[str] = Counter()
    lengths: dict[str, Counter[int]] = {k: Counter() for k in ("topics", "images", "related")}
    inside = outside = 0
    differs: Counter[str] = Counter()
    for name, d in docs.items():
        keys.update(d.keys())
        order = list(d)
        if not _in_order(order, tuple(KEYS)):
            problems.append(f"{name}: key order {order}")
        for k in REQUIRED:
            if k not in d:
                problems.append(f"{name}: missing {k}")
        for k, v in d.items():
            if k in KEYS and not isinstance(v, KEYS[k]) or (k == "quality" and isinstance(v, bool)):
                problems.append(f"{name}: {k} is {type(v).__name__}")
        p = d.get("provider")
        if not (isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("domain"), str)):
            problems.append(f"{name}: provider {p!r}")
        if not all(isinstance(t, str) for t in d.get("topics") or ()):
            problems.append(f"{name}: topics {d.get('topics')!r}")
        if not all(_image_ok(i) for i in d.get("images") or ()):
            problems.append(f"{name}: images")
        for k in lengths:
            lengths[k][len(d.get(k) or ())] += 1
        for r in d.get("related") or ():
            if not isinstance(r, dict) or not _in_order(list(r), RELATED_KEYS) \
                    or not isinstance(r.get("publishedDateTime"), datetime) \
                    or not all(_image_ok(i) for i in r.get("images") or ()):
                problems.append(f"{name}: related entry {r!r:.120}")
                continue
            target = by_url.get(r.get("webUrl"))
            if target is None:
                outside += 1
                continue
            inside += 1
            for k in ("title", "excerpt", "publishedDateTime", "provider"):
                a, b = target.get(k), r.get(k)
                if k == "provider" and isinstance(a, dict) and isinstance(b, dict):
                    a, b = (a.get("name"), a.get("domain")), (b.get("name"), b.get("domain"))
                if a != b:
                    differs[k] += 1
                    if exact_related:
                        problems.append(f"{name}: related {r['webUrl']} differs in {k}")
    n = len(docs) or 1
    summary = {
        "files": len(docs),
        "key_share": {k: round(keys[k] / n, 3) for k in KEYS if keys[k]},
        "mean": {k: round(sum(x * c for x, c in v.items()) / n, 2) for k, v in lengths.items()},
        "max": {k: max(v) if v else 0 for k, v in lengths.items()},
        "providers": len({(d.get("provider") or {}).get("domain") for d in docs.values()}),
        "topics": len({t for d in docs.values() for t in d.get("topics") or ()}),
        "related_inside_share": round(inside / (inside + outside), 3) if inside + outside else None,
        "related_inside_differing": dict(differs),
    }
    return summary, problems


def main(argv: list[str] | None = None) -> int:
    """Command line: print the summary; exit 1 if any file has a problem."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--reference", type=Path, help="a real corpus to summarise beside it")
    ap.add_argument("--exact-related", action="store_true",
                    help="related entries must repeat their target file exactly (generated corpora)")
    args = ap.parse_args(argv)
    summary, problems = check(args.corpus, args.exact_related)
    out: dict[str, Any] = {"corpus": summary, "problems": len(problems)}
    if args.reference:
        out["reference"] = check(args.reference)[0]
    print(json.dumps(out, indent=2))
    for p in problems[:20]:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
