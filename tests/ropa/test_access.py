"""Roles and scopes in the admin: the DPO may do everything, an auditor reads everything and changes nothing,
a user limited to some controllers sees only theirs; payloads and identifiers stay on their own page."""

import contextlib
import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from retention.models import ErasureNotice, LegalHold, RetentionRun, Tombstone
from retention.services import legal_hold_place, retention_enforce
from ropa.access.groups import AUDITOR_GROUP, DPO_GROUP
from ropa.access.models import ControllerAccess, UserProfile
from ropa.api.services import api_token_issue
from subjects.models import DataSubject, PersonalDataRecord
from subjects.services import dsr_receive
from tests.auth import enrol_totp, log_in_with_code, login_verified
from tests.factories import (
    DataCategoryFactory,
    DataSubjectCategoryFactory,
    DataSubjectFactory,
    ProcessingActivityFactory,
    RecipientFactory,
    RetentionRuleFactory,
    SecurityMeasureFactory,
)
from tests.support.records import NOW, RetentionWorld

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Requests in another language leave it active in this thread: give the next test English again."""
    yield
    translation.activate("en")
PASSWORD = "a-long-test-password"


def _member(django_user_model, username, group_name):
    user = django_user_model.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def auditor(django_user_model):
    return _member(django_user_model, "auditor", AUDITOR_GROUP)


@pytest.fixture
def auditor_client(auditor):
    client = Client()  # its own: tests use it beside dpo_client
    login_verified(client, auditor)
    return client


@pytest.fixture
def register(dpo):
    """One object of every model the admin lists, across two controllers, with evidence."""
    world = RetentionWorld()
    world.rule(action="anonymise", grace_days=0)
    world.record(payload={"name": "Marie Dubois", "iban": "BE68539007547034"})
    world.record()
    retention_enforce(now=NOW)  # flags
    retention_enforce(now=NOW + dt.timedelta(days=1))  # erases: tombstones, feed, runs
    kept = world.record(collected_on=dt.date(2029, 12, 1), payload={"name": "Kept Person"})
    hold = legal_hold_place(activity=world.activity, reason="Litigation", actor=dpo)
    other = ProcessingActivityFactory()
    RecipientFactory(controller=world.controller)
    RecipientFactory(controller=other.controller)
    DataSubjectCategoryFactory()
    DataCategoryFactory()
    SecurityMeasureFactory()
    RetentionRuleFactory(activity=other)
    api_token_issue(role="auditor", name="audit", controllers=[world.controller], source_system="", days=30, actor=dpo)
    world.kept, world.hold, world.other = kept, hold, other
    return world


def _admin_urls():
    """(model admin, object or None) for every model registered in the admin."""
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.order_by("pk").first()
        yield model, model_admin, obj


def test_migrations_create_both_groups_with_the_right_permissions():
    dpo, auditor = Group.objects.get(name=DPO_GROUP), Group.objects.get(name=AUDITOR_GROUP)
    codenames = set(auditor.permissions.values_list("codename", flat=True))
    assert {"view_controller", "view_processingactivity", "view_retentionrun", "view_tombstone"} <= codenames
    assert all(codename.startswith("view_") for codename in codenames)
    assert dpo.permissions.filter(codename="change_processingactivity").exists()
    assert dpo.permissions.count() > auditor.permissions.count()


def test_ensure_groups_restores_a_removed_permission(capsys):
    auditor = Group.objects.get(name=AUDITOR_GROUP)
    view = Permission.objects.get(codename="view_controller")
    auditor.permissions.remove(view)
    auditor.permissions.add(Permission.objects.get(codename="change_controller"))
    call_command("ensure_groups")
    assert auditor.permissions.filter(pk=view.pk).exists()
    assert not auditor.permissions.filter(codename="change_controller").exists()
    assert "Auditor:" in capsys.readouterr().out


def test_ensure_dpo_puts_the_dpo_in_the_dpo_group(settings, tmp_path, django_user_model):
    settings.VAR_DIR, settings.DEBUG = tmp_path, True
    call_command("ensure_dpo", "--username", "privacy")
    assert django_user_model.objects.get(username="privacy").groups.filter(name=DPO_GROUP).exists()


def test_auditor_can_change_nothing_anywhere(auditor_client, register):
    """POST to every add, change, delete and history-revert URL of every registered model: 403."""
    tried = 0
    for model, _model_admin, obj in _admin_urls():
        info = model._meta.app_label, model._meta.model_name
        urls = [reverse("admin:{}_{}_add".format(*info))]
        if obj is not None:
            urls += [
                reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
                reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]),
            ]
            history = getattr(model, "history", None)
            if history is not None and hasattr(history, "filter"):
                version = history.filter(**{model._meta.pk.attname: obj.pk}).first()
                if version is not None:
                    with contextlib.suppress(NoReverseMatch):
                        urls.append(
                            reverse("admin:{}_{}_simple_history".format(*info), args=[obj.pk, version.history_id])
                        )
        for url in urls:
            response = auditor_client.post(url, {"name": "changed", "reason": "x", "post": "yes"})
            assert response.status_code == 403, (url, response.status_code)
            tried += 1
    assert tried > 40
    # List actions that change something are not offered, and not run when posted anyway.
    holds = reverse("admin:retention_legalhold_changelist")
    auditor_client.post(holds, {"action": "release_holds", "_selected_action": [register.hold.pk]})
    register.hold.refresh_from_db()
    assert register.hold.released_at is None
    # The review queue's actions too.
    review = reverse("retention-review")
    for action in ("hold", "release"):
        response = auditor_client.post(review, {"action": action, "record": [register.kept.pk], "confirm": "1"})
        assert response.status_code == 403
    assert LegalHold.objects.count() == 1


def test_auditor_reads_every_list_and_page_and_finds_no_save_button(auditor_client, register):
    for model, _model_admin, obj in _admin_urls():
        info = model._meta.app_label, model._meta.model_name
        listing = auditor_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert listing.status_code == 200, info
        if obj is not None:
            page = auditor_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert page.status_code == 200, info
            html = page.content.decode()
            assert 'name="_save"' not in html and 'name="_continue"' not in html, info
    for name in ("register-completeness", "register-export", "retention-review"):
        assert auditor_client.get(reverse(name)).status_code == 200
    export = auditor_client.get(reverse("register-export"), {"fmt": "csv", "lang": "en"})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")


def test_payload_and_identifiers_only_on_their_own_page_and_only_for_the_dpo(auditor_client, dpo_client, register):
    record = PersonalDataRecord.objects.filter(payload__name="Kept Person").get()
    subject = record.subject
    identifier = subject.identifiers and next(iter(subject.identifiers.values()))
    record_page = reverse("admin:subjects_personaldatarecord_change", args=[record.pk])
    subject_page = reverse("admin:subjects_datasubject_change", args=[subject.pk])
    assert "Kept Person" in dpo_client.get(record_page).content.decode()
    assert identifier in dpo_client.get(subject_page).content.decode()
    assert "Kept Person" not in auditor_client.get(record_page).content.decode()
    assert identifier not in auditor_client.get(subject_page).content.decode()
    for client in (dpo_client, auditor_client):
        for name in ("subjects_personaldatarecord", "subjects_datasubject", "retention_legalhold"):
            html = client.get(reverse(f"admin:{name}_changelist")).content.decode()
            assert "Kept Person" not in html and identifier not in html
        review = client.get(reverse("retention-review")).content.decode()
        assert "Kept Person" not in review and "Jan Peeters" not in review


@pytest.fixture
def limited_client(client, django_user_model, register):
    user = _member(django_user_model, "limited", DPO_GROUP)
    ControllerAccess.objects.create(user=user).controllers.set([register.other.controller])
    login_verified(client, user)
    return client


def test_limited_user_sees_only_their_controllers(limited_client, register):
    mine, theirs = register.other.controller, register.controller
    lists = {
        "processing_controller": (mine.name, theirs.name),
        "processing_processingactivity": (register.other.reference, register.activity.reference),
        "processing_recipient": (f"/{mine.recipients.get().pk}/change/", f"/{theirs.recipients.get().pk}/change/"),
    }
    for name, (shown, hidden) in lists.items():
        html = limited_client.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert shown in html and hidden not in html, name
    # Nothing of the other controller: records, subjects, holds, tombstones, the feed, tokens, rules.
    for model in (PersonalDataRecord, DataSubject, LegalHold, Tombstone, ErasureNotice):
        info = model._meta.app_label, model._meta.model_name
        response = limited_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.context["cl"].result_count == 0, model
        obj = model.objects.first()
        page = limited_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert page.status_code == 302, model  # "does not exist": back to the index
    tokens = limited_client.get(reverse("admin:api_apitoken_changelist"))
    assert tokens.context["cl"].result_count == 0
    rules = limited_client.get(reverse("admin:retention_retentionrule_changelist"))
    assert rules.context["cl"].result_count == 1
    # Runs over every controller are shown; none limited to the other controller exists here.
    runs = limited_client.get(reverse("admin:retention_retentionrun_changelist"))
    assert runs.context["cl"].result_count == RetentionRun.objects.filter(controller__isnull=True).count()
    # Nor its history, which would otherwise fall back to old versions.
    history = reverse("admin:processing_controller_history", args=[theirs.pk])
    assert limited_client.get(history).status_code == 404
    version = theirs.history.first().history_id
    revert = reverse("admin:processing_controller_simple_history", args=[theirs.pk, version])
    assert limited_client.get(revert).status_code == 404
    # The add form offers only the user's controllers.
    form = limited_client.get(reverse("admin:processing_recipient_add")).context["adminform"].form
    assert list(form.fields["controller"].queryset) == [mine]


def test_a_limited_user_issues_tokens_for_their_controllers_only(limited_client, register):
    from ropa.api.models import ApiToken

    mine, theirs = register.other.controller, register.controller
    url = reverse("admin:api_apitoken_add")
    base = {"name": "issued by a limited user", "role": "auditor", "source_system": "", "days": "30"}
    # No controller means every controller for an auditor token: more than the user sees.
    response = limited_client.post(url, base)
    assert response.status_code == 200 and "controllers" in response.context["adminform"].form.errors
    response = limited_client.post(url, {**base, "controllers": [theirs.pk]})
    assert response.status_code == 200 and "controllers" in response.context["adminform"].form.errors
    response = limited_client.post(url, {**base, "role": "dpo"})  # a DPO token covers every controller
    assert response.status_code == 200 and "role" in response.context["adminform"].form.errors
    assert not ApiToken.objects.filter(name=base["name"]).exists()
    limited_client.post(url, {**base, "controllers": [mine.pk]})
    assert list(ApiToken.objects.get(name=base["name"]).controllers.all()) == [mine]
    # A token that also reaches the other controller is not theirs to see or revoke.
    shared, _plaintext = api_token_issue(role="auditor", name="shared", controllers=[mine, theirs])
    listed = limited_client.get(reverse("admin:api_apitoken_changelist")).context["cl"].result_list
    assert [t.name for t in listed] == [base["name"]]
    page = limited_client.get(reverse("admin:api_apitoken_change", args=[shared.pk]))
    assert page.status_code == 302


def test_limited_user_views_dashboard_exports_completeness_and_queue_are_scoped(limited_client, register):
    mine, theirs = register.other.controller, register.controller
    index = limited_client.get(reverse("admin:index")).content.decode()
    assert mine.name in index and theirs.name not in index
    completeness = limited_client.get(reverse("register-completeness"), {"all": "1"}).content.decode()
    assert register.other.reference in completeness and register.activity.reference not in completeness
    refused = limited_client.get(reverse("register-export"), {"fmt": "json", "lang": "en", "controller": theirs.pk})
    assert refused.status_code == 200 and "not one of the available choices" in refused.content.decode()
    export = limited_client.get(reverse("register-export"), {"fmt": "json", "lang": "en"})
    body = b"".join(export.streaming_content).decode()
    assert mine.name in body and theirs.name not in body
    queue = limited_client.get(reverse("retention-review")).content.decode()
    assert register.activity.reference not in queue


def test_a_user_limited_to_no_controller_sees_none(client, django_user_model, register):
    user = _member(django_user_model, "nobody", AUDITOR_GROUP)
    ControllerAccess.objects.create(user=user)
    login_verified(client, user)
    response = client.get(reverse("admin:processing_controller_changelist"))
    assert response.context["cl"].result_count == 0
    export = client.get(reverse("register-export"), {"fmt": "json", "lang": "en"})
    assert register.controller.key not in b"".join(export.streaming_content).decode()


def test_language_choice_is_stored_and_applied_at_the_next_login(client, django_user_model):
    user = _member(django_user_model, "taal", DPO_GROUP)
    secret = enrol_totp(user)
    login_verified(client, user)
    response = client.post(reverse("set_language"), {"language": "nl", "next": reverse("admin:index")})
    assert response.status_code == 302
    assert UserProfile.objects.get(user=user).language == "nl"
    client.logout()
    client.cookies.clear()
    # A browser asking for French still gets the user's Dutch after logging in.
    log_in_with_code(client, "taal", PASSWORD, secret)
    html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="nl"' in html and "Verwerkingsactiviteiten" in html


def test_dates_show_in_the_chosen_language_format(dpo_client):
    subject = DataSubjectFactory()
    dsr_receive(controller=subject.controller, subject=subject, type="access", received_on=dt.date(2025, 3, 9))
    dpo_client.post(reverse("set_language"), {"language": "fr"})
    html = dpo_client.get(reverse("admin:subjects_datasubjectrequest_changelist")).content.decode()
    assert "9 mars 2025" in html
