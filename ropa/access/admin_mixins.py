"""One mixin, applied to every ModelAdmin of the register: a user limited to some controllers
(``ControllerAccess``) sees, opens and picks only those controllers' objects."""

from django.db.models import ForeignKey, ManyToManyField, Q

from processing.models import Controller, ProcessingActivity

from .scope import scope_q, visible_controller_ids


class ControllerScopedAdminMixin:
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
