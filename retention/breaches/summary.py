"""A breach's summary for the supervisory authority, in the order of its notification form (contact,
timeline, nature, data and people, prior measures, consequences, measures, follow-up), to copy into its
portal; in nl, fr or en. Built from what ``documents`` reads of a breach; never a data subject's identifier."""

from __future__ import annotations

from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from processing.models import DataCategory

from . import services
from .choices import BreachStatus, RiskLevel
from .documents import BreachFacts, _category, _moment, affected, art34_outcome, breach_facts
from .models import Breach, BreachFiling, BreachScope, RiskAssessment

# --- The summary for the authority ----------------------------------------------------------------------


def _field(model, name: str) -> str:
    return str(capfirst(model._meta.get_field(name).verbose_name))


def _line(label: str, value) -> str:
    return f"{label}: {value if value not in (None, '') else '—'}"


def _contact(facts: BreachFacts) -> list[str]:
    breach, controller = facts.breach, facts.breach.controller
    owner = breach.owner
    lines = [
        _line(_("Controller"), controller.name),
        _line(_field(type(controller), "enterprise_number"), controller.enterprise_number),
        _line(
            _field(type(controller), "address"),
            ", ".join(p.strip() for p in controller.address.splitlines() if p.strip()),
        ),
        _line(_field(type(controller), "dpo_name"), controller.dpo_name),
        _line(_field(type(controller), "dpo_email"), controller.dpo_email),
        _line(_field(type(controller), "dpo_phone"), controller.dpo_phone),
        _line(_("Person filing the notification"), (owner.get_full_name() or owner.get_username()) if owner else ""),
    ]
    others = [c.name for c in breach.other_controllers.all()]
    if others:
        lines.append(_line(_field(Breach, "other_controllers"), ", ".join(others)))
    if breach.client_controller:
        lines.append(_line(_field(Breach, "client_controller"), breach.client_controller))
    return lines


def _timeline(facts: BreachFacts) -> list[str]:
    breach = facts.breach
    lines = [
        _line(_field(Breach, name), _moment(getattr(breach, name)))
        for name in ("occurred_from", "occurred_until", "aware_at")
    ]
    lines.append(_line(_field(Breach, "notification_due_at"), _moment(breach.notification_due_at)))
    for filing in sorted(breach.filings.all(), key=lambda f: (f.filed_at, f.pk)):
        values = {"phase": filing.get_phase_display(), "moment": _moment(filing.filed_at), "channel": filing.channel}
        line = _("Notification %(phase)s: filed at %(moment)s via %(channel)s") % values
        if filing.reference:
            line += f"; {BreachFiling._meta.get_field('reference').verbose_name}: {filing.reference}"
        lines.append(line)
        if filing.late_reason:
            lines.append(_line(_field(BreachFiling, "late_reason"), filing.late_reason))
    if facts.initial is None and breach.status == BreachStatus.NOT_NOTIFIABLE:
        lines.append(_("Not notified: the latest assessment finds no risk (Art. 33(1))."))
    elif facts.initial is None:
        lines.append(_("Not notified to the supervisory authority yet."))
    return lines


def _nature(facts: BreachFacts) -> list[str]:
    breach = facts.breach
    lines = [
        _line(_field(Breach, name), _("yes") if getattr(breach, name) else _("no"))
        for name in ("confidentiality", "integrity", "availability")
    ]
    return [*lines, _line(_field(Breach, "description"), breach.description)]


def _data(facts: BreachFacts, language: str) -> list[str]:
    scope = facts.scope
    if scope is None:
        return [_("The scope has not been computed yet.")]
    lines = [_line(_field(BreachScope, "computed_at"), _moment(scope.computed_at))]
    for code, counts in scope.counts.get("per_category", {}).items():
        category = facts.categories.get(code)
        flags = ("special_category", "criminal")
        marks = [str(DataCategory._meta.get_field(f).verbose_name) for f in flags if getattr(category, f, False)]
        records = ngettext("%(n)d record", "%(n)d records", counts["records"]) % {"n": counts["records"]}
        people = ngettext("%(n)d person", "%(n)d people", counts["subjects"]) % {"n": counts["subjects"]}
        mark = f" ({', '.join(marks)})" if marks else ""
        lines.append(f"{_category(facts, code, language)}{mark}: {records}, {people}")
    lines.append(_line(_("Number of people affected"), affected(scope, "subjects")))
    lines.append(_line(_("Number of records affected"), affected(scope, "records")))
    if scope.correction_note:
        lines.append(_line(_field(BreachScope, "correction_note"), scope.correction_note))
    names = [str(countries.name(code)) or code for code in scope.counts.get("recipient_countries", [])]
    lines.append(_line(_("Countries of the recipients"), ", ".join(names)))
    return lines


def _prior_measures(facts: BreachFacts) -> list[str]:
    if facts.assessment is None:
        return [_("Not assessed yet.")]
    return [
        _line(_field(RiskAssessment, name), _("yes") if getattr(facts.assessment, name) else _("no"))
        for name in ("encrypted", "pseudonymised")
    ]


def _consequences(facts: BreachFacts) -> list[str]:
    assessment = facts.assessment
    if assessment is None:
        return [_("Not assessed yet.")]
    return [
        assessment.consequences or _("Nothing recorded."),
        _line(_field(RiskAssessment, "level"), assessment.get_level_display()),
        f"{_field(RiskAssessment, 'likelihood')}: {assessment.likelihood}/4, "
        f"{_field(RiskAssessment, 'severity').lower()}: {assessment.severity}/4",
        _line(_field(RiskAssessment, "assessed_at"), _moment(assessment.assessed_at)),
    ]


def _measures_taken(facts: BreachFacts) -> list[str]:
    if facts.assessment is None:
        return [_("Not assessed yet.")]
    return [facts.assessment.mitigations or _("Nothing recorded.")]


def _follow_up(facts: BreachFacts, language: str) -> list[str]:
    breach, lines = facts.breach, []
    outcome = art34_outcome(facts)
    if outcome:
        lines.append(outcome)
        if breach.waiver_justification:
            lines.append(_line(_field(Breach, "waiver_justification"), breach.waiver_justification))
    elif facts.assessment is not None and facts.assessment.level == RiskLevel.HIGH:
        lines.append(_("The risk is high: the data subjects must be informed (Art. 34(1)); not done yet."))
    elif facts.assessment is not None:
        lines.append(_("No communication to the data subjects required: the risk is not high (Art. 34(1))."))
    holds = sorted(breach.legal_holds.all(), key=lambda h: (h.placed_at, h.pk))
    for hold in holds:
        where = (
            f"{hold.activity.reference} {hold.activity.localized(language=language)}"
            if hold.activity
            else hold.scope_label()
        )
        values = {"scope": where, "placed": _moment(hold.placed_at), "released": _moment(hold.released_at)}
        if hold.released_at:
            lines.append(_("Legal hold on %(scope)s from %(placed)s to %(released)s") % values)
        else:
            lines.append(_("Legal hold on %(scope)s since %(placed)s") % values)
    if not holds:
        lines.append(_("No legal hold placed."))
    due = services.complement_due_at(breach)
    if due is not None:
        lines.append(_("Complementary notification due by %(moment)s (Art. 33(4)).") % {"moment": _moment(due)})
    lines.append(_line(_field(Breach, "status"), breach.get_status_display()))
    if breach.closed_at:
        lines.append(_line(_field(Breach, "closed_at"), _moment(breach.closed_at)))
    return lines


def authority_summary(breach: Breach, language: str) -> list[tuple[str, list[str]]]:
    """The breach as the supervisory authority's notification form asks for it, section by section (a
    heading and its lines), in ``language``."""
    facts = breach_facts([breach])[0]
    with translation.override(language):
        return [
            (_("Contact details"), _contact(facts)),
            (_("Timeline"), _timeline(facts)),
            (_("Nature of the breach"), _nature(facts)),
            (_("Data and data subjects concerned"), _data(facts, language)),
            (_("Measures in place before the breach"), _prior_measures(facts)),
            (_field(RiskAssessment, "consequences"), _consequences(facts)),
            (_("Measures taken or proposed"), _measures_taken(facts)),
            (_("Follow-up"), _follow_up(facts, language)),
        ]


def authority_summary_text(breach: Breach, language: str) -> str:
    """The summary as plain text, numbered sections under a title, to copy into the authority's portal."""
    sections = authority_summary(breach, language)
    with translation.override(language):
        title = _("%(breach)s: notification to the supervisory authority") % {"breach": breach}
    text = [title, "=" * len(title), ""]
    for number, (heading, lines) in enumerate(sections, start=1):
        heading = f"{number}. {heading}"
        text += [heading, "-" * len(heading), *lines, ""]
    return "\n".join(text).rstrip("\n") + "\n"
