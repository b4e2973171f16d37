"""A guard for Django's admin autocomplete widget.

``AutocompleteSelect`` looks the submitted ids up to re-display a form that failed validation; an id that
is not a number (``activity=abc`` posted by hand) makes that lookup raise, and the admin answers 500
instead of showing the form with its error. The ids that cannot be a key are dropped before the lookup;
the form's own validation still reports the field.
"""

from django.contrib.admin.widgets import AutocompleteMixin
from django.core.exceptions import ValidationError

_original_optgroups = AutocompleteMixin.optgroups


def _optgroups(self, name, value, attr=None):
    remote = self.field.remote_field
    opts = remote.model._meta
    target = opts.get_field(getattr(remote, "field_name", None) or opts.pk.name)
    usable = []
    for item in value:
        try:
            target.to_python(item)
        except ValidationError:
            continue
        usable.append(item)
    return _original_optgroups(self, name, usable, attr)


def install() -> None:
    AutocompleteMixin.optgroups = _optgroups
