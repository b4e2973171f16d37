"""Every route of the schema, with every role: who may, who is refused (403), who cannot even see the
object (404), and no token at all (401). A route added without a line here fails the test."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from processing.choices import LegalBasis
from retention.breaches.services import breach_report
from retention.models import LegalHold
from subjects.models import ConsentRecord, DataSubjectRequest, PersonalDataRecord
from tests.factories import PurposeFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "dpo", "auditor", "auditor_a", "auditor_b", "system_a", "system_a_erp", "system_b")
OK, DENIED, HIDDEN, NO_TOKEN = "ok", 403, 404, 401

EVERYONE = dict.fromkeys(ROLES[1:], OK)
DPO_ONLY = {**dict.fromkeys(ROLES[1:], DENIED), "dpo": OK}
# Objects of controller "acme", whose record came from its source system "crm".
IN_SCOPE_OF_A = {**EVERYONE, "auditor_b": HIDDEN, "system_b": HIDDEN}
SYSTEMS_WRITE_RECORDS = {**dict.fromkeys(ROLES[1:], DENIED), "system_a": OK, "system_a_erp": OK, "system_b": OK}
# Systems file requests and record consents for their own controller (the body names no other).
DPO_AND_SYSTEMS = {**SYSTEMS_WRITE_RECORDS, "dpo": OK}
# A consent of "acme": any system of acme may withdraw it; globex's system cannot even see it.
DPO_AND_SYSTEMS_OF_A = {**DPO_AND_SYSTEMS, "system_b": HIDDEN}
REQUEST_STEPS = ("identity_request", "identity_verify", "extend", "complete", "reject", "lift_restriction")

REGISTER = ("controllers", "recipients", "data_categories", "data_subject_categories", "security_measures")
VOCABULARIES = ("data_categories", "data_subject_categories", "security_measures")


def expected(operation: str) -> dict[str, object]:
    resource, _, verb = operation.rpartition("_")
    if operation.endswith("_partial_update"):
        resource, verb = operation.removesuffix("_partial_update"), "partial_update"
    if verb == "list":
        if resource == "erasure_feed":
            return {**EVERYONE, "auditor": DENIED, "auditor_a": DENIED, "auditor_b": DENIED}
        return EVERYONE
    if operation in ("token_retrieve", "register_retrieve"):
        return EVERYONE
    if operation == "register_export_retrieve":
        return {**EVERYONE, "system_a": DENIED, "system_a_erp": DENIED, "system_b": DENIED}
    if operation == "requests_package_retrieve":
        return DPO_ONLY
    if operation == "records_retrieve":
        return {**IN_SCOPE_OF_A, "system_a_erp": HIDDEN}
    if verb == "retrieve":
        return EVERYONE if resource in VOCABULARIES else IN_SCOPE_OF_A
    if operation in ("records_create", "records_batch_create"):
        return SYSTEMS_WRITE_RECORDS
    if operation == "records_partial_update":
        return {**DPO_ONLY, "system_a": OK, "system_a_erp": HIDDEN, "system_b": HIDDEN}
    if operation in ("consents_create", "requests_create", "breaches_create"):
        return DPO_AND_SYSTEMS
    if operation == "consents_withdraw_create":
        return DPO_AND_SYSTEMS_OF_A
    if operation in (f"requests_{step}_create" for step in REQUEST_STEPS):
        return DPO_ONLY
    if operation == "erasure_feed_confirm_create":
        return {**DPO_ONLY, "dpo": DENIED, "system_a": OK, "system_a_erp": OK, "system_b": OK}
    if resource in (
        *REGISTER,
        "processing_activities",
        "processing_activities_end",
        "legal_holds",
        "legal_holds_release",
    ):
        return DPO_ONLY
    raise AssertionError(f"no line in the role matrix for {operation}")


def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation["operationId"]


def test_every_route_with_every_role(world, settings):
    # Every route is called anonymously and with refused tokens, far beyond what one address may send.
    settings.ROPA_API_AUTH_FAILURE_RATE = "100000/minute"
    world.tokens["auditor_b"] = world.issue("auditor", controllers=[world.b])
    world.api("system_a").post("records/", world.record())
    record = PersonalDataRecord.objects.get()
    hold = LegalHold.objects.create(activity=world.activity_a, reason="Audit", placed_at=record.created_at)
    purpose = PurposeFactory(activity=world.activity_a, legal_basis=LegalBasis.CONSENT)
    consent = world.api("system_a").post("consents/", {"subject": "s-1", "purpose": purpose.pk, "source": "web form"})
    filed = world.api("system_a").post("requests/", {"subject": "s-1", "type": "access"})
    assert (consent.status_code, filed.status_code) == (201, 201), (consent.json(), filed.json())
    ids = {
        "controllers": world.a.pk,
        "recipients": world.recipient_a.pk,
        "data-categories": world.category.pk,
        "data-subject-categories": world.subjects.pk,
        "security-measures": world.measure.pk,
        "processing-activities": world.activity_a.pk,
        "purposes": world.activity_a.purposes.first().pk,
        "records": record.pk,
        "legal-holds": hold.pk,
        "consents": ConsentRecord.objects.get().pk,
        "requests": DataSubjectRequest.objects.get().pk,
        "breaches": breach_report(controller=world.a, title="Lost laptop", aware_at=record.created_at)[0].pk,
    }
    seen, wrong = 0, []
    for method, path, operation in operations():
        url = path.replace("{id}", str(ids.get(path.split("/")[3], 0)))
        matrix = {"anonymous": NO_TOKEN, **expected(operation)}
        for role in ROLES:
            api = world.api(role if role != "anonymous" else None)
            response = getattr(api, method)(url, {} if method in ("post", "put", "patch") else None)
            status = response.status_code
            assert status < 500, (operation, role, status)
            outcome = OK if status in (200, 201, 204, 400) else status
            if outcome != matrix[role]:
                wrong.append(f"{method.upper()} {url} as {role}: {status}, expected {matrix[role]}")
            seen += 1
    assert not wrong, "\n".join(wrong)
    assert seen >= 54 * len(ROLES)


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/schema/swagger-ui/", "/api/v1/schema/redoc/", "/api/v1/"])
def test_schema_docs_and_root_need_no_token(anyone, path, db):
    assert anyone.get(path).status_code == 200
