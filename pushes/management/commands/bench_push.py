"""Push invoices end to end against the emulator and print throughput and cost per push.

Everything runs as it does in production, in separate processes on a scratch database: the web
app (granian, as the README serves it, receiving the emulator's signed webhooks at
/webhooks/railz), the emulator in a gunicorn of its own (so its CPU is never charged to the
app), a django-q2 cluster with --workers workers (the declared schedules written by
setup_schedules), and this command queuing the pushes and waiting until every push is finished
and every webhook has been applied.

The default is a scratch SQLite file with the ORM broker; `--postgres URL` runs the scale setup
instead (a scratch database created next to the one URL names, dropped afterwards) and
`--redis URL` the Redis broker and cache (that Redis database is emptied first).

`--mode both` (the default) also runs the same invoices through a naive integration, in a fresh
scratch environment: one process posting each invoice and then polling its status, in
--workers threads. Both are printed side by side.

Railz calls are counted from the emulator's access log, webhooks from the app's, so nothing in
the app is trusted to count itself. CPU time is read from /proc for each process tree between
the start and the end of the run (start-up excluded), so the app's, the queue's and the
emulator's are reported apart. Database queries are counted in every process by an execute
wrapper (thread-safe), split into the app's own, the queue's (django_q tables) and the
emulator's (reported, not charged to the app).

`--storm 429:SECONDS` (or `503:SECONDS`) answers every Railz request with that status for the
first SECONDS of the run and prints the time from the storm's end to the last success.
Under Railz's limit (`--rate-limit`, 1000 a minute by default, as Railz's own) the app's calls
wait on the shared rate budget: the time they waited, and the calls put off (their push
requeued), are printed too.
`--profile` profiles the app's server threads and queue tasks and prints where their CPU goes.
`--statements` also prints the app's queries per push by statement (verb, table, first column
it filters on), to show where the queries go.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

BENCH_SERVICE = "quickbooks"  # no per-connection provider limit, supports create and update
QUERY_DIR_ENV = "BENCH_QUERY_DIR"
PROFILE_DIR_ENV = "BENCH_PROFILE_DIR"
PIDS_ENV = "BENCH_PIDS"
BUDGET_DIR_ENV = "BENCH_BUDGET_DIR"
STATEMENTS_ENV = "BENCH_STATEMENTS"
LIFTED_LIMIT = 1_000_000
FLUSH_SECONDS = 0.1

# The gunicorn of the emulator (and of bench_batch's app): its queries counted apart. It is
# never profiled: --profile is about the app, which granian serves (APP_ENTRY).
GUNICORN_CONFIG = """
import os

def post_worker_init(worker):
    from django.urls import get_resolver
    from pushes.management.commands.bench_push import install_query_counter
    get_resolver().url_patterns  # the URL configuration, imported as by a first request
    install_query_counter(os.environ["BENCH_QUERY_DIR"])
"""

# The app's WSGI entry in granian's workers (granian has no hook after a worker loads the
# app): the query counter, and with --profile the profiler, wrapped around the application.
APP_ENTRY = """
import os
from multiprocessing.util import Finalize
from django.urls import get_resolver
from railzpush.wsgi import application
from pushes.management.commands.bench_push import install_profiler, install_query_counter
from pushes.management.commands.bench_push import profiles_dump
get_resolver().url_patterns  # the URL configuration, imported as by a first request
install_query_counter(os.environ["BENCH_QUERY_DIR"])
if os.environ.get("BENCH_PROFILE_DIR"):
    application = install_profiler(application, os.environ["BENCH_PROFILE_DIR"])
    Finalize(None, profiles_dump, exitpriority=10)  # run as granian's worker process ends
"""

# The app's access log, one "METHOD PATH STATUS" line a request, as the webhooks are counted.
APP_ACCESS_FORMAT = "%(method)s %(path)s %(status)d"


def _app_log_config(access_log: Path) -> dict:
    """granian's logging: its access lines into `access_log`, its warnings to the output."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(message)s"}},
        "handlers": {
            "access": {"class": "logging.FileHandler", "filename": str(access_log)},
            "output": {"class": "logging.StreamHandler", "formatter": "plain"},
        },
        "loggers": {
            "_granian": {"handlers": ["output"], "level": "WARNING", "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


CLUSTER_BOOT = """
import importlib, os, django
from pushes.management.commands.bench_push import install_query_counter, install_task_profiler
django.setup()
importlib.import_module("pushes.tasks")  # before the workers start, as a first task would
install_query_counter(os.environ["BENCH_QUERY_DIR"])
if os.environ.get("BENCH_PROFILE_DIR"):
    install_task_profiler(os.environ["BENCH_PROFILE_DIR"])
from django.core.management import call_command
call_command("qcluster")
"""


_VERB = re.compile(r"^\s*(\w+)")
_TABLE = {
    "UPDATE": re.compile(r'^\s*UPDATE\s+"(\w+)"', re.IGNORECASE),
    "INSERT": re.compile(r'\bINTO\s+"(\w+)"', re.IGNORECASE),
}
_FROM = re.compile(r'\bFROM\s+"(\w+)"', re.IGNORECASE)
_FILTERED = re.compile(r'\bWHERE\s+\(*(?:"\w+"\.)?"(\w+)"', re.IGNORECASE)


def statement_shape(sql) -> str:
    """A statement's verb, table and first column filtered on: `UPDATE pushes_x (id)`."""
    text = sql if isinstance(sql, str) else str(sql)
    verb_match = _VERB.match(text)
    if not verb_match:
        return text[:40]
    verb = verb_match[1].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return verb
    table = _TABLE.get(verb, _FROM).search(text)
    column = _FILTERED.search(text)
    shape = f"{verb} {table[1] if table else ''}".rstrip()
    return f"{shape} ({column[1]})" if column else shape


def install_query_counter(directory: str) -> dict:
    """Count every query this process (and its forks) runs into `directory/<pid>`.

    Counting is an increment under a lock (server threads count at once); a daemon thread
    rewrites the process's small file in place every FLUSH_SECONDS while counts changed, so a
    worker killed at the end loses nothing already written, and the count costs the app next
    to nothing. Returns the state; set state["enabled"] = False to stop counting.
    """
    from django.db.backends.signals import connection_created

    lock = threading.Lock()
    state = {"pid": None, "fd": None, "counts": Counter(), "enabled": True, "dirty": False}
    by_statement = bool(os.environ.get(STATEMENTS_ENV))

    def kind_of(sql) -> str:
        text = sql if isinstance(sql, str) else str(sql)
        if '"emulator_' in text or "emulator_emu" in text:
            return "emulator"
        return "queue" if "django_q_" in text else "app"

    def flush() -> None:
        with lock:
            if state["dirty"] and state["pid"] == os.getpid():
                text = json.dumps(state["counts"])
                # Counts only grow, so the text never gets shorter than what it overwrites.
                os.pwrite(state["fd"], text.ljust(100).encode(), 0)
                state["dirty"] = False

    def flusher(pid: int) -> None:
        while state["pid"] == pid:
            time.sleep(FLUSH_SECONDS)
            flush()

    def count(execute, sql, params, many, context):
        if state["enabled"]:
            kind = kind_of(sql)
            with lock:
                pid = os.getpid()
                if state["pid"] != pid:  # first query of this process, or of a fork of it
                    path = Path(directory) / str(pid)
                    state.update(
                        pid=pid,
                        counts=Counter(),
                        fd=os.open(path, os.O_RDWR | os.O_CREAT, 0o600),
                    )
                    threading.Thread(target=flusher, args=(pid,), daemon=True).start()
                state["counts"][kind] += 1
                if by_statement:
                    state["counts"][f"{kind}: {statement_shape(sql)}"] += 1
                state["dirty"] = True
        return execute(sql, params, many, context)

    def on_connect(sender, connection, **kwargs):
        if count not in connection.execute_wrappers:
            connection.execute_wrappers.append(count)

    connection_created.connect(on_connect, weak=False)
    from django.db import connections

    for connection in connections.all():
        if connection.connection is not None:
            on_connect(None, connection)
    state["flush"] = flush
    if os.environ.get(BUDGET_DIR_ENV):
        install_budget_meter(os.environ[BUDGET_DIR_ENV])
    return state


def install_budget_meter(directory: str) -> None:
    """Write the time this process's Railz calls waited on the shared rate budget into
    `directory/<pid>`: the seconds slept before sending, and the calls the budget turned away
    (their push requeued) with the wait it asked for. Written when it changes (only on a
    wait), so the figure costs nothing while the budget has room."""
    from railzpush.railz.errors import RailzRateLimited
    from railzpush.railz.ratelimit import RateBudget

    if getattr(RateBudget.acquire, "bench_metered", False):
        return
    original = RateBudget.acquire
    lock = threading.Lock()
    totals = {"slept": 0.0, "calls_waited": 0, "refused": 0, "refused_wait": 0.0}

    def record(**changes) -> None:
        with lock:
            for key, value in changes.items():
                totals[key] += value
            (Path(directory) / str(os.getpid())).write_text(json.dumps(totals))

    def acquire(self, **kwargs):
        try:
            waited = original(self, **kwargs)
        except RailzRateLimited as exc:
            record(refused=1, refused_wait=exc.retry_after or 0.0)
            raise
        if waited:
            record(slept=waited, calls_waited=1)
        return waited

    acquire.bench_metered = True
    RateBudget.acquire = acquire


# --- profiling (--profile) ---------------------------------------------------------------------

_profiles: list = []
_profiles_lock = threading.Lock()
_profile_dir: list[str] = []


def _thread_profile():
    import cProfile

    local = _thread_profile.__dict__.setdefault("local", threading.local())
    profile = getattr(local, "profile", None)
    if profile is None:
        # CPU time of the thread, not wall time: waiting on Railz or a lock costs nothing.
        profile = local.profile = cProfile.Profile(time.thread_time)
        with _profiles_lock:
            _profiles.append(profile)
    return profile


def profiles_dump() -> None:
    """Write this process's profiles (one file per process) for the parent to merge."""
    import pstats

    if not _profile_dir or not _profiles:
        return
    with _profiles_lock:
        stats = None
        for profile in _profiles:
            try:
                stats = pstats.Stats(profile) if stats is None else stats.add(profile)
            except TypeError:  # a profile that never ran
                continue
        if stats is not None:
            stats.dump_stats(str(Path(_profile_dir[0]) / f"{os.getpid()}.prof"))


def install_profiler(application, directory: str):
    """Wrap the WSGI application so each request runs under its thread's profiler."""
    _profile_dir[:] = [directory]

    def profiled(environ, start_response):
        profile = _thread_profile()
        profile.enable()
        try:
            return list(application(environ, start_response))
        finally:
            profile.disable()

    return profiled


def install_task_profiler(directory: str) -> None:
    """Profile every django-q2 task in the worker processes; dumped after each task."""
    from django_q.signals import post_execute_in_worker, pre_execute

    _profile_dir[:] = [directory]

    def started(sender, **kwargs):
        _thread_profile().enable()

    def finished(sender, **kwargs):
        _thread_profile().disable()
        profiles_dump()

    pre_execute.connect(started, weak=False)
    post_execute_in_worker.connect(finished, weak=False)


def _profile_summary(directory: Path, pushes: int, limit: int = 25) -> list[str]:
    import io
    import pstats

    files = sorted(str(p) for p in directory.glob("*.prof"))
    if not files:
        return ["  (no profile was written)"]
    stream = io.StringIO()
    stats = pstats.Stats(*files, stream=stream)
    total = sum(t for (_, _, t, _, _) in stats.stats.values())
    lines = [
        f"  profiled CPU: {1000 * total / pushes:.1f} ms per push (profiler overhead included)"
    ]
    # Own time grouped by package: where the CPU goes.
    groups: Counter = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        groups[_package_of(filename)] += tottime
    lines.append("  own time by package (ms per push):")
    for name, seconds in groups.most_common(14):
        lines.append(f"    {1000 * seconds / pushes:6.2f}  {name}")
    lines.append(f"  top {limit} functions by cumulative time (ms per push):")
    ranked = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)
    shown = 0
    for (filename, line, name), (_, _, _, cumtime, _) in ranked:
        if not _is_ours(filename):
            continue
        lines.append(f"    {1000 * cumtime / pushes:6.2f}  {name} ({_short(filename)}:{line})")
        shown += 1
        if shown >= limit:
            break
    return lines


def _short(path: str) -> str:
    base = str(settings.BASE_DIR) + "/"
    return path.removeprefix(base)


def _is_ours(filename: str) -> bool:
    base = str(settings.BASE_DIR)
    return filename.startswith(base) and "/.venv/" not in filename and "bench_push" not in filename


def _package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if _is_ours(filename):
        parts = _short(filename).split("/")
        return "/".join(parts[:2]) if parts[0] in ("pushes", "railzpush") else parts[0]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C calls: sockets, sqlite3, json...)"
    return "python stdlib"


def warm_up() -> str:
    """A queue task that loads the push path's tasks as a worker does, by dotted path (an
    interface does not import the tasks), so the clock starts on a warm cluster."""
    importlib.import_module("pushes.tasks")

    return "ready"


# --- processes and their CPU ---------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of it and its reaped children)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        # After the name: state, ppid, ... utime(14) stime(15) cutime(16) cstime(17), 1-based.
        ticks = sum(int(v) for v in fields[11:15])
        table[int(entry.name)] = (int(fields[1]), ticks / _TICKS)
    return table


def tree_cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each process tree (live processes and the ones they reaped)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    result = {}
    for name, root in roots.items():
        seconds, stack = 0.0, [root]
        while stack:
            pid = stack.pop()
            if pid in table:
                seconds += table[pid][1]
                stack.extend(children.get(pid, []))
        result[name] = seconds
    return result


def _self_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise CommandError(f"a server did not start on port {port} within {timeout:.0f} s")


def _parse_storm(value: str) -> tuple[int, float]:
    status, _, seconds = value.partition(":")
    if status not in ("429", "503") or not seconds:
        raise CommandError("--storm takes 429:SECONDS or 503:SECONDS")
    try:
        return int(status), float(seconds)
    except ValueError:
        raise CommandError("--storm takes 429:SECONDS or 503:SECONDS") from None


def _postgres_scratch(url: str, name: str, *, create: bool) -> str:
    """Create (or drop) the scratch database `name` on the server `url` names; its URL."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


MODES = {"both": ("railzpush", "naive"), "railzpush": ("railzpush",), "naive": ("naive",)}


class Command(BaseCommand):
    help = (
        "Push invoices end to end against the emulator (app, emulator and django-q2 cluster in "
        "their own processes) and print wall time, Railz calls, CPU and queries per push, "
        "beside a naive post-then-poll integration."
    )

    def add_arguments(self, parser):
        parser.add_argument("--invoices", type=int, default=1000)
        parser.add_argument("--connections", type=int, default=5)
        parser.add_argument("--workers", type=int, default=2, help="django-q2 workers")
        parser.add_argument("--server-processes", type=int, default=2)
        parser.add_argument("--server-threads", type=int, default=8)
        parser.add_argument("--emulator-processes", type=int, default=2)
        parser.add_argument("--timeout", type=float, default=900, help="seconds to wait")
        parser.add_argument(
            "--mode",
            choices=sorted(MODES),
            default="both",
            help="railzpush, the naive post-then-poll script, or both side by side",
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=1000,
            help="Railz requests per minute, for the emulator and the client (1000 is Railz's "
            f"own; {LIFTED_LIMIT} lifts it)",
        )
        parser.add_argument(
            "--postgres",
            metavar="URL",
            help="run on PostgreSQL: scratch databases are created (and dropped) on this server",
        )
        parser.add_argument(
            "--redis", metavar="URL", help="Redis broker and cache (this database is emptied)"
        )
        parser.add_argument(
            "--storm",
            metavar="STATUS:SECONDS",
            help="answer every Railz request with 429 or 503 for the run's first SECONDS",
        )
        parser.add_argument("--profile", action="store_true", help="print where the CPU goes")
        parser.add_argument(
            "--push-delay",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="how long the emulator takes to process a push before its webhook (0, the "
            "default, sends the webhook while the app is still writing the answer down: the "
            "most work for the app; the emulator's own default, like Railz, takes seconds)",
        )
        parser.add_argument(
            "--statements",
            action="store_true",
            help="print the app's queries per push by statement",
        )
        parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
        # Internal: the steps run inside the scratch environment.
        parser.add_argument("--step", choices=["prepare", "run", "naive"], help="(internal)")

    def handle(self, *args, **options):
        if options["invoices"] < 1 or options["connections"] < 1 or options["workers"] < 1:
            raise CommandError("--invoices, --connections and --workers must be at least 1")
        if options["push_delay"] < 0:
            raise CommandError("--push-delay must be 0 or more")
        if options["rate_limit"] < 1:
            raise CommandError("--rate-limit must be at least 1")
        storm = _parse_storm(options["storm"]) if options["storm"] else None
        if options["step"] == "prepare":
            return self._prepare(options["invoices"], options["connections"])
        if options["step"] == "run":
            return self._run(options["timeout"], storm)
        if options["step"] == "naive":
            return self._naive(options["timeout"], options["workers"], storm)
        results = {}
        for mode in MODES[options["mode"]]:
            results[mode] = self._orchestrate(mode, options)
        self._report(options, results)

    # --- the parent: scratch environment and processes ---------------------------------------

    def _orchestrate(self, mode: str, options) -> dict:
        scratch = Path(tempfile.mkdtemp(prefix=f"bench_push-{mode}-"))
        queries = scratch / "queries"
        queries.mkdir()
        profiles = scratch / "profiles"
        profiles.mkdir()
        app_port, emulator_port = _free_port(), _free_port()
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        app_url = f"http://127.0.0.1:{app_port}"
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        base_name = urlsplit(options["postgres"] or "").path.strip("/") or "railzpush"
        scratch_db = f"{base_name}_bench_{mode}"
        database = (
            _postgres_scratch(options["postgres"], scratch_db, create=True)
            if options["postgres"]
            else f"sqlite:///{scratch / 'bench.sqlite3'}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "RAILZPUSH_VAR_DIR": str(scratch),
            "SITE_URL": app_url,
            "RAILZ_EMULATOR": "1",
            "RAILZ_API_URL": f"{emulator_url}/emulator/api",
            "RAILZ_AUTH_URL": f"{emulator_url}/emulator/auth/getAccess",
            "RAILZ_EMULATOR_WEBHOOK_URL": f"{app_url}/webhooks/railz",
            "RAILZ_RATE_LIMIT_PER_MINUTE": str(options["rate_limit"]),
            "RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE": str(options["rate_limit"]),
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "Q_WORKERS": str(options["workers"]),
            "RAILZ_EMULATOR_PUSH_DELAY_SECONDS": str(options["push_delay"]),
            "LOG_LEVEL": "WARNING",
            QUERY_DIR_ENV: str(queries),
            BUDGET_DIR_ENV: str(scratch / "budget"),
        }
        (scratch / "budget").mkdir()
        env.pop("REDIS_URL", None)
        env.pop(PROFILE_DIR_ENV, None)
        env.pop(STATEMENTS_ENV, None)
        if options["statements"]:
            env[STATEMENTS_ENV] = "1"
        if options["redis"]:
            import redis

            redis.Redis.from_url(options["redis"]).flushdb()
            env["REDIS_URL"] = options["redis"]
        log = (scratch / "processes.log").open("w")
        processes: dict[str, subprocess.Popen] = {}
        (scratch / "gunicorn.conf.py").write_text(GUNICORN_CONFIG)

        def gunicorn(name: str, port: int, workers: int, extra: dict) -> None:
            processes[name] = subprocess.Popen(  # noqa: S603
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "railzpush.wsgi:application",
                    "-c",
                    str(scratch / "gunicorn.conf.py"),
                    "-b",
                    f"127.0.0.1:{port}",
                    "-k",
                    "gthread",
                    "-w",
                    str(workers),
                    "--threads",
                    str(options["server_threads"]),
                    "--access-logfile",
                    str(scratch / f"{name}-access.log"),
                    "--access-logformat",
                    "%(m)s %(U)s %(s)s",
                ],
                env={**env, **extra},
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=log,
            )

        def granian(name: str, port: int, workers: int, extra: dict) -> None:
            """The app as production serves it (README): granian, its WSGI interface."""
            (scratch / "bench_app.py").write_text(APP_ENTRY)
            (scratch / "granian-log.json").write_text(
                json.dumps(_app_log_config(scratch / f"{name}-access.log"))
            )
            processes[name] = subprocess.Popen(  # noqa: S603
                [
                    str(Path(sys.executable).parent / "granian"),
                    "--interface",
                    "wsgi",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--blocking-threads",
                    str(options["server_threads"]),
                    "--log-config",
                    str(scratch / "granian-log.json"),
                    "--access-log",
                    "--access-log-fmt",
                    APP_ACCESS_FORMAT,
                    "bench_app:application",
                ],
                env={
                    **env,
                    **extra,
                    "PYTHONPATH": os.pathsep.join([str(scratch), str(settings.BASE_DIR)]),
                },
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=log,
            )

        step_options = ["--workers", str(options["workers"]), "--timeout", str(options["timeout"])]
        if options["storm"]:
            step_options += ["--storm", options["storm"]]
        try:
            self.stdout.write(f"{mode}: scratch environment in {scratch}")
            subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)  # noqa: S603
            subprocess.run(  # noqa: S603
                [
                    *manage,
                    "bench_push",
                    "--step",
                    "prepare",
                    "--invoices",
                    str(options["invoices"]),
                    "--connections",
                    str(options["connections"]),
                ],
                env=env,
                check=True,
            )
            # The emulator's queries are its own whatever their tables: counted apart.
            gunicorn(
                "emulator",
                emulator_port,
                options["emulator_processes"],
                {QUERY_DIR_ENV: str(scratch / "emulator-queries")},
            )
            (scratch / "emulator-queries").mkdir()
            profiled = {PROFILE_DIR_ENV: str(profiles)} if options["profile"] else {}
            if mode == "railzpush":
                granian("app", app_port, options["server_processes"], profiled)
                _wait_for_port(app_port, 30)
                processes["cluster"] = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-c", CLUSTER_BOOT],
                    env={**env, **profiled},
                    cwd=settings.BASE_DIR,
                    stdout=log,
                    stderr=log,
                )
            _wait_for_port(emulator_port, 30)
            pids = {name: process.pid for name, process in processes.items()}
            run = subprocess.run(  # noqa: S603
                [
                    *manage,
                    "bench_push",
                    "--step",
                    "run" if mode == "railzpush" else "naive",
                    *step_options,
                ],
                env={**env, PIDS_ENV: json.dumps(pids)},
                check=False,
                capture_output=True,
                text=True,
            )
            if run.returncode:
                raise CommandError(f"the {mode} run failed:\n{run.stderr[-3000:]}")
            outcome = json.loads(run.stdout.strip().splitlines()[-1])
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
            if options["postgres"]:
                _postgres_scratch(options["postgres"], scratch_db, create=False)
        outcome["load"] = os.getloadavg()[0]
        outcome.update(self._read_logs(scratch))
        if options["profile"] and mode == "railzpush":
            outcome["profile"] = _profile_summary(profiles, outcome["pushes"])
        if options["keep"]:
            self.stdout.write(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
        return outcome

    @staticmethod
    def _read_logs(scratch: Path) -> dict:
        calls = Counter()
        for name in ("emulator", "app"):
            path = scratch / f"{name}-access.log"
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) < 3:
                    continue
                method, path_, status = parts[0], parts[1], parts[2]
                if name == "emulator" and path_.startswith("/emulator/api/"):
                    if method in ("POST", "PUT", "DELETE"):
                        calls["submit"] += 1
                    elif path_.endswith(("/pushStatus", "/deleteStatus")):
                        calls["status"] += 1
                    else:
                        calls["other"] += 1
                    calls["throttled"] += status == "429"
                    calls["unavailable"] += status == "503"
                elif name == "emulator" and path_.startswith("/emulator/auth/"):
                    calls["token"] += 1
                elif name == "app" and method == "POST" and path_.startswith("/webhooks/railz"):
                    calls["webhooks"] += 1
                    calls["webhook errors"] += not status.startswith("2")
        queries = Counter()
        for folder, charged in (("queries", True), ("emulator-queries", False)):
            for path in (scratch / folder).iterdir():
                text = path.read_bytes().decode().strip()
                if not text:
                    continue
                counts = json.loads(text)
                if charged:
                    queries.update(counts)
                else:
                    queries["emulator"] += sum(v for k, v in counts.items() if ":" not in k)
        budget = Counter()
        for path in (scratch / "budget").iterdir():
            budget.update(json.loads(path.read_text() or "{}"))
        return {"calls": dict(calls), "queries": dict(queries), "budget": dict(budget)}

    def _report(self, options, results: dict[str, dict]) -> None:
        modes = list(results)
        width = 14

        def row(label: str, values: list[str]) -> None:
            self.stdout.write(f"  {label:<34}" + "".join(f"{v:>{width}}" for v in values))

        first = next(iter(results.values()))
        database = "PostgreSQL" if options["postgres"] else "SQLite"
        broker = "Redis broker" if options["redis"] else "ORM broker"
        self.stdout.write("")
        self.stdout.write(
            f"bench_push: {first['pushes']} invoices, {options['connections']} connections, "
            f"{options['workers']} workers ({database}, {broker}), Railz limit "
            f"{options['rate_limit']}/min, push delay {options['push_delay']:g} s"
            + (f", storm {options['storm']}" if options["storm"] else "")
        )
        row("", modes)
        per_push: dict[str, dict[str, float]] = {}
        for mode, r in results.items():
            n = r["pushes"]
            c, q, cpu = r["calls"], r["queries"], r["cpu"]
            app_cpu = sum(v for k, v in cpu.items() if k != "emulator")
            per_push[mode] = {
                "wall": r["wall_seconds"],
                "rate": n / r["wall_seconds"],
                "calls": (c.get("submit", 0) + c.get("status", 0)) / n,
                "submit": c.get("submit", 0),
                "status": c.get("status", 0),
                "token": c.get("token", 0),
                "throttled": c.get("throttled", 0),
                "unavailable": c.get("unavailable", 0),
                "webhooks": c.get("webhooks", 0),
                "webhook errors": c.get("webhook errors", 0),
                "cpu": 1000 * app_cpu / n,
                "emulator cpu": 1000 * cpu.get("emulator", 0) / n,
                "queries": (q.get("app", 0) + q.get("queue", 0)) / n,
                "app queries": q.get("app", 0) / n,
                "queue queries": q.get("queue", 0) / n,
                "emulator queries": q.get("emulator", 0) / n,
            }
        p = per_push
        for mode in modes:
            self.stdout.write(f"  final states ({mode}){'':<8}{results[mode]['states']}")
        row("wall time, s", [f"{p[m]['wall']:.1f}" for m in modes])
        row("pushes per second", [f"{p[m]['rate']:.1f}" for m in modes])
        row("Railz calls per push", [f"{p[m]['calls']:.3f}" for m in modes])
        row("  submits", [str(p[m]["submit"]) for m in modes])
        row("  status polls", [str(p[m]["status"]) for m in modes])
        row("  token fetches (not counted)", [str(p[m]["token"]) for m in modes])
        row("429 answers", [str(p[m]["throttled"]) for m in modes])
        row("503 answers", [str(p[m]["unavailable"]) for m in modes])
        row("webhooks received", [str(p[m]["webhooks"]) for m in modes])
        row("webhooks answered non-2xx", [str(p[m]["webhook errors"]) for m in modes])
        row("CPU per push, ms (app)", [f"{p[m]['cpu']:.1f}" for m in modes])
        for part in ("queuing", "server", "cluster", "naive"):
            if any(part in results[m]["cpu"] for m in modes):
                row(
                    f"  {part}",
                    [
                        f"{1000 * results[m]['cpu'][part] / results[m]['pushes']:.1f}"
                        if part in results[m]["cpu"]
                        else "-"
                        for m in modes
                    ],
                )
        row("emulator CPU per push, ms (apart)", [f"{p[m]['emulator cpu']:.1f}" for m in modes])
        row("DB queries per push", [f"{p[m]['queries']:.1f}" for m in modes])
        row("  app", [f"{p[m]['app queries']:.1f}" for m in modes])
        row("  queue", [f"{p[m]['queue queries']:.1f}" for m in modes])
        row("emulator queries per push (apart)", [f"{p[m]['emulator queries']:.1f}" for m in modes])
        if options["statements"]:
            self._report_statements(results)
        row(
            "invoices in the emulator",
            [str(results[m]["emulator_invoices"]) for m in modes],
        )
        row("one per invoice", [str(results[m]["one_record_each"]) for m in modes])
        if options["storm"]:
            row(
                "storm end to first success, s",
                [_seconds(results[m].get("storm_to_first_success")) for m in modes],
            )
            row(
                "storm end to last success, s",
                [_seconds(results[m].get("storm_to_last_success")) for m in modes],
            )
        budget = {m: results[m].get("budget", {}) for m in modes}
        row("waited on the rate budget, s", [f"{budget[m].get('slept', 0):.1f}" for m in modes])
        row("  calls that waited", [str(budget[m].get("calls_waited", 0)) for m in modes])
        row("  calls put off (requeued)", [str(budget[m].get("refused", 0)) for m in modes])
        row(
            "  their waits, summed over calls, s",
            [f"{budget[m].get('refused_wait', 0):.1f}" for m in modes],
        )
        row("load average", [f"{results[m]['load']:.1f}" for m in modes])
        for mode in modes:
            if "profile" in results[mode]:
                self.stdout.write(f"Where {mode}'s CPU goes (server threads and queue tasks):")
                for line in results[mode]["profile"]:
                    self.stdout.write(line)

    def _report_statements(self, results: dict[str, dict]) -> None:
        """Queries per push by statement shape, most first, for each mode."""
        for mode, r in results.items():
            shapes = Counter({k.split(": ", 1)[1]: v for k, v in r["queries"].items() if ": " in k})
            self.stdout.write(f"Where {mode}'s queries go, per push:")
            for shape, n in shapes.most_common():
                if n / r["pushes"] >= 0.005:
                    self.stdout.write(f"  {n / r['pushes']:6.2f}  {shape}")

    # --- the steps inside the scratch environment ---------------------------------------------

    def _prepare(self, invoice_count: int, connection_count: int) -> None:
        """Seed the emulator, mirror the bench connections and compose the invoices."""
        import datetime as dt
        from decimal import Decimal

        from django.utils import timezone
        from django_q.models import Schedule

        from pushes.models import Invoice, InvoiceLine
        from pushes.payloads import invoice_build_payload, invoice_lines_prefetch, payload_hash
        from pushes.schedules import schedules as push_schedules
        from railzpush.emulator import demo_data, records
        from railzpush.emulator.models import EmuConnection
        from refs.models import Account, Connection, Customer

        records.emulator_seed()
        # The push pipeline's own schedules (poll, dispatch, reconcile), as setup_schedules
        # writes them; the reference-data refresh is left out, it is not push traffic.
        for job in push_schedules():
            Schedule.objects.create(
                name=job.name,
                func=job.func,
                schedule_type=Schedule.MINUTES,
                minutes=job.minutes,
                repeats=-1,
                next_run=timezone.now(),
            )
        template = next(c for c in demo_data.DEMO_CONNECTIONS if c["service_name"] == BENCH_SERVICE)
        customer_item = next(iter(demo_data.records(template["connection_uuid"], "customers")))
        account_item = next(
            a
            for a in demo_data.records(template["connection_uuid"], "accounts")
            if str(a.get("classification")).lower() in ("revenue", "income")
        )
        now = timezone.now()
        connections = []
        for n in range(connection_count):
            if n == 0:
                demo = template
            else:
                # The emulator offers no control action for extra businesses: add them through
                # its records module, with the two reference rows the invoices point at.
                demo = {
                    **template,
                    "connection_uuid": f"CON-bench000-{n:04d}-4c5a-8b2e-7d1e3f5b{n:04d}",
                    "business_uuid": f"BIZ-bench000-{n:04d}-4f0a-9c6d-2a8b4c6f{n:04d}",
                    "business_name": f"Bench Business {n}",
                }
                if not EmuConnection.objects.filter(
                    connection_uuid=demo["connection_uuid"]
                ).exists():
                    emu = EmuConnection.objects.create(
                        connection_uuid=demo["connection_uuid"],
                        business_uuid=demo["business_uuid"],
                        business_name=demo["business_name"],
                        service_name=BENCH_SERVICE,
                        status="active",
                        connection_json=json.dumps(
                            {
                                **demo_data.connection_item(template),
                                "connectionUuid": demo["connection_uuid"],
                                "businessName": demo["business_name"],
                            }
                        ),
                        business_json=json.dumps(
                            {
                                **demo_data.business_item(template),
                                "businessName": demo["business_name"],
                            }
                        ),
                        info_json=json.dumps(demo_data.business_info(template)),
                    )
                    records.record_create(connection=emu, data_type="customers", item=customer_item)
                    records.record_create(connection=emu, data_type="accounts", item=account_item)
            connection, _ = Connection.objects.get_or_create(
                connection_uuid=demo["connection_uuid"],
                defaults={
                    "business_uuid": demo["business_uuid"],
                    "business_name": demo["business_name"],
                    "service_name": BENCH_SERVICE,
                    "status": Connection.Status.ACTIVE,
                },
            )
            ref = {"status": "active", "content_hash": "0" * 32, "synced_at": now}
            customer, _ = Customer.objects.get_or_create(
                connection=connection,
                remote_id=str(customer_item["id"]),
                defaults={"name": customer_item["customerName"], **ref},
            )
            account, _ = Account.objects.get_or_create(
                connection=connection,
                remote_id=str(account_item["id"]),
                defaults={"name": account_item["name"], **ref},
            )
            connections.append((connection, customer, account))
        invoices = Invoice.objects.bulk_create(
            [
                Invoice(
                    connection=connections[i % connection_count][0],
                    status="ready",
                    customer=connections[i % connection_count][1],
                    invoice_number=f"B-{i:06d}",
                    posted_date=dt.date(2025, 3, 3),
                    due_date=dt.date(2025, 4, 2),
                    memo="Benchmark invoice",
                )
                for i in range(invoice_count)
            ]
        )
        InvoiceLine.objects.bulk_create(
            [
                InvoiceLine(
                    invoice=invoice,
                    position=0,
                    description="Roasting services",
                    quantity=Decimal("2"),
                    unit_amount=Decimal("60.00"),
                    account=connections[i % connection_count][2],
                )
                for i, invoice in enumerate(invoices)
            ]
        )
        for invoice in Invoice.objects.select_related("connection", "customer").prefetch_related(
            invoice_lines_prefetch(), "subsidiaries"
        ):
            Invoice.objects.filter(pk=invoice.pk).update(
                payload_hash=payload_hash(invoice_build_payload(invoice))
            )
        self.stdout.write(f"Prepared {invoice_count} invoices on {connection_count} connections")

    def _storm_start(self, storm: tuple[int, float] | None):
        """Switch the storm on; the wall-clock time it ends (None without a storm)."""
        if storm is None:
            return None
        from datetime import timedelta

        from django.utils import timezone

        from railzpush.emulator.faults import fault_set

        status, seconds = storm
        ends = timezone.now() + timedelta(seconds=seconds)
        if status == 429:
            fault_set(storm_until=ends)
        else:
            fault_set(error_rate=1.0, error_status=503)
        return ends

    @staticmethod
    def _storm_over(storm, ends) -> None:
        """A 503 storm ends when the bench clears it (a 429 storm runs out by itself)."""
        from django.utils import timezone

        from railzpush.emulator.faults import faults_clear

        if storm is not None and storm[0] == 503 and timezone.now() >= ends:
            faults_clear()

    @staticmethod
    def _storm_figures(ends, successes: list) -> dict:
        after = sorted((when - ends).total_seconds() for when in successes if when >= ends)
        return (
            {"storm_to_first_success": after[0], "storm_to_last_success": after[-1]}
            if after
            else {}
        )

    @staticmethod
    def _warm_server() -> None:
        """Have the app server answer a GET of the webhook address (a 405 that changes
        nothing, not counted as a webhook) a few times."""
        import requests

        url = f"{settings.SITE_URL.rstrip('/')}/webhooks/railz"
        for _ in range(4):
            with contextlib.suppress(requests.RequestException):
                requests.get(url, timeout=30)

    def _run(self, timeout: float, storm) -> None:
        """Queue a push of every invoice, wait until all are finished and every webhook
        applied; one JSON line out."""
        from django.db.models import Count
        from django_q.brokers import get_broker
        from django_q.tasks import async_task, fetch

        from pushes.models import Invoice, PushRequest, WebhookEvent
        from pushes.services.push_requests import pushes_request_bulk
        from railzpush.emulator.models import EmuWebhookDelivery

        # The clock starts once the cluster answers: a task importing the push path must come
        # back first (the cluster imported the tasks before forking its workers). The app server
        # answers a GET of the webhook address (405) too; each of its processes imported the URL
        # configuration as it started, so no process's start-up is charged to the pushes.
        ready = async_task("pushes.management.commands.bench_push.warm_up")
        if fetch(ready, wait=60_000) is None:
            raise CommandError("the django-q2 cluster did not start within 60 s")
        self._warm_server()
        pids = json.loads(os.environ[PIDS_ENV])
        invoices = list(Invoice.objects.select_related("connection", "customer"))
        broker = get_broker()
        storm_ends = self._storm_start(storm)
        cpu_before = tree_cpu_seconds(pids)
        counter = install_query_counter(os.environ[QUERY_DIR_ENV])
        started = time.monotonic()
        own_before = _self_cpu()
        result = pushes_request_bulk(records=invoices, user=None, source=PushRequest.Source.SYSTEM)
        queuing = _self_cpu() - own_before
        counter["enabled"] = False  # the waiting below is the bench's, not the app's
        counter["flush"]()
        if result.refused:
            raise CommandError(f"refused: {result.refused[0][1]}")

        def settled() -> bool:
            if PushRequest.objects.exclude(state__in=PushRequest.TERMINAL).exists():
                return False
            if WebhookEvent.objects.filter(processed_at__isnull=True).exists():
                return False
            accepted = PushRequest.objects.exclude(push_communication_id="").count()
            delivered = (
                EmuWebhookDelivery.objects.filter(status__in=("success", "failed"))
                .exclude(response_status=None)
                .values("communication_id")
                .distinct()
                .count()
            )
            return delivered >= accepted and not broker.queue_size()

        deadline = started + timeout
        while time.monotonic() < deadline:
            self._storm_over(storm, storm_ends)
            if settled():
                break
            time.sleep(0.1)
        wall = time.monotonic() - started
        cpu_after = tree_cpu_seconds(pids)
        states = dict(
            PushRequest.objects.values_list("state").annotate(n=Count("pk")).order_by("state")
        )
        cpu = {name: cpu_after[name] - cpu_before[name] for name in pids}
        cpu = {
            "queuing": queuing,
            "server": cpu["app"],
            "cluster": cpu["cluster"],
            "emulator": cpu["emulator"],
        }
        figures = {
            "pushes": len(result.created),
            "wall_seconds": wall,
            "states": states,
            "cpu": cpu,
            **self._emulator_invoices({i.invoice_number for i in invoices}),
        }
        if storm_ends is not None:
            successes = PushRequest.objects.filter(state=PushRequest.State.SUCCESS)
            figures.update(
                self._storm_figures(
                    storm_ends, list(successes.values_list("updated_at", flat=True))
                )
            )
        print(json.dumps(figures))  # the parent reads this line

    @staticmethod
    def _emulator_invoices(numbers: set[str]) -> dict:
        """How many of the benchmark's invoices the emulator holds: the demo businesses' own
        invoices (made in their accounting systems) are not counted."""
        from railzpush.emulator.models import EmuRecord

        per_number = Counter(
            json.loads(body).get("invoiceNumber")
            for body in EmuRecord.objects.filter(data_type="invoices").values_list(
                "body", flat=True
            )
        )
        return {
            "emulator_invoices": sum(per_number[number] for number in numbers),
            "one_record_each": all(per_number[number] == 1 for number in numbers),
        }

    def _naive(self, timeout: float, threads: int, storm) -> None:
        """The naive integration: for each invoice, POST it, then poll its status until it is
        done, in `threads` threads; one JSON line out."""
        from concurrent.futures import ThreadPoolExecutor

        from django.core.cache.backends.locmem import LocMemCache
        from django.db import close_old_connections
        from django.utils import timezone

        from pushes.models import Invoice
        from pushes.payloads import invoice_lines_prefetch, record_build_payload
        from railzpush.railz import RailzError, RailzRateLimited, get_client

        pids = json.loads(os.environ[PIDS_ENV])
        client = get_client(cache=LocMemCache("bench-naive", {}))
        storm_ends = self._storm_start(storm)
        cpu_before = tree_cpu_seconds(pids)
        counter = install_query_counter(os.environ[QUERY_DIR_ENV])
        started = time.monotonic()
        deadline = started + timeout
        own_before = _self_cpu()
        invoices = list(
            Invoice.objects.select_related("connection", "customer").prefetch_related(
                invoice_lines_prefetch(), "subsidiaries"
            )
        )

        def patiently(call):
            while time.monotonic() < deadline:
                self._storm_over(storm, storm_ends)
                try:
                    return call()
                except RailzRateLimited as exc:
                    time.sleep(exc.retry_after or 1)
                except RailzError as exc:
                    if not exc.retryable or exc.outcome_unknown:
                        raise
                    time.sleep(1)
            raise CommandError("the naive run did not finish in time")

        def push(invoice):
            connection = invoice.connection
            data = record_build_payload(invoice)
            try:
                answer = patiently(
                    lambda: client.create(
                        "invoices",
                        data=data,
                        connection_uuid=connection.connection_uuid,
                        service_name=connection.service_name,
                    )
                )
                communication_id = answer["pushCommunicationId"]
                while True:
                    body = patiently(
                        lambda: client.push_status(
                            connection_uuid=connection.connection_uuid,
                            push_communication_id=communication_id,
                        )
                    )
                    item = next(
                        (
                            i
                            for i in body.get("data") or []
                            if i.get("pushCommunicationId") == communication_id
                        ),
                        {},
                    )
                    if item.get("status") in ("success", "failed"):
                        return item["status"], timezone.now()
                    time.sleep(0.5)
            except RailzError as exc:
                return f"lost ({type(exc).__name__})", timezone.now()
            finally:
                close_old_connections()

        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(push, invoices))
        counter["flush"]()
        own = _self_cpu() - own_before
        wall = time.monotonic() - started
        cpu_after = tree_cpu_seconds(pids)
        figures = {
            "pushes": len(invoices),
            "wall_seconds": wall,
            "states": dict(Counter(state for state, _ in outcomes)),
            "cpu": {"naive": own, "emulator": cpu_after["emulator"] - cpu_before["emulator"]},
            **self._emulator_invoices({i.invoice_number for i in invoices}),
        }
        if storm_ends is not None:
            figures.update(
                self._storm_figures(storm_ends, [when for s, when in outcomes if s == "success"])
            )
        print(json.dumps(figures))  # the parent reads this line


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.1f}"
