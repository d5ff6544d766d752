"""Load benchmark of ``kg serve`` beside Oxigraph's own server (not a test).

    python benchmarks/bench_serve.py [EXPORT] [--clients 50] [--seconds 60]
                                     [--workers N] [--out FILE]

EXPORT is a built export folder (default: build ``../shared/corpus/real``
into a temporary folder named ``real``).  On loopback only:

1. ``kg serve EXPORT`` (this checkout, a process of its own) and then
   ``oxigraph serve-read-only`` on the same store, one at a time;
2. ``--clients`` threads, each with a keep-alive connection, send the
   example queries (``ontology/queries/*.rq``, with bindings) in turn for
   ``--seconds`` seconds; the same query text to both servers (bindings as a
   VALUES block, prefixes declared);
3. every answer must be a 200 whose body parses; requests, failures,
   throughput and p50/p95/max latency are counted after a warm-up of
   ``--warmup`` seconds; the server's resident memory (with its workers) is
   sampled each second: growth is the last sample minus the one at warm-up;
4. a client that sends a heavy query and hangs up after a second: how long
   until the server's processes are idle again (at most 20 s is waited).

Prints one JSON object (and writes it to ``--out``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.queries import bind_term, find_query  # noqa: E402
from kg.server import oxigraph_binary, wait_http  # noqa: E402
from kg.store.sparql import bind_values, with_prefixes  # noqa: E402

# The example queries with the bindings a user would give (real corpus values).
WORKLOAD = [
    ("articles-by-provider", {"provider": "cnn.com"}),
    ("coverage-timeline", {"topic": "Coronavirus"}),
    ("providers-same-story", {}),
    ("reference-only-most-cited", {}),
    ("related-within-k-hops", {"start": "id:article/128b239017329481", "k": "2"}),
    ("top-providers-for-topic", {"topic": "Coronavirus"}),
    ("topic-cooccurrence", {}),
]
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def workload() -> list[tuple[str, str]]:
    out = []
    for name, binds in WORKLOAD:
        q = find_query(name)
        assert q is not None, name
        kinds = {p.name: p.kind for p in q.params}
        terms = {k: bind_term(v, kinds.get(k)) for k, v in binds.items()}
        out.append((name, with_prefixes(bind_values(q.text, terms))))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def drive(port: int, queries: list[tuple[str, str]], clients: int, seconds: float,
          warmup: float, proc: psutil.Process) -> dict:
    started = time.monotonic()
    measure_from = started + warmup
    stop_at = measure_from + seconds
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        n = i
        while time.monotonic() < stop_at:
            name, text = queries[n % len(queries)]
            n += 1
            body = urllib.parse.urlencode({"query": text})
            t0 = time.monotonic()
            try:
                conn.request("POST", "/query", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/sparql-results+json"})
                resp = conn.getresponse()
                data = resp.read()
                ok = resp.status == 200 and "results" in json.loads(data)
                problem = None if ok else f"{name}: HTTP {resp.status} {data[:200]!r}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                problem = f"{name}: {exc!r}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            t1 = time.monotonic()
            if t0 >= measure_from and t1 <= stop_at:
                with lock:
                    if problem:
                        failures.append(problem)
                    else:
                        latencies.append(t1 - t0)
        conn.close()

    memory: list[tuple[float, int]] = []
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    while time.monotonic() < stop_at:
        memory.append((time.monotonic() - started, tree_rss(proc)))
        time.sleep(1.0)
    for t in threads:
        t.join()
    after_warmup = [m for t, m in memory if t >= warmup] or [memory[-1][1]]
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

    return {
        "requests": len(latencies) + len(failures), "failed": len(failures),
        "failures": failures[:5],
        "throughput_per_s": round(len(latencies) / seconds, 1),
        "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "max": pct(1.0),
                       "mean": round(statistics.fmean(latencies) * 1000, 1)} if latencies else {},
        "rss_mb": {"at_warmup": round(after_warmup[0] / 2**20, 1),
                   "end": round(after_warmup[-1] / 2**20, 1),
                   "max": round(max(after_warmup) / 2**20, 1),
                   "growth": round((after_warmup[-1] - after_warmup[0]) / 2**20, 1)},
    }


def hang_up(port: int, proc: psutil.Process, cap: float = 20.0) -> float | str:
    """Seconds from a client hanging up on a heavy query until the server is idle."""
    body = urllib.parse.urlencode({"query": HEAVY}).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                     b"x-www-form-urlencoded\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\n\r\n" + body)
        time.sleep(1.0)
    left = time.monotonic()
    while time.monotonic() - left < cap:
        before = tree_cpu(proc)
        time.sleep(0.25)
        if tree_cpu(proc) - before < 0.025:  # under 10% of a core
            return round(time.monotonic() - left, 2)
    return f"still busy after {cap:g} s"


def tree_cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def start(args: list[str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    wait_http(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", proc, timeout=120)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export", nargs="?", type=Path)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--workers", type=int, help="kg serve --workers (default: its own)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "serve.json")
    args = ap.parse_args()
    tmp = None
    export = args.export
    if export is None:
        import kg

        tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
        export = tmp / "real"
        kg.build(ROOT.parent / "shared" / "corpus" / "real", out=export)
    queries = workload()
    report: dict = {"export": str(export), "clients": args.clients, "seconds": args.seconds,
                    "warmup": args.warmup, "cpus": os.cpu_count(),
                    "queries": [name for name, _ in queries]}
    try:
        port = free_port()
        serve = [sys.executable, "-m", "kg.cli", "serve", str(export), "--port", str(port), "-q"]
        if args.workers:
            serve += ["--workers", str(args.workers)]
        proc = start(serve, port)
        try:
            report["kg serve"] = drive(port, queries, args.clients, args.seconds, args.warmup,
                                       psutil.Process(proc.pid))
            report["kg serve"]["workers"] = args.workers or min(8, os.cpu_count() or 1)
            report["kg serve"]["idle_after_hang_up_s"] = hang_up(port, psutil.Process(proc.pid))
        finally:
            stop(proc)
        port = free_port()
        proc = start([oxigraph_binary(), "serve-read-only", "--location", str(export / "store"),
                      "--bind", f"127.0.0.1:{port}"], port)
        try:
            report["oxigraph serve-read-only"] = drive(port, queries, args.clients, args.seconds,
                                                       args.warmup, psutil.Process(proc.pid))
            report["oxigraph serve-read-only"]["idle_after_hang_up_s"] = hang_up(
                port, psutil.Process(proc.pid))
        finally:
            stop(proc)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(report, indent=2)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
