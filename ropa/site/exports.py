"""Exports and completeness in the admin: an action and a button on the controller, a completeness list.

The register's admin (processing.admin) knows nothing of exports; this module adds them, as
retention/admin/rules.py adds the retention rules to the activity page. The views only parse the form and
call ``ropa.register``; who may use them is whoever may view controllers and activities (a DPO, or an
auditor with a read-only account).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from processing.admin import ControllerAdmin
from processing.models import Controller
from ropa.access.scope import scoped, visible_controller_ids
from ropa.register import LANGUAGES, ExportError, export_register
from ropa.register.completeness import activity_gaps, controller_gaps
from ropa.register.labels import STATUS, choice
from ropa.register.snapshot import register_snapshot

FORMAT_CHOICES = [
    ("xlsx", _("XLSX: Belgian DPA register model, with completeness and retention evidence")),
    ("pdf", _("PDF: printable register, with completeness and retention evidence")),
    ("csv", _("CSV: one row per activity")),
    ("json", _("JSON: machine-readable (ropa-register/1)")),
]
LANGUAGE_CHOICES = [("en", "English"), ("nl", "Nederlands"), ("fr", "Français")]
COMPLETENESS_PAGE_SIZE = 200


def _language() -> str:
    language = (get_language() or "en")[:2]
    return language if language in LANGUAGES else "en"


def _check_access(request) -> None:
    user = request.user
    if not (user.has_perm("processing.view_controller") and user.has_perm("processing.view_processingactivity")):
        raise PermissionDenied


class RegisterExportForm(forms.Form):
    fmt = forms.ChoiceField(
        label=_("Format"),
        choices=FORMAT_CHOICES,
        initial="xlsx",
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
    )
    lang = forms.ChoiceField(label=_("Language of the headings"), choices=LANGUAGE_CHOICES)
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Blank: the register as it stands. A past date rebuilds the register as it stood at the end "
            "of that day from its version history."
        ),
    )
    delimiter = forms.ChoiceField(
        label=_("CSV separator"),
        choices=[(",", _("Comma (,)")), (";", _("Semicolon (;): spreadsheets set to Belgian, Dutch or French"))],
        initial=",",
        required=False,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
        help_text=_("CSV only."),
    )
    controller = forms.ModelMultipleChoiceField(
        label=_("Controllers"),
        queryset=Controller.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "radiolist"}),
        help_text=_("None ticked: every controller."),
    )


def _scoped_form(form: RegisterExportForm, request) -> RegisterExportForm:
    form.fields["controller"].queryset = scoped(Controller.objects.order_by("name"), request.user, "pk")
    return form


def register_export_view(request):
    """The export form; submitted (GET, it changes nothing) it answers with the file. A user limited to
    some controllers exports those (all of them when none is ticked), never another."""
    _check_access(request)
    visible = visible_controller_ids(request.user)
    if "fmt" in request.GET:
        form = _scoped_form(RegisterExportForm(request.GET), request)
        if form.is_valid():
            data = form.cleaned_data
            wanted = list(data["controller"]) or (None if visible is None else sorted(visible))
            try:
                export = export_register(
                    fmt=data["fmt"],
                    controller=wanted,
                    as_of=data["as_of"],
                    lang=data["lang"],
                    delimiter=(data["delimiter"] or ",") if data["fmt"] == "csv" else ",",
                )
            except ExportError as exc:
                form.add_error(None, str(exc))
            else:
                return FileResponse(
                    export.file, as_attachment=True, filename=export.filename, content_type=export.content_type
                )
    else:
        form = _scoped_form(
            RegisterExportForm(initial={"lang": _language(), "controller": request.GET.getlist("controller")}),
            request,
        )
    context = {
        **admin.site.each_context(request),
        "title": _("Export the register"),
        "form": form,
        "opts": Controller._meta,
    }
    return TemplateResponse(request, "admin/register/export.html", context)


def _completeness_snapshot(controllers, selected: str, everything):
    """The register of the controller asked for (its pk or key), or of every one the user sees when the
    choice is not theirs or not known; with the choice that stands."""
    if selected and not controllers.filter(**{"pk" if selected.isdigit() else "key": selected}).exists():
        selected = ""
    try:
        return register_snapshot(controller=[selected] if selected else everything), selected
    except ExportError:
        return register_snapshot(controller=everything), ""


def _completeness_rows(snapshot, language: str, *, show_all: bool):
    """The activities with their gaps (all of them with ``show_all``), the controllers' own gaps, and how
    many activities there are."""
    rows, controller_rows, total = [], [], 0
    for controller in snapshot.controllers:
        gaps = controller_gaps(controller)
        if gaps:
            controller_rows.append((controller, [gap.text(language) for gap in gaps]))
        for entry in snapshot.activities(controller):
            total += 1
            gaps = activity_gaps(entry, language)
            if gaps or show_all:
                rows.append(
                    {
                        "controller": controller,
                        "activity": entry.activity,
                        "name": entry.activity.localized(language=language),
                        "status": choice(STATUS, entry.activity.status, language),
                        "gaps": [gap.text(language) for gap in gaps],
                        "articles": ", ".join(sorted({f"Art. {gap.article}" for gap in gaps})),
                    }
                )
    return rows, controller_rows, total


def register_completeness_view(request):
    """Every activity with the Art. 30 items it lacks (by default only the incomplete ones)."""
    _check_access(request)
    language = _language()
    visible = visible_controller_ids(request.user)
    everything = None if visible is None else sorted(visible)
    controllers = scoped(Controller.objects.order_by("name"), request.user, "pk")
    snapshot, selected = _completeness_snapshot(controllers, request.GET.get("controller") or "", everything)
    show_all = request.GET.get("all") == "1"
    rows, controller_rows, total = _completeness_rows(snapshot, language, show_all=show_all)
    incomplete = sum(1 for row in rows if row["gaps"])
    page = Paginator(rows, COMPLETENESS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = {key: value for key, value in (("controller", selected), ("all", "1" if show_all else "")) if value}
    toggle = {key: value for key, value in (("controller", selected), ("all", "" if show_all else "1")) if value}
    context = {
        **admin.site.each_context(request),
        "title": _("Completeness of the register (Art. 30 GDPR)"),
        "controllers": controllers,
        "selected": selected,
        "show_all": show_all,
        "page": page,
        "controller_rows": controller_rows,
        "total": total,
        "incomplete": incomplete if show_all else len(rows),
        "query": urlencode(query),
        "toggle_query": urlencode(toggle),
        "opts": Controller._meta,
    }
    return TemplateResponse(request, "admin/register/completeness.html", context)


@admin.action(description=_("Export the register of the selected controllers (XLSX, PDF, CSV, JSON)…"))
def export_register_action(modeladmin, request, queryset):
    """Leads to the export form with the selected controllers ticked."""
    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        messages.warning(request, _("Select at least one controller."))
        return None
    return HttpResponseRedirect(reverse("register-export") + "?" + urlencode([("controller", pk) for pk in ids]))


# Exports build on the register; the register does not know about exports.
ControllerAdmin.actions = [*(ControllerAdmin.actions or ()), export_register_action]

# The admin is the whole site: no "View site" link leading back to it.
admin.site.site_url = None
admin.site.index_title = _("Dashboard")
