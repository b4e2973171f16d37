"""The DPO's and the auditor's admin in a real browser: dashboard, review queue, legal hold, Dutch, read-only."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from processing.models import Controller
from retention.models import LegalHold
from retention.services import record_register, retention_enforce
from ropa.access.groups import AUDITOR_GROUP, DPO_GROUP
from ropa.access.models import UserProfile
from tests.factories import (
    DataCategoryFactory,
    DataSubjectFactory,
    ProcessingActivityFactory,
    RetentionRuleFactory,
)

from .conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-browser-password"


@pytest.fixture
def register():
    """The five statements, and records of one activity: two flagged for erasure, others due within the year."""
    call_command("load_statements", verbosity=0)
    activity = ProcessingActivityFactory(
        controller=Controller.objects.get(key="voiceking"),
        reference="VK-90",
        name="Nieuwsbrief",
        name_en="Newsletter",
        name_fr="Lettre d'information",
    )
    RetentionRuleFactory(
        activity=activity, trigger="collection", duration_value=1, duration_unit="years", action="delete", grace_days=30
    )
    category = DataCategoryFactory(name="Contactgegevens", name_en="Contact details")
    today = timezone.localdate()
    ages = [400, 380] + [365 - 20 * month - 5 for month in range(12) for _ in range(month % 4 + 1)]
    for n, age in enumerate(ages):
        record_register(
            subject=DataSubjectFactory(controller=activity.controller),
            activity=activity,
            data_category=category,
            source_system="crm",
            external_id=f"B-{n}",
            payload={"name": f"Browser Person {n}"},
            dates={"collected_on": today - dt.timedelta(days=age)},
        )
    retention_enforce(now=timezone.now())
    return activity


def _user(django_user_model, username, group):
    user = django_user_model.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _log_in(browser, live_server, username):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.find_element(By.ID, "user-tools")


def test_dpo_reviews_the_dashboard_holds_a_record_and_switches_to_dutch(
    browser, live_server, django_user_model, register, artefacts_dir
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    dpo = _user(django_user_model, "dpo-browser", DPO_GROUP)
    _log_in(browser, live_server, "dpo-browser")

    # The dashboard: one column per controller of the five statements, figures that link on.
    dashboard = browser.find_element(By.ID, "ropa-dashboard")
    headers = [th.text for th in dashboard.find_elements(By.CSS_SELECTOR, "thead th.controller")]
    assert sorted(headers) == sorted(Controller.objects.values_list("name", flat=True))
    assert len(headers) == 6  # five statements; CodaBox and Isabel are two controllers
    assert browser.find_element(By.TAG_NAME, "h1").text == "Dashboard"
    assert "Records flagged, awaiting erasure" in dashboard.text
    assert len(dashboard.find_elements(By.CSS_SELECTOR, "svg rect")) == 12
    screenshot(browser, artefacts_dir / "dashboard.png")

    # The review queue, from the dashboard; no payload anywhere.
    dashboard.find_element(By.LINK_TEXT, "Review flagged records").click()
    assert "Review flagged records" in browser.find_element(By.TAG_NAME, "h1").text
    assert "Browser Person" not in browser.page_source
    group = browser.find_element(By.CSS_SELECTOR, ".review-group")
    assert "2 flagged records" in group.text and register.reference in group.text
    screenshot(browser, artefacts_dir / "review-queue.png")

    # Place a legal hold on one record: tick it, choose the action, give the reason, confirm.
    record_box = group.find_element(By.CSS_SELECTOR, "input[name=record]")
    record_id = int(record_box.get_attribute("value"))
    record_box.click()
    Select(browser.find_element(By.ID, "id_action")).select_by_value("hold")
    browser.find_element(By.CSS_SELECTOR, "button[name=review]").click()
    browser.find_element(By.NAME, "reason").send_keys("Dispute with the customer, file 2026/114")
    screenshot(browser, artefacts_dir / "review-confirm.png")
    browser.find_element(By.CSS_SELECTOR, ".submit-row input[type=submit]").click()
    assert "1 legal hold(s) placed." in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    hold = LegalHold.objects.get(record_id=record_id)
    assert hold.placed_by == dpo and hold.reason.startswith("Dispute")

    # Switch to Dutch in the header: the interface and the dates follow, and the choice is remembered.
    Select(browser.find_element(By.ID, "id_language")).select_by_value("nl")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    assert "Gemarkeerde records nakijken" in browser.find_element(By.TAG_NAME, "h1").text
    browser.get(f"{live_server.url}/admin/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Overzicht"
    assert "Gemarkeerde records, wachtend op wissing" in browser.find_element(By.ID, "ropa-dashboard").text
    assert "Verwerkingsactiviteiten" in browser.page_source
    screenshot(browser, artefacts_dir / "dashboard-nl.png")
    assert UserProfile.objects.get(user=dpo).language == "nl"


def test_auditor_finds_no_save_button_and_no_payload(browser, live_server, django_user_model, register, artefacts_dir):
    from selenium.webdriver.common.by import By

    _user(django_user_model, "auditor-browser", AUDITOR_GROUP)
    _log_in(browser, live_server, "auditor-browser")
    controller = Controller.objects.get(key="voiceking")
    record = register.personal_data_records.order_by("pk").first()
    pages = [
        f"/admin/processing/controller/{controller.pk}/change/",
        f"/admin/processing/processingactivity/{register.pk}/change/",
        f"/admin/subjects/personaldatarecord/{record.pk}/change/",
        "/admin/retention/legalhold/",
    ]
    for page in pages:
        browser.get(live_server.url + page)
        assert browser.find_elements(By.ID, "content-main"), page
        assert not browser.find_elements(By.CSS_SELECTOR, "input[name=_save], input[name=_continue]"), page
        assert "Browser Person" not in browser.page_source, page
    browser.get(f"{live_server.url}/admin/retention/review/")
    assert not browser.find_elements(By.ID, "id_action")  # nothing to act with
    screenshot(browser, artefacts_dir / "auditor-review-queue.png")
