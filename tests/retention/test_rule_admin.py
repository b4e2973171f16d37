"""Retention rules edited in the admin (the activity page's inline and the rule's own page): a statutory
minimum that still keeps records is not weakened without a reason, the override is audited, and a change
that moves expiries earlier says so, with a link to those records, before any sweep runs."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from retention.models import RetentionRule
from retention.services import retention_enforce
from ropa.audit.models import AuditEvent
from subjects.models import PersonalDataRecord
from tests.factories import ProcessingActivityFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def years_ago(n: int) -> dt.date:
    return TODAY.replace(year=TODAY.year - n, day=min(TODAY.day, 28))


def form_data(response) -> dict:
    """The admin change form as a browser sends it back unchanged: every field with its current value."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, bool):
                if not value:
                    continue  # an unticked checkbox is not sent
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        forms = [form for form in formset.forms if form.instance.pk]
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        data[formset.management_form.add_prefix("TOTAL_FORMS")] = str(len(forms))
        for form in forms:
            add(form)
    return data


class Page:
    """An activity with a 2-year rule and a statutory one (10 years after the contract ends), and records:
    one whose contract ended 3 years ago (kept by law for 7 more years), one whose contract runs."""

    def __init__(self, world, client):
        self.world, self.client = world, client
        self.activity = world.activity
        self.activity.data_categories.add(world.category)
        self.short = world.rule(trigger="contract_end", duration_value=2, position=0)
        self.law = world.rule(
            trigger="contract_end", duration_value=10, statutory=True, legal_reference="Art. III.88 WER", position=1
        )
        self.kept = world.record(dates={"contract_ended_on": years_ago(3)}, now=timezone.now())
        self.running = world.record(now=timezone.now())
        self.url = reverse("admin:processing_processingactivity_change", args=[self.activity.pk])

    def index(self, rule) -> int:
        return [self.short.pk, self.law.pk].index(rule.pk)

    def post(self, **changes):
        data = form_data(self.client.get(self.url))
        data.update(changes)
        for name in [k for k, v in changes.items() if v is None]:
            data.pop(name)
        return self.client.post(self.url, data)

    def field(self, rule, name: str) -> str:
        return f"retention_rules-{self.index(rule)}-{name}"

    def stored(self):
        return RetentionRule.objects.filter(pk=self.law.pk).values("duration_value", "statutory", "trigger").first()


@pytest.fixture
def page(world, dpo_client):
    return Page(world, dpo_client)


def rule_form_errors(response) -> list[str]:
    (inline,) = [i for i in response.context["inline_admin_formsets"] if i.formset.prefix == "retention_rules"]
    return [str(e) for form in inline.formset.forms for e in form.errors.get("override_reason", [])] + [
        str(e) for e in inline.formset.non_form_errors()
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"duration_value": "1"},
        {"statutory": None},
        {"trigger": "collection"},
        {"DELETE": "on"},
    ],
)
def test_activity_page_refuses_to_weaken_a_statutory_rule_that_keeps_records(page, change):
    before = page.stored()
    response = page.post(**{page.field(page.law, name): value for name, value in change.items()})
    assert response.status_code == 200
    errors = rule_form_errors(response)
    assert errors and "still keeps 2 record(s)" in errors[0], errors
    assert page.stored() == before


def test_activity_page_weakens_it_with_a_reason_audits_it_and_lists_the_records(page):
    reason = "The law was amended: 1 year."
    response = page.post(
        **{page.field(page.law, "duration_value"): "1", page.field(page.law, "override_reason"): reason}
    )
    assert response.status_code == 302, rule_form_errors(response)
    assert page.stored()["duration_value"] == 1
    override = [
        e
        for e in AuditEvent.objects.filter(object_type="retention.retentionrule", object_id=str(page.law.pk))
        if "statutory override" in e.changed_fields
    ]
    assert len(override) == 1 and override[0].changes["override_reason"] == [None, reason]
    assert override[0].actor == "dpo"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    (message,) = [m for m in messages if "moves the expiry" in m]
    assert "moves the expiry of 1 record(s) earlier; 1 of them are due now" in message
    link = reverse("admin:subjects_personaldatarecord_changelist") + f"?id__in={page.kept.pk}"
    assert link in message
    listed = page.client.get(link)
    assert listed.status_code == 200 and [r.pk for r in listed.context["cl"].result_list] == [page.kept.pk]


def test_shortening_a_non_statutory_rule_needs_no_reason_and_is_listed(page):
    response = page.post(**{page.field(page.short, "duration_value"): "1"})
    assert response.status_code == 302
    assert RetentionRule.objects.get(pk=page.short.pk).duration_value == 1
    # The statutory rule still keeps both: nobody's expiry moved.
    assert not [str(m) for m in get_messages(response.wsgi_request) if "moves the expiry" in str(m)]


def test_saving_the_activity_page_unchanged_moves_nothing(page):
    expiries = dict(PersonalDataRecord.objects.values_list("pk", "expires_at"))
    response = page.post()
    assert response.status_code == 302
    assert dict(PersonalDataRecord.objects.values_list("pk", "expires_at")) == expiries
    assert not [m for m in get_messages(response.wsgi_request) if "moves the expiry" in str(m)]


def test_removing_a_statutory_rule_with_a_reason_keeps_its_values_in_the_audit(page):
    response = page.post(
        **{page.field(page.law, "DELETE"): "on", page.field(page.law, "override_reason"): "Entered twice."}
    )
    assert response.status_code == 302, rule_form_errors(response)
    assert page.stored() is None
    deleted = AuditEvent.objects.filter(
        object_type="retention.retentionrule", object_id=str(page.law.pk), action="delete"
    )
    assert any(e.changes.get("override_reason") == [None, "Entered twice."] for e in deleted)
    assert any(e.changes.get("duration_value") == [10, None] for e in deleted)
    now = timezone.now()
    retention_enforce(now=now)
    retention_enforce(now=now + dt.timedelta(days=31))
    # Overridden: the 2-year rule alone now decides, so the record whose contract ended 3 years ago went.
    assert not PersonalDataRecord.objects.filter(pk=page.kept.pk).exists()


def test_rule_page_refuses_to_weaken_without_a_reason_and_keeps_the_activity(page):
    url = reverse("admin:retention_retentionrule_change", args=[page.law.pk])
    data = form_data(page.client.get(url))
    data.pop("statutory")
    response = page.client.post(url, data)
    assert response.status_code == 200
    assert "still keeps 2 record(s)" in str(response.context["adminform"].form.errors["override_reason"])
    assert page.stored()["statutory"] is True
    other = ProcessingActivityFactory(controller=page.activity.controller)
    data = {**data, "override_reason": "Not a statutory period after all.", "activity": str(other.pk)}
    response = page.client.post(url, data)
    assert response.status_code == 302
    assert page.stored()["statutory"] is False
    # The rule stays with its activity (its records' expiry follows their own activity's rules).
    assert RetentionRule.objects.get(pk=page.law.pk).activity_id == page.activity.pk


def test_rule_page_and_list_action_will_not_delete_a_statutory_rule_that_keeps_records(page):
    delete = reverse("admin:retention_retentionrule_delete", args=[page.law.pk])
    response = page.client.post(delete, {"post": "yes"})
    assert response.status_code == 200
    assert "still keeps 2 record(s)" in response.content.decode()
    changelist = reverse("admin:retention_retentionrule_changelist")
    selected = [str(page.law.pk), str(page.short.pk)]
    response = page.client.post(changelist, {"action": "delete_selected", "_selected_action": selected, "post": "yes"})
    assert response.status_code == 200
    assert RetentionRule.objects.filter(pk__in=[page.law.pk, page.short.pk]).count() == 2
    # A rule that keeps nothing under the law goes as before.
    response = page.client.post(reverse("admin:retention_retentionrule_delete", args=[page.short.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not RetentionRule.objects.filter(pk=page.short.pk).exists()
