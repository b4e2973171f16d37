"""The forms of a breach's steps in the admin: what each step asks before it calls its service."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processing.models import DataCategory, ProcessingActivity
from subjects.choices import RequestLanguage

from . import rules
from .choices import Art34Waiver, CommunicationMethod, FilingPhase
from .models import Breach, BreachCommunication

NATURE_CHOICES = (
    ("confidentiality", _("confidentiality")),
    ("integrity", _("integrity")),
    ("availability", _("availability")),
)
SCALE = [(n, str(n)) for n in rules.LIKELIHOOD]


class BreachAddForm(forms.ModelForm):
    natures = forms.MultipleChoiceField(
        label=_("nature"),
        choices=NATURE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What was breached: confidentiality, integrity, availability (several may apply)."),
    )

    class Meta:
        model = Breach
        fields = (
            "controller",
            "title",
            "aware_at",
            "natures",
            "occurred_from",
            "occurred_until",
            "description",
            "discovery",
            "client_controller",
            "owner",
        )


class ScopeForm(forms.Form):
    activities = forms.ModelMultipleChoiceField(
        label=_("activities"),
        queryset=ProcessingActivity.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every activity of the controller."),
    )
    source_systems = forms.CharField(
        label=_("source systems"), required=False, help_text=_("Comma-separated, as the records name them (crm, erp).")
    )
    data_categories = forms.ModelMultipleChoiceField(
        label=_("data categories"),
        queryset=DataCategory.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every category."),
    )
    registered_from = forms.DateTimeField(label=_("records registered from"), required=False)
    registered_until = forms.DateTimeField(label=_("records registered until"), required=False)

    def __init__(self, *args, breach: Breach, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activities"].queryset = ProcessingActivity.objects.filter(controller=breach.controller)

    def criteria(self) -> dict:
        data = self.cleaned_data
        return {
            "activities": [a.pk for a in data["activities"]],
            "source_systems": [s.strip() for s in data["source_systems"].split(",") if s.strip()],
            "data_categories": [c.code for c in data["data_categories"]],
            "registered_from": data["registered_from"],
            "registered_until": data["registered_until"],
        }


class CorrectForm(forms.Form):
    subjects_min = forms.IntegerField(label=_("people affected (at least)"), min_value=0, required=False)
    subjects_max = forms.IntegerField(label=_("people affected (at most)"), min_value=0, required=False)
    records_min = forms.IntegerField(label=_("records affected (at least)"), min_value=0, required=False)
    records_max = forms.IntegerField(label=_("records affected (at most)"), min_value=0, required=False)
    correction_note = forms.CharField(
        label=_("why the counts were corrected"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: backups held more than the register's records; an estimate."),
    )


class AssessForm(forms.Form):
    likelihood = forms.TypedChoiceField(
        label=_("likelihood"), choices=SCALE, coerce=int, help_text=_("1 low to 4 very high.")
    )
    severity = forms.TypedChoiceField(
        label=_("severity"), choices=SCALE, coerce=int, help_text=_("1 low to 4 very high.")
    )
    consequences = forms.CharField(
        label=_("likely consequences"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    mitigations = forms.CharField(
        label=_("mitigating factors"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    encrypted = forms.BooleanField(label=_("data encrypted"), required=False)
    pseudonymised = forms.BooleanField(label=_("data pseudonymised"), required=False)


class FileForm(forms.Form):
    phase = forms.ChoiceField(label=_("phase"), choices=FilingPhase.choices)
    filed_at = forms.DateTimeField(label=_("filed at"), initial=timezone.now)
    channel = forms.CharField(label=_("channel"), initial="APD/GBA portal")
    reference = forms.CharField(
        label=_("authority's reference"), required=False, help_text=_("For the Belgian portal, DBN...")
    )
    late_reason = forms.CharField(
        label=_("reasons for the delay"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Required for an initial notification after the deadline (Art. 33(1))."),
    )


class WaiveForm(forms.Form):
    waiver = forms.ChoiceField(label=_("Art. 34(3) ground"), choices=Art34Waiver.choices, widget=forms.RadioSelect)
    waiver_justification = forms.CharField(
        label=_("why the people are not told"), widget=forms.Textarea(attrs={"rows": 3})
    )


LANGUAGE_NAMES = RequestLanguage.choices  # nl, fr, en: the languages a person is answered in


class CommunicationForm(forms.Form):
    language = forms.ChoiceField(label=_("language"), choices=LANGUAGE_NAMES)
    text = forms.CharField(
        label=_("text"), widget=forms.Textarea(attrs={"rows": 22, "cols": 100, "class": "vLargeTextField"})
    )


class InformedForm(forms.Form):
    communication = forms.ModelChoiceField(label=_("communication"), queryset=BreachCommunication.objects.none())
    method = forms.ChoiceField(label=_("method"), choices=CommunicationMethod.choices)
    sent_at = forms.DateTimeField(label=_("sent at"), initial=timezone.now)

    def __init__(self, *args, breach: Breach, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communication"].queryset = breach.communications.all()
        self.fields["communication"].initial = breach.communications.order_by("-created_at", "-id").first()


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmForm(forms.Form):
    pass
