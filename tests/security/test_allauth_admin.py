"""django-allauth's pages in the admin: what a DPO and an auditor may see and do with second factors, sessions
and the identity provider's configuration."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse

from ropa.access.groups import AUDITOR_GROUP
from ropa.audit.models import AuditEvent
from tests.auth import enrol_totp, log_in, log_in_with_code, login_verified

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture
def member(django_user_model):
    """A superuser (who must have a second factor) who has lost their authenticator app."""
    user = django_user_model.objects.create_superuser("member", "m@example.org", PASSWORD)
    return user, enrol_totp(user)


def test_a_dpo_removes_a_lost_authenticator_the_user_enrols_again_and_their_sessions_end(dpo_client, member, client):
    user, secret = member
    theirs = client.__class__()
    log_in_with_code(theirs, "member", PASSWORD, secret)
    theirs.get(reverse("admin:index"))  # the session is in the user's list
    assert UserSession.objects.filter(user=user).count() == 1
    authenticator = Authenticator.objects.get(user=user)

    page = dpo_client.get(reverse("admin:mfa_authenticator_change", args=[authenticator.pk])).content.decode()
    assert "member" in page and authenticator.data["secret"] not in page
    response = dpo_client.post(reverse("admin:mfa_authenticator_delete", args=[authenticator.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user).exists()
    assert theirs.get(reverse("admin:index")).status_code == 302  # logged out
    event = AuditEvent.objects.get(changed_fields=["authenticator"])
    assert event.object_repr == "member" and event.actor_user.username == "dpo"
    # At the next login the user must set up a new one before anything opens.
    again = client.__class__()
    log_in(again, "member", PASSWORD)
    response = again.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_activate_totp"))


def test_nobody_adds_or_edits_an_authenticator_and_an_auditor_removes_none(
    dpo_client, member, client, django_user_model
):
    user, _secret = member
    authenticator = Authenticator.objects.get(user=user)
    assert dpo_client.get(reverse("admin:mfa_authenticator_add")).status_code == 403
    dpo_client.post(reverse("admin:mfa_authenticator_change", args=[authenticator.pk]), {"type": "recovery_codes"})
    assert Authenticator.objects.get(pk=authenticator.pk).type == Authenticator.Type.TOTP

    auditor = django_user_model.objects.create_user("reader", "r@example.org", PASSWORD, is_staff=True)
    auditor.groups.add(Group.objects.get(name=AUDITOR_GROUP))
    login_verified(client, auditor)
    assert client.get(reverse("admin:mfa_authenticator_changelist")).status_code == 200
    client.post(reverse("admin:mfa_authenticator_delete", args=[authenticator.pk]), {"post": "yes"})
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_deleting_a_session_in_the_admin_logs_that_browser_out(dpo_client, member):
    user, secret = member
    theirs = dpo_client.__class__()
    log_in_with_code(theirs, "member", PASSWORD, secret)
    theirs.get(reverse("admin:index"))
    user_session = UserSession.objects.get(user=user)
    dpo_client.post(reverse("admin:usersessions_usersession_delete", args=[user_session.pk]), {"post": "yes"})
    assert theirs.get(reverse("admin:index")).status_code == 302
    assert not UserSession.objects.filter(user=user).exists()


def test_no_identity_provider_is_added_in_the_admin(dpo_client):
    for name in ("admin:socialaccount_socialapp_changelist", "admin:socialaccount_socialtoken_changelist"):
        with pytest.raises(NoReverseMatch):
            reverse(name)
    assert dpo_client.get("/admin/socialaccount/socialapp/add/").status_code == 404
