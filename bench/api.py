"""API benchmark on PostgreSQL with 1,000,000 personal-data records.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ropa_api_bench python bench/api.py [--records N] [--requests N]

Creates the database's tables (migrate) and, once, a register with 60 activities and N records (kept
for the next run). Every figure is measured in this process, through Django's full request path
(middleware, token authentication, throttling, serializers), against a bare Django view returning
``values()`` of the same rows in the same run, and printed as a ratio:

- requests/s for a page of 50 records and a page of 50 activities, API vs bare view (goal >= 0.4);
- queries per request for page sizes 10, 50 and 200 (goal: independent of the page size);
- latency of the 10,000th page of records (or the deepest full page, below 500,000 records) vs the first
  (goal <= 1.5);
- bulk registration through POST /api/v1/records/batch/ in batches of 1,000 (goal >= 5,000 records/s).
"""

import argparse
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ropa.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import include, path  # noqa: E402

from bench._common import at_least  # noqa: E402
from processing.models import (  # noqa: E402
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
)
from retention.models import RetentionRule  # noqa: E402
from ropa.api.services import api_token_issue  # noqa: E402
from subjects.models import PersonalDataRecord  # noqa: E402

PAGE = 50
CONTROLLER, SOURCE = "bench", "bench-crm"


def bare_records(request):
    after = int(request.GET.get("after", 0))
    rows = list(PersonalDataRecord.objects.filter(pk__gt=after).order_by("id").values()[:PAGE])
    return JsonResponse({"results": rows})


def bare_activities(request):
    return JsonResponse(
        {"results": list(ProcessingActivity.objects.order_by("controller__name", "reference").values()[:PAGE])}
    )


urlpatterns = [
    path("bare/records/", bare_records),
    path("bare/activities/", bare_activities),
    path("api/v1/", include("ropa.api_urls")),
]


def seed(n_records: int) -> None:
    controller, _ = Controller.objects.get_or_create(key=CONTROLLER, defaults={"name": "Bench NV", "country": "BE"})
    category, _ = DataCategory.objects.get_or_create(code="bench-contact", defaults={"name": "Contactgegevens"})
    subjects, _ = DataSubjectCategory.objects.get_or_create(code="bench-customers", defaults={"name": "Klanten"})
    if ProcessingActivity.objects.filter(controller=controller).count() < 60:
        for n in range(60):
            activity, _ = ProcessingActivity.objects.get_or_create(
                controller=controller, reference=f"BN-{n:02d}", defaults={"name": f"Verwerking {n}"}
            )
            Purpose.objects.get_or_create(activity=activity, description="Overeenkomst", legal_basis="contract")
            activity.data_categories.add(category)
            activity.data_subject_categories.add(subjects)
            recipient, _ = Recipient.objects.get_or_create(
                controller=controller, key=f"r-{n}", defaults={"name": f"Verwerker {n}", "kind": "processor"}
            )
            activity.recipients.add(recipient)
            RetentionRule.objects.get_or_create(
                activity=activity, trigger="contract_end", defaults={"duration_value": 7, "duration_unit": "years"}
            )
    activity = ProcessingActivity.objects.get(controller=controller, reference="BN-00")
    have = PersonalDataRecord.objects.filter(source_system=SOURCE).count()
    if have >= n_records:
        return
    print(f"seeding {n_records - have:,} records ...", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO subjects_datasubject (controller_id, key, identifiers, created_at)
            SELECT %s, 'bench-' || g, '{}'::jsonb, now() FROM generate_series(1, 100000) g
            ON CONFLICT DO NOTHING
            """,
            [controller.pk],
        )
        cursor.execute(
            """
            INSERT INTO subjects_personaldatarecord
                (subject_id, activity_id, data_category_id, source_system, external_id, payload,
                 collected_on, status, created_at, updated_at)
            SELECT s.id, %s, %s, %s, 'seed-' || g, jsonb_build_object('name', 'Person ' || g),
                   DATE '2020-01-01' + (g %% 1500), 'active', now(), now()
            FROM generate_series(%s, %s) g
            JOIN subjects_datasubject s ON s.controller_id = %s AND s.key = 'bench-' || (1 + g %% 100000)
            """,
            [activity.pk, category.pk, SOURCE, have + 1, n_records, controller.pk],
        )
        cursor.execute("ANALYZE subjects_personaldatarecord")
    print(f"seeded in {time.perf_counter() - started:.1f}s", flush=True)


def compare(client: Client, api: tuple[str, dict], bare: str, n: int) -> tuple[float, float]:
    """Requests/s of the API and of the bare view, measured in alternating rounds of 20 so that a change
    in the machine's load during the run weighs on both alike."""
    url, headers = api
    for _ in range(5):
        client.get(url, **headers)
        client.get(bare)
    spent = {"api": 0.0, "bare": 0.0}
    for _ in range(max(1, n // 20)):
        for side, (target, extra) in (("api", (url, headers)), ("bare", (bare, {}))):
            started = time.perf_counter()
            for _ in range(20):
                response = client.get(target, **extra)
            spent[side] += time.perf_counter() - started
            assert response.status_code == 200, (target, response.status_code, response.content[:200])
    done = max(1, n // 20) * 20
    return done / spent["api"], done / spent["bare"]


def latency(client: Client, url: str, n: int, **headers) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append(time.perf_counter() - started)
    assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def queries(client: Client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **headers).status_code == 200
    return len(captured.captured_queries)


def ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def cursor_after(record_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([record_id]).encode()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=at_least(0), default=1_000_000)
    parser.add_argument("--requests", type=at_least(1), default=300, help="requests per throughput figure")
    parser.add_argument("--batches", type=at_least(1), default=20, help="batches of 1,000 for the registration rate")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit(
            "Run on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/ropa_api_bench python bench/api.py"
        )

    call_command("migrate", verbosity=0)
    seed(args.records)
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    settings.ROPA_API_THROTTLE_RATE = "100000000/minute"
    controller = Controller.objects.get(key=CONTROLLER)
    system = api_token_issue(role="system", name="bench", controllers=[controller], source_system=SOURCE)[1]
    dpo = api_token_issue(role="dpo", name="bench")[1]
    as_system = {"HTTP_AUTHORIZATION": f"Token {system}"}
    as_dpo = {"HTTP_AUTHORIZATION": f"Token {dpo}"}
    client = Client()
    total = PersonalDataRecord.objects.count()
    print(f"PostgreSQL, {total:,} records, {ProcessingActivity.objects.count()} activities; in-process requests\n")

    api_records, bare_rec = compare(
        client, (f"/api/v1/records/?page_size={PAGE}", as_system), "/bare/records/", args.requests
    )
    api_activities, bare_act = compare(
        client, (f"/api/v1/processing-activities/?page_size={PAGE}", as_dpo), "/bare/activities/", args.requests
    )
    print("throughput, page of 50            API req/s   bare req/s   ratio   goal")
    print(f"  records{'':25}{api_records:9.0f}   {bare_rec:10.0f}   {api_records / bare_rec:5.2f}   >= 0.4")
    print(
        f"  processing activities (nested)  {api_activities:9.0f}   {bare_act:10.0f}   "
        f"{api_activities / bare_act:5.2f}   >= 0.4"
    )

    print("\nqueries per request               size 10   size 50   size 200")
    for label, url, headers in (
        ("  records", "/api/v1/records/?page_size={}", as_system),
        ("  processing activities", "/api/v1/processing-activities/?page_size={}", as_dpo),
    ):
        counts = [queries(client, url.format(size), **headers) for size in (10, 50, 200)]
        print(f"{label:<34}{counts[0]:7d}   {counts[1]:7d}   {counts[2]:8d}")

    # The cursor a client holds after reading 9,999 pages, or as many as there are before the last full page.
    ids = PersonalDataRecord.objects.filter(source_system=SOURCE).order_by("id").values_list("id", flat=True)
    skipped = max(0, min(9999, ids.count() // PAGE - 1))
    deep_url = f"/api/v1/records/?page_size={PAGE}"
    if skipped:
        deep_url += f"&cursor={cursor_after(ids[PAGE * skipped - 1])}"
    first = latency(client, f"/api/v1/records/?page_size={PAGE}", 50, **as_system)
    deep = latency(client, deep_url, 50, **as_system)
    deep_label = f"{skipped + 1:,}{ordinal(skipped + 1)} page"
    print(f"\nlatency (median of 50)            first page   {deep_label:>13}   ratio   goal")
    print(f"  records{'':25}{first * 1000:7.2f} ms   {deep * 1000:10.2f} ms   {deep / first:5.2f}   <= 1.5")

    run = int(time.time())
    bodies = [
        json.dumps(
            {
                "records": [
                    {
                        "external_id": f"bulk-{run}-{b}-{n}",
                        "subject": f"bench-{1 + (b * 1000 + n) % 100000}",
                        "activity": "BN-00",
                        "data_category": "bench-contact",
                        "payload": {"name": f"Person {n}"},
                        "collected_on": "2024-03-01",
                    }
                    for n in range(1000)
                ]
            }
        )
        for b in range(args.batches + 1)
    ]
    client.post("/api/v1/records/batch/", bodies[0], content_type="application/json", **as_system)  # warm-up
    started = time.perf_counter()
    for body in bodies[1:]:
        response = client.post("/api/v1/records/batch/", body, content_type="application/json", **as_system)
        assert response.status_code == 200 and response.json()["created"] == 1000, response.content[:300]
    elapsed = time.perf_counter() - started
    per_second = args.batches * 1000 / elapsed
    started = time.perf_counter()
    response = client.post("/api/v1/records/batch/", bodies[1], content_type="application/json", **as_system)
    retry = time.perf_counter() - started
    assert response.json()["created"] == 0
    print("\nbulk registration, batches of 1,000   records/s   goal")
    print(f"  new records ({args.batches} batches)            {per_second:9.0f}   >= 5000")
    print(f"  a batch sent again (creates nothing)  {1000 / retry:9.0f}")


if __name__ == "__main__":
    main()
