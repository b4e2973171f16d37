"""Object-level authorisation across every API route (complements tests/api/test_role_matrix.py, which
checks each route's role rules on objects in scope): the URL resolver and the schema agree, so no route
escapes; objects of the other controller or source system are never read or written; lists never show
them; expired and revoked tokens get nothing anywhere."""

import datetime as dt
import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from retention.breaches.services import breach_report
from retention.models import ErasureNotice, LegalHold
from ropa.api.models import ApiToken
from ropa.api.services import api_token_revoke
from subjects.models import PersonalDataRecord

pytestmark = pytest.mark.django_db

# Routes outside the schema on purpose: the schema and its two viewers, the API root (tested in the matrix),
# and the JSON 404 of every other path.
# The root and the reference pages, open to anyone and holding no register data; the catch-all 404.
UNDOCUMENTED = {
    "/api/",
    "/api/v1/",
    "/api/v1/schema/",
    "/api/v1/schema/swagger-ui/",
    "/api/v1/schema/redoc/",
    "/api/v1/schema/redoc/redoc.standalone.js",
    "/api/v1/{path}",
}


def _schema_paths() -> dict[str, dict]:
    return SchemaGenerator().get_schema(request=None, public=True)["paths"]


def _resolver_paths(patterns=None, prefix="") -> set[str]:
    paths = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(pattern.pattern)
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).replace("\\.", ".")
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("^", "").replace("$", "")
        if isinstance(pattern, URLResolver):
            paths |= _resolver_paths(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            paths.add("/" + prefix + route)
    return {p.replace("{pk}", "{id}") for p in paths if p.startswith("/api/")}


def test_every_api_route_of_the_resolver_is_in_the_schema():
    """A new route either appears in the schema (and so in the role matrix and the tests below) or is named
    here on purpose."""
    resolved = _resolver_paths()
    assert set(_schema_paths()) <= resolved  # the resolver is read right
    missing = resolved - set(_schema_paths()) - UNDOCUMENTED
    assert not missing, f"routes outside the schema, so outside the authorisation tests: {sorted(missing)}"


# Objects of controller "globex" (B) and, for controller "acme" (A), a record of source system "crm" (S).
FOREIGN = {
    "auditor_a": "b",
    "system_a": "b",
    "system_a_erp": "b",
    "system_b": "a",
}
MARKERS = {"a": ("acme-only-ref", "a-crm-only-ext"), "b": ("globex-only-ref", "b-billing-only-ext")}


@pytest.fixture
def two_controllers(world):
    world.tokens["auditor_b"] = world.issue("auditor", controllers=[world.b])
    world.activity_a.reference = MARKERS["a"][0]
    world.activity_a.save()
    world.activity_b.reference = MARKERS["b"][0]
    world.activity_b.save()
    a = world.api("system_a").post("records/", world.record(external_id=MARKERS["a"][1], activity=MARKERS["a"][0]))
    b = world.api("system_b").post("records/", world.record(external_id=MARKERS["b"][1], activity=MARKERS["b"][0]))
    assert (a.status_code, b.status_code) == (201, 201)
    record_a = PersonalDataRecord.objects.get(external_id=MARKERS["a"][1])
    record_b = PersonalDataRecord.objects.get(external_id=MARKERS["b"][1])
    now = timezone.now()
    for record in (record_a, record_b):
        ErasureNotice.objects.create(
            source_system=record.source_system,
            external_id=record.external_id,
            record_id=record.pk,
            action="delete",
            erased_at=now,
        )
    ids = {
        side: {
            "controllers": controller.pk,
            "recipients": recipient.pk,
            "processing-activities": activity.pk,
            "records": record.pk,
            "legal-holds": LegalHold.objects.create(activity=activity, reason="Audit", placed_at=now).pk,
            "breaches": breach_report(
                controller=controller, title=MARKERS[side][0], aware_at=now, external_reference=f"ext-{side}"
            )[0].pk,
        }
        for side, controller, recipient, activity, record in (
            ("a", world.a, world.recipient_a, world.activity_a, record_a),
            ("b", world.b, world.recipient_b, world.activity_b, record_b),
        )
    }
    return world, ids


def _state(world):
    """What a refused write must leave exactly as it was."""
    return json.dumps(
        [
            list(model.objects.order_by("pk").values())
            for model in (LegalHold, PersonalDataRecord, ErasureNotice, type(world.a), type(world.activity_a))
        ],
        default=str,
    )


def test_nobody_reads_or_writes_another_scopes_objects(two_controllers):
    world, ids = two_controllers
    before = _state(world)
    wrong = []
    for path in _schema_paths():
        if "{id}" not in path:
            continue
        resource = path.split("/")[3]
        if resource not in ids["a"]:
            continue  # vocabularies: shared by every controller, readable by all (see the role matrix)
        for role, foreign in FOREIGN.items():
            url = path.replace("{id}", str(ids[foreign][resource]))
            api = world.api(role)
            for method in ("get", "put", "patch", "delete", "post"):
                if method == "post" and path.endswith("{id}/"):
                    continue
                body = {"reason": "x", "ended_on": "2020-01-01"} if method != "get" else None
                status = getattr(api, method)(url, body).status_code
                if status not in (403, 404, 405):
                    wrong.append(f"{method.upper()} {url} as {role}: {status}")
    # A system of controller A but another source system (T) does not reach source S's record.
    for method in ("get", "patch"):
        url = f"records/{ids['a']['records']}/"
        status = getattr(world.api("system_a_erp"), method)(url, {"collected_on": "2020-01-01"}).status_code
        if status != 404:
            wrong.append(f"{method.upper()} {url} as system_a_erp: {status}")
    assert not wrong, "\n".join(wrong)
    assert _state(world) == before


def _all_pages(api, url):
    bodies = []
    while url:
        response = api.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        if response.status_code == 403:
            break
        body = response.json()
        bodies.append(json.dumps(body))
        url = body.get("next") if isinstance(body, dict) else None
    return "\n".join(bodies)


def test_lists_and_documents_never_include_foreign_objects(two_controllers):
    world, _ = two_controllers
    lists = [
        path.removeprefix("/api/v1/")
        for path, methods in _schema_paths().items()
        if "get" in methods and "{id}" not in path and not path.endswith("export/")
    ]
    assert {"records/", "legal-holds/", "erasure-feed/", "processing-activities/", "register/", "breaches/"} <= set(
        lists
    )
    seen = {}
    for role, foreign in {**FOREIGN, "auditor_b": "a"}.items():
        api = world.api(role)
        for url in lists:
            text = _all_pages(api, url)
            seen[(role, url)] = text
            for marker in MARKERS[foreign]:
                assert marker not in text, (role, url, marker)
    # The T source system of controller A does not see source S's record either.
    for url in ("records/", "erasure-feed/"):
        assert MARKERS["a"][1] not in _all_pages(world.api("system_a_erp"), url)
    # And the lists are not simply empty: each scope sees its own.
    assert MARKERS["a"][1] in seen[("system_a", "records/")]
    assert MARKERS["a"][1] in seen[("system_a", "erasure-feed/")]
    assert MARKERS["b"][0] in seen[("auditor_b", "processing-activities/")]
    assert MARKERS["a"][0] in seen[("auditor_a", "register/")]


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_expired_and_revoked_tokens_get_nothing_anywhere(two_controllers, state, settings):
    # Every route is tried with refused tokens, far beyond what one address may send.
    settings.ROPA_API_AUTH_FAILURE_RATE = "100000/minute"
    world, ids = two_controllers
    for role in ("dpo", "auditor", "system_a"):
        token = ApiToken.objects.filter(role=role.split("_")[0]).order_by("created").first()
        if state == "revoked":
            api_token_revoke(token=token)
        else:
            ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    before = _state(world)
    for path, methods in _schema_paths().items():
        url = path.replace("{id}", str(ids["a"].get(path.split("/")[3], 1)))
        for role in ("dpo", "auditor", "system_a"):
            for method in methods:
                response = getattr(world.api(role), method)(url, {} if method != "get" else None)
                assert response.status_code == 401, (state, role, method, url, response.status_code)
    assert _state(world) == before
