"""Saving an admin page without editing it changes nothing: a browser sends every textarea back with CRLF
line ends, and the admin reads them as the LF the register stores, so that the audit trail and the
version history record no change the DPO did not make. The forms are read from the rendered page and
posted back as a browser would."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from processing.models import Controller, ProcessingActivity, Purpose
from retention.models import RetentionRule
from ropa.audit.models import AuditEvent
from tests.factories import (
    ControllerFactory,
    PurposeFactory,
    RetentionRuleFactory,
)

pytestmark = pytest.mark.django_db

QUOTE = "Wij bewaren uw gegevens\n10 jaar na het einde van het contract,\nzoals de wet het vraagt."


class BrowserForm(HTMLParser):
    """The fields of the page's change form, as a browser would submit them unedited: textareas with
    CRLF line ends (the HTML standard's form submission), checked boxes, selected options."""

    def __init__(self):
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text = ""
        self._select: tuple[str, bool] | None = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""
        elif tag == "select" and name:
            self._select = (name, "multiple" in attrs)
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.append((self._select[0], attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            text = self._text[1:] if self._text.startswith("\n") else self._text  # HTML drops one leading newline
            self.data.append((self._textarea, text.replace("\r\n", "\n").replace("\n", "\r\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data


def post_unchanged(client, url: str):
    page = client.get(url)
    assert page.status_code == 200
    form = BrowserForm()
    form.feed(page.content.decode())
    assert any("\r\n" in value for _, value in form.data), "the page has no multi-line text to send back"
    body: dict[str, list[str]] = {}
    for name, value in form.data:
        body.setdefault(name, []).append(value)
    body["_save"] = ["Save"]
    return client.post(url, body)


@pytest.fixture
def register(db):
    controller = ControllerFactory(key="acme", address="Engelse Wandeling 2\n8500 Kortrijk", source_quote=QUOTE)
    activity = controller.activities.create(
        reference="A-01",
        name="Klantenbeheer",
        name_en="Customer management",
        description="Eerste regel.\nTweede regel.",
        data_source="Van de klant zelf,\nof van zijn werkgever.",
    )
    PurposeFactory(activity=activity, description="Het contract\nuitvoeren.")
    rule = RetentionRuleFactory(
        activity=activity,
        trigger="contract_end",
        duration_value=10,
        duration_unit="years",
        note="Boekhoudwet,\nart. III.88.",
        source_quote=QUOTE,
    )
    return controller, activity, rule


def stored(model, pk) -> dict:
    """The row and, for an activity, its purposes and rules, as stored; the moment of the save aside."""
    row = model.objects.filter(pk=pk).values().get()
    row.pop("updated_at", None)
    if model is ProcessingActivity:
        row["purposes"] = list(Purpose.objects.filter(activity_id=pk).order_by("pk").values())
        row["rules"] = list(RetentionRule.objects.filter(activity_id=pk).order_by("pk").values())
    return row


@pytest.mark.parametrize(
    ("model", "admin_name"),
    [
        (Controller, "admin:processing_controller_change"),
        (ProcessingActivity, "admin:processing_processingactivity_change"),
        (RetentionRule, "admin:retention_retentionrule_change"),
    ],
)
def test_saving_an_unedited_admin_page_records_no_change(dpo_client, register, model, admin_name):
    obj = model.objects.get()
    url = reverse(admin_name, args=[obj.pk])
    events, history, before = AuditEvent.objects.count(), obj.history.count(), stored(model, obj.pk)
    response = post_unchanged(dpo_client, url)
    assert response.status_code == 302, response.context["errors"] if response.context else response.content[:500]
    changes = list(AuditEvent.objects.order_by("id")[events:].values_list("object_type", "changed_fields"))
    assert changes == []
    assert obj.history.count() == history
    assert stored(model, obj.pk) == before
    assert "\\r" not in repr(before)


def test_an_edit_through_the_admin_stores_lf_line_ends(dpo_client, register):
    _, _, rule = register
    url = reverse("admin:retention_retentionrule_change", args=[rule.pk])
    page = dpo_client.get(url)
    form = BrowserForm()
    form.feed(page.content.decode())
    body: dict[str, list[str]] = {}
    for name, value in form.data:
        body.setdefault(name, []).append(value)
    body["note"] = ["Boekhoudwet,\r\nart. III.88,\r\nen de fiscale wet."]
    body["_save"] = ["Save"]
    assert dpo_client.post(url, body).status_code == 302
    rule.refresh_from_db()
    assert rule.note == "Boekhoudwet,\nart. III.88,\nen de fiscale wet."
    [event] = AuditEvent.objects.filter(object_type="retention.retentionrule", action="update")
    assert event.changed_fields == ["note"]
