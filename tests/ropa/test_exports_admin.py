"""The exports from the admin (action, button, form), the completeness list, and the command."""

import csv
import io
import json

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.auth import login_verified
from tests.factories import ControllerFactory, ProcessingActivityFactory, PurposeFactory, RetentionRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    controller = ControllerFactory(key="acme", name="Acme NV")
    complete = ProcessingActivityFactory(controller=controller, reference="A-01", name_en="Payroll")
    PurposeFactory(activity=complete)
    RetentionRuleFactory(activity=complete)
    ProcessingActivityFactory(controller=controller, reference="A-02", name_en="Bare entry")
    other = ControllerFactory(key="other", name="Other BV")
    ProcessingActivityFactory(controller=other, reference="O-01")
    return controller


def test_controller_page_has_export_and_completeness_buttons(dpo_client, register):
    page = dpo_client.get(reverse("admin:processing_controller_change", args=[register.pk])).content.decode()
    export_url = reverse("register-export") + f"?controller={register.pk}"
    assert f'href="{export_url}"' in page
    assert reverse("register-completeness") + f"?controller={register.pk}" in page
    assert reverse("admin:processing_controller_history", args=[register.pk]) in page  # the usual tools stay
    listing = dpo_client.get(reverse("admin:processing_controller_changelist")).content.decode()
    assert reverse("register-export") in listing and "export_register_action" in listing
    activities = dpo_client.get(reverse("admin:processing_processingactivity_changelist")).content.decode()
    assert reverse("register-completeness") in activities


def test_action_leads_to_the_export_form_with_the_selection(dpo_client, register):
    response = dpo_client.post(
        reverse("admin:processing_controller_changelist"),
        {"action": "export_register_action", "_selected_action": [register.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("register-export") + f"?controller={register.pk}"
    form = dpo_client.get(response["Location"])
    assert form.status_code == 200
    page = form.content.decode()
    assert f'value="{register.pk}" id="id_controller_0" checked' in page or (
        f'value="{register.pk}"' in page and "checked" in page
    )
    for fmt in ("xlsx", "pdf", "csv", "json"):
        assert f'value="{fmt}"' in page


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("pdf", "application/pdf", b"%PDF"),
        ("csv", "text/csv; charset=utf-8", b"\xef\xbb\xbf"),
        ("json", "application/json", b"{"),
    ],
)
def test_export_form_answers_with_the_file(dpo_client, register, fmt, content_type, magic):
    response = dpo_client.get(reverse("register-export"), {"fmt": fmt, "lang": "fr", "controller": register.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="register-acme-{_today()}.{fmt}"'
    content = b"".join(response.streaming_content)
    assert content.startswith(magic)
    if fmt == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        assert workbook.sheetnames[:2] == ["Responsable du traitement", "Registre"]
        references = [row[3] for row in workbook["Registre"].iter_rows(min_row=3, values_only=True)]
        assert references == ["A-01", "A-02"]
    if fmt == "json":
        assert [c["name"] for c in json.loads(content)["controllers"]] == ["Acme NV"]


def _today():
    from django.utils import timezone

    return timezone.localdate().isoformat()


def test_export_form_reports_what_it_cannot_do(dpo_client, register):
    # Before the register's history: refused, with the day it starts (not an empty file).
    response = dpo_client.get(reverse("register-export"), {"fmt": "pdf", "lang": "en", "as_of": "2001-01-01"})
    assert response.status_code == 200 and "history starts on" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    response = dpo_client.get(reverse("register-export"), {"fmt": "xlsx", "lang": "en", "as_of": "2999-01-01"})
    assert "2999-01-01 is in the future" in response.content.decode()
    response = dpo_client.get(reverse("register-export"), {"fmt": "docx", "lang": "en"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_completeness_list_shows_what_each_activity_lacks(dpo_client, register):
    page = dpo_client.get(reverse("register-completeness")).content.decode()
    assert "A-02" in page and "No purpose" in page and "No time limit for erasure" in page
    assert "O-01" in page
    mine = dpo_client.get(reverse("register-completeness"), {"controller": register.pk}).content.decode()
    assert "A-02" in mine and "O-01" not in mine
    assert (
        reverse("admin:processing_processingactivity_change", args=[register.activities.get(reference="A-02").pk])
        in mine
    )
    everything = dpo_client.get(reverse("register-completeness"), {"controller": register.pk, "all": "1"}).content
    assert b"A-01" in everything
    dutch = dpo_client.get(reverse("register-completeness"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Geen doeleinde" in dutch


def test_exports_need_view_permission_on_the_register(client, django_user_model, register):
    user = django_user_model.objects.create_user("clerk", password="a-long-test-password", is_staff=True)
    login_verified(client, user)
    assert client.get(reverse("register-export")).status_code == 403
    assert client.get(reverse("register-completeness")).status_code == 403
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_controller", "view_processingactivity"])
    )  # an auditor's read-only account
    login_verified(client, django_user_model.objects.get(pk=user.pk))
    assert client.get(reverse("register-export")).status_code == 200
    assert client.get(reverse("register-export"), {"fmt": "json", "lang": "en"}).status_code == 200
    assert client.get(reverse("register-completeness")).status_code == 200
    client.logout()
    assert client.get(reverse("register-export")).status_code == 302  # to the login page


def test_export_register_command_writes_the_file(register, tmp_path, capsys):
    path = tmp_path / "register.xlsx"
    call_command("export_register", "--format", "xlsx", "--controller", "acme", "--lang", "nl", "-o", str(path))
    assert "2 activities" in capsys.readouterr().err
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[1] == "Register"
    call_command("export_register", "--format", "json", "--as-of", _today(), "-o", str(tmp_path / "r.json"))
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["as_of"] == _today() and len(document["controllers"]) == 2
    with pytest.raises(CommandError, match="No such controller: nobody"):
        call_command("export_register", "--format", "csv", "--controller", "nobody", "-o", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match=r"31/12/2024.*Use YYYY-MM-DD"):
        call_command("export_register", "--format", "csv", "--as-of", "31/12/2024", "-o", str(tmp_path / "x.csv"))


def test_a_csv_for_belgian_spreadsheets_is_separated_by_semicolons_on_every_path(register, dpo_client, tmp_path):
    """The same rows with ``;`` between fields (command, admin form); a separator for another format is refused."""
    comma, semicolon = tmp_path / "comma.csv", tmp_path / "semicolon.csv"
    call_command("export_register", "--format", "csv", "--lang", "fr", "-o", str(comma))
    call_command("export_register", "--format", "csv", "--lang", "fr", "--delimiter", ";", "-o", str(semicolon))
    rows = list(csv.reader(io.StringIO(comma.read_text(encoding="utf-8-sig"))))
    text = semicolon.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].count(";") == len(rows[0]) - 1
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == rows
    with pytest.raises(CommandError, match="separator applies to CSV only"):
        call_command("export_register", "--format", "xlsx", "--delimiter", ";", "-o", str(tmp_path / "x.xlsx"))

    response = dpo_client.get(reverse("register-export"), {"fmt": "csv", "lang": "fr", "delimiter": ";"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body), delimiter=";")) == rows
    page = dpo_client.get(reverse("register-export")).content.decode()
    assert 'name="delimiter"' in page and 'value=";"' in page
