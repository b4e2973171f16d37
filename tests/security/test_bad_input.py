"""Bad input on every surface (API, commands, admin forms) gets a clear error and changes nothing stored:
a fingerprint of every table is the same before and after."""

import hashlib
import io
import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from subjects.models import PersonalDataRecord

pytestmark = pytest.mark.django_db

# Tables that move with any request: sessions (and their last-seen records), login attempts, a token's last use,
# the audit of nothing.
VOLATILE = ("django_session", "usersessions_", "axes_", "api_apitoken")


def fingerprint() -> str:
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table.startswith(VOLATILE):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = sorted(repr(row) for row in cursor.fetchall())
            digest.update(f"{table}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.fixture
def unchanged():
    """Call before the bad input, then ``unchanged.check()`` after it."""

    class Guard:
        def __init__(self):
            self.before = fingerprint()

        def check(self):
            assert fingerprint() == self.before, "bad input changed something stored"

    return Guard


# --- API -------------------------------------------------------------------------------------------------

BAD_RECORD_CHANGES = [
    {"collected_on": "0001-01-01"},
    {"collected_on": "9999-12-31"},
    {"collected_on": "2026-02-30"},
    {"collected_on": "2026-13-01"},
    {"collected_on": 20260101},
    {"contract_ended_on": "yesterday"},
    {"external_id": "abc\x00def"},
    {"subject": "s\x00-1"},
    {"payload": {"name": "Jan\x00Peeters"}},
    {"subject_identifiers": {"email\x00": "x"}},
    {"data_category": "no-such-category"},
    {"activity": "NO-SUCH-REF"},
    {"activity": 10**20},
    {"retention_rule": 10**30},
    {"retention_rule": "first"},
    {"external_id": ["a", "b"]},
    {"subject": {"key": "s-1"}},
    {"payload": "x" * 10},
    {"external_id": ""},
    {"external_id": "x" * 5000},
]


def test_bad_records_are_400s_naming_the_field_and_store_nothing(world, unchanged):
    api = world.api("system_a")
    guard = unchanged()
    for change in BAD_RECORD_CHANGES:
        body = {**world.record(), **change}
        if change == {"payload": "x" * 10}:
            continue  # a string is a valid JSON payload
        response = api.post("records/", body)
        assert response.status_code == 400, (change, response.status_code, response.content[:300])
        errors = response.json()
        assert isinstance(errors, dict) and errors, change
        assert set(errors) & (set(change) | {"non_field_errors", "detail"}), (change, errors)
        batch = api.post("records/batch/", {"records": [world.record(external_id="fine"), body]})
        assert batch.status_code == 400, (change, batch.status_code)
    # A lone surrogate cannot even be encoded by a client library: sent as a JSON escape.
    raw = json.dumps({**world.record(), "payload": "SLOT"}).replace('"SLOT"', '{"a": "\\ud800"}')
    response = api.client.post("/api/v1/records/", raw, content_type="application/json")
    assert response.status_code == 400
    assert "payload" in response.json()
    guard.check()


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"null",
        b"[]",
        b'"a string"',
        b'{"external_id": NaN}',
        b"\x00\x01\x02",
        b"\xff\xfe not utf-8",
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,
    ],
)
def test_malformed_bodies_are_400s(world, unchanged, raw):
    guard = unchanged()
    api = world.api("system_a")
    for url in ("/api/v1/records/", "/api/v1/records/batch/", "/api/v1/legal-holds/", "/api/v1/erasure-feed/confirm/"):
        response = api.client.post(url, raw, content_type="application/json")
        assert response.status_code in (400, 403), (url, response.status_code)
    response = world.api("dpo").client.post("/api/v1/processing-activities/", raw, content_type="application/json")
    assert response.status_code == 400
    guard.check()


def test_bodies_over_the_limit_are_413s(world, unchanged, settings):
    settings.ROPA_API_MAX_BODY_BYTES = 16 * 1024
    guard = unchanged()
    big = {**world.record(), "payload": {"blob": "x" * 20_000}}
    detail = {"detail": "Request body exceeds the 16 KiB limit (ROPA_API_MAX_BODY_BYTES)."}
    response = world.api("system_a").post("records/", big)
    assert (response.status_code, response.json()) == (413, detail)
    response = world.api("dpo").post("legal-holds/", {"controller": "acme", "reason": "x" * 20_000})
    assert (response.status_code, response.json()) == (413, detail)
    guard.check()


def batch_body(world, count: int, payload_bytes: int) -> bytes:
    records = [
        world.record(external_id=f"b-{i}", subject=f"s-{i}", payload={"blob": "x" * payload_bytes})
        for i in range(count)
    ]
    return json.dumps({"records": records}).encode()


def test_the_documented_batch_of_1000_records_of_5_kb_passes_the_one_limit(world):
    body = batch_body(world, 1000, 5000)
    assert 2.5 * 1024 * 1024 < len(body) < 8 * 1024 * 1024  # over Django's 2.5 MiB, under the API's 8 MiB
    response = world.api("system_a").client.post("/api/v1/records/batch/", body, content_type="application/json")
    assert response.status_code in (200, 201), response.content[:300]
    assert response.json()["created"] == 1000
    assert PersonalDataRecord.objects.filter(source_system="crm").count() == 1000


def test_a_body_over_8_mib_is_a_json_413_naming_the_limit(world, unchanged):
    guard = unchanged()
    body = batch_body(world, 1000, 8500)
    assert len(body) > 8 * 1024 * 1024
    response = world.api("system_a").client.post("/api/v1/records/batch/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Request body exceeds the 8 MiB limit (ROPA_API_MAX_BODY_BYTES)."}
    guard.check()


def chunked(api, url: str, body: bytes):
    """A POST as gunicorn passes on a chunked one: no Content-Length, the decoded body, a stream that ends."""
    return api.client.generic(
        "POST",
        url,
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )


def test_chunked_bodies_are_read_within_the_same_limit(world, unchanged, settings):
    api = world.api("system_a")
    response = chunked(api, "/api/v1/records/batch/", batch_body(world, 3, 100))
    assert response.status_code in (200, 201), response.content[:300]
    assert response.json()["created"] == 3
    settings.ROPA_API_MAX_BODY_BYTES = 16 * 1024
    guard = unchanged()
    response = chunked(api, "/api/v1/records/batch/", batch_body(world, 3, 20_000))
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body exceeds the 16 KiB limit (ROPA_API_MAX_BODY_BYTES)."}
    guard.check()


def test_the_admin_keeps_its_own_form_limit(dpo_client, world, unchanged):
    guard = unchanged()
    url = reverse("admin:processing_controller_change", args=[world.a.pk])
    response = dpo_client.post(url, {"name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 400
    guard.check()


def test_bad_register_writes_are_400s(world, unchanged):
    api = world.api("dpo")
    activity = f"processing-activities/{world.activity_a.pk}/"
    guard = unchanged()
    for url, method, body in [
        ("controllers/", "post", {"key": "x\x00y", "name": "X"}),
        (f"controllers/{world.a.pk}/", "patch", {"country": "XX"}),
        (f"controllers/{world.a.pk}/", "patch", {"statement_date": "2026-02-30"}),
        (activity, "patch", {"last_reviewed_on": "0001-01-01"}),
        (activity, "patch", {"dpia_done_on": "9999-12-31", "status": "nonsense"}),
        (activity, "patch", {"data_categories": ["no-such-code"]}),
        (activity, "patch", {"recipients": [10**20]}),
        (activity, "patch", {"name": "\x00"}),
        (f"{activity}end/", "post", {"ended_on": "2026-02-30"}),
        ("recipients/", "post", {"controller": "acme", "key": "r", "name": "R", "country": "US"}),
        ("data-categories/", "post", {"code": "bad code!", "name": "X"}),
        ("legal-holds/", "post", {"controller": "acme", "activity": world.activity_a.pk, "reason": "two scopes"}),
        ("legal-holds/", "post", {"controller": "no-such", "reason": "x"}),
        ("legal-holds/", "post", {"record": "abc", "reason": "x"}),
        ("legal-holds/", "post", {"controller": "acme", "reason": "\x00"}),
        ("legal-holds/999999999/release/", "post", {"reason": "x"}),
    ]:
        response = getattr(api, method)(url, body)
        assert 400 <= response.status_code < 500, (url, body, response.status_code, response.content[:300])
    for url in (
        "records/?collected_on__gte=2026-02-30",
        "records/?page_size=-1",
        "records/?cursor=%00%00",
        "processing-activities/?controller=%00",
        "register/?as_of=9999-12-31",
        "register/?as_of=2026-02-30",
        "register/export/?format=exe",
        "register/export/?format=json&as_of=0001-01-01",
        "legal-holds/?active=maybe",
    ):
        assert api.get(url).status_code < 500, url
    guard.check()


# --- commands --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"controllers: [\n  - key: x\n", "line"),
        (b"controller:\n  key: a\x00b\n", ""),
        (b"\xff\xfe\x00", ""),
        (b"- just\n- a list\n", ""),
        (b"", ""),
    ],
)
def test_import_register_refuses_broken_files_and_stores_nothing(tmp_path, unchanged, content, named):
    path = tmp_path / "broken.yaml"
    path.write_bytes(content)
    guard = unchanged()
    with pytest.raises(CommandError) as error:
        call_command("import_register", str(path))
    assert "broken.yaml" in str(error.value)
    assert named in str(error.value)
    guard.check()


def billion_laughs() -> str:
    """Ten aliases of ten aliases ..., nine levels: a billion values in a few hundred bytes, padded to 7 KB."""
    lines = ["format: ropa-file/1", "# " + "padding " * 800, 'l0: &l0 ["lol"' + ', "lol"' * 9 + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    lines.append("controllers: [{key: laughs, name: Laughs, country: BE, sources: *l9, activities: [*l9]}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("content", "limit"),
    [
        (billion_laughs(), "200,000 values once its aliases are expanded"),
        ("format: ropa-file/1\ncontrollers: " + "[" * 5000 + "]" * 5000 + "\n", "50 levels"),
        ("format: ropa-file/1\ncontrollers: " + "{a: " * 5000 + "}" * 5000 + "\n", "50 levels"),
        ("format: ropa-file/1\ncontrollers: &c [*c]\n", "contains itself"),
        ("format: ropa-file/1\na: &a x\nb:\n" + "  - *a\n" * 1001, "1000 aliases"),
    ],
    ids=["billion-laughs", "5000-brackets", "5000-braces", "self-reference", "1001-aliases"],
)
def test_import_register_refuses_yaml_bombs_quickly_naming_the_file_and_the_limit(tmp_path, unchanged, content, limit):
    path = tmp_path / "bomb.yaml"
    path.write_text(content)
    guard = unchanged()
    started = time.perf_counter()
    with pytest.raises(CommandError) as error:
        call_command("import_register", str(path))
    # Refused while read, in milliseconds: the first two ran for minutes or ended in a RecursionError.
    assert time.perf_counter() - started < 1
    assert "bomb.yaml" in str(error.value) and "nothing was loaded" in str(error.value)
    assert limit in str(error.value)
    guard.check()


def test_import_register_takes_a_file_that_uses_anchors_for_repeats(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "format: ropa-file/1\n"
        "statement: {file: none.txt, title: Register, date: 2024-03-01}\n"
        "vocabulary:\n  data_categories: [{code: identification, name: Identificatie, name_en: Identification}]\n"
        "controllers:\n  - key: initech\n    name: Initech NV\n    country: BE\n"
        "    activities:\n"
        "      - {reference: I-1, name: Payroll, data_categories: &cats [identification],"
        " purposes: &purposes [{description: Loon, legal_basis: contract}]}\n"
        "      - {reference: I-2, name: Pensions, data_categories: *cats, purposes: *purposes}\n"
    )
    call_command("import_register", str(path))
    from processing.models import Controller

    controller = Controller.objects.get(key="initech")
    assert controller.statement_date.isoformat() == "2024-03-01"
    assert sorted(controller.activities.values_list("reference", flat=True)) == ["I-1", "I-2"]


def test_import_register_refuses_unknown_codes(tmp_path, unchanged):
    path = tmp_path / "codes.yaml"
    path.write_text(
        "format: ropa-register/1\n"
        "controller:\n  key: initech\n  name: Initech NV\n  country: BE\n"
        "activities:\n  - reference: I-1\n    name: Payroll\n    data_categories: [no-such-code]\n"
    )
    guard = unchanged()
    with pytest.raises(CommandError) as error:
        call_command("import_register", str(path))
    assert "codes.yaml" in str(error.value)
    guard.check()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--role", "system", "--controller", "no-such", "--source-system", "crm"], "no-such"),
        (["--role", "system", "--source-system", "crm"], "controller"),
        (["--role", "auditor", "--controller", "acme", "--days", "0"], "days"),
        (["--role", "dpo", "--user", "nobody"], "nobody"),
    ],
)
def test_issue_token_refuses_bad_scopes(world, unchanged, args, named):
    guard = unchanged()
    with pytest.raises(CommandError) as error:
        call_command("issue_token", *args)
    assert named in str(error.value)
    guard.check()


def test_issue_token_refuses_an_unknown_role(world, unchanged):
    guard = unchanged()
    with pytest.raises(CommandError) as error:
        call_command("issue_token", "--role", "root")
    assert "root" in str(error.value)
    guard.check()


@pytest.mark.parametrize(
    "args",
    [
        ["--controller", "no-such"],
        ["--controller", "9" * 30],
        ["--now", "tomorrow"],
        ["--now", "2026-02-30T00:00:00+01:00"],
        ["--batch-size", "0"],
        ["--batch-size", "-5"],
        ["--max-batches", "-1"],
        ["--pause", "-1"],
    ],
)
def test_retention_enforce_refuses_bad_options(world, unchanged, args):
    guard = unchanged()
    with pytest.raises(CommandError):
        call_command("retention_enforce", *args)
    guard.check()


# --- admin forms -----------------------------------------------------------------------------------------


def test_admin_forms_refuse_bad_data_and_store_nothing(dpo_client, world, unchanged):
    guard = unchanged()
    posts = [
        ("admin:processing_processingactivity_add", {"reference": "X\x00", "controller": "999999", "status": "?"}),
        ("admin:processing_processingactivity_add", {"reference": "X-1", "controller": world.a.pk,
                                                     "dpia_done_on": "2026-02-30", "last_reviewed_on": "0001-01-01"}),
        ("admin:retention_retentionrule_add", {"activity": world.activity_a.pk, "trigger": "never",
                                               "duration_value": "-3", "duration_unit": "eons"}),
        ("admin:retention_retentionrule_add", {"activity": "abc", "grace_days": "9" * 30}),
        ("admin:retention_legalhold_add", {"controller": world.a.pk, "activity": world.activity_a.pk, "reason": ""}),
        ("admin:retention_legalhold_add", {"record": "99999999", "reason": "x\x00"}),
        ("admin:retention_legalhold_add", {"subject": "s-1", "reason": "x" * 100_000}),
    ]
    for name, data in posts:
        response = dpo_client.post(reverse(name), data)
        assert response.status_code in (200, 400), (name, response.status_code)
        if response.status_code == 200:
            assert response.context["errors"], (name, data)
    guard.check()


def test_fingerprint_sees_a_change(world):
    before = fingerprint()
    world.activity_a.description_en = json.dumps("changed")
    world.activity_a.save()
    assert fingerprint() != before
