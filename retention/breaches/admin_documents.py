"""The breach register's documents in the admin: the register of the breaches the user may see as XLSX, CSV
or PDF (Art. 33(5)), and a breach's summary for the supervisory authority, as a page or as plain text.

A mixin for ``BreachAdmin``: its ``document_urls()`` go before the admin's own (``get_urls``). Who may use
them is whoever may view breaches, within their controllers (``self.get_queryset``). The views change
nothing: GET only."""

from __future__ import annotations

import io

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from subjects.choices import RequestLanguage

from .documents import write_csv, write_pdf, write_xlsx
from .summary import authority_summary, authority_summary_text

LANGUAGES = RequestLanguage.choices  # nl, fr, en: the languages a person is answered in
FORMATS = {
    "xlsx": (write_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": (write_csv, "text/csv; charset=utf-8"),
    "pdf": (write_pdf, "application/pdf"),
}
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t"}


def document_language(request) -> str:
    """``?lang=`` when it is nl, fr or en; else the interface's language, else English."""
    codes = [code for code, _name in LANGUAGES]
    asked = request.GET.get("lang") or ""
    if asked in codes:
        return asked
    current = (get_language() or "en")[:2]
    return current if current in codes else "en"


class BreachDocumentsMixin:
    """For a ModelAdmin of ``Breach``: the register's export and a breach's summary for the authority."""

    def document_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="breaches_breach_export"),
            path("<int:pk>/summary/", wrap(self.summary_view), name="breaches_breach_summary"),
        ]

    def export_view(self, request):
        """``?format=xlsx|csv|pdf&lang=nl|fr|en&delimiter=,|;|tab``: the register of the breaches the user sees."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = request.GET.get("format") or "xlsx"
        delimiter = DELIMITERS.get(request.GET.get("delimiter") or ",")
        if fmt not in FORMATS or delimiter is None:
            return HttpResponseBadRequest(_("Ask for format xlsx, csv or pdf, and a delimiter of , ; or tab."))
        language = document_language(request)
        writer, content_type = FORMATS[fmt]
        out = io.BytesIO()
        breaches = self.get_queryset(request)
        if fmt == "csv":
            writer(breaches, out, language, delimiter=delimiter)
        else:
            writer(breaches, out, language)
        out.seek(0)
        filename = f"breaches-{timezone.localdate():%Y%m%d}-{language}.{fmt}"
        return FileResponse(out, as_attachment=True, filename=filename, content_type=content_type)

    def summary_view(self, request, pk):
        """A breach's summary for the authority, ``?lang=``; ``&download=txt`` answers the plain text."""
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        language = document_language(request)
        if request.GET.get("download") == "txt":
            response = HttpResponse(authority_summary_text(obj, language), content_type="text/plain; charset=utf-8")
            # The number only: the title is the DPO's free text.
            response["Content-Disposition"] = f'attachment; filename="breach-{obj.pk}-{language}.txt"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": f"{_('Summary for the supervisory authority')}: {obj}",
            "opts": self.model._meta,
            "original": obj,
            "back": reverse("admin:breaches_breach_change", args=[obj.pk]),
            "sections": authority_summary(obj, language),
            "language": language,
            "languages": LANGUAGES,
        }
        return TemplateResponse(request, "admin/breaches/breach/summary.html", context)
