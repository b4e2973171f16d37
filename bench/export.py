#!/usr/bin/env python
"""Benchmark: the register exports (XLSX, PDF, CSV, JSON) on a synthetic register of 1,000 activities.

    python bench/export.py [--activities 1000] [--small 250]

Builds, in a scratch SQLite database of its own (or, with DATABASE_URL set, a PostgreSQL database
``ropa_bench_export``), two controllers: one with ``--activities`` activities and one with ``--small``,
each activity with purposes, data categories, subjects, recipients (some outside the EEA), measures,
retention rules and source quotes, all written through the ORM so that the version history exists too.
Then, each in a fresh process, it exports each controller in each format and prints:

- seconds, against the goal (XLSX <= 5 s, PDF <= 15 s, JSON and CSV <= 2 s) and as a ratio to a baseline
  run in the same process: reading the register's rows (``register_rows``) without writing a file;
- the peak memory the export added to the process (resident set, after imports and a warm-up) and the
  file size, for both register sizes: memory must not grow with the register beyond the file itself;
- the XLSX as of today, rebuilt from the version history.
"""

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import at_least  # noqa: E402

GOALS = {"xlsx": 5.0, "pdf": 15.0, "json": 2.0, "csv": 2.0}
BENCH_DB = "ropa_bench_export"


def child_env(var_dir: str) -> dict:
    # Production settings: DEBUG would keep every query's SQL in memory.
    env = {
        **os.environ,
        "ROPA_VAR_DIR": var_dir,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "memory://"),
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{BENCH_DB}"))
    return env


def recreate_postgres() -> None:
    import psycopg

    url = urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def run_child(args: list[str], env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ropa.settings")
    import django

    django.setup()


def build(sizes: dict[str, int]) -> dict:
    """The synthetic register: vocabularies shared, one controller per size."""
    from django.core.management import call_command
    from django.db import transaction

    from processing.models import (
        Controller,
        DataCategory,
        DataSubjectCategory,
        ProcessingActivity,
        Purpose,
        Recipient,
        SecurityMeasure,
        Source,
    )
    from retention.models import RetentionRule

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with transaction.atomic():
        categories = [
            DataCategory.objects.create(
                code=f"category-{n}",
                name=f"Gegevenscategorie {n}",
                name_en=f"Data category {n}",
                description="naam, voornaam, adres, telefoonnummer, e-mailadres" if n % 3 == 0 else "",
                special_category=n in (7, 13),
            )
            for n in range(20)
        ]
        subjects = [
            DataSubjectCategory.objects.create(code=f"subjects-{n}", name=f"Betrokkenen {n}", name_en=f"Subjects {n}")
            for n in range(10)
        ]
        measures = [
            SecurityMeasure.objects.create(
                code=f"measure-{n}", name=f"Beveiligingsmaatregel {n}", kind="technical" if n % 2 else "organisational"
            )
            for n in range(15)
        ]
        for key, size in sizes.items():
            controller = Controller.objects.create(
                key=key,
                name=f"Bench {key} NV",
                enterprise_number="BE0653.989.638",
                address="Wetstraat 1, 1000 Brussel",
                country="BE",
                email="privacy@example.be",
                phone="+32 2 000 00 00",
                supervisory_authority="Gegevensbeschermingsautoriteit",
            )
            recipients = [
                Recipient.objects.create(
                    controller=controller,
                    key=f"recipient-{n}",
                    name=f"Ontvanger {n}",
                    name_en=f"Recipient {n}",
                    kind=["processor", "internal", "public_authority", "independent_controller"][n % 4],
                    country=["BE", "NL", "US", "IN", "FR"][n % 5],
                    safeguard={2: "scc", 3: "adequacy"}.get(n % 5, ""),
                )
                for n in range(30)
            ]
            for n in range(size):
                activity = ProcessingActivity.objects.create(
                    controller=controller,
                    reference=f"{key[:2].upper()}-{n:04d}",
                    name=f"Verwerking {n}: klantenbeheer, facturatie en opvolging van bestellingen",
                    name_en=f"Processing {n}: customer management, invoicing and order follow-up",
                    business_process=["Verkoop", "HR", "Boekhouding", "IT"][n % 4],
                    owner="Afdelingshoofd",
                    data_source="De betrokkene zelf",
                )
                for p in range(2 + n % 2):
                    Purpose.objects.create(
                        activity=activity,
                        description=f"Doeleinde {p} van verwerking {n}: uitvoering van de overeenkomst, klantendienst",
                        description_en=f"Purpose {p} of processing {n}: performing the contract and customer service",
                        legal_basis=["contract", "legal_obligation", "legitimate_interests"][p % 3],
                        legitimate_interest="Direct marketing aan bestaande klanten" if p % 3 == 2 else "",
                        position=p,
                    )
                chosen = [categories[(n + k) % 20] for k in range(4) if not categories[(n + k) % 20].special_category]
                activity.data_categories.set(chosen)
                activity.data_subject_categories.set([subjects[n % 10], subjects[(n + 3) % 10]])
                activity.recipients.set([recipients[(n + k) % 30] for k in range(3)])
                activity.security_measures.set([measures[(n + k) % 15] for k in range(4)])
                for r, (value, unit, trigger) in enumerate([(10, "years", "contract_end"), (3, "years", "inactivity")]):
                    RetentionRule.objects.create(
                        activity=activity,
                        duration_value=value,
                        duration_unit=unit,
                        trigger=trigger,
                        action="delete",
                        statutory=r == 0,
                        legal_reference="art. 60 WBTW" if r == 0 else "",
                        position=r,
                    )
                for q in range(3):
                    Source.objects.create(
                        activity=activity,
                        statement="bench.txt",
                        quote=f"Wij bewaren uw gegevens {q} zolang dat nodig is voor de verwerking {n} en de wet.",
                        position=q,
                    )
    return {"built_seconds": round(time.perf_counter() - started, 1)}


def measure(fmt: str, controller: str, as_of: str | None) -> dict:
    """In this process: warm up, take a baseline (rows only), then the export; time and peak memory."""
    from django.utils import timezone

    from ropa.register import export_register
    from ropa.register.columns import register_rows
    from ropa.register.snapshot import register_snapshot

    as_of = timezone.localdate().isoformat() if as_of == "today" else as_of
    export_register(fmt=fmt, controller="warmup").close()  # imports, fonts, templates, query plans

    started = time.perf_counter()
    rows = sum(1 for _ in register_rows(register_snapshot(controller=controller, as_of=as_of), language="nl"))
    baseline = time.perf_counter() - started

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with export_register(fmt=fmt, controller=controller, as_of=as_of, lang="nl") as export:
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = export.size
    return {
        "format": fmt,
        "activities": rows,
        "seconds": seconds,
        "baseline": baseline,
        "peak_growth_mb": (peak - before) / 1024,
        "file_mb": size / 1024 / 1024,
    }


def activities_ratio(large: int, small: int) -> str:
    return f"{large / small:.0f}x the activities" if small else f"{large} vs {small} activities"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activities", type=at_least(0), default=1000)
    parser.add_argument("--small", type=at_least(0), default=250)
    parser.add_argument("--formats", default="xlsx,pdf,csv,json")
    parser.add_argument("--child", choices=["build", "measure"])
    parser.add_argument("--fmt")
    parser.add_argument("--controller")
    parser.add_argument("--as-of")
    args = parser.parse_args()

    if args.child:
        django_setup()
        if args.child == "build":
            result = build({"large": args.activities, "small": args.small, "warmup": 2})
        else:
            result = measure(args.fmt, args.controller, args.as_of)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="ropa-bench-export-") as var_dir:
        env = child_env(var_dir)
        if os.environ.get("DATABASE_URL"):
            recreate_postgres()
        database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
        print(f"Building a register of {args.activities} + {args.small} activities on {database} ...", flush=True)
        built = run_child(["--child", "build", "--activities", str(args.activities), "--small", str(args.small)], env)
        print(f"  built in {built['built_seconds']} s")
        header = "".join(
            f"{title:{align}{width}}"
            for title, align, width in [
                ("format", "<", 12),
                ("activities", ">", 11),
                ("seconds", ">", 9),
                ("goal", ">", 7),
                ("vs rows", ">", 9),
                ("peak +MB", ">", 10),
                ("file MB", ">", 9),
            ]
        )
        print(header)
        print("-" * len(header))
        results = {}
        cases = [(fmt, key, None) for fmt in args.formats.split(",") for key in ("small", "large")]
        cases.append(("xlsx", "large", "today"))
        for fmt, key, as_of in cases:
            extra = ["--as-of", as_of] if as_of else []
            result = run_child(["--child", "measure", "--fmt", fmt, "--controller", key, *extra], env)
            results[fmt, key, as_of] = result
            goal = GOALS[fmt] if key == "large" else None
            verdict = "" if goal is None else ("  ok" if result["seconds"] <= goal else "  OVER GOAL")
            label = fmt + (" as-of" if as_of else "")
            print(
                f"{label:<12}{result['activities']:>11}{result['seconds']:>9.2f}"
                f"{(f'{goal:.0f}' if goal else '-'):>7}{result['seconds'] / max(result['baseline'], 1e-6):>8.1f}x"
                f"{result['peak_growth_mb']:>10.1f}{result['file_mb']:>9.2f}{verdict}",
                flush=True,
            )
        print()
        print("Memory against register size (large / small): peak growth vs file size")
        for fmt in args.formats.split(","):
            small, large = results[fmt, "small", None], results[fmt, "large", None]
            print(
                f"  {fmt:<5} peak +{small['peak_growth_mb']:.1f} -> +{large['peak_growth_mb']:.1f} MB"
                f"  (file {small['file_mb']:.2f} -> {large['file_mb']:.2f} MB,"
                f" {activities_ratio(large['activities'], small['activities'])})"
            )


if __name__ == "__main__":
    main()
