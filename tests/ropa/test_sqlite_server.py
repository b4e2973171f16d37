"""The embedded default, served for real: gunicorn (workers and threads as the Dockerfile runs them) on a
file-based SQLite database in a fresh folder, no DATABASE_URL.

- Four batch registrations at once all succeed: a writer waits for the write lock (``transaction_mode``
  IMMEDIATE and a busy timeout) instead of failing with "database is locked".
- A body sent chunked, without a Content-Length, is read by the API within its one limit.

The server gets its own database, so this runs the same whatever database the test session uses; it
runs in the SQLite session, the one whose default it checks.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
RECORDS_PER_BATCH = 250

REGISTER = """
format: ropa-file/1
statement: {file: acme.txt, title: Privacyverklaring Acme, date: 2024-03-01}
vocabulary:
  data_subject_categories: [{code: customers, name: Klanten, name_en: Customers}]
  data_categories: [{code: identification, name: Identificatiegegevens, name_en: Identification data}]
controllers:
  - key: acme
    name: Acme NV
    country: BE
    activities:
      - reference: AC-01
        name: Klantenbeheer
        name_en: Customer management
        purposes: [{description: Uitvoering van het contract, legal_basis: contract}]
        data_subject_categories: [customers]
        data_categories: [identification]
        retention:
          - {duration: {value: 10, unit: years}, trigger: contract_end, action: delete}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if connection.vendor != "sqlite":
        pytest.skip("checks the embedded SQLite default: runs in the SQLite session")
    var = tmp_path_factory.mktemp("sqlite-server")
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(ROPA_VAR_DIR=str(var), DJANGO_DEBUG="true", ROPA_API_THROTTLE_RATE="100000/minute")

    def manage(*args) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    manage("migrate", "--no-input", "-v", "0")
    register = var / "acme.yaml"
    register.write_text(textwrap.dedent(REGISTER))
    manage("import_register", str(register))
    token = manage("issue_token", "--role", "system", "--controller", "acme", "--source-system", "crm").strip()
    # Its message and the token in one log (stderr into stdout, as a terminal or a CI log has them): the
    # message first, the token alone on the next line; --quiet prints the token alone.
    def merged(*args) -> list[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "issue_token", "--role", "auditor", "--controller", "acme", *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
        ).stdout.splitlines()  # fmt: skip

    told = merged()
    assert told[-2].startswith("Issued auditor token") and told[-2].endswith("on the next line:"), told
    assert told[-1].startswith("ropa_") and len(told[-1]) == 69, told
    quiet = merged("--quiet")
    assert len(quiet) == 1 and quiet[0].startswith("ropa_"), quiet
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ropa.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read()[-2000:]
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        yield {"port": port, "token": token, "database": var / "ropa.sqlite3"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def post(server, path: str, body: bytes, *, chunked: bool = False) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=120)
    headers = {"Authorization": f"Token {server['token']}", "Content-Type": "application/json"}
    if chunked:
        pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
        conn.request("POST", path, body=pieces, headers=headers, encode_chunked=True)
    else:
        conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, json.loads(payload) if payload.startswith(b"{") else {"raw": payload[:300]}


def batch(prefix: str, count: int, payload_bytes: int = 200) -> bytes:
    records = [
        {
            "external_id": f"{prefix}-{i}",
            "subject": f"{prefix}-s{i}",
            "activity": "AC-01",
            "data_category": "identification",
            "payload": {"note": "x" * payload_bytes},
            "collected_on": "2024-01-15",
        }
        for i in range(count)
    ]
    return json.dumps({"records": records}).encode()


def stored_records(server) -> int:
    import sqlite3

    with sqlite3.connect(server["database"]) as db:
        return db.execute("SELECT COUNT(*) FROM subjects_personaldatarecord").fetchone()[0]


def test_four_batch_registrations_at_once_all_succeed(server):
    bodies = [batch(f"w{n}", RECORDS_PER_BATCH) for n in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    answers: list[tuple[int, dict]] = [None] * WRITERS

    def write(n: int) -> None:
        start.wait()
        answers[n] = post(server, "/api/v1/records/batch/", bodies[n])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert all(status in (200, 201) for status, _ in answers), answers
    assert [body.get("created") for _, body in answers] == [RECORDS_PER_BATCH] * WRITERS
    assert stored_records(server) >= WRITERS * RECORDS_PER_BATCH


def test_a_chunked_body_is_read_within_the_one_limit(server):
    status, body = post(server, "/api/v1/records/batch/", batch("chunked", 20), chunked=True)
    assert status in (200, 201), body
    assert body["created"] == 20
    status, body = post(server, "/api/v1/records/batch/", batch("huge", 1000, 9000), chunked=True)
    assert status == 413
    assert body == {"detail": "Request body exceeds the 8 MiB limit (ROPA_API_MAX_BODY_BYTES)."}
