#!/usr/bin/env python
"""Load benchmark: the app under gunicorn, driven by locust from a second process, while a sweep runs.

    pip install -e ".[bench]"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ropa_load python bench/load.py [--records 100000]

Recreates the database named in ``DATABASE_URL`` (default ``ropa_load``), seeds it with the five statements
(the register) and ``--records`` personal-data records (``bench/_common.py``: a fifth of them due), starts
gunicorn (2 workers of ``--threads`` threads, 127.0.0.1 only, production settings) and runs locust headless
against it for at most ``--seconds`` and ``--max-requests``, with this mix:

- records: one page of 50, one record, a batch of 100 new records registered (system token);
- the register: a page of 50 activities, the whole register as JSON (``/api/v1/register/``), a CSV and an
  XLSX export of one controller (DPO token);
- the baseline: bare Django views returning ``values()`` of the same rows (a page of records, one record, a
  page of activities), under the same load in the same run.

A retention sweep (``manage.py retention_enforce``, the due fifth of the records) starts a few seconds in.
Prints requests/s, p50/p95/p99 and errors per request type, each API read beside its bare baseline with the
ratio, and whether the sweep finished with consistent evidence (counts, tombstones, verified chain).
Goals: 0 errors; p95 <= 200 ms for reads on 2 cores. The machine's other load shows in the figures.
"""

import argparse
import csv
import functools
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.http import Http404, JsonResponse
from django.urls import include, path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ropa_load"
PAGE = 50
EXPORT_CONTROLLER = "voiceking"


# --- the baseline views, served by the same gunicorn (bench.load:wsgi()) --------------------------------


def bare_records(request):
    from subjects.models import PersonalDataRecord

    return JsonResponse({"results": list(PersonalDataRecord.objects.order_by("id").values()[:PAGE])})


def bare_record(request, pk: int):
    from subjects.models import PersonalDataRecord

    row = PersonalDataRecord.objects.filter(pk=pk).values().first()
    if row is None:
        raise Http404
    return JsonResponse(row)


def bare_activities(request):
    from processing.models import ProcessingActivity

    rows = ProcessingActivity.objects.order_by("controller__name", "reference").values()[:PAGE]
    return JsonResponse({"results": list(rows)})


@functools.cache
def _urlpatterns() -> list:
    return [
        path("bare/records/", bare_records),
        path("bare/records/<int:pk>/", bare_record),
        path("bare/activities/", bare_activities),
        path("", include("ropa.urls")),
    ]


def __getattr__(name: str):
    # ``urlpatterns`` when Django asks (after setup): importing this module must not import the apps' URLs.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def wsgi():
    """gunicorn's entry point: the app's own URLs plus the bare baseline views."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ropa.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    settings.ROOT_URLCONF = "bench.load"
    return get_wsgi_application()


# --- the load: a locustfile run by locust in its own process ------------------------------------------

LOCUSTFILE = r"""
import itertools, json, os, random
import gevent
from locust import HttpUser, between, events, task

DATA = json.load(open(os.environ["LOAD_DATA"]))
SYSTEM = {"Authorization": "Token " + DATA["system_token"]}
DPO = {"Authorization": "Token " + DATA["dpo_token"]}
MAX_REQUESTS = int(os.environ["LOAD_MAX_REQUESTS"])
HEAVY = os.environ["LOAD_HEAVY"] == "1"  # exports, the register document and registrations
sent, batches = itertools.count(1), itertools.count(1)
environment = None


@events.init.add_listener
def remember(environment=None, **kwargs):
    globals()["environment"] = environment


@events.request.add_listener
def bound(**kwargs):
    if next(sent) == MAX_REQUESTS and environment and environment.runner:
        gevent.spawn(environment.runner.quit)


class Client(HttpUser):
    wait_time = between(0.05, 0.4)

    @task(4)
    def records_page(self):
        self.client.get("/api/v1/records/?page_size=50", headers=SYSTEM, name="records: page of 50")

    @task(4)
    def bare_records_page(self):
        self.client.get("/bare/records/", name="bare: page of 50 records")

    @task(4)
    def record(self):
        pk = random.choice(DATA["record_ids"])
        self.client.get(f"/api/v1/records/{pk}/", headers=SYSTEM, name="records: one")

    @task(4)
    def bare_record(self):
        self.client.get(f"/bare/records/{random.choice(DATA['record_ids'])}/", name="bare: one record")

    @task(3)
    def activities(self):
        self.client.get("/api/v1/processing-activities/?page_size=50", headers=DPO, name="register: activities")

    @task(3)
    def bare_activities(self):
        self.client.get("/bare/activities/", name="bare: activities")

    @task(1)
    def register_document(self):
        if not HEAVY:
            return
        self.client.get("/api/v1/register/", headers=DPO, name="register: JSON document")

    @task(1)
    def export_csv(self):
        if not HEAVY:
            return
        url = "/api/v1/register/export/?format=csv&controller=" + DATA["export_controller"]
        self.client.get(url, headers=DPO, name="export: CSV")

    @task(1)
    def export_xlsx(self):
        if not HEAVY:
            return
        url = "/api/v1/register/export/?format=xlsx&controller=" + DATA["export_controller"]
        self.client.get(url, headers=DPO, name="export: XLSX")

    @task(2)
    def register_batch(self):
        if not HEAVY:
            return
        n = next(batches)
        records = [
            {
                "external_id": f"load-{os.getpid()}-{n}-{i}",
                "subject": random.choice(DATA["subjects"]),
                "activity": "B-1",
                "data_category": "bench-anonymise",
                "payload": {"name": f"Person {n}-{i}"},
                "collected_on": "2030-05-01",
            }
            for i in range(100)
        ]
        self.client.post("/api/v1/records/batch/", json={"records": records}, headers=SYSTEM,
                         name="records: register a batch of 100")
"""

PAIRS = [
    ("records: page of 50", "bare: page of 50 records"),
    ("records: one", "bare: one record"),
    ("register: activities", "bare: activities"),
]
OTHERS = ["register: JSON document", "export: CSV", "export: XLSX", "records: register a batch of 100"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(records: int) -> dict:
    """Seed the database (this process is set up on it) and issue the tokens; what locust needs."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench._common import seed_sweep_data
    from processing.models import Controller
    from ropa.api.services import api_token_issue

    started = time.perf_counter()
    seeded = seed_sweep_data(records)
    call_command("load_statements", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        # Records that no sweep takes (collected recently) for the reads of one record.
        cursor.execute(
            "SELECT id FROM subjects_personaldatarecord WHERE collected_on >= '2030-01-01' ORDER BY random() LIMIT 2000"
        )
        record_ids = [row[0] for row in cursor.fetchall()]
    controller = Controller.objects.get(key="bench")
    system = api_token_issue(role="system", name="load", controllers=[controller], source_system="bench")[1]
    dpo = api_token_issue(role="dpo", name="load")[1]
    subjects = [hashlib.md5(str(g).encode()).hexdigest() for g in range(1, max(records // 10, 1) + 1)]
    print(f"seeded {records:,} records and the five statements in {time.perf_counter() - started:.0f} s", flush=True)
    connection.close()
    return {
        "system_token": system,
        "dpo_token": dpo,
        "record_ids": record_ids,
        "subjects": random.sample(subjects, min(len(subjects), 2000)),
        "export_controller": EXPORT_CONTROLLER,
        "activity_id": seeded["activity_id"],
    }


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited before serving")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def read_stats(prefix: str) -> dict[str, dict]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def evidence(records: int) -> list[str]:
    """The sweep's run, its tombstones and the chain: consistent?"""
    from retention.models import RetentionRun, Tombstone
    from retention.selectors import tombstone_chain_problems

    run = RetentionRun.objects.filter(origin="command").order_by("-pk").first()
    due = records // 5
    tombstones = Tombstone.objects.filter(run=run).count()
    problems = list(tombstone_chain_problems())
    ok = (
        run.status == "finished"
        and run.flagged == due
        and run.anonymised + run.deleted == due
        and tombstones == due
        and not problems
    )
    took = (run.finished_at - run.started_at).total_seconds()
    return [
        f"sweep run #{run.pk}: {run.status} in {took:.1f} s, flagged {run.flagged:,}, anonymised {run.anonymised:,}, "
        f"deleted {run.deleted:,} (due: {due:,}); tombstones {tombstones:,}; longest batch {run.longest_batch_ms} ms",
        f"tombstone chain: {'verifies' if not problems else problems[:3]}",
        f"evidence consistent: {'yes' if ok else 'NO'}",
    ]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench._common import NOW, at_least, child_env, recreate

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=at_least(1), default=100_000, help="at least one: the mix reads one")
    parser.add_argument("--users", type=at_least(1), default=12, help="concurrent locust users")
    parser.add_argument("--seconds", type=at_least(1), default=60, help="how long the load runs at most")
    parser.add_argument("--max-requests", type=at_least(1), default=20_000, help="stop after this many requests")
    parser.add_argument(
        "--reads-only", action="store_true", help="no exports, register documents or registrations: reads alone"
    )
    parser.add_argument("--sweep-after", type=float, default=5, help="seconds into the load the sweep starts")
    parser.add_argument(
        "--threads",
        type=at_least(1),
        default=4,
        help="threads per gunicorn worker (the Dockerfile serves 4; 1: sync workers)",
    )
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is dropped and created again).")

    name = url.rsplit("/", 1)[1].split("?")[0]
    env = {
        **child_env(name),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "ROPA_API_THROTTLE_RATE": "100000000/minute",  # measure the app, not its throttle
        "ROPA_VAR_DIR": tempfile.mkdtemp(prefix="ropa-load-"),
        "ROPA_ERASURE_JOURNAL": "",
        "DJANGO_SETTINGS_MODULE": "ropa.settings",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ropa.settings")
    print(f"recreating {name} ...", flush=True)
    recreate(name)
    data = prepare(args.records)

    work = Path(env["ROPA_VAR_DIR"])
    (work / "data.json").write_text(json.dumps(data))
    (work / "locustfile.py").write_text(LOCUSTFILE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.load:wsgi()", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", str(args.threads), "--chdir", str(ROOT), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    sweep = None
    try:
        wait_until_up(f"{base}/bare/activities/", server)
        print(f"gunicorn: 2 workers x {args.threads} threads on {base}; locust: {args.users} users, "
              f"<= {args.seconds} s, <= {args.max_requests:,} requests", flush=True)  # fmt: skip
        locust = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(work / "locustfile.py"), "--headless", "--host", base,
             "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s", "--csv", str(work / "load"),
             "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env={**env, "LOAD_DATA": str(work / "data.json"),
                           "LOAD_MAX_REQUESTS": str(args.max_requests),
                           "LOAD_HEAVY": "0" if args.reads_only else "1"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(args.sweep_after)
        sweep = subprocess.Popen(
            [sys.executable, "manage.py", "retention_enforce", "--now", NOW.isoformat(), "--batch-size", "500"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _out, locust_err = locust.communicate(timeout=args.seconds + 120)
        sweep_out, sweep_err = sweep.communicate(timeout=600)
        if sweep.returncode != 0:
            sys.exit(f"the sweep failed:\n{sweep_err}")
    finally:
        if sweep is not None and sweep.poll() is None:
            sweep.kill()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    stats = read_stats(str(work / "load"))
    total = stats.get("Aggregated")
    if total is None:
        sys.exit(f"locust reported nothing:\n{locust_err[-3000:]}")

    def line(label: str, row: dict) -> str:
        quantiles = " ".join(f"{float(row[q]):7.0f}" for q in ("50%", "95%", "99%"))
        return (
            f"  {label:<36}{int(row['Request Count']):7,} {int(row['Failure Count']):5} "
            f"{float(row['Requests/s']):7.1f} {quantiles}"
        )

    print(
        f"\nPostgreSQL, {args.records:,} records; gunicorn 2 workers x {args.threads} threads; "
        f"locust {args.users} users"
    )
    print(f"  {'request':<36}{'count':>7} {'err':>5} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7}   (ms)")
    for api, bare in PAIRS:
        a, b = stats[api], stats[bare]
        print(line(api, a))
        print(line(bare, b))
        ratio = [float(a[q]) / max(float(b[q]), 1) for q in ("50%", "95%", "99%")]
        print(f"  {'  ratio API / bare':<58}{ratio[0]:7.2f} {ratio[1]:7.2f} {ratio[2]:7.2f}")
    for other in OTHERS:
        if other in stats:
            print(line(other, stats[other]))
    print(line("all", total))
    worst = max(float(stats[api]["95%"]) for api, _bare in PAIRS)
    errors = int(total["Failure Count"])
    print(f"\nerrors: {errors} (goal 0)   worst p95 of the reads: {worst:.0f} ms (goal <= 200; the paired API reads)")
    if errors:
        failures = Path(f"{work / 'load'}_failures.csv")
        if failures.exists():
            print(failures.read_text()[:2000])
    print(sweep_out.strip().splitlines()[0])
    for text in evidence(args.records):
        print(text)


if __name__ == "__main__":
    main()
