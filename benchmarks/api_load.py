"""Load test of `webcare serve` on loopback: requests/s, p50 and p99 of /suggest and /analyze.

Concurrent clients (httpx) at 1, 10 and 50; baselines in the same run: GET /health (the HTTP stack
alone) and direct in-process engine calls (the model alone). Bounded in count and time; it stops itself.

    python -m benchmarks.api_load [--levels 1,10,50] [--client auto|wrk|httpx] [--seconds 10] [--model NAME]
        [--server-workers N]

The client is wrk when it is installed (apt-get install wrk): a Python client on the same two cores
takes the CPU the server needs and inflates the latencies it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from webcare_nlp.dataset import TRAINING_DATA
from webcare_nlp.records import read_jsonl_records

GOAL_P99_MS = 25.0


def texts(limit: int = 500) -> list[str]:
    """Varied messages from the project's own training corpus (not the evaluation data)."""
    found: list[str] = []
    for path in sorted((TRAINING_DATA / "messages").glob("*.jsonl")):
        found.extend(str(r["text"]) for r in read_jsonl_records(path) if r.get("text"))
    step = max(1, len(found) // limit)
    return found[::step][:limit]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children, such as `--workers` server processes
    (Linux /proc): a figure the shared machine's load hardly moves."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        total += sum(cpu_seconds(int(child)) for child in children.read_text().split())
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int, model: str | None, folder: Path, workers: int = 1) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from webcare_nlp.cli import app; app()", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    command += ["--log-level", "warning"] + (["--model", model] if model else [])
    env = {**os.environ, "WEBCARE_DATABASE": str(folder / "feedback.sqlite3")}
    env.pop("WEBCARE_API_TOKEN", None)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("w"))


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return dict(httpx.get(f"{url}/health", timeout=2).json())
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("error: the server did not start (see its log)")


async def load(
    url: str, path: str, bodies: list[dict[str, Any]] | None, *, clients: int, total: int, max_seconds: float
) -> dict[str, float]:
    """`clients` workers share `total` requests; each waits for its answer before sending the next."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(total))
    deadline = time.monotonic() + max_seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for i in counter:
            if time.monotonic() > deadline:
                return
            start = time.perf_counter()
            if bodies is None:
                response = await client.get(path)
            else:
                response = await client.post(path, json=bodies[i % len(bodies)])
            latencies.append((time.perf_counter() - start) * 1000)
            failures += response.status_code != 200

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        await client.get("/health")  # open a connection before timing
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return summary(latencies, elapsed, failures)


def load_wrk(
    url: str, path: str, bodies: list[dict[str, Any]] | None, *, clients: int, seconds: float
) -> dict[str, float]:
    """The same load from wrk (C, Debian's `wrk`), so that the client hardly takes CPU from the server."""
    lines = [
        "local bodies = {" + ",".join(f"[==[{json.dumps(b, ensure_ascii=False)}]==]" for b in bodies or []) + "}",
        "local i = 0",
        "request = function()",
        f'  if #bodies == 0 then return wrk.format("GET", "{path}") end',
        "  i = i % #bodies + 1",
        f'  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"}}, bodies[i])',
        "end",
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        '  io.write(string.format("WRK %d %d %d %d %d\\n", summary.requests, summary.duration,',
        "    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))",
        "end",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write("\n".join(lines))
    try:
        command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s", "-s", script.name, url]
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script.name)
    fields = next(line for line in output.splitlines() if line.startswith("WRK ")).split()[1:]
    requests, duration_us, p50_us, p99_us, errors = (int(x) for x in fields)
    return {
        "n": requests,
        "rps": requests / (duration_us / 1e6),
        "p50": p50_us / 1000,
        "p99": p99_us / 1000,
        "failed": errors,
    }


def summary(latencies: list[float], elapsed: float, failures: int = 0) -> dict[str, float]:
    ordered = sorted(latencies)
    p99_index = min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))
    return {
        "n": len(ordered),
        "rps": len(ordered) / elapsed if elapsed else 0.0,
        "p50": statistics.median(ordered),
        "p99": ordered[p99_index],
        "failed": failures,
    }


def direct_baseline(model: str | None, messages: list[str], n: int) -> tuple[dict[str, float], float, float]:
    """The engine in this process: one message per call (latency), and one batch (messages/s)."""
    from webcare_nlp.engine import Engine

    engine = Engine.load(model)
    engine.analyze(messages[0])
    latencies = []
    start, cpu = time.perf_counter(), time.process_time()
    for text in messages[:n]:
        t0 = time.perf_counter()
        engine.analyze(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    single = summary(latencies, time.perf_counter() - start)
    single["cpu_ms"] = (time.process_time() - cpu) * 1000 / n
    batch = [{"id": str(i), "text": t} for i, t in enumerate(messages[:n])]
    start, cpu = time.perf_counter(), time.process_time()
    engine.analyze_many(batch)
    return single, len(batch) / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / n


def row(name: str, clients: int | str, s: dict[str, float]) -> str:
    failed = f"  ({int(s['failed'])} failed)" if s.get("failed") else ""
    cpu = f" {s['cpu_ms']:>18.2f}" if "cpu_ms" in s else ""
    batch = f" {s['batch']:>10.1f}" if "batch" in s else ""
    return (
        f"{name:<26} {clients!s:>7} {int(s['n']):>6} {s['rps']:>9.1f} {s['p50']:>9.1f} {s['p99']:>9.1f}"
        f"{cpu}{batch}{failed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint and level")
    parser.add_argument("--levels", default="1,10,50", help="concurrent clients, comma-separated")
    parser.add_argument("--max-seconds", type=float, default=60, help="time cap per endpoint and level")
    parser.add_argument("--model", default=None)
    parser.add_argument("--server-workers", type=int, default=1, help="`webcare serve --workers N`")
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto", help="wrk when installed")
    parser.add_argument("--seconds", type=float, default=10, help="duration per endpoint and level (wrk)")
    args = parser.parse_args()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
    print(f"client: {'wrk (Debian)' if use_wrk else 'httpx (async, in Python)'}")
    levels = [int(x) for x in args.levels.split(",")]
    messages = texts()
    bodies = [{"text": t, "channel": "twitter", "author": "Sanne"} for t in messages]

    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_server(port, args.model, Path(folder), args.server_workers)
        try:
            health = wait_ready(url, process)
            paths = ["/suggest", "/analyze"] if health.get("suggestions") else ["/analyze"]
            if "/suggest" not in paths:
                print("note: this model cannot suggest (no ranker): /suggest is left out")
            header = f"{'endpoint':<26} {'clients':>7} {'n':>6} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}"
            print(header + f" {'server CPU ms/req':>18} {'mean batch':>10}")
            for clients in levels:
                for path in ["/health", *paths]:
                    before = cpu_seconds(process.pid)
                    batches_before = httpx.get(f"{url}/health").json()["batches"]
                    payload = None if path == "/health" else bodies
                    if use_wrk:
                        run = load_wrk(
                            url, path, payload[:200] if payload else None, clients=clients, seconds=args.seconds
                        )
                    else:
                        limit = 30 if path == "/health" else args.max_seconds
                        run = asyncio.run(
                            load(url, path, payload, clients=clients, total=args.requests, max_seconds=limit)
                        )
                    run["cpu_ms"] = (cpu_seconds(process.pid) - before) * 1000 / max(1, run["n"])
                    batches = httpx.get(f"{url}/health").json()["batches"]
                    count = batches["count"] - batches_before["count"]
                    if count > 0 and args.server_workers == 1:  # each worker counts its own batches
                        run["batch"] = (batches["messages"] - batches_before["messages"]) / count
                    print(row("GET /health (baseline)" if path == "/health" else f"POST {path}", clients, run))
                    if path == "/suggest" and clients == 50:
                        verdict = "meets" if run["p99"] <= GOAL_P99_MS else "misses"
                        print(f"  goal p99 <= {GOAL_P99_MS:.0f} ms at 50 clients: {verdict} ({run['p99']:.1f} ms)")
        finally:
            process.terminate()
            process.wait(timeout=30)
    single, batch_rate, batch_cpu = direct_baseline(args.model, messages, min(args.requests, 200))
    print(row("engine.analyze in-process", 1, single))
    n = min(args.requests, 200)
    print(f"{'engine.analyze_many batch':<26} {'-':>7} {n:>6} {batch_rate:>9.1f} {'':>9} {'':>9} {batch_cpu:>18.2f}")
    print(f"(load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
