"""What every ModelAdmin of the site (the register's and third parties') takes from a browser.

List pages: a query-string value a filter cannot use is refused as Django's admin refuses an unknown
lookup (its "wrong parameters" answer, ``?e=1``), never a 500. Refused are a NUL character (PostgreSQL
cannot hold one, so any filter or search would fail in the database), and any value that makes a
filter, the date drill-down or the count fail on its type or range (``?due=9999-12``,
``?expires_at__year=99999999999999999999``, an id beyond the database's integers).

Change forms: a browser sends every textarea with CRLF line ends. They are read as LF, as the register
stores them (files, the API), so that saving a page without editing it changes nothing: no audit
change, no history row.

``install()`` (called from ``RopaConfig.ready``) puts both on ``ModelAdmin``, so that no admin can be
registered without them.
"""

from functools import wraps

from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.http import QueryDict


class GuardedChangeList(ChangeList):
    """Django's change list, refusing unusable filter values as incorrect lookup parameters."""

    def __init__(self, request, *args, **kwargs):
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise IncorrectLookupParameters(f"a NUL character in {key!r}")
        super().__init__(request, *args, **kwargs)

    def get_queryset(self, request, exclude_parameters=None):
        # Django guards the lookups it builds itself, not a list filter's own parsing (a SimpleListFilter's
        # ``queryset``) nor its date drill-down's arithmetic, which overflow on absurd years.
        try:
            return super().get_queryset(request, exclude_parameters)
        except (ValueError, OverflowError, ValidationError) as error:
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request):
        try:
            super().get_results(request)
        except OverflowError as error:  # an integer beyond the database's (SQLite refuses to bind it)
            raise IncorrectLookupParameters(error) from error


def lf_line_ends(data: QueryDict) -> QueryDict:
    """``data`` with every CRLF (or lone CR) read as LF."""
    if not any("\r" in value for _key, values in data.lists() for value in values):
        return data
    normal = data.copy()
    for key, values in data.lists():
        normal.setlist(key, [value.replace("\r\n", "\n").replace("\r", "\n") for value in values])
    normal._mutable = False
    return normal


def _get_changelist(self, request, **kwargs):
    return GuardedChangeList


def _with_lf_line_ends(view):
    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        if request.method == "POST":
            request.POST = lf_line_ends(request.POST)
        return view(self, request, *args, **kwargs)

    return wrapper


def _save_form_marking_unchanged(save_form):
    @wraps(save_form)
    def wrapper(self, request, form, change):
        obj = save_form(self, request, form, change)
        if change and not form.has_changed():
            obj.skip_history_when_saving = True  # django-simple-history writes no version of an unchanged row
        return obj

    return wrapper


def install() -> None:
    if getattr(ModelAdmin, "_ropa_admin_input", False):
        return
    ModelAdmin.get_changelist = _get_changelist
    ModelAdmin.save_form = _save_form_marking_unchanged(ModelAdmin.save_form)
    ModelAdmin.changeform_view = _with_lf_line_ends(ModelAdmin.changeform_view)
    ModelAdmin.changelist_view = _with_lf_line_ends(ModelAdmin.changelist_view)
    ModelAdmin._ropa_admin_input = True
