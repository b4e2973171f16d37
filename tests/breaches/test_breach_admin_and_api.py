"""The breach register in the admin (report, scope, assess, file, waive, close as buttons) and over the API
(a system token reports for its own controller, idempotently)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from retention.breaches.models import Breach
from retention.services import record_register
from tests.factories import DataSubjectFactory

pytestmark = pytest.mark.django_db


def test_a_dpo_takes_a_breach_from_report_to_closure_in_the_admin(dpo_client, world):
    record_register(
        subject=DataSubjectFactory(controller=world.a),
        activity=world.activity_a,
        data_category=world.category,
        source_system="crm",
        external_id="x-1",
        payload={"name": "Jan"},
        dates={"collected_on": dt.date(2026, 1, 1)},
    )
    aware = timezone.localtime() - dt.timedelta(hours=2)
    response = dpo_client.post(
        reverse("admin:breaches_breach_add"),
        {
            "controller": world.a.pk,
            "title": "Mailbox compromised",
            "aware_at_0": aware.date().isoformat(),
            "aware_at_1": aware.strftime("%H:%M:%S"),
            "natures": ["confidentiality"],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    breach = Breach.objects.get()
    page = dpo_client.get(reverse("admin:breaches_breach_change", args=[breach.pk])).content.decode()
    assert "2 days left" in page and "breach-assess" in page  # 70 hours to the 72-hour deadline

    def step(name, data):
        url = reverse("admin:breaches_breach_step", args=[breach.pk, name])
        response = dpo_client.post(url, data)
        assert response.status_code == 302, response.context["form"].errors
        breach.refresh_from_db()

    step("scope", {"source_systems": "crm"})
    assert breach.scopes.get().counts["records"] == 1
    step("assess", {"likelihood": 3, "severity": 3, "consequences": "Phishing"})
    assert breach.status == "assessed"
    page = dpo_client.get(reverse("admin:breaches_breach_change", args=[breach.pk])).content.decode()
    assert "breach-not-notifiable" not in page  # a risk: not offered
    refused = dpo_client.post(reverse("admin:breaches_breach_step", args=[breach.pk, "not-notifiable"]), {})
    assert "must be notified" in refused.content.decode()
    step(
        "file",
        {
            "phase": "initial",
            "filed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
            "channel": "APD/GBA portal",
            "reference": "DBN-1",
        },
    )
    assert breach.status == "notified"
    step("waive", {"waiver": "mitigated", "waiver_justification": "Passwords reset within the hour"})
    step("close", {})
    assert breach.status == "closed"
    listing = dpo_client.get(reverse("admin:breaches_breach_changelist")).content.decode()
    assert "Mailbox compromised" in listing
    assert dpo_client.post(reverse("admin:breaches_breach_delete", args=[breach.pk])).status_code == 403


def test_a_system_reports_a_breach_for_its_own_controller_once(world):
    system = world.api("system_a")
    body = {
        "title": "Suspicious export",
        "aware_at": timezone.now().isoformat(),
        "external_reference": "SIEM-77",
        "natures": ["confidentiality"],
    }
    first = system.post("breaches/", body)
    assert first.status_code == 201, first.json()
    again = system.post("breaches/", {**body, "title": "Again"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert first.json()["controller"] == "acme" and first.json()["reported_by"] == "crm"
    assert system.post("breaches/", {**body, "controller": "globex"}).status_code == 400
    assert (
        system.post("breaches/", {"title": "No reference", "aware_at": timezone.now().isoformat()}).status_code == 400
    )
    assert world.api("system_b").get(f"breaches/{first.json()['id']}/").status_code == 404
    assert world.api("auditor").get(f"breaches/{first.json()['id']}/").json()["status"] == "received"
    assert world.api("auditor").post("breaches/", body).status_code == 403


def test_the_counts_are_corrected_and_the_people_to_inform_downloaded_by_the_dpo_only(
    dpo_client, world, client, django_user_model
):
    from django.contrib.auth.models import Group

    from retention.breaches import services
    from ropa.access.groups import AUDITOR_GROUP
    from ropa.audit.models import AuditEvent

    subject = DataSubjectFactory(controller=world.a, key="p-7", identifiers={"email": "an@example.be"})
    record_register(
        subject=subject,
        activity=world.activity_a,
        data_category=world.category,
        source_system="crm",
        external_id="x-7",
        payload={"name": "An"},
        dates={"collected_on": dt.date(2026, 1, 1)},
    )
    breach, _ = services.breach_report(controller=world.a, title="Backup tape lost", aware_at=timezone.now())
    services.breach_scope_compute(breach=breach, criteria={})
    url = reverse("admin:breaches_breach_step", args=[breach.pk, "correct"])
    assert "correction_note" in dpo_client.post(url, {"subjects_min": 1, "subjects_max": 400}).context["form"].errors
    assert (
        dpo_client.post(
            url, {"subjects_min": 1, "subjects_max": 400, "correction_note": "The tape held older files"}
        ).status_code
        == 302
    )
    assert (breach.scopes.get().subjects_min, breach.scopes.get().subjects_max) == (1, 400)

    people = dpo_client.get(reverse("admin:breaches_breach_people", args=[breach.pk]))
    text = people.content.decode("utf-8-sig")
    assert people["Content-Type"].startswith("text/csv") and "p-7" in text and "email: an@example.be" in text
    event = AuditEvent.objects.get(action="export")
    assert "an@example.be" not in event.object_repr and str(breach.pk) in event.object_repr
    auditor = django_user_model.objects.create_user("aud", "aud@example.org", "x-long-password-1", is_staff=True)
    auditor.groups.add(Group.objects.get(name=AUDITOR_GROUP))
    client.force_login(auditor)
    assert client.get(reverse("admin:breaches_breach_people", args=[breach.pk])).status_code == 403


def test_the_list_offers_the_register_and_a_breach_its_summary(dpo_client, world):
    from retention.breaches import services

    breach, _ = services.breach_report(controller=world.a, title="Lost laptop", aware_at=timezone.now())
    listing = dpo_client.get(reverse("admin:breaches_breach_changelist")).content.decode()
    export = reverse("admin:breaches_breach_export")
    for fmt in ("xlsx", "csv", "pdf"):
        assert f"{export}?format={fmt}&amp;lang=en" in listing
    page = dpo_client.get(reverse("admin:breaches_breach_change", args=[breach.pk])).content.decode()
    summary = reverse("admin:breaches_breach_summary", args=[breach.pk])
    assert summary in page
    assert "Lost laptop" in dpo_client.get(summary + "?lang=nl").content.decode()
    csv = dpo_client.get(f"{export}?format=csv&lang=fr")
    assert csv.status_code == 200 and "Lost laptop" in b"".join(csv.streaming_content).decode("utf-8-sig")
