"""One mixin, applied to every ModelAdmin of the register: a user limited to some controllers
(``ControllerAccess``) sees, opens and picks only those controllers' objects."""

from django.contrib.admin import FieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, ManyToManyField, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from processing.models import Controller, ProcessingActivity

from .scope import scope_q, visible_controller_ids


def add_service_errors(form, error) -> None:
    """A service's ``ValidationError`` on the admin form that asked for it: each message on its field,
    or above the form when the form has no such field."""
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class HistoryRevertGuardMixin:
    """django-simple-history lets anyone who may view an object POST an old version back: reverting is a
    change, so it needs the change permission."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)


class ControllerScopedAdminMixin(HistoryRevertGuardMixin):
    """``controller_paths``: lookups from the model to its controller (``("pk",)`` for the controller itself).
    Objects outside the scope are left out of the list and answer 404 on their own page."""

    controller_paths: tuple[str, ...] = ("controller",)

    def controller_scope(self, request) -> Q | None:
        """The filter for the user's controllers, ``None`` when the user is not limited."""
        return scope_q(request.user, *self.controller_paths)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        condition = self.controller_scope(request)
        return queryset if condition is None else queryset.filter(condition)

    def _check_in_scope(self, request, object_id) -> None:
        # The history pages fall back to old versions of objects the list does not show: not for a limited user.
        limited = visible_controller_ids(request.user) is not None
        if limited and not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._check_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_in_scope(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)

    def _limit_choices(self, db_field, request, kwargs):
        ids = visible_controller_ids(request.user)
        if ids is None:
            return
        model = db_field.remote_field.model
        if model is Controller:
            kwargs["queryset"] = Controller.objects.filter(pk__in=ids)
        elif model is ProcessingActivity:
            kwargs["queryset"] = ProcessingActivity.objects.filter(controller_id__in=ids)
        elif any(f.name == "controller" and isinstance(f, ForeignKey) for f in model._meta.get_fields()):
            kwargs["queryset"] = model._default_manager.filter(controller_id__in=ids)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if isinstance(db_field, ManyToManyField):
            self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class RelatedInScopeListFilter(RelatedOnlyFieldListFilter):
    """Offers only the related objects the list holds (so a limited user is never shown other controllers'
    names), and keeps filtering by a chosen one even when it is the only choice: Django drops a filter
    with fewer than two choices, and with it the filtering the dashboard's links ask for."""

    def has_output(self):
        return bool(self.lookup_val or self.lookup_val_isnull) or super().has_output()


class ChoicesInUseListFilter(FieldListFilter):
    """A field with choices (a country, a kind), offering only the values the rows the user sees hold, by
    their labels: not 250 countries for a register of five Belgian controllers. One DISTINCT query: for
    small tables (controllers, recipients); a large table's filter names its possible values itself."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg = field_path
        self.lookup_val = params.get(field_path)
        if isinstance(self.lookup_val, list):
            self.lookup_val = self.lookup_val[-1]
        super().__init__(field, request, params, model, model_admin, field_path)
        labels = dict(field.flatchoices)
        present = model_admin.get_queryset(request).order_by().values_list(field_path, flat=True).distinct()
        self.lookup_choices = sorted(
            ((value, str(labels.get(value, value))) for value in present if value not in (None, "")),
            key=lambda pair: pair[1].casefold(),
        )

    def expected_parameters(self):
        return [self.lookup_kwarg]

    def has_output(self):
        return bool(self.lookup_val) or len(self.lookup_choices) > 1

    def choices(self, changelist):
        yield {
            "selected": not self.lookup_val,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg]),
            "display": _("All"),
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.lookup_val == str(value),
                "query_string": changelist.get_query_string({self.lookup_kwarg: value}),
                "display": label,
            }
