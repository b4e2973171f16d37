"""Lists a DPO reads at 1400 px: filters that offer only what occurs, evidence named as the register names
it (activity references, rule sentences), not by database ids."""

import pytest
from django.urls import reverse

from retention.services import retention_enforce
from tests.factories import ControllerFactory
from tests.support.records import NOW, RetentionWorld

pytestmark = pytest.mark.django_db


def test_the_controller_country_filter_offers_only_the_countries_in_use(dpo_client):
    ControllerFactory(name="Acme NV", country="BE")
    ControllerFactory(name="Globex BV", country="NL")
    url = reverse("admin:processing_controller_changelist")
    page = dpo_client.get(url).content.decode()
    assert "?country=BE" in page and "?country=NL" in page
    assert "?country=FR" not in page and "Afghanistan" not in page
    filtered = dpo_client.get(url, {"country": "NL"}).content.decode()
    assert "Globex BV" in filtered and "Acme NV" not in filtered


def test_tombstones_name_the_activity_the_category_and_the_rule_and_filter_only_erasing_actions(dpo_client):
    world = RetentionWorld()
    rule = world.rule(action="delete", grace_days=0)
    world.record()
    run = retention_enforce(now=NOW)
    assert run.deleted == 1
    page = dpo_client.get(reverse("admin:retention_tombstone_changelist")).content.decode()
    assert f'title="{world.activity.localized()}">{world.activity.reference}</span>' in page
    assert world.category.localized() in page
    assert rule.sentence() in page
    assert "?action=delete" in page and "?action=anonymise" in page and "?action=flag" not in page
    assert dpo_client.get(reverse("admin:retention_tombstone_changelist"), {"action": "anonymise"}).context[
        "cl"
    ].result_count == 0


def test_titles_and_the_audit_trail_show_moments_on_the_configured_clock(settings):
    """One clock: a run started at 18:57 UTC is "19:57" in Brussels, in its title and in the audit trail."""
    import datetime as dt

    from retention.models import RetentionRun
    from ropa.audit.models import AuditEvent

    assert settings.TIME_ZONE == "Europe/Brussels"
    started = dt.datetime(2026, 12, 4, 18, 57, tzinfo=dt.UTC)
    run = RetentionRun.objects.create(started_at=started, heartbeat_at=started, as_of=NOW)
    assert str(run).startswith("run 2026-12-04 19:57 ")
    assert AuditEvent.objects.filter(object_repr__startswith="run 2026-12-04 19:57").exists()


def test_the_admin_index_shows_the_dpo_s_apps_first_and_the_technical_ones_under_system(dpo_client):
    apps = dpo_client.get(reverse("admin:index")).context["app_list"]
    assert [app["app_label"] for app in apps] == ["processing", "retention", "subjects", "breaches", "audit", "system"]
    system = [model["object_name"] for model in apps[-1]["models"]]
    assert {"User", "Group", "AccessAttempt", "PeriodicTask", "ApiToken"} <= set(system)
    assert [str(model["name"]).casefold() for model in apps[-1]["models"]] == sorted(
        str(model["name"]).casefold() for model in apps[-1]["models"]
    )
    # An app's own page is as Django shows it.
    assert [app["app_label"] for app in dpo_client.get("/admin/axes/").context["app_list"]] == ["axes"]


def test_in_dutch_no_app_or_model_of_the_index_is_left_in_english(dpo_client):
    from django.utils import translation

    dpo_client.post(reverse("set_language"), {"language": "nl"})
    apps = dpo_client.get(reverse("admin:index")).context["app_list"]
    with translation.override("nl"):
        names = {str(apps[-1]["name"])} | {str(model["name"]) for app in apps for model in app["models"]}
    assert "Systeem" in names and "Aanmeldpogingen" in names
    english = {"Access attempts", "Access logs", "Periodic tasks", "System", "Authenticators", "User sessions"}
    assert not names & english, names & english
