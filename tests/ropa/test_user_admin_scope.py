"""The user admin and controller scopes: a user limited to some controllers sees and edits only the accounts
within them, and cannot widen their own or anyone's reach (scope, superuser, groups)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from ropa.access.groups import DPO_GROUP
from ropa.access.models import ControllerAccess
from ropa.api.services import api_token_issue
from tests.auth import login_verified
from tests.factories import ControllerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_user_model):
    ours, theirs = ControllerFactory(), ControllerFactory()
    dpo = django_user_model.objects.create_user("limited", "limited@example.org", "a-long-password", is_staff=True)
    dpo.groups.add(Group.objects.get(name=DPO_GROUP))
    ControllerAccess.objects.create(user=dpo).controllers.set([ours])
    colleague = django_user_model.objects.create_user("colleague", is_staff=True)
    ControllerAccess.objects.create(user=colleague).controllers.set([ours])
    our_token, _ = api_token_issue(role="system", name="our crm", controllers=[ours], source_system="ours")
    their_token, _ = api_token_issue(role="system", name="their crm", controllers=[theirs], source_system="theirs")
    others = [
        their_token.user,
        django_user_model.objects.create_superuser("root", "root@example.org", "a-long-password"),
        django_user_model.objects.create_user("unlimited", is_staff=True),
    ]
    return login_verified(Client(), dpo), dpo, [colleague, our_token.user], others


def test_a_limited_user_lists_and_opens_only_the_accounts_within_their_controllers(world):
    client, dpo, within, others = world
    listed = set(client.get(reverse("admin:auth_user_changelist")).context["cl"].queryset)
    assert listed == {dpo, *within}
    for user in within:
        assert client.get(reverse("admin:auth_user_change", args=[user.pk])).status_code == 200
    for user in others:
        assert client.get(reverse("admin:auth_user_change", args=[user.pk])).status_code in (302, 404)
        assert client.get(reverse("admin:auth_user_history", args=[user.pk])).status_code in (302, 404)


def _posted_form(client, url):
    """The change form as the browser would send it back unchanged."""
    response = client.get(url)
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name in form.base_fields and getattr(field, "disabled", False):
            continue
        if isinstance(value, (list, tuple)) or hasattr(value, "all"):
            data[name] = [getattr(v, "pk", v) for v in (value.all() if hasattr(value, "all") else value)]
        elif value is not None and value is not False:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for sub in formset.forms:
            for name, field in sub.fields.items():
                value = sub.initial.get(name, field.initial)
                if isinstance(value, (list, tuple)):
                    value = [getattr(v, "pk", v) for v in value]
                if value is not None and value is not False:
                    data[sub.add_prefix(name)] = value
    data.pop("password", None)
    data.update({"last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    return data


def _own_page_asking_for_more(client, dpo):
    """The limited user's own page as posted, asking to become superuser and to drop their controller scope."""
    url = reverse("admin:auth_user_change", args=[dpo.pk])
    data = _posted_form(client, url)
    data["is_superuser"] = "on"
    data["controller_access-0-DELETE"] = "on"
    return url, data


def test_a_limited_user_cannot_widen_their_own_reach(world):
    client, dpo, _, _ = world
    url, data = _own_page_asking_for_more(client, dpo)
    held = dpo.get_all_permissions()
    beyond = next(
        p
        for p in Permission.objects.select_related("content_type")
        if f"{p.content_type.app_label}.{p.codename}" not in held
    )
    wider = Group.objects.create(name="wider")
    wider.permissions.add(beyond)
    data["groups"] = [*data.get("groups", []), wider.pk]
    data["user_permissions"] = [beyond.pk]
    assert client.get(url).status_code == 200
    client.post(url, data)
    dpo.refresh_from_db()
    assert not dpo.is_superuser
    assert ControllerAccess.objects.filter(user=dpo).exists()
    assert set(dpo.groups.values_list("name", flat=True)) == {DPO_GROUP}
    assert not dpo.user_permissions.exists()


def test_a_limited_users_valid_save_keeps_scope_and_superuser_flag(world):
    client, dpo, _, _ = world
    url, data = _own_page_asking_for_more(client, dpo)
    assert client.post(url, data).status_code == 302  # saved: the refused parts are simply not taken
    dpo.refresh_from_db()
    assert not dpo.is_superuser
    assert ControllerAccess.objects.filter(user=dpo).exists()
