#!/usr/bin/env python3
"""`make bench`: seed, load, measure, and write BENCHMARKS.md.

For SQLite (always) and PostgreSQL (when BENCH_DATABASE_URL or TEST_DATABASE_URL names a
server; a fresh database `pc_bench` is created on it): seed a fresh dataset with
`partner-center seed`, start the release service and the baseline (a minimal actix-web JSON
handler) with the same worker count, and drive each scenario with oha:

- max throughput: fixed concurrency for a fixed duration (requests/s, p50, p99);
- half rate: a fixed rate of half the measured maximum (p99, with oha's latency correction);
- server RSS sampled from /proc/<pid>/status while the load runs (VmRSS peak, VmHWM).

Writes are `POST /v1/support/requests` (a create every partner user may make, no
Idempotency-Key needed); afterwards the server is killed with SIGKILL and the rows counted
in the database, to show every acknowledged write survived.

Environment: BENCH_ACCOUNTS (10000), BENCH_COMPLETIONS (1000000), BENCH_ORDERS (100000),
BENCH_DURATION (seconds per run, 10), BENCH_CONCURRENCY (32), BENCH_WORKERS (CPUs),
OHA, PARTNER_CENTER, BASELINE (binaries), BENCH_DIR (work files), BENCH_OUT (BENCHMARKS.md).
"""

import http.client
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
PC = os.environ.get("PARTNER_CENTER", str(TARGET / "release" / "partner-center"))
BASELINE = os.environ.get("BASELINE", str(TARGET / "release" / "bench-baseline"))
OHA = os.environ.get("OHA", str(TARGET / "tools" / "bin" / "oha"))
WORK = Path(os.environ.get("BENCH_DIR", TARGET / "bench"))
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "BENCHMARKS.md"))
# BENCH_REUSE=1: load the databases a previous run seeded in BENCH_DIR again instead of seeding
# anew (a rerun of the load on a quieter machine state); the seed time reported is the seed's own.
REUSE = os.environ.get("BENCH_REUSE") == "1"
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "10000"))
COMPLETIONS = int(os.environ.get("BENCH_COMPLETIONS", "1000000"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
PAGE_SIZE = 200
DEEP_PAGE = int(os.environ.get("BENCH_DEEP_PAGE", "5000"))
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
SERVICE_PORT = 18480
BASELINE_PORT = 18481


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(args, env=None, **kwargs):
    return subprocess.run(args, env=env, check=True, text=True, capture_output=True, **kwargs)


def service_env(database_url):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "PC_JWT_SECRET": SECRET,
            "PC_DATA_DIR": str(WORK),
            "PC_BIND": f"127.0.0.1:{SERVICE_PORT}",
            "PC_WORKERS": str(WORKERS),
            "PC_RATE_LIMIT_PRINCIPAL": "off",
            "PC_RATE_LIMIT_ACCOUNT": "off",
            "PC_RATE_LIMIT_ADDRESS": "off",
        }
    )
    env.pop("RUST_LOG", None)  # the default (info, one access-log line per request)
    return env


def wait_ready(port, path, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: nothing ready on port {port}{path} after {seconds}s")


def start(args, env, port, ready_path, log_path):
    handle = open(log_path, "w")
    process = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)
    wait_ready(port, ready_path)
    return process


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_kib(pid):
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0])
    return values


class RssSampler:
    """Samples a process's VmRSS every 200 ms while the load runs."""

    def __init__(self, pid):
        self.pid, self.samples, self.running = pid, [], True
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while self.running:
            try:
                self.samples.append(rss_kib(self.pid)["VmRSS"])
            except (OSError, KeyError):
                return
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def oha(url, *, token=None, rate=None, method="GET", body=None, pid=None):
    args = [OHA, "--no-tui", "--output-format", "json", "-z", f"{DURATION}s", "-c", str(CONCURRENCY)]
    if rate:
        args += ["-q", str(rate), "--latency-correction"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    if method != "GET":
        args += ["-m", method]
    if body is not None:
        args += ["-T", "application/json", "-d", body]
    args.append(url)
    load_before = os.getloadavg()[0]
    sampler = RssSampler(pid) if pid else None
    if sampler:
        sampler.__enter__()
    try:
        result = json.loads(run(args).stdout)
    finally:
        if sampler:
            sampler.__exit__()
    summary = result["summary"]
    statuses = {str(k): v for k, v in result.get("statusCodeDistribution", {}).items()}
    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    # oha aborts the requests still in flight when the duration ends; those are not errors.
    errors = {k: v for k, v in result.get("errorDistribution", {}).items() if "deadline" not in k}
    total = sum(statuses.values()) + sum(errors.values())
    # Requests/s counts successful answers only: an error is not throughput.
    rps = ok / DURATION
    percentiles = result["latencyPercentiles"]
    return {
        "rps": rps,
        "ok": ok,
        "total": total,
        "statuses": statuses,
        "errors": errors,
        "p50_ms": (percentiles.get("p50") or 0) * 1000,
        "p99_ms": (percentiles.get("p99") or 0) * 1000,
        "rss_peak_kib": max(sampler.samples) if sampler and sampler.samples else None,
        "success_rate": summary.get("successRate"),
        "load_before": load_before,
    }


def token(database_url, directory, email):
    env = service_env(database_url)
    return run([PC, "token", "--directory", directory, "--email", email, "--ttl", "7200"], env=env).stdout.strip()


def deep_cursor(token_value):
    """Walks the large account's skilling list to the cursor of page DEEP_PAGE."""
    conn = http.client.HTTPConnection("127.0.0.1", SERVICE_PORT, timeout=60)
    cursor, page = None, 1
    headers = {"Authorization": f"Bearer {token_value}"}
    while page < DEEP_PAGE:
        path = f"/v1/skilling?limit={PAGE_SIZE}"
        if cursor:
            path += "&cursor=" + urllib.parse.quote(cursor)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = json.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"bench: skilling page {page}: {response.status} {body}")
        cursor = body.get("next_cursor")
        if not cursor:
            raise SystemExit(f"bench: the skilling list ends at page {page}; seed more completions")
        page += 1
    return cursor


def count_support_requests(kind, database_url, sqlite_path):
    if kind == "sqlite":
        with sqlite3.connect(sqlite_path) as db:
            return db.execute("SELECT count(*) FROM support_requests").fetchone()[0]
    out = run(["psql", database_url, "-At", "-c", "SELECT count(*) FROM support_requests"]).stdout
    return int(out.strip())


def bench_database(kind, database_url, sqlite_path, baseline_pid):
    summary_path = WORK / f"seed-{kind}.json"
    if REUSE and summary_path.exists():
        seeded = json.loads(summary_path.read_text())
        log(f"{kind}: reusing the database seeded in {seeded['seconds']:.0f}s")
        return measure(kind, database_url, sqlite_path, seeded, seeded["seconds"])
    log(f"{kind}: seeding {ACCOUNTS} accounts, {COMPLETIONS} completions, {ORDERS} orders")
    began = time.time()
    seed = subprocess.run(
        [PC, "seed", "--accounts", str(ACCOUNTS), "--completions", str(COMPLETIONS),
         "--orders", str(ORDERS), "--seed", "7", "--out", str(summary_path)],
        env=service_env(database_url), text=True, stdout=subprocess.DEVNULL, stderr=sys.stderr,
    )
    if seed.returncode != 0:
        raise SystemExit(f"bench: seed failed on {kind}")
    seeded = json.loads(summary_path.read_text())
    seed_seconds = time.time() - began
    log(f"{kind}: seeded in {seed_seconds:.0f}s")
    return measure(kind, database_url, sqlite_path, seeded, seed_seconds)


def measure(kind, database_url, sqlite_path, seeded, seed_seconds):
    env = service_env(database_url)
    server = start([PC, "serve"], env, SERVICE_PORT, "/readyz", WORK / f"serve-{kind}.log")
    try:
        typical = seeded["typical_account"]
        large = seeded["large_account"]
        typical_token = token(database_url, typical["directory_id"], typical["owner_email"])
        large_token = token(database_url, large["directory_id"], large["owner_email"])
        log(f"{kind}: walking the skilling list to page {DEEP_PAGE}")
        walk_began = time.time()
        cursor = deep_cursor(large_token)
        walk_seconds = time.time() - walk_began
        base = f"http://127.0.0.1:{SERVICE_PORT}"
        program = seeded["eligibility_program"]
        scenarios = [
            ("GET /v1/account", f"{base}/v1/account", typical_token, "GET", None),
            (f"GET /v1/programs/{program}/eligibility", f"{base}/v1/programs/{program}/eligibility", typical_token, "GET", None),
            (f"GET /v1/skilling page 1 (limit {PAGE_SIZE})", f"{base}/v1/skilling?limit={PAGE_SIZE}", large_token, "GET", None),
            (f"GET /v1/skilling page {DEEP_PAGE} (limit {PAGE_SIZE})", f"{base}/v1/skilling?limit={PAGE_SIZE}&cursor={urllib.parse.quote(cursor)}", large_token, "GET", None),
            ("POST /v1/support/requests", f"{base}/v1/support/requests", typical_token, "POST",
             json.dumps({"category": "technical", "title": "Benchmark write", "description": "A support request written by make bench."})),
        ]
        results = []
        writes_before = count_support_requests(kind, database_url, sqlite_path)
        for name, url, tok, method, body in scenarios:
            log(f"{kind}: {name}: max throughput")
            full = oha(url, token=tok, method=method, body=body, pid=server.pid)
            if full["ok"] == 0:
                raise SystemExit(f"bench: {name}: no successful answer ({full['statuses']}, {full['errors']})")
            half_rate = max(1, int(full["rps"] / 2))
            log(f"{kind}: {name}: {full['rps']:.0f} req/s; half rate {half_rate}/s")
            half = oha(url, token=tok, method=method, body=body, rate=half_rate, pid=server.pid)
            results.append({"name": name, "full": full, "half": half, "half_rate": half_rate})
        acknowledged = sum(r["full"]["ok"] + r["half"]["ok"] for r in results if r["name"].startswith("POST"))
        hwm = rss_kib(server.pid)["VmHWM"]
        # Durability: kill the server without warning, then count what it acknowledged.
        server.send_signal(signal.SIGKILL)
        server.wait()
        writes_after = count_support_requests(kind, database_url, sqlite_path)
        durable = writes_after - writes_before
    finally:
        stop(server)
    return {
        "kind": kind,
        "seeded": seeded,
        "seed_seconds": seed_seconds,
        "walk_seconds": walk_seconds,
        "results": results,
        "vm_hwm_kib": hwm,
        "acknowledged_writes": acknowledged,
        "durable_writes": durable,
    }


def machine():
    lscpu = run(["lscpu"]).stdout
    model = re.search(r"Model name:\s*(.+)", lscpu)
    with open("/proc/meminfo") as meminfo:
        mem_kib = int(meminfo.readline().split()[1])
    rustc = run(["rustc", "-V"]).stdout.strip()
    load = os.getloadavg()
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": mem_kib / 1024 / 1024,
        "kernel": platform.release(),
        "os": platform.platform(),
        "rustc": rustc,
        "load": load,
    }


def pg_version(url):
    return run(["psql", url, "-At", "-c", "SHOW server_version"]).stdout.strip()


def reused_pg(url):
    parsed = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parsed._replace(path="/pc_bench"))


def fresh_pg(url):
    """A fresh database `pc_bench` on the server named by `url`."""
    parsed = urllib.parse.urlsplit(url)
    admin = urllib.parse.urlunsplit(parsed._replace(path="/postgres"))
    run(["psql", admin, "-q", "-c", "DROP DATABASE IF EXISTS pc_bench WITH (FORCE)"])
    run(["psql", admin, "-q", "-c", "CREATE DATABASE pc_bench"])
    return urllib.parse.urlunsplit(parsed._replace(path="/pc_bench"))


def verdict(ok):
    return "met" if ok else "**not met**"


def render(info, baseline, runs, command):
    lines = ["# Benchmarks", ""]
    lines += [
        "Generated by `make bench` (bench/run.py); every number below comes from the run it describes.",
        "",
        "## Machine and conditions",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores; memory {info['memory_gib']:.1f} GiB",
        f"- Kernel {info['kernel']} ({info['os']}); {info['rustc']}",
        f"- SQLite: bundled by libsqlite3-sys (WAL, synchronous=NORMAL, busy_timeout); PostgreSQL: {info.get('pg_version', 'not run')}",
        f"- Load average when the run started: {info['load'][0]:.2f} / {info['load'][1]:.2f} / {info['load'][2]:.2f}"
        " (1/5/15 min; other work on the machine competes for the same cores)",
        f"- Load generator: oha on the same machine, {CONCURRENCY} connections, {DURATION} s per run; "
        "half-rate runs use `-q <half of the measured maximum>` with `--latency-correction`",
        f"- Service and baseline: release builds, {WORKERS} HTTP workers each; rate limits off "
        "(`PC_RATE_LIMIT_*=off`); logging at the default `info` (one access-log line per request, to a file); "
        "database pool 16",
        f"- Dataset: `partner-center seed --accounts {ACCOUNTS} --completions {COMPLETIONS} --orders {ORDERS} --seed 7`",
        "",
        "Command:",
        "",
        "```sh",
        command,
        "```",
        "",
        "Baseline: `bench/baseline`, one actix-web route `GET /` answering a small JSON object.",
        "",
        "| Baseline | req/s | p50 ms | p99 ms | p99 ms at half rate | RSS peak MiB | load before |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| `GET /` | {baseline['full']['rps']:.0f} | {baseline['full']['p50_ms']:.2f} | {baseline['full']['p99_ms']:.2f} | "
        f"{baseline['half']['p99_ms']:.2f} ({baseline['half_rate']}/s) | {(baseline['full']['rss_peak_kib'] or 0) / 1024:.1f} | "
        f"{baseline['full']['load_before']:.1f} |",
        "",
    ]
    base_rps = baseline["full"]["rps"]
    base_rss = baseline["full"]["rss_peak_kib"] or 1
    for run_ in runs:
        kind = run_["kind"]
        seeded = run_["seeded"]
        lines += [
            f"## {'SQLite' if kind == 'sqlite' else 'PostgreSQL'}",
            "",
            f"Seeded in {run_['seed_seconds']:.0f} s: {seeded['accounts']} accounts, {seeded['users']} users, "
            f"{seeded['skilling_completions']} skilling completions ({seeded['large_account']['skilling_credits']} "
            f"in the large account's list), {seeded['orders']} orders ({seeded['paid_orders']} paid, each with its invoice). "
            f"Walking the list to page {DEEP_PAGE} took {run_['walk_seconds']:.0f} s.",
            "",
            "| Scenario | req/s | × baseline | p50 ms | p99 ms | p99 ms at half rate | RSS peak MiB | × baseline RSS | load before |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        by_name = {}
        for r in run_["results"]:
            full, half = r["full"], r["half"]
            rss = full["rss_peak_kib"] or 0
            by_name[r["name"]] = r
            non2xx = {k: v for k, v in full["statuses"].items() if not k.startswith("2")}
            note = f" (non-2xx: {non2xx}, errors: {full['errors']})" if non2xx or full["errors"] else ""
            lines.append(
                f"| `{r['name']}`{note} | {full['rps']:.0f} | {full['rps'] / base_rps:.2f} | {full['p50_ms']:.2f} | "
                f"{full['p99_ms']:.2f} | {half['p99_ms']:.2f} ({r['half_rate']}/s) | {rss / 1024:.1f} | {rss / base_rss:.1f} | {full['load_before']:.1f} |"
            )
        names = [r["name"] for r in run_["results"]]
        account, eligibility, page1, deep, write = (by_name[n] for n in names)
        rss_peak = max((r["full"]["rss_peak_kib"] or 0) for r in run_["results"])
        worst_half_p99 = max(r["half"]["p99_ms"] for r in run_["results"])
        deep_ratio = deep["full"]["p50_ms"] / page1["full"]["p50_ms"] if page1["full"]["p50_ms"] else float("inf")
        lines += [
            "",
            f"Server VmHWM (peak resident set over the whole run, seed excluded): {run_['vm_hwm_kib'] / 1024:.1f} MiB.",
            f"Writes: {run_['acknowledged_writes']} support requests acknowledged (201); after SIGKILL of the server "
            f"{run_['durable_writes']} were in the database "
            f"({'every acknowledged write survived' if run_['durable_writes'] >= run_['acknowledged_writes'] else 'SOME ACKNOWLEDGED WRITES WERE LOST'}).",
            "",
            "| Target | Measured | Result |",
            "|---|---|---|",
            f"| `GET /v1/account` ≥ 40% of baseline req/s | {account['full']['rps'] / base_rps:.0%} | {verdict(account['full']['rps'] >= 0.4 * base_rps)} |",
            f"| eligibility ≥ 20% of baseline req/s | {eligibility['full']['rps'] / base_rps:.0%} | {verdict(eligibility['full']['rps'] >= 0.2 * base_rps)} |",
            f"| page {DEEP_PAGE} within 1.5× page 1's latency (p50) | {deep_ratio:.2f}× | {verdict(deep_ratio <= 1.5)} |",
            f"| p99 ≤ 10 ms at half of max throughput (every scenario; target set for SQLite) | worst {worst_half_p99:.2f} ms | {verdict(worst_half_p99 <= 10)} |",
            f"| writes ≥ 2,000 committed req/s (target set for SQLite), durable across a kill | {write['full']['rps']:.0f} req/s, "
            f"{'durable' if run_['durable_writes'] >= run_['acknowledged_writes'] else 'NOT durable'} | "
            f"{verdict(write['full']['rps'] >= 2000 and run_['durable_writes'] >= run_['acknowledged_writes'])} |",
            f"| RSS under 100 MB at steady load | peak VmRSS {rss_peak * 1024 / 1e6:.1f} MB | {verdict(rss_peak * 1024 < 100e6)} |",
            "",
        ]
    lines += [
        "## Notes",
        "",
        "- Requests/s counts 2xx answers over the run's duration; a run with errors says so in its row.",
        f"- \"load before\" is the 1-minute load average as each max-throughput run started; on this {os.cpu_count()}-core machine anything above about 2 means other processes (oha included, in the previous run) were competing for the cores.",
        "- p50/p99 of the max-throughput runs include queueing at the fixed concurrency; the half-rate p99 is the latency a client sees below saturation.",
        "- The deep page is reached by walking `next_cursor` from page 1 before the load; its cursor is then requested repeatedly.",
        "- Durability: SQLite runs in WAL mode with `synchronous=NORMAL`: a transaction is durable once committed across a crash or kill of the process (the WAL is in the OS page cache); an OS crash or power loss may lose the last transactions before a checkpoint. PostgreSQL runs with its defaults (`synchronous_commit=on`, `fsync=on`).",
        "",
    ]
    return "\n".join(lines)


def main():
    for binary in (PC, BASELINE, OHA):
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"bench: {binary} is missing; run make bench")
    if WORK.exists() and not REUSE:
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True, exist_ok=True)
    info = machine()
    pg_variable = next((v for v in ("BENCH_DATABASE_URL", "TEST_DATABASE_URL") if os.environ.get(v)), None)
    command = (f"{pg_variable}=<postgres url> " if pg_variable else "") + ("BENCH_REUSE=1 " if REUSE else "") + "make bench"
    base_env = dict(os.environ, PC_BIND=f"127.0.0.1:{BASELINE_PORT}", PC_WORKERS=str(WORKERS))
    runs = []
    sqlite_path = WORK / "bench.db"
    runs.append(bench_database("sqlite", f"sqlite://{sqlite_path}", sqlite_path, None))
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        url = reused_pg(pg) if REUSE and (WORK / "seed-postgres.json").exists() else fresh_pg(pg)
        info["pg_version"] = "PostgreSQL " + pg_version(url)
        runs.append(bench_database("postgres", url, None, None))
    # The baseline runs after the service runs, on the same quiet-or-not machine.
    baseline_process = start([BASELINE], base_env, BASELINE_PORT, "/", WORK / "baseline.log")
    try:
        log("baseline: max throughput")
        full = oha(f"http://127.0.0.1:{BASELINE_PORT}/", pid=baseline_process.pid)
        half_rate = max(1, int(full["rps"] / 2))
        half = oha(f"http://127.0.0.1:{BASELINE_PORT}/", rate=half_rate, pid=baseline_process.pid)
        baseline = {"full": full, "half": half, "half_rate": half_rate}
    finally:
        stop(baseline_process)
    OUT.write_text(render(info, baseline, runs, command))
    (WORK / "results.json").write_text(json.dumps({"machine": info, "baseline": baseline, "runs": runs}, indent=2))
    log(f"wrote {OUT}")


if __name__ == "__main__":
    main()
