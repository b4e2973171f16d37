"""API tokens in the admin: issue one (its plaintext is shown once, on the next page), see who uses which,
revoke. The admin and ``manage.py issue_token`` issue through the same service."""

from allauth.account.adapter import get_adapter as get_account_adapter
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter
from ropa.access.mfa import has_second_factor, session_mfa_verified
from ropa.access.scope import visible_controller_ids

from .models import ApiToken
from .roles import Role
from .services import (
    MAX_TOKEN_DAYS,
    api_token_issue,
    api_token_revoke,
    default_token_days,
    token_scope_problems,
)


class ApiTokenIssueForm(forms.ModelForm):
    days = forms.IntegerField(
        label=_("valid for (days)"),
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text=_("The token stops working after this many days."),
    )

    class Meta:
        model = ApiToken
        fields = ["name", "role", "controllers", "source_system"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = default_token_days()

    editor = None  # the user issuing: set per request by ``ApiTokenAdmin.get_form``

    def clean(self):
        cleaned = super().clean()
        if "role" in cleaned:
            for problem in token_scope_problems(
                role=cleaned["role"],
                controllers=list(cleaned.get("controllers") or []),
                source_system=cleaned.get("source_system", ""),
                actor=self.editor,
            ):
                self.add_error(problem.field if problem.field in self.fields else None, problem.message)
        return cleaned


class TokenStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", _("active")), ("expired", _("expired")), ("revoked", _("revoked")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.usable(now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expiry__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ControllerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "token_key", "role", "scope", "source_system", "state", "expiry", "last_used_at", "user")
    list_filter = (TokenStateFilter, "role", "source_system", ("controllers", RelatedInScopeListFilter))
    search_fields = ("name", "token_key", "source_system", "user__username")
    list_select_related = ("user",)
    filter_horizontal = ("controllers",)
    actions = ["revoke"]
    readonly_fields = (
        "name",
        "token_key",
        "role",
        "controllers_display",
        "source_system",
        "user",
        "created",
        "expiry",
        "issued_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def add_view(self, request, form_url="", extra_context=None):
        """A token acts without a second factor for as long as it lives: only a session that gave one issues it."""
        if not session_mfa_verified(request):
            self.message_user(request, self._second_factor_first(request), messages.ERROR)
            return redirect("admin:api_apitoken_changelist")
        return super().add_view(request, form_url, extra_context)

    def _second_factor_first(self, request):
        back = urlencode({REDIRECT_FIELD_NAME: reverse("admin:api_apitoken_add")})
        if has_second_factor(request.user):
            url = get_account_adapter(request).get_reauthentication_methods(request.user)[0]["url"]
            link = _("Confirm with your authenticator")
        else:
            url, link = reverse("mfa_activate_totp"), _("Set up an authenticator app")
        return format_html(
            '{} <a href="{}?{}">{}</a>',
            _("Issuing an API token needs a second factor given in this session."),
            url,
            back,
            link,
        )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            # A fresh subclass per request: the editor is never left on the shared form class.
            kwargs["form"] = type("ApiTokenIssueForm", (ApiTokenIssueForm,), {"editor": request.user})
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "role", "controllers", "source_system", "days"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def controller_scope(self, request):
        # A limited user sees the tokens bound to its controllers only: never an unscoped one, nor one that
        # also reaches another controller (revoking it would cut that controller off).
        ids = visible_controller_ids(request.user)
        if ids is None:
            return None
        links = ApiToken.controllers.through.objects
        reaching_further = links.exclude(controller_id__in=ids).values("apitoken_id")
        return Q(pk__in=links.filter(controller_id__in=ids).values("apitoken_id")) & ~Q(pk__in=reaching_further)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("controllers")

    @admin.display(description=_("controllers"))
    def scope(self, obj):
        keys = [c.key for c in obj.controllers.all()]
        return ", ".join(keys) if keys else (_("all") if obj.role != Role.SYSTEM else "-")

    @admin.display(description=_("controllers"))
    def controllers_display(self, obj):
        return self.scope(obj)

    @admin.display(description=_("state"))
    def state(self, obj):
        return obj.state()

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, plaintext = api_token_issue(
            role=form.cleaned_data["role"],
            name=form.cleaned_data["name"],
            controllers=list(form.cleaned_data["controllers"]),
            source_system=form.cleaned_data["source_system"],
            days=form.cleaned_data["days"],
            actor=request.user,
        )
        # The admin goes on with ``obj`` (history entry, redirect): make it the issued row.
        obj.__dict__.update({k: v for k, v in token.__dict__.items() if not k.startswith("_")})
        obj._state = token._state
        self.message_user(
            request,
            _("Token issued. Copy it now; it is stored hashed and cannot be shown again: %s") % plaintext,
            messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        pass

    def has_change_permission(self, request, obj=None):
        # A token's scope never changes: issue a new one and revoke the old.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, actor=request.user)
        self.message_user(request, _("Revoked."), messages.SUCCESS)

    def has_revoke_permission(self, request):
        return request.user.has_perm("api.change_apitoken")
