"""`python -m studyapp.loadtest`: N participants through the whole HTTP journey — entry, consent, every
trial (fetch, answer), questionnaire, completion — against a server on this machine, with no think
time (or `--think-seconds` on each trial, the pace of people who watch each clip); optionally the
server's process group is killed (kill -9) mid-run and restarted. Reports
answers/s, p50/p95/p99 latency per endpoint and HTTP status counts, and, from the database afterwards,
acknowledged answers that are missing or duplicated. Results go to benchmarks/platform.json.

    # the embedded default (runserver + SQLite), 200 participants
    python -m studyapp.loadtest --study loadtest --serve runserver --participants 200 --setup embedded
    # production (gunicorn; DATABASE_URL=postgres://…), 500 participants, kill -9 after 30 s
    python -m studyapp.loadtest --study loadtest --serve gunicorn --participants 500 --kill-after 30 \\
        --setup production

The study must run without the headphone check (the check's answers are secret to the server):
`manage.py create_study demo/loadtest.yaml --open` makes one from the demo's stimuli. Traffic goes to
127.0.0.1 only; the run is bounded by --participants and --deadline. The server it starts runs with
rate limits off (every simulated participant comes from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RETRY_FOR_S = 90  # a request refused while the server is down is retried this long


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    acked: list[str] = field(default_factory=list)  # idempotency keys the server acknowledged
    answer_times: list[float] = field(default_factory=list)
    finished: int = 0
    failed: list[str] = field(default_factory=list)

    def record(self, endpoint: str, status: int | str, seconds: float) -> None:
        with self.lock:
            self.latency_ms[endpoint].append(seconds * 1000)
            self.status[endpoint][str(status)] += 1


class Participant:
    """One browser: its own cookies, the CSRF token, and retries through a server restart."""

    def __init__(self, base: str, slug: str, stats: Stats, think_seconds: float = 0.0) -> None:
        self.base, self.slug, self.stats = base, slug, stats
        self.think_seconds = think_seconds  # on each trial, between its fetch and the answer
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf_cookie(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(self, endpoint: str, path: str, *, data: bytes | None = None, json_body: bool = False):
        headers = {"X-CSRFToken": self._csrf_cookie(), "Referer": self.base + "/"}
        if json_body:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        while True:
            sent = time.perf_counter()
            try:
                with self.opener.open(
                    urllib.request.Request(self.base + path, data=data, headers=headers), timeout=60
                ) as reply:
                    body = reply.read()
                    self.stats.record(endpoint, reply.status, time.perf_counter() - sent)
                    return reply.status, body
            except urllib.error.HTTPError as error:
                body = error.read()
                self.stats.record(endpoint, error.code, time.perf_counter() - sent)
                if error.code < 500 or time.monotonic() - started > RETRY_FOR_S:
                    return error.code, body
            except (OSError, http.client.HTTPException):  # refused or cut off: the server is down
                self.stats.record(endpoint, "connection error", time.perf_counter() - sent)
                if time.monotonic() - started > RETRY_FOR_S:
                    return 0, b""
            time.sleep(0.25)

    def run(self) -> None:
        """Consent, then whatever the study link shows next, as a browser would: after a restart the
        page a participant lands on (trials again, or the questionnaire) is where they carry on."""
        status, page = self.request("entry", f"/s/{self.slug}/")
        token = CSRF_INPUT.search(page.decode(errors="replace"))
        if status != 200 or token is None:
            self.stats.failed.append(f"entry {status}")
            return
        form = urllib.parse.urlencode({"consent": "yes", "csrfmiddlewaretoken": token.group(1)}).encode()
        status, page = self.request("consent", f"/s/{self.slug}/consent", data=form)
        for _ in range(3):  # a step can be met again only after a restart cut a reply off
            step = page_step(page)
            if status != 200 or step in {"consent", "unknown"}:
                self.stats.failed.append(f"{step} page (HTTP {status}) where the study should go on")
                return
            if step == "complete":
                with self.stats.lock:
                    self.stats.finished += 1
                return
            if step == "trials" and not self.answer_every_trial():
                return
            status, page = self.request("questionnaire_page", f"/s/{self.slug}/")
            if page_step(page) == "questionnaire":
                token = CSRF_INPUT.search(page.decode(errors="replace"))
                form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1) if token else ""})
                url = f"/s/{self.slug}/questionnaire"
                status, page = self.request("questionnaire", url, data=form.encode())
        self.stats.failed.append(f"{page_step(page)} page (HTTP {status}) after three tries")

    def answer_every_trial(self) -> bool:
        while True:
            status, body = self.request("trial", f"/s/{self.slug}/trial")
            if status != 200:
                self.stats.failed.append(f"trial {status}")
                return False
            payload = json.loads(body)
            if payload["done"]:
                return True
            trial = payload["trial"]
            time.sleep(self.think_seconds)  # watching and listening, as a real participant must
            key = uuid.uuid4().hex
            answer = json.dumps({"idempotency_key": key, **_answer(trial)}).encode()
            status, body = self.request(
                "answer", f"/s/{self.slug}/trials/{trial['index']}", data=answer, json_body=True
            )
            if status != 200 or not json.loads(body).get("saved"):
                self.stats.failed.append(f"answer {status}")
                return False
            with self.stats.lock:
                self.stats.acked.append(key)
                self.stats.answer_times.append(time.monotonic())


STEP_MARKERS = {  # a marker only that step's page carries
    "consent": b'id="consent-submit"',
    "trials": b'id="players"',
    "questionnaire": b'id="questionnaire"',
    "complete": b'id="completion-code"',
}


def page_step(page: bytes) -> str:
    """Which step of the journey a participant page shows ("unknown": an error or message page)."""
    return next((step for step, marker in STEP_MARKERS.items() if marker in page), "unknown")


def _answer(trial: dict) -> dict:
    count = len(trial["stimuli"])
    kind = trial["task"]["type"]
    common = {"response_time_ms": 1500, "play_counts": [1] * count}
    if kind == "ranking":
        return {"ranking": list(range(count)), **common}
    if kind == "turing_single":
        return {"judged_real": True, **common}
    if trial["task"]["scale_labels"]:
        return {"rating": 3, **common}
    return {"choice": 0, **common}


class Server:
    """The server under test, in its own process group so that kill -9 takes every worker."""

    def __init__(self, kind: str, port: int) -> None:
        self.port = port
        if kind == "gunicorn":
            gunicorn = Path(sys.executable).with_name("gunicorn")
            self.command = [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
        else:
            self.command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        self.env = {**os.environ, "RATELIMIT_ENABLE": "0", "DJANGO_SETTINGS_MODULE": "studyapp.settings"}
        self.process: subprocess.Popen | None = None
        data = Path(os.environ.get("VIS2SOUND_DATA_DIR", REPO / "data"))
        data.mkdir(parents=True, exist_ok=True)
        self.log = open(data / f"loadtest-{kind}.log", "ab")  # noqa: SIM115 (closed in stop)

    def start(self) -> float:
        started = time.monotonic()
        self.process = subprocess.Popen(
            self.command, cwd=REPO, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        while time.monotonic() - started < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within 60 s: {' '.join(self.command)}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"n": len(values), "p50": round(p50, 1), "p95": round(p95, 1), "p99": round(p99, 1)}


def _database_check(acked: list[str]) -> dict:
    """Acknowledged answers missing from the database, and answers stored more than once."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyapp.settings")
    django.setup()
    from django.db.models import Count

    from studyapp.models import Response

    found: set[str] = set()
    for start in range(0, len(acked), 1000):
        chunk = acked[start : start + 1000]
        found.update(
            Response.objects.filter(idempotency_key__in=chunk).values_list("idempotency_key", flat=True)
        )
    twice = Response.objects.values("trial").annotate(n=Count("id")).filter(n__gt=1).count()
    return {"acknowledged": len(acked), "missing": len(set(acked) - found), "duplicated": twice}


def run(args: argparse.Namespace) -> dict:
    port = args.port or _free_port()
    server = Server(args.serve, port) if args.serve else None
    base = f"http://127.0.0.1:{port}" if server else args.url.rstrip("/")
    if not base.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise SystemExit("the load test only sends traffic to this machine's loopback addresses")
    stats = Stats()
    kill: dict = {}
    try:
        if server:
            server.start()
        started = time.monotonic()

        def arrive(n: int) -> None:
            time.sleep(args.arrival_seconds * n / max(1, args.participants))
            if time.monotonic() - started < args.deadline:
                Participant(base, args.study, stats, args.think_seconds).run()

        killer = None
        if server and args.kill_after:

            def kill_and_restart() -> None:
                time.sleep(args.kill_after)
                server.kill()
                kill["at_s"] = round(time.monotonic() - started, 1)
                kill["restart_s"] = round(server.start(), 1)

            killer = threading.Thread(target=kill_and_restart, daemon=True)
            killer.start()
        with ThreadPoolExecutor(max_workers=args.participants) as pool:
            list(pool.map(arrive, range(args.participants)))
        if killer:
            killer.join(timeout=120)
        wall = time.monotonic() - started
    finally:
        if server:
            server.stop()
    times = sorted(stats.answer_times)
    answer_span = times[-1] - times[0] if len(times) > 1 else float("nan")
    from generation.bench.machine import describe_machine

    database = os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0]
    return {
        "setup": args.setup,
        "server": args.serve or base,
        "database": database,
        "participants": args.participants,
        "arrival_seconds": args.arrival_seconds,
        "think_seconds": args.think_seconds,
        "finished": stats.finished,
        "failed": dict(Counter(stats.failed)),
        "wall_seconds": round(wall, 1),
        "answers_per_second": round(len(times) / answer_span, 1) if len(times) > 1 else 0.0,
        "latency_ms": {k: _percentiles(v) for k, v in sorted(stats.latency_ms.items())},
        "status": {k: dict(v) for k, v in sorted(stats.status.items())},
        "server_errors": sum(n for c in stats.status.values() for s, n in c.items() if s.startswith("5")),
        "kill": kill or None,
        "database_check": _database_check(stats.acked),
        "machine": describe_machine(),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m studyapp.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", required=True, help="slug of an open study without the headphone check")
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--arrival-seconds", type=float, default=10.0, help="arrivals spread over this long")
    parser.add_argument("--serve", choices=["runserver", "gunicorn"], help="start (and kill) the server here")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running server (without --serve)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kill-after", type=float, default=0.0, help="kill -9 the server after S seconds")
    parser.add_argument(
        "--think-seconds",
        type=float,
        default=0.0,
        help="pause on each trial before answering (default 0: as fast as the server allows; a real "
        "participant needs at least the clip's length)",
    )
    parser.add_argument("--deadline", type=float, default=600.0, help="no new arrivals after S seconds")
    parser.add_argument("--setup", default="custom", help="the name of this setup in the results file")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "platform.json")
    args = parser.parse_args(argv)
    result = run(args)
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[args.setup] = result
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in {"machine", "latency_ms"}}, indent=2))
    print(f"written to {args.out} [{args.setup}]")


if __name__ == "__main__":
    main()
