"""docs/api-example.py, run as a separate process against a live server with only a system token: it
registers, updates, reads its erasure feed, confirms, and is refused everything else."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from retention.models import ErasureNotice
from retention.services import retention_enforce
from subjects.models import PersonalDataRecord

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "api-example.py"


@pytest.mark.django_db(transaction=True)
def test_example_client_against_a_live_server(live_server, world):
    api = world.api("system_a")
    old = [world.record(external_id=f"old-{n}", collected_on="2010-01-01") for n in range(2)]
    world.rule_a.trigger = "collection"
    world.rule_a.save()
    assert api.post("records/batch/", {"records": old}).json()["created"] == 2
    now = timezone.now()
    retention_enforce(now=now)
    retention_enforce(now=now + dt.timedelta(days=31))
    assert ErasureNotice.objects.filter(source_system="crm", confirmed_at__isnull=True).count() == 2

    run = subprocess.run(
        [sys.executable, str(SCRIPT), live_server.url, world.tokens["system_a"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "confirmed 2" in run.stdout
    assert "FAIL" not in run.stdout
    assert PersonalDataRecord.objects.filter(source_system="crm", external_id__startswith="example-").count() == 3
    assert not ErasureNotice.objects.filter(confirmed_at__isnull=True).exists()
