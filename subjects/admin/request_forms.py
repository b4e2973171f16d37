"""The forms of a data-subject request in the admin: filing it (the person by key or identifier, or a new
one) and the questions each step asks before it calls its service."""

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import rules, selectors
from ..choices import (
    RequestType,
)
from ..models import (
    DataSubjectRequest,
)


class RequestAddForm(forms.ModelForm):
    """Filing a request: the person by their key or an identifier the controller holds (offered as the DPO
    types, within the controller chosen), or, for someone no system has registered, a new subject."""

    person = forms.CharField(
        label=_("Person"),
        max_length=200,
        help_text=_(
            "Their pseudonymous key, or an identifier the controller holds (e-mail, customer number, ...): "
            "type two characters to pick from the controller's people."
        ),
        widget=forms.TextInput(attrs={"list": "person-choices", "autocomplete": "off", "class": "vTextField"}),
    )
    new_person = forms.BooleanField(
        label=_("Not registered yet"),
        required=False,
        help_text=_("No system has registered this person: the register creates them with this identifier."),
    )
    identifier_name = forms.SlugField(
        label=_("Identifier's name"),
        required=False,
        initial="email",
        max_length=50,
        help_text=_("For a new person: what the identifier is (email, customer_number, ...)."),
    )

    class Meta:
        model = DataSubjectRequest
        fields = ("controller", "type", "language", "received_on", "source", "note")

    class Media:
        js = ("ropa/person-choices.js",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].widget.attrs["data-people-url"] = reverse("admin:subjects_datasubjectrequest_people")

    def clean(self):
        data = super().clean()
        controller, person = data.get("controller"), (data.get("person") or "").strip()
        received = data.get("received_on")
        if received and received > timezone.localdate():
            self.add_error("received_on", _("A request cannot be received in the future."))
        if not controller or not person:
            return data
        found = selectors.subject_matches(controller, person)
        if data.get("new_person"):
            if found:
                self.add_error(
                    "new_person",
                    _("%(controller)s already knows this person (key %(key)s): untick “Not registered yet”.")
                    % {"controller": controller, "key": found[0].key},
                )
            elif not data.get("identifier_name"):
                self.add_error("identifier_name", _("Name the identifier, for example email."))
            data["subject"] = None
        elif not found:
            self.add_error(
                "person",
                _(
                    "No one at %(controller)s has this key or identifier. Check it, or tick “Not registered "
                    "yet” to file the request for someone no system has registered."
                )
                % {"controller": controller},
            )
        elif len(found) > 1:
            self.add_error(
                "person",
                _("%(n)s people at %(controller)s have this identifier: give the key of the one meant.")
                % {"n": len(found), "controller": controller},
            )
        else:
            data["subject"] = found[0]
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ExtendForm(RequiredReasonForm):
    months = forms.TypedChoiceField(
        label=_("Months"), choices=((1, "1"), (2, "2")), coerce=int, help_text=_("At most two months in all.")
    )


class CompleteForm(forms.Form):
    """Completing a request: only what its type needs (rectified field names, the records to restrict,
    the erasure's confirmation), and a reason for going ahead when the identity is not verified."""

    reason = forms.CharField(label=_("Note on the outcome"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    fields_rectified = forms.CharField(
        label=_("Fields rectified"),
        help_text=_("The names of the fields changed in the source systems, comma-separated (names only, no values)."),
    )
    records = forms.TypedMultipleChoiceField(
        label=_("Records to restrict"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every record of the person."),
    )
    identity_override = forms.CharField(
        label=_("Go ahead without verified identity"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "The requester's identity is not verified. Say why the request may be completed anyway "
            "(kept in the request's events); otherwise verify the identity first."
        ),
    )
    confirm = forms.BooleanField(
        label=_("I understand that the erasure cannot be undone"),
        help_text=_("Erased records are gone from the register; the source systems are told to erase theirs."),
    )

    def __init__(self, *args, request_obj: DataSubjectRequest, **kwargs):
        super().__init__(*args, **kwargs)
        keep = {"reason"}
        if request_obj.type == RequestType.RECTIFICATION:
            keep.add("fields_rectified")
        if request_obj.type == RequestType.RESTRICTION:
            keep.add("records")
            self.fields["records"].choices = selectors.restrictable_record_choices(request_obj.subject)
        if request_obj.type == RequestType.ERASURE:
            keep.add("confirm")
        if rules.identity_problem(
            type=request_obj.type,
            identity_verified_at=request_obj.identity_verified_at,
            identity_overridden_at=request_obj.identity_overridden_at,
        ):
            keep.add("identity_override")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    def clean_fields_rectified(self):
        raw = self.cleaned_data["fields_rectified"]
        return [name.strip() for name in raw.split(",") if name.strip()] or None

    def clean_records(self):
        return self.cleaned_data["records"] or None
