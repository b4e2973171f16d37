"""Tokens: issued once (command or admin), stored hashed, expiring, revocable, scoped, throttled."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from ropa.api.models import ApiToken
from tests.support.api import Api

pytestmark = pytest.mark.django_db


def issue(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("issue_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_issue_token_prints_it_once_and_stores_only_its_digest(world):
    token = issue("--role", "system", "--controller", "acme", "--source-system", "shop", "--days", "30")
    assert token.startswith("ropa_") and len(token) == 69
    stored = ApiToken.objects.get(source_system="shop")
    assert token not in (stored.digest, stored.token_key) and stored.token_key == token[:15]
    assert not ApiToken.objects.filter(digest__contains=token[5:]).exists()
    assert (stored.expiry - timezone.now()).days in (29, 30)
    assert stored.user.username == "api.system.acme.shop" and not stored.user.has_usable_password()
    assert Api(token).get("token/").json() == {
        "name": "system token for shop",
        "role": "system",
        "controllers": ["acme"],
        "source_system": "shop",
        "expiry": Api(token).get("token/").json()["expiry"],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "system", "--source-system", "shop"], "exactly one controller"),
        (["--role", "system", "--controller", "acme"], "names its source system"),
        (["--role", "system", "--controller", "globex", "--source-system", "crm"], "another controller"),
        (["--role", "dpo", "--controller", "acme"], "covers every controller"),
        (["--role", "auditor", "--controller", "nobody"], "No controller with key nobody"),
        (["--role", "auditor", "--days", "0"], "between 1 and"),
    ],
)
def test_issue_token_refuses_a_scope_that_makes_no_sense(world, args, message):
    with pytest.raises(CommandError, match=message):
        issue(*args)


def test_expired_revoked_and_forged_tokens_are_refused(world):
    api = world.api("system_a")
    assert api.get("records/").status_code == 200
    token = ApiToken.objects.get(source_system="crm")
    token.expiry = timezone.now() - dt.timedelta(seconds=1)
    token.save()
    response = api.get("records/")
    assert (response.status_code, response.json()["detail"]) == (401, "Token expired.")
    token.expiry = timezone.now() + dt.timedelta(days=1)
    token.revoked_at = timezone.now()
    token.save()
    assert api.get("records/").json()["detail"] == "Token revoked."
    assert ApiToken.objects.filter(pk=token.pk).exists()  # kept, as evidence
    forged = world.tokens["system_a"][:-4] + "0000"
    for header in (f"Token {forged}", "Token", "Token a b", "Bearer x", "Token ropa_\u00e9\u00e9"):
        client = Api(None).client
        response = client.get("/api/v1/records/", HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
        assert response.status_code == 401, header


def test_admin_issues_shows_once_and_revokes(dpo_client, world):
    url = reverse("admin:api_apitoken_add")
    assert dpo_client.get(url).status_code == 200
    response = dpo_client.post(
        url,
        {"name": "Webshop", "role": "system", "controllers": [world.a.pk], "source_system": "webshop", "days": 90},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    token = shown[0].rsplit(": ", 1)[1]
    assert Api(token).get("token/").json()["source_system"] == "webshop"
    bad = dpo_client.post(url, {"name": "x", "role": "system", "source_system": "", "days": 90})
    assert bad.status_code == 200 and "exactly one controller" in bad.content.decode()
    stored = ApiToken.objects.get(name="Webshop")
    assert dpo_client.get(reverse("admin:api_apitoken_changelist")).status_code == 200
    assert dpo_client.get(reverse("admin:api_apitoken_change", args=[stored.pk])).status_code == 200
    dpo_client.post(reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [stored.pk]})
    stored.refresh_from_db()
    assert stored.revoked_at is not None and stored.revoked_by.username == "dpo"
    assert Api(token).get("token/").status_code == 401


def test_requests_are_throttled_per_token(world, settings):
    settings.ROPA_API_THROTTLE_RATE = "3/minute"
    api, other = world.api("auditor"), world.api("auditor_a")
    assert [api.get("token/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert other.get("token/").status_code == 200


def test_requests_with_bad_or_no_token_are_throttled_by_address_before_authentication(world, settings):
    """Token guessing is slowed down: refusals count per address, and once over the budget the address gets a 429
    before its token is even looked at; a valid token from another address is not held back."""
    settings.ROPA_API_AUTH_FAILURE_RATE = "3/minute"
    guesser = Api("ropa_not-a-real-token")
    statuses = [guesser.get("processing-activities/", REMOTE_ADDR="10.0.0.66").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = guesser.get("processing-activities/", REMOTE_ADDR="10.0.0.66")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "detail" in refused.json()
    anonymous = Api(None)
    assert [anonymous.get("processing-activities/", REMOTE_ADDR="10.0.0.67").status_code for _ in range(4)][-1] == 429
    assert world.api("dpo").get("processing-activities/", REMOTE_ADDR="10.0.0.68").status_code == 200
