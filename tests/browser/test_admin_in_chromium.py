"""The DPO's and the auditor's admin in a real browser: dashboard, review queue, legal hold, Dutch, read-only."""

import datetime as dt
import os
import time

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from processing.models import Controller
from retention.models import LegalHold, RetentionRun
from retention.services import record_register, retention_enforce
from ropa.access.groups import AUDITOR_GROUP, DPO_GROUP
from ropa.access.models import UserProfile
from tests.auth import enrol_totp, totp_code
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


def _record_states():
    """Every record's (id, status), to show that a dry run changed none."""
    from subjects.models import PersonalDataRecord

    return PersonalDataRecord.objects.values_list("id", "status")


def _user(django_user_model, username, group):
    user = django_user_model.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _log_in(browser, live_server, username):
    """The admin's login sends to /accounts/login/: the password form."""
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/admin/login/")
    assert "/accounts/login/" in browser.current_url
    browser.find_element(By.NAME, "login").send_keys(username)
    password = browser.find_element(By.NAME, "password")
    password.send_keys(PASSWORD)
    password.find_element(By.XPATH, "./ancestor::form//button[@type='submit']").click()


def _submit_code(browser, code):
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.NAME, "code")
    field.clear()
    field.send_keys(code)
    field.find_element(By.XPATH, "./ancestor::form//button[@type='submit']").click()


def _wait_for_url(browser, fragment):
    """The page after a click: wait for the browser to get there (a click does not wait for the next page)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(lambda driver: fragment in driver.current_url)
    return True


def test_a_dpo_sets_up_an_authenticator_then_logs_in_with_password_and_code(
    browser, live_server, django_user_model, artefacts_dir
):
    from selenium.webdriver.common.by import By

    _user(django_user_model, "dpo-enrols", DPO_GROUP)
    _log_in(browser, live_server, "dpo-enrols")
    _wait_for_url(browser, "/accounts/2fa/totp/activate/")
    # No page before the second factor: the admin sends back to setting one up.
    browser.get(f"{live_server.url}/admin/")
    assert "/accounts/2fa/totp/activate/" in browser.current_url
    screenshot(browser, artefacts_dir / "mfa-set-up.png")
    secret = browser.find_element(By.ID, "authenticator_secret").get_attribute("value")
    used = totp_code(secret)
    _submit_code(browser, used)
    assert _wait_for_url(browser, "recovery")  # the recovery codes, shown once
    codes = browser.find_elements(By.CSS_SELECTOR, "#recovery_codes, .recovery-codes, textarea, pre, code")
    assert codes and any(len(element.text.split()) >= 10 for element in codes), browser.page_source[:2000]
    screenshot(browser, artefacts_dir / "mfa-recovery-codes.png")
    browser.get(f"{live_server.url}/admin/")
    assert browser.find_element(By.ID, "user-tools")

    # The next login asks for the code after the password; without it nothing opens.
    browser.delete_all_cookies()
    _log_in(browser, live_server, "dpo-enrols")
    assert _wait_for_url(browser, "/accounts/2fa/authenticate/")
    screenshot(browser, artefacts_dir / "mfa-code.png")
    for page in ("/admin/", "/admin/retention/review/", "/admin/processing/controller/"):
        browser.get(f"{live_server.url}{page}")
        assert browser.current_url.startswith(f"{live_server.url}/accounts/"), page  # the login, not the page
    browser.get(f"{live_server.url}/accounts/2fa/authenticate/")
    _submit_code(browser, "000000" if totp_code(secret) != "000000" else "111111")
    assert browser.find_element(By.CSS_SELECTOR, ".errorlist")  # a wrong code: refused, asked again
    assert "/accounts/2fa/authenticate/" in browser.current_url
    while totp_code(secret) == used:  # a code serves once: wait for the app's next one (at most 30 s)
        time.sleep(0.5)
    _submit_code(browser, totp_code(secret))
    assert _wait_for_url(browser, "/admin/")
    assert browser.find_element(By.ID, "ropa-dashboard") and browser.find_element(By.TAG_NAME, "h1").text == "Dashboard"


def test_dpo_reviews_the_dashboard_holds_a_record_and_switches_to_dutch(
    browser, live_server, django_user_model, register, artefacts_dir
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    dpo = _user(django_user_model, "dpo-browser", DPO_GROUP)
    secret = enrol_totp(dpo)
    _log_in(browser, live_server, "dpo-browser")
    _submit_code(browser, totp_code(secret))

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
    Select(browser.find_element(By.ID, "id_site_language")).select_by_value("nl")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    assert "Gemarkeerde records nakijken" in browser.find_element(By.TAG_NAME, "h1").text
    browser.get(f"{live_server.url}/admin/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Overzicht"
    assert "Gemarkeerde records, wachtend op wissing" in browser.find_element(By.ID, "ropa-dashboard").text
    assert "Verwerkingsactiviteiten" in browser.page_source
    screenshot(browser, artefacts_dir / "dashboard-nl.png")
    assert UserProfile.objects.get(user=dpo).language == "nl"


def _none_of(browser, by, selector) -> bool:
    """No such element on the loaded page, asked without the implicit wait (which a missing element would
    spend in full)."""
    browser.implicitly_wait(0)
    try:
        return not browser.find_elements(by, selector)
    finally:
        browser.implicitly_wait(5)


def test_auditor_finds_no_save_button_and_no_payload(browser, live_server, django_user_model, register, artefacts_dir):
    from selenium.webdriver.common.by import By

    _user(django_user_model, "auditor-browser", AUDITOR_GROUP)
    _log_in(browser, live_server, "auditor-browser")  # a second factor is optional for an auditor
    assert browser.find_element(By.ID, "user-tools")
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
        assert _none_of(browser, By.CSS_SELECTOR, "input[name=_save], input[name=_continue]"), page
        assert "Browser Person" not in browser.page_source, page
    browser.get(f"{live_server.url}/admin/retention/review/")
    assert _none_of(browser, By.ID, "id_action")  # nothing to act with
    screenshot(browser, artefacts_dir / "auditor-review-queue.png")


def _loaded_from(browser) -> set[str]:
    """The origins of every resource the page loaded (scripts, styles, fonts, images, the schema)."""
    from urllib.parse import urlsplit

    names = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {f"{urlsplit(name).scheme}://{urlsplit(name).netloc}" for name in names}


@pytest.mark.parametrize(
    ("path", "ready", "name"),
    [
        ("/api/v1/schema/redoc/", "h1", "api-redoc"),
        ("/api/v1/schema/swagger-ui/", ".swagger-ui .info .title", "api-swagger-ui"),
    ],
)
def test_the_api_reference_loads_from_the_app_alone_with_no_console_error(
    browser, live_server, django_user_model, artefacts_dir, path, ready, name
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    # The admin links to it.
    _user(django_user_model, "reader", AUDITOR_GROUP)
    _log_in(browser, live_server, "reader")
    _wait_for_url(browser, "/admin/")
    assert browser.find_element(By.LINK_TEXT, "API").get_attribute("href") == f"{live_server.url}/api/v1/schema/redoc/"
    browser.get_log("browser")  # what the admin logged is not this test's

    for width, height in ((1400, 900), (1920, 1080)):
        browser.set_window_size(width, height)
        browser.get(live_server.url + path)
        WebDriverWait(browser, 20).until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, ready)))
        assert "Register of processing activities API" in browser.find_element(By.CSS_SELECTOR, ready).text
        time.sleep(0.5)  # the last fonts and the icon
        assert _loaded_from(browser) == {live_server.url}
        icon = browser.find_element(By.CSS_SELECTOR, "link[rel~='icon']").get_attribute("href")
        assert icon.startswith(f"{live_server.url}/static/")
        problems = [entry["message"] for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
        assert problems == [], problems
        browser.save_screenshot(str(artefacts_dir / f"{name}-{width}.png"))
    browser.set_window_size(1400, 1000)


def _switch_language(browser, language):
    """The language picker in the header, as a user switches: the page reloads in that language."""
    from selenium.webdriver.support.ui import Select, WebDriverWait

    if browser.find_element("tag name", "html").get_attribute("lang") == language:
        return
    Select(browser.find_element("id", "id_site_language")).select_by_value(language)
    WebDriverWait(browser, 15).until(
        lambda driver: driver.find_element("tag name", "html").get_attribute("lang") == language
    )


def _log_in_dpo(browser, live_server, django_user_model, username):
    _user(django_user_model, username, DPO_GROUP)
    secret = enrol_totp(django_user_model.objects.get(username=username))
    _log_in(browser, live_server, username)
    _submit_code(browser, totp_code(secret))
    _wait_for_url(browser, "/admin/")


DRY_RUN = {
    "en": ("Dry run of the sweep now", "A dry run of the sweep is queued"),
    "nl": ("Nu een proefdraai van de opruimronde", "Een proefdraai van de opruimronde staat in de wachtrij"),
    "fr": ("Simuler un passage maintenant", "Une simulation du passage est en file d'attente"),
}


def test_the_dpo_runs_a_dry_run_of_the_sweep_from_the_runs_list(
    browser, live_server, django_user_model, register, artefacts_dir
):
    """The button queues the sweep's task (it runs inline in the test server here; a worker takes it in
    ./dev run): its run shows as a dry run, and no record changed. In each language, at two widths."""
    from selenium.webdriver.common.by import By

    from ropa.celery import app

    _log_in_dpo(browser, live_server, django_user_model, "dpo-dry-run")
    states = set(_record_states())
    app.conf.task_always_eager = True
    try:
        for language, (button, queued) in DRY_RUN.items():
            for width, height in ((1400, 900), (1920, 1080)):
                browser.set_window_size(width, height)
                browser.get(f"{live_server.url}/admin/retention/retentionrun/")
                _switch_language(browser, language)
                browser.find_element(By.XPATH, f'//button[normalize-space()="{button}"]').click()
                assert queued in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
                rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
                assert len(rows) == RetentionRun.objects.count() >= 2
                browser.save_screenshot(str(artefacts_dir / f"runs-dry-run-{language}-{width}.png"))
    finally:
        app.conf.task_always_eager = False
        browser.set_window_size(1400, 1000)
    latest = RetentionRun.objects.order_by("-pk").first()
    assert latest.dry_run and latest.origin == "admin" and latest.flagged == 0  # the two are flagged already
    assert set(_record_states()) == states


# The lists a DPO and an auditor read most: the register, its rules, the records and the evidence.
LISTS = (
    "processing/controller",
    "processing/processingactivity",
    "retention/retentionrule",
    "subjects/personaldatarecord",
    "retention/tombstone",
    "retention/retentionrun",
    "audit/auditevent",
)


def test_a_trial_register_s_lists_read_without_scrolling_sideways(
    browser, live_server, django_user_model, artefacts_dir, settings
):
    """The five statements and ``load_demo``'s records, tombstones and runs: each list fits 1400 and 1920 px,
    in each language."""
    from selenium.webdriver.common.by import By

    call_command("load_statements", verbosity=0)
    settings.DEBUG = True
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    settings.DEBUG = False
    _log_in_dpo(browser, live_server, django_user_model, "dpo-lists")
    sideways = {}
    try:
        for language in ("en", "nl", "fr"):
            for name in LISTS:
                for width, height in ((1400, 900), (1920, 1080)):
                    browser.set_window_size(width, height)
                    browser.get(f"{live_server.url}/admin/{name}/")
                    _switch_language(browser, language)
                    results = browser.find_element(By.CSS_SELECTOR, "#changelist .results")
                    assert browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
                    shot = f"{name.replace('/', '-')}-list-{language}-{width}.png"
                    browser.save_screenshot(str(artefacts_dir / shot))
                    overflow = browser.execute_script(
                        "return arguments[0].scrollWidth - arguments[0].clientWidth", results
                    )
                    if overflow > 0:
                        sideways[f"{name} at {width} px in {language}"] = overflow
    finally:
        browser.set_window_size(1400, 1000)
    assert sideways == {}, f"these lists scroll sideways (px): {sideways}"


DUE_TODAY = {
    "en": "Due today: answer the request today.",
    "nl": "Vandaag te beantwoorden: beantwoord het verzoek vandaag.",
    "fr": "Échéance aujourd'hui : répondez à la demande aujourd'hui.",
}


def test_a_request_due_today_says_so_as_a_warning_and_its_buttons_leave_the_title_alone(
    browser, live_server, django_user_model, artefacts_dir
):
    from selenium.webdriver.common.by import By

    from subjects.models import DataSubjectRequest
    from subjects.services import dsr_receive

    subject = DataSubjectFactory()
    request = dsr_receive(controller=subject.controller, subject=subject, type="erasure")
    DataSubjectRequest.objects.filter(pk=request.pk).update(due_on=timezone.localdate())
    _log_in_dpo(browser, live_server, django_user_model, "dpo-request")
    for language, warning in DUE_TODAY.items():
        for width, height in ((1400, 900), (1920, 1080)):
            browser.set_window_size(width, height)
            browser.get(f"{live_server.url}/admin/subjects/datasubjectrequest/{request.pk}/change/")
            _switch_language(browser, language)
            shown = browser.find_element(By.CSS_SELECTOR, ".request-deadline li.warning")
            assert shown.text == warning and shown.is_displayed()
            overlap = browser.execute_script(
                """const a = document.querySelector('#content h1, #content h2').getBoundingClientRect();
                   const b = document.querySelector('.object-tools').getBoundingClientRect();
                   return !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);"""
            )
            browser.save_screenshot(str(artefacts_dir / f"request-due-today-{language}-{width}.png"))
            assert not overlap, f"the request's buttons cover its title at {width} px in {language}"
    browser.set_window_size(1400, 1000)


REQUEST_FLOW = {
    "en": ("Identity verified", "Complete (execute)", "records will be erased.", "records erased."),
    "nl": ("Identiteit geverifieerd", "Afhandelen (uitvoeren)", "records worden gewist.", "records gewist."),
    "fr": ("Identité vérifiée", "Terminer (exécuter)", "enregistrements seront effacés.", "enregistrements effacés."),
}


def test_an_erasure_request_flows_from_filing_by_identifier_to_a_read_only_outcome(
    browser, live_server, django_user_model, artefacts_dir
):
    """File by typing the person's e-mail (the controller's people offered), verify, read the preview of
    what is erased and kept and why, confirm, read the outcome as sentences on a page with no save button:
    in each language, at 1400 px (the preview also at 1920)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from subjects.models import DataSubjectRequest, PersonalDataRecord

    activity = ProcessingActivityFactory(
        reference="VK-91", name="Klantendienst", name_en="Customer service", name_fr="Service clientèle"
    )
    invoices = DataCategoryFactory(code="browser-invoices", name="Facturen", name_en="Invoices", name_fr="Factures")
    contact = DataCategoryFactory(code="browser-contact", name="Contact", name_en="Contact", name_fr="Contact")
    RetentionRuleFactory(
        activity=activity,
        data_category=invoices,
        trigger="collection",
        duration_value=7,
        duration_unit="years",
        statutory=True,
        legal_reference="Art. 60 WBTW",
    )
    RetentionRuleFactory(activity=activity, trigger="collection", duration_value=2, duration_unit="years")
    people = {}
    for language in REQUEST_FLOW:
        person = DataSubjectFactory(controller=activity.controller, identifiers={"email": f"{language}@example.be"})
        for category, external_id in ((invoices, "INV"), (contact, "C1"), (contact, "C2")):
            record_register(
                subject=person,
                activity=activity,
                data_category=category,
                source_system="billing",
                external_id=f"{language}-{external_id}",
                payload={"name": f"Person {language}"},
                dates={"collected_on": timezone.localdate() - dt.timedelta(days=30)},
            )
        people[language] = person
    _log_in_dpo(browser, live_server, django_user_model, "dpo-request-flow")
    browser.set_window_size(1400, 900)
    try:
        for language, (verify, complete, will, done) in REQUEST_FLOW.items():
            browser.get(f"{live_server.url}/admin/subjects/datasubjectrequest/add/")
            _switch_language(browser, language)
            Select(browser.find_element(By.ID, "id_controller")).select_by_value(str(activity.controller.pk))
            browser.find_element(By.ID, "id_person").send_keys(f"{language}@exam")
            WebDriverWait(browser, 10).until(
                lambda driver: driver.execute_script(
                    "return document.querySelectorAll('#person-choices option').length"
                )
            )
            offered = browser.execute_script(
                "return [...document.querySelectorAll('#person-choices option')].map(o => o.value)"
            )
            assert offered == [people[language].key]
            browser.find_element(By.ID, "id_person").send_keys("ple.be")
            Select(browser.find_element(By.ID, "id_type")).select_by_value("erasure")
            browser.save_screenshot(str(artefacts_dir / f"request-file-{language}.png"))
            browser.find_element(By.NAME, "_save").click()
            _wait_for_url(browser, "/change/")
            request = DataSubjectRequest.objects.get(subject=people[language])
            assert request.language == language  # the DPO's language by default
            assert browser.find_elements(By.CSS_SELECTOR, ".request-notices li.warning")  # verify first

            button = browser.find_element(By.CSS_SELECTOR, "a.request-identity-verify")
            assert button.get_attribute("textContent").strip() == verify
            button.click()
            browser.find_element(By.CSS_SELECTOR, "#request-action-form input[type=submit]").click()
            _wait_for_url(browser, "/change/")
            button = browser.find_element(By.CSS_SELECTOR, "a.request-complete")
            assert button.get_attribute("textContent").strip() == complete
            button.click()
            preview = browser.find_element(By.CSS_SELECTOR, ".request-preview")
            assert will in preview.text and "WBTW" in preview.text
            assert browser.find_element(By.CSS_SELECTOR, ".request-preview .errornote").is_displayed()
            assert not _none_of(browser, By.ID, "id_confirm") and _none_of(browser, By.ID, "id_fields_rectified")
            browser.save_screenshot(str(artefacts_dir / f"request-erasure-preview-{language}-1400.png"))
            browser.set_window_size(1920, 1080)
            browser.save_screenshot(str(artefacts_dir / f"request-erasure-preview-{language}-1920.png"))
            browser.set_window_size(1400, 900)
            browser.find_element(By.ID, "id_confirm").click()
            browser.find_element(By.CSS_SELECTOR, "#request-action-form input[type=submit]").click()
            _wait_for_url(browser, "/change/")
            outcome = browser.find_element(By.CSS_SELECTOR, "ul.request-outcome")
            assert outcome.text.splitlines()[0] == f"2 {done}"
            assert "{" not in outcome.text and _none_of(browser, By.NAME, "_save")
            browser.save_screenshot(str(artefacts_dir / f"request-erased-{language}.png"))
            kept = PersonalDataRecord.objects.filter(subject=people[language])
            assert [r.external_id for r in kept] == [f"{language}-INV"]  # the statutory minimum
    finally:
        browser.set_window_size(1400, 1000)


BREACH_STEPS = {
    "en": ("Assess the risk", "Notify the authority"),
    "nl": ("Risico beoordelen", "Melden aan de autoriteit"),
    "fr": ("Évaluer le risque", "Notifier l'autorité"),
}


def test_a_breach_reads_in_three_languages_with_its_clock_and_steps(
    browser, live_server, django_user_model, artefacts_dir
):
    """A reported breach: its list with the time left to notify, its page with the clock and its steps,
    assessed from the admin; in each language at 1400 px."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from retention.breaches.services import breach_report

    activity = ProcessingActivityFactory(reference="VK-92")
    breach, _ = breach_report(
        controller=activity.controller,
        title="Mailbox compromised",
        aware_at=timezone.now() - dt.timedelta(hours=60),
        natures=["confidentiality"],
    )
    _log_in_dpo(browser, live_server, django_user_model, "dpo-breach")
    browser.set_window_size(1400, 900)
    try:
        for language, (assess, notify) in BREACH_STEPS.items():
            browser.get(f"{live_server.url}/admin/breaches/breach/")
            _switch_language(browser, language)
            assert browser.find_element(By.CSS_SELECTOR, "#result_list strong.due").is_displayed()  # < 24 h left
            browser.save_screenshot(str(artefacts_dir / f"breach-list-{language}.png"))
            browser.get(f"{live_server.url}/admin/breaches/breach/{breach.pk}/change/")
            assert browser.find_element(By.CSS_SELECTOR, ".breach-clock li.warning").is_displayed()
            button = browser.find_element(By.CSS_SELECTOR, "a.breach-assess")
            assert button.get_attribute("textContent").strip() == assess
            browser.save_screenshot(str(artefacts_dir / f"breach-page-{language}.png"))
            button.click()
            Select(browser.find_element(By.ID, "id_likelihood")).select_by_value("2")
            Select(browser.find_element(By.ID, "id_severity")).select_by_value("3")
            browser.find_element(By.CSS_SELECTOR, "#breach-step-form input[type=submit]").click()
            _wait_for_url(browser, "/change/")
            assert browser.find_element(By.CSS_SELECTOR, "a.breach-file").get_attribute("textContent").strip() == notify
        assert breach.assessments.count() == 3

        # The rest of the flow, in English: scope, Part 1, Part 2, the communication, informed, closed.
        _switch_language(browser, "en")

        def step(name, fill=None):
            browser.get(f"{live_server.url}/admin/breaches/breach/{breach.pk}/change/")
            browser.find_element(By.CSS_SELECTOR, f"a.breach-{name}").click()
            if fill:
                fill()
            browser.save_screenshot(str(artefacts_dir / f"breach-step-{name}.png"))
            browser.find_element(By.CSS_SELECTOR, "#breach-step-form input[type=submit]").click()
            _wait_for_url(browser, "/change/")
            assert browser.find_element(By.CSS_SELECTOR, ".messagelist .success").is_displayed(), name

        def part(phase, reference):
            def fill():
                Select(browser.find_element(By.ID, "id_phase")).select_by_value(phase)
                browser.find_element(By.ID, "id_reference").send_keys(reference)

            return fill

        step("scope")
        step("file", part("initial", "DBN-2026-0042"))
        step("file", part("complementary", ""))
        step("communication")  # the English draft, as it is
        step("informed", lambda: Select(browser.find_element(By.ID, "id_method")).select_by_value("email"))
        step("close")
        breach.refresh_from_db()
        assert breach.status == "closed" and breach.filings.count() == 2
        assert "Mailbox" not in breach.communications.get().text  # built from the facts, not the title
        browser.save_screenshot(str(artefacts_dir / "breach-closed.png"))
    finally:
        browser.set_window_size(1400, 1000)
