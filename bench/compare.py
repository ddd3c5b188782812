#!/usr/bin/env python3
"""Ferrite against redis-server, side by side on this machine.

Starts both servers (nothing is built: run `cargo build --release` first), each on a free port, and
measures them in turns (redis, ferrite, redis, ferrite, ...) so that a drift in the machine's speed
hits both alike. The figures to quote are the ratios ferrite/redis, not the raw ops/s. Both servers
are stopped at the end, by the process ids this script started.

Needs Python 3.11 (standard library only) and redis-server, redis-cli and redis-benchmark 7.x
(Debian/Ubuntu: apt-get install -y redis-server redis-tools). Run it from the repository root.

Modes (they can be combined; --tests none skips the throughput table):

  throughput   redis-benchmark for each test (-t) and pipeline depth (-P); median of --rounds
               alternating runs; table of ops/s, ratio and p99 latency, then the geometric mean and
               the minimum of the ratios.
  --cpu        adds to the throughput table each server's CPU time per request (all its threads,
               from /proc) and how busy redis-benchmark itself was (its CPU time over the run's wall
               time, 100% = one core), to tell a server-bound line from a client-bound one. Ferrite's
               figure includes its busy polling (see README.md); --candidate '... --busy-poll-us 0'
               leaves it out. lrange_100's runs include redis-benchmark's LPUSH preload.
  --memory-keys N [--memory-ttl]
               loads N keys (key:%010d -> 10-byte values, optionally each with EX 100000) into each
               server over a raw RESP pipeline, then reports used_memory and RSS (VmRSS) and ratios.
  --threads 1,2,4
               thread scaling: starts ferrite once per value with --io-threads N and reports ops/s
               at each count, with redis (started once) as the baseline.
  --large-keyspace
               get/set with -r 10000000 after preloading all 10M keys, against the same tests with
               -r 100000 after preloading those 100000 keys; reports the throughput ratio large/small per server
               (issue 8 target for ferrite: >= 0.90). SLOW (minutes) and needs several GB of RAM.

Examples:
  cargo build --release
  python3 bench/compare.py                                  # default suite (long: 28 cases x 3 rounds)
  python3 bench/compare.py --tests get,set -P 1,16 --rounds 5
  python3 bench/compare.py --cpu --rounds 1                 # where the CPU goes, per request
  python3 bench/compare.py -n 20000 --rounds 1 --tests get,set -P 1   # a quick smoke run
  python3 bench/compare.py --tests none --memory-keys 1000000 --memory-ttl
  python3 bench/compare.py --tests get,set -P 1,16 --threads 1,2,4,8 --bench-threads 4
  python3 bench/compare.py --tests none --large-keyspace -P 1,16
  python3 bench/compare.py --markdown > /tmp/table.md       # tables for README.md
  python3 bench/compare.py --candidate 'target/release/ferrite --port {port} --io-threads 4'
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_TESTS = "ping_mbulk,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset"
DEFAULT_CANDIDATE = 'target/release/ferrite --port {port} --save "" --appendonly no'
DEFAULT_REDIS = "redis-server --port {port} --save '' --appendonly no"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_KEYSPACE = 100000


# ---------------------------------------------------------------------------------------------
# A minimal RESP client (enough for PING, INFO, DBSIZE, FLUSHALL and bulk loading)
# ---------------------------------------------------------------------------------------------

def encode(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def read_reply(f):
    """Reads one RESP2 reply from a buffered socket file."""
    line = f.readline()
    if not line:
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise RuntimeError(f"unexpected reply {line!r}")


def call(port: int, *args, timeout: float = 60.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(encode(*args))
        with s.makefile("rb") as f:
            return read_reply(f)


def wait_for_ping(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if call(port, "PING", timeout=1.0) == "PONG":
                return True
        except (OSError, RuntimeError):
            pass
        time.sleep(0.1)
    return False


def info_field(port: int, section: str, field: str) -> int | None:
    for line in call(port, "INFO", section).splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    return None


def expires(port: int, db: int = 0) -> int:
    """The expires= count of INFO keyspace for db (keys with a TTL)."""
    for line in call(port, "INFO", "keyspace").splitlines():
        if line.startswith(f"db{db}:"):
            fields = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split(","))
            return int(fields.get("expires", 0))
    return 0


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def load_keys(port: int, n: int, key_fmt: bytes, value_len: int, ttl: int | None = None,
              batch: int = 10000) -> float:
    """SETs n keys (key_fmt % i) to value_len-byte values over one pipelined connection.

    Sends a batch of commands, then reads the batch's replies (each a one-line +OK or -error).
    Returns the seconds it took."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        f = s.makefile("rb")
        for start in range(0, n, batch):
            end = min(n, start + batch)
            cmds = []
            for i in range(start, end):
                k = key_fmt % i
                v = (b"%0*d" % (value_len, i))[-value_len:]
                if ttl is None:
                    cmds.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
                else:
                    t = b"%d" % ttl
                    cmds.append(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$%d\r\n%s\r\n"
                                % (len(k), k, len(v), v, len(t), t))
            s.sendall(b"".join(cmds))
            for _ in range(end - start):
                line = f.readline()
                if not line.startswith(b"+"):
                    raise RuntimeError(f"loading keys into port {port}: {line!r}")
        f.close()
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------

class Server:
    """One server process started by this script; stop() ends exactly that process."""

    def __init__(self, name: str, template: str, workdir: str, extra: list[str] | None = None):
        self.name = name
        self.port = free_port()
        argv = shlex.split(template.format(port=self.port)) + (extra or [])
        argv[0] = resolve_program(argv[0])
        self.argv = argv
        self.log_path = os.path.join(workdir, f"{name}-{self.port}.log")
        self.log = open(self.log_path, "w")
        try:
            self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            self.log.close()
            raise SystemExit(f"cannot start {name} ({shlex.join(argv)}): {e}"
                             + ("; run `cargo build --release` first" if name != "redis" else ""))
        if not wait_for_ping(self.port, self.proc):
            self.stop()
            raise SystemExit(f"{name} did not answer PING on port {self.port}; command: "
                             f"{shlex.join(argv)}; log: {self.log_path}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User and system CPU time of the whole process so far (every thread), from /proc."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resolve_program(prog: str) -> str:
    """Servers run in a scratch directory: make a relative program path absolute (against the
    current directory, else the repository root)."""
    if "/" not in prog or os.path.isabs(prog):
        return prog
    for base in (os.getcwd(), REPO_ROOT):
        path = os.path.join(base, prog)
        if os.path.exists(path):
            return path
    return os.path.abspath(prog)


# ---------------------------------------------------------------------------------------------
# redis-benchmark
# ---------------------------------------------------------------------------------------------

class BenchConfig:
    def __init__(self, args):
        self.clients = args.clients
        self.requests = args.requests
        self.bench_threads = args.bench_threads
        self.datasize = args.datasize

    def requests_for(self, pipeline: int) -> int:
        return self.requests or (100000 if pipeline == 1 else 1000000)


def run_benchmark(port: int, test: str, pipeline: int, keyspace: int, cfg: BenchConfig,
                  requests: int | None = None) -> tuple[float, float]:
    """One redis-benchmark run; returns (ops/s, p99 ms) of the row for `test`."""
    argv = ["redis-benchmark", "-p", str(port), "--csv", "-t", test, "-P", str(pipeline),
            "-c", str(cfg.clients), "-n", str(requests or cfg.requests_for(pipeline))]
    if keyspace:
        argv += ["-r", str(keyspace)]
    if cfg.bench_threads:
        argv += ["--threads", str(cfg.bench_threads)]
    if cfg.datasize:
        argv += ["-d", str(cfg.datasize)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    return parse_csv(out.stdout, test, f"port {port}: {out.stderr.strip()[-300:]}")


def parse_csv(text: str, test: str, context: str = "") -> tuple[float, float]:
    """Picks the row for `test` from redis-benchmark --csv output.

    7.x prints a header ("test","rps","avg_latency_ms",...,"p99_latency_ms",...). Some tests print
    a helper row first (lrange_100 runs "LPUSH (needed to benchmark LRANGE)"), so the row whose first
    word is the test's name is the one kept."""
    rows = list(csv.reader(io.StringIO(text)))
    header = next((r for r in rows if r and r[0] == "test"), None)
    rps_col = header.index("rps") if header else 1
    p99_col = header.index("p99_latency_ms") if header and "p99_latency_ms" in header else None
    data = [r for r in rows if r and r[0] != "test"]
    for r in data:
        if r[0].split()[0].upper() == test.upper():
            p99 = float(r[p99_col]) if p99_col is not None else float("nan")
            return float(r[rps_col]), p99
    raise RuntimeError(f"no result for {test} ({context}); output: {text[-300:]!r}")


def children_cpu_seconds() -> float:
    """CPU time of this script's finished children (redis-benchmark runs), user and system."""
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(servers: list[Server], test: str, pipeline: int, keyspace: int, rounds: int,
            cfg: BenchConfig, failures: list[str], requests: int | None = None) -> dict[str, tuple[float, ...]]:
    """Alternating rounds over `servers`; returns {name: (ops/s, p99 ms, server CPU µs per request,
    client busy %)}, each the median over the rounds."""
    results: dict[str, list[tuple[float, ...]]] = {s.name: [] for s in servers}
    n = requests or cfg.requests_for(pipeline)
    for _ in range(rounds):
        for s in servers:
            if not s.alive():
                raise SystemExit(f"{s.name} died during {test} -P {pipeline}; log: {s.log_path}")
            try:
                cpu0, client0, t0 = s.cpu_seconds(), children_cpu_seconds(), time.monotonic()
                rps, p99 = run_benchmark(s.port, test, pipeline, keyspace, cfg, requests)
                wall = time.monotonic() - t0
                server_us = (s.cpu_seconds() - cpu0) / n * 1e6
                client_pct = (children_cpu_seconds() - client0) / wall * 100 if wall > 0 else float("nan")
                results[s.name].append((rps, p99, server_us, client_pct))
            except (RuntimeError, subprocess.TimeoutExpired) as e:  # a failed run is a result
                failures.append(f"{s.name} {test} -P {pipeline}: {e}")
    out = {}
    for name, rs in results.items():
        ok = [r for r in rs if r[0] > 0]
        out[name] = (tuple(statistics.median(r[i] for r in ok) for i in range(4))
                     if ok else (0.0, float("nan"), float("nan"), float("nan")))
    return out


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def print_table(headers: list[str], rows: list[list[str]], markdown: bool, title: str = "") -> None:
    if title:
        print(f"\n### {title}\n" if markdown else f"\n{title}")
    if markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---" if i == 0 else "--:" for i in range(len(headers))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
        fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                      for i, (c, w) in enumerate(zip(cells, widths)))
        print(fmt(headers))
        for r in rows:
            print(fmt(r))
    sys.stdout.flush()


def note(text: str, markdown: bool) -> None:
    print(f"\n{text}" if markdown else text)


def ops(x: float) -> str:
    return f"{x:,.0f}" if x else "failed"


def ratio_str(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.2f}"


def ms(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.3f}"


def div(a: float, b: float) -> float:
    return a / b if a and b else float("nan")


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


# ---------------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------------

def throughput_mode(redis: Server, cand: Server, tests, pipes, args, cfg, failures) -> None:
    rows, ratios = [], []
    for test in tests:
        for p in pipes:
            m = measure([redis, cand], test, p, args.keyspace, args.rounds, cfg, failures)
            (r_ops, r_p99, r_cpu, r_client), (c_ops, c_p99, c_cpu, c_client) = m["redis"], m["ferrite"]
            ratio = div(c_ops, r_ops)
            if not math.isnan(ratio):
                ratios.append((ratio, f"{test} -P {p}"))
            rows.append([test, str(p), ops(r_ops), ops(c_ops), ratio_str(ratio), ms(r_p99), ms(c_p99)])
            if args.cpu:
                rows[-1] += [f"{r_cpu:.2f}", f"{c_cpu:.2f}", f"{r_client:.0f}% / {c_client:.0f}%"]
            if not args.markdown:  # progress, one line per case
                print(f"  {test} -P {p}: redis {ops(r_ops)}  ferrite {ops(c_ops)}  ratio {ratio_str(ratio)}",
                      file=sys.stderr, flush=True)
    headers = ["test", "P", "redis ops/s", "ferrite ops/s", "ratio", "redis p99 ms", "ferrite p99 ms"]
    if args.cpu:
        headers += ["redis cpu µs/req", "ferrite cpu µs/req", "client busy (vs redis / vs ferrite)"]
    print_table(headers, rows, args.markdown,
                f"Throughput (-c {cfg.clients}, -r {args.keyspace}, median of {args.rounds} alternating rounds)")
    if ratios:
        worst = min(ratios)
        note(f"geometric mean of ratios (ferrite/redis): {geomean([r for r, _ in ratios]):.2f} over "
             f"{len(ratios)} cases; minimum: {worst[0]:.2f} ({worst[1]})", args.markdown)


def memory_mode(redis: Server, cand: Server, args) -> None:
    n, ttl = args.memory_keys, (100000 if args.memory_ttl else None)
    rows, stats = [], {}
    for s in (redis, cand):
        call(s.port, "FLUSHALL")
        time.sleep(0.5)
        rss0, used0 = rss_kib(s.pid), info_field(s.port, "memory", "used_memory")
        secs = load_keys(s.port, n, b"key:%010d", 10, ttl)
        time.sleep(1)
        rss1, used1 = rss_kib(s.pid), info_field(s.port, "memory", "used_memory")
        dbsize = call(s.port, "DBSIZE")
        stats[s.name] = (used1, rss1)
        rows.append([s.name, str(dbsize), str(expires(s.port)), f"{used1:,}", f"{(used1 - used0) / max(n, 1):.1f}",
                     f"{rss1 / 1024:.1f}", f"{(rss1 - rss0) / 1024:.1f}", f"{secs:.2f}"])
    (ru, rr), (cu, cr) = stats["redis"], stats["ferrite"]
    rows.append(["ratio ferrite/redis", "", "", ratio_str(div(cu, ru)), "", ratio_str(div(cr, rr)), "", ""])
    print_table(["server", "keys", "with TTL", "used_memory B", "bytes/key", "RSS MiB", "RSS delta MiB", "load s"],
                rows, args.markdown,
                f"Memory after SET of {n} keys (key:%010d, 10-byte values"
                + (", EX 100000 each)" if ttl else ")"))


def threads_mode(redis: Server, counts, tests, pipes, args, cfg, workdir, failures) -> None:
    """ferrite at each --io-threads count, measured alternately with the one redis."""
    results: dict[tuple[str, int], dict] = {(t, p): {"redis": []} for t in tests for p in pipes}
    for n in counts:
        cand = Server(f"ferrite-io{n}", args.candidate, workdir, ["--io-threads", str(n)])
        try:
            for t in tests:
                for p in pipes:
                    m = measure([redis, cand], t, p, args.keyspace, args.rounds, cfg, failures)
                    results[(t, p)]["redis"].append(m["redis"][0])
                    results[(t, p)][n] = m[cand.name][0]
                    if not args.markdown:
                        print(f"  io-threads {n}: {t} -P {p}: ferrite {ops(m[cand.name][0])}"
                              f"  redis {ops(m['redis'][0])}", file=sys.stderr, flush=True)
        finally:
            cand.stop()
    rows = []
    for (t, p), r in results.items():
        base = statistics.median(r["redis"]) if r["redis"] else 0.0
        row = [t, str(p), ops(base)]
        for n in counts:
            row.append(f"{ops(r[n])} ({ratio_str(div(r[n], base))})")
        rows.append(row)
    print_table(["test", "P", "redis ops/s"] + [f"ferrite io-threads={n} (ratio)" for n in counts],
                rows, args.markdown,
                f"Thread scaling (-c {cfg.clients}, redis-benchmark --threads {cfg.bench_threads or 1}, "
                f"{os.cpu_count()} CPUs)")


def large_keyspace_mode(redis: Server, cand: Server, pipes, args, cfg, failures) -> None:
    """get/set at -r 100000 vs at -r LARGE, each after preloading every key of its keyspace (so
    that GET always hits, as it would in a warm cache)."""
    big = args.large_keys
    results = {}
    for size in (SMALL_KEYSPACE, big):
        for s in (redis, cand):
            call(s.port, "FLUSHALL")
            if not args.markdown:
                print(f"  preloading {size} keys into {s.name} ...", file=sys.stderr, flush=True)
            # redis-benchmark -r N uses the keys key:000000000000 .. key:%012d (N-1); values are
            # -d bytes (default 3).
            secs = load_keys(s.port, size, b"key:%012d", cfg.datasize or 3)
            if not args.markdown:
                print(f"  ... {secs:.1f}s, dbsize {call(s.port, 'DBSIZE')}", file=sys.stderr, flush=True)
        for t in ("get", "set"):
            for p in pipes:
                results[(t, p, size)] = measure([redis, cand], t, p, size, args.rounds, cfg, failures)
    small_res = {(t, p): m for (t, p, size), m in results.items() if size == SMALL_KEYSPACE}
    large_res = {(t, p): m for (t, p, size), m in results.items() if size == big}
    rows = []
    for (t, p), sm in small_res.items():
        lg = large_res[(t, p)]
        rows.append([t, str(p), ops(sm["redis"][0]), ops(lg["redis"][0]),
                     ratio_str(div(lg["redis"][0], sm["redis"][0])),
                     ops(sm["ferrite"][0]), ops(lg["ferrite"][0]),
                     ratio_str(div(lg["ferrite"][0], sm["ferrite"][0]))])
    print_table(["test", "P", f"redis -r {SMALL_KEYSPACE}", f"redis -r {big}", "redis large/small",
                 f"ferrite -r {SMALL_KEYSPACE}", f"ferrite -r {big}", "ferrite large/small"],
                rows, args.markdown, f"Large keyspace ({big} keys preloaded; target for ferrite: >= 0.90)")


# ---------------------------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidate", default=DEFAULT_CANDIDATE,
                    help="command that starts ferrite; {port} is replaced (default: %(default)s)")
    ap.add_argument("--redis", default=DEFAULT_REDIS,
                    help="command that starts redis-server; {port} is replaced (default: %(default)s)")
    ap.add_argument("-t", "--tests", default=DEFAULT_TESTS,
                    help="redis-benchmark -t names, comma separated, or 'none' (default: %(default)s)")
    ap.add_argument("-P", "--pipelines", default="1,16", help="pipeline depths, comma separated (default: 1,16)")
    ap.add_argument("-c", "--clients", type=int, default=50, help="parallel connections (default: 50)")
    ap.add_argument("-n", "--requests", type=int, default=0,
                    help="requests per run (default: 100000 at -P 1, 1000000 when pipelined)")
    ap.add_argument("-r", "--keyspace", type=int, default=SMALL_KEYSPACE,
                    help="random keyspace size, redis-benchmark -r; 0 for one key (default: %(default)s)")
    ap.add_argument("-d", "--datasize", type=int, default=0, help="value size for SET/GET (redis-benchmark -d)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds per case; the median of each side is kept (default: 3)")
    ap.add_argument("--bench-threads", type=int, default=0,
                    help="redis-benchmark --threads (a single client thread saturates first on many cores)")
    ap.add_argument("--cpu", action="store_true",
                    help="add server CPU per request and the client's busy share to the throughput table")
    ap.add_argument("--memory-keys", type=int, default=0, metavar="N",
                    help="load N keys into each server and compare used_memory and RSS")
    ap.add_argument("--memory-ttl", action="store_true", help="with --memory-keys: give every key EX 100000")
    ap.add_argument("--threads", default="", metavar="LIST",
                    help="thread scaling: run ferrite with --io-threads at each count, e.g. 1,2,4 "
                         "(replaces the throughput table)")
    ap.add_argument("--large-keyspace", action="store_true",
                    help="also compare get/set at -r 10000000 (preloaded) with -r 100000 (slow, several GB)")
    ap.add_argument("--large-keys", type=int, default=10000000, metavar="N",
                    help="keyspace size for --large-keyspace (default: %(default)s)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown (for README.md)")
    return ap.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    for tool in ("redis-server", "redis-cli", "redis-benchmark"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install -y redis-server redis-tools")
    tests = [] if args.tests in ("", "none") else [t.strip() for t in args.tests.split(",") if t.strip()]
    pipes = [int(p) for p in args.pipelines.split(",")]
    counts = [int(n) for n in args.threads.split(",") if n.strip()]
    if counts and not tests:
        sys.exit("--threads needs --tests")
    cfg = BenchConfig(args)
    failures: list[str] = []
    workdir = tempfile.mkdtemp(prefix="ferrite-compare-")
    # A SIGTERM/SIGHUP to this script still stops the servers (through the finally below).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    servers: list[Server] = []
    completed = False
    try:
        redis = Server("redis", args.redis, workdir)
        servers.append(redis)
        if args.markdown:
            version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
            version = next((w[2:] for w in version.split() if w.startswith("v=")), "?")
            print(f"ferrite against redis-server {version} on {os.cpu_count()} CPUs")
        # The throughput table is skipped under --threads, which has its own table.
        if (tests and not counts) or args.memory_keys or args.large_keyspace:
            cand = Server("ferrite", args.candidate, workdir)
            servers.append(cand)
            if tests and not counts:
                throughput_mode(redis, cand, tests, pipes, args, cfg, failures)
            if args.memory_keys:
                memory_mode(redis, cand, args)
            if args.large_keyspace:
                large_keyspace_mode(redis, cand, pipes, args, cfg, failures)
            cand.stop()
        if counts:
            threads_mode(redis, counts, tests, pipes, args, cfg, workdir, failures)
        for f in failures:
            print("FAILED RUN:", f)
        completed = True
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        for s in servers:
            s.stop()
        if completed and not failures:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"server logs kept in {workdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
