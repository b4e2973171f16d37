"""Every list filter and search, in the admin and in the API, refuses a bad value without a 500: a NUL
character (PostgreSQL cannot hold one), an overlong value, impossible dates and months, non-numeric or
huge ids. The admin answers with its "wrong parameters" page or an empty list, the API with a 400 or an
empty page. The walk covers every ModelAdmin registered and every list endpoint of the API, so that a
new filter is tested the day it is added."""

import pytest
from django.contrib import admin
from django.urls import get_resolver, reverse

from ropa.api_urls import router

pytestmark = pytest.mark.django_db

# A NUL, an overlong non-number, a month past the calendar, a negative year, an id past any integer.
HOSTILE = ["a\x00b", "x" * 3000, "9999-12", "-001-01", "9" * 30]


@pytest.fixture
def populated(world):
    """The API's world, with a record, a hold, a consent and a request, so that every list has rows."""
    system = world.api("system_a")
    assert system.post("records/", world.record()).status_code == 201
    assert world.api("dpo").post("legal-holds/", {"controller": "acme", "reason": "audit"}).status_code == 201
    assert system.post("requests/", {"subject": "s-1", "type": "access"}).status_code == 201
    return world


def _admin_parameters(client, model_admin) -> tuple[str, list[str]]:
    opts = model_admin.model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    changelist = response.context["cl"]
    names = [name for spec in changelist.filter_specs for name in spec.expected_parameters()]
    if model_admin.search_fields:
        names.append("q")
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return url, names


def test_every_admin_list_filter_and_search_refuses_hostile_values_without_a_500(dpo_client, populated):
    get_resolver().url_patterns  # noqa: B018 - every admin module imported, every ModelAdmin registered
    dpo_client.raise_request_exception = False
    walked, failures = [], []
    for model_admin in admin.site._registry.values():
        url, names = _admin_parameters(dpo_client, model_admin)
        walked.append(type(model_admin).__name__)
        for name in names:
            for value in HOSTILE:
                response = dpo_client.get(url, {name: value})
                if response.status_code >= 500:
                    failures.append((type(model_admin).__name__, name, value[:20], response.status_code))
    assert {"PersonalDataRecordRetentionAdmin", "AuditEventAdmin", "ProcessingActivityAdmin"} <= set(walked)
    assert len(walked) >= 20
    assert failures == []


def _api_lists():
    for prefix, viewset, _basename in router.registry:
        filterset = getattr(viewset, "filterset_class", None)
        names = list(filterset.base_filters) if filterset else []
        yield f"/api/v1/{prefix}/", [*names, "page", "page_size", "cursor", "source_system", "ordering"]
    yield "/api/v1/register/", ["controller", "as_of", "lang"]
    yield "/api/v1/register/export/", ["format", "controller", "as_of", "lang"]


def test_every_api_filter_refuses_hostile_values_with_a_400_not_a_500(populated):
    failures, walked = [], 0
    for who in ("dpo",):
        api = populated.api(who)
        api.client.raise_request_exception = False
        for url, names in _api_lists():
            filters = _filter_names(url)
            for name in names:
                walked += 1
                for value in HOSTILE:
                    response = api.client.get(url, {name: value})
                    if response.status_code >= 500:
                        failures.append((who, url, name, value[:20], response.status_code))
                    elif "\x00" in value and response.status_code not in (400, 403, 404) and name in filters:
                        # A NUL is never a value a filter can match: refused, not silently ignored.
                        failures.append((who, url, name, "NUL accepted", response.status_code))
    assert walked > 40
    assert failures == []


def _filter_names(url: str) -> set[str]:
    for prefix, viewset, _basename in router.registry:
        if url == f"/api/v1/{prefix}/" and getattr(viewset, "filterset_class", None):
            return set(viewset.filterset_class.base_filters)
    return set()


@pytest.mark.parametrize("value", ["9999-12", "0000-01", "-001-01", "2026-13", "2026-1", "soon"])
def test_the_records_due_filter_refuses_a_month_it_cannot_read(dpo_client, populated, value):
    url = reverse("admin:subjects_personaldatarecord_changelist")
    response = dpo_client.get(url, {"due": value})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert dpo_client.get(url, {"due": "2026-12"}).status_code == 200


@pytest.mark.parametrize(
    ("name", "parameter"),
    [
        ("admin:subjects_personaldatarecord_changelist", "source_system"),
        ("admin:audit_auditevent_changelist", "actor"),
        ("admin:subjects_personaldatarecord_changelist", "q"),
    ],
)
def test_a_nul_character_in_an_admin_filter_is_refused_on_every_database(dpo_client, populated, name, parameter):
    response = dpo_client.get(reverse(name), {parameter: "crm\x00"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_every_registered_admin_uses_the_guarded_change_list(rf, dpo):
    from ropa.site.input import GuardedChangeList

    get_resolver().url_patterns  # noqa: B018
    request = rf.get("/")
    request.user = dpo
    assert all(
        issubclass(model_admin.get_changelist(request), GuardedChangeList)
        for model_admin in admin.site._registry.values()
    )


def test_an_id_filter_takes_whole_numbers_in_range_and_still_filters(populated):
    api = populated.api("dpo")
    own = api.get(f"records/?activity={populated.activity_a.pk}").json()["results"]
    assert [r["external_id"] for r in own] == ["c-1"]
    assert api.get(f"records/?activity={populated.activity_b.pk}").json()["results"] == []
    for value in ("1.5", "0", "-3", "9" * 30, "abc"):
        response = api.get(f"records/?activity={value}")
        assert response.status_code == 400 and "activity" in response.json(), value
