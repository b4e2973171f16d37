"""The retention invariant, proved over the real write paths: "erased when the policy says, kept while a
hold or the law says".

A hypothesis state machine drives the register through the surfaces people and systems use: records
registered and re-registered through the API by a system token (one at a time and in batches, partial
re-registrations that leave fields out), their trigger dates patched, activities and their retention rules
patched and replaced through the API by a DPO token (partial rule rows, broken rows, overrides of a
statutory minimum), rules edited in the admin (the real change form, posted by a logged-in DPO), legal
holds placed and released (API and admin), restriction requests completed and lifted, consents withdrawn,
erasure requests completed, decisions in the review queue (erase now, keep until a day, hold, let go), the
statements reloaded, a register file imported, and retention sweeps run. After every step it checks the
register against its own model (``invariant_model``: the law re-implemented with ``dateutil``, never the
project's engine); each problem it finds is named by its invariant:

- ``hold``: no record a legal hold in force covers is flagged or erased;
- ``statutory``: no record inside a statutory minimum is flagged or erased;
- ``early``, ``grace``: no record is flagged before its expiry, nor erased before its grace period ends;
- ``due``: every record past its expiry is flagged by the next sweep, and erased by the first sweep after
  its grace period (``maximum``: the same, for records whose expiry a maximum gave);
- ``expiry``: the stored expiry and deciding rule are the law's, and a record without one says so;
- ``omission``: no stored field (a record's payload, dates, activity, named rule; a subject's identifiers;
  a rule's fields; an activity's owner; a hold) changes unless a step said so, never by leaving it out,
  and a reload of the statements changes nothing the DPO changed;
- ``refusal``: what must be refused is (a record moved to another subject, or out of a hold; a restricted
  record changed; a rule that cannot be; a PUT rule row without its duration or statutory flag; a change
  that could end a statutory minimum sooner while it still keeps records, without a reason to override
  it), and nothing else is;
- ``listed``: a rule change lists the records whose expiry it moved earlier, before any sweep;
- ``identifiers``: a subject with nothing kept has no identifiers left;
- ``request``: an erasure request erases exactly what no hold and no running statutory minimum keeps, its
  outcome says what was kept, and a system token never reads a hold's reason in it;
- ``review``: a decision in the review queue does what it says, to the records it fits;
- ``chain``: the tombstone chain verifies; ``counts``: every run's counts equal its tombstones, one
  tombstone and one feed line per erased record, and a sweep flags exactly what was due;
- ``server``: no answer is a 5xx.

The clock. Sweeps and the model run on a virtual clock that starts at the real now and steps forward by
days to years (``retention_enforce(now=...)``). The HTTP surfaces and the admin judge with the server's
real now: trigger dates are chosen relative to the real today, an erasure request's statutory minima and a
review decision's "expired" are judged at the real now, and a flagged record that a write recomputes goes
back to active only when its new expiry is after the real now. So every write is judged at the server's
now, every sweep at the virtual one.

Bounded for CI: 15 examples of 20 steps (well under a minute per database). A longer run, e.g. nightly:
``ROPA_INVARIANT_EXAMPLES=500 ROPA_INVARIANT_STEPS=40 pytest tests/retention/test_invariants.py``.
On PostgreSQL a second machine (committed transactions, ``transactional_db``) also runs two sweeps at
once, from two threads with their own connections.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.forms import CheckboxInput
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from rest_framework.test import APIClient

from processing.choices import LegalBasis
from processing.models import Controller, DataCategory, ProcessingActivity
from retention.models import ErasureNotice, LegalHold, RetentionRule, RetentionRun, Tombstone
from retention.selectors import tombstone_chain_problems
from retention.services import retention_enforce
from ropa.api.services import api_token_issue
from subjects.models import DataSubject, PersonalDataRecord
from tests.auth import login_verified
from tests.factories import (
    ControllerFactory,
    DataCategoryFactory,
    DataSubjectCategoryFactory,
    ProcessingActivityFactory,
    PurposeFactory,
)

from . import invariant_model as law

EXAMPLES = int(os.environ.get("ROPA_INVARIANT_EXAMPLES", "15"))
STEPS = int(os.environ.get("ROPA_INVARIANT_STEPS", "20"))
PROFILE = hypothesis_settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

TZ = ZoneInfo(settings.ROPA_RETENTION_TIME_ZONE)
CATEGORIES = ("inv-contact", "inv-billing")
# Collection twice: a date every record has, so that rules run out within an example.
TRIGGERS = ("collection", "collection", "contract_end", "inactivity", "consent_withdrawn", "relevance_end")
RECORD_DATES = ("collected_on", "contract_ended_on", "last_activity_on", "consent_withdrawn_on", "relevance_ended_on")
STEPS_OF_THE_CLOCK = (
    dt.timedelta(0),
    dt.timedelta(days=1),
    dt.timedelta(days=14),
    dt.timedelta(days=45),
    dt.timedelta(days=200),
    dt.timedelta(days=400),
    dt.timedelta(days=1100),
    dt.timedelta(days=3700),
)
HOLD_REASON = "Litigation file of Jan Peeters, hold-{n}"
STATEMENT = "voiceking"
STATEMENT_ACTIVITIES = ("VK-02", "VK-07")


class Violation(AssertionError):
    """One or more invariants broken by the last step; each line starts with the invariant's name."""


def server_now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate()


def iso(day: dt.date | None):
    return None if day is None else day.isoformat()


def form_value(value) -> str:
    """A form field's current value as a browser posts it back."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


class Api:
    """The API as one token sees it."""

    def __init__(self, token: str):
        self.client = APIClient(raise_request_exception=False)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def call(self, method: str, path: str, data=None):
        kwargs = {"format": "json"} if data is not None else {}
        response = getattr(self.client, method)(f"/api/v1/{path}", data, **kwargs)
        if response.status_code >= 500:
            raise Violation(f"server: {method.upper()} {path} answered {response.status_code}")
        return response


# --- the world: controllers, activities, the statement, an imported file, tokens -------------------------


def import_file(path, *, rules: list[dict], override_reason: str | None = None) -> str | None:
    """A small register file (docs/register-format.md): one controller, one activity with ``rules``."""
    document = {
        "format": "ropa-file/1",
        "statement": None,
        "vocabulary": {
            "data_categories": [
                {"code": code, "name": f"Gegevens {code}", "name_en": f"Data {code}"} for code in CATEGORIES
            ]
        },
        "controllers": [
            {
                "key": "inv-imp",
                "name": "Import Test NV",
                "activities": [
                    {
                        "reference": "IMP-01",
                        "name": "Klantenbeheer",
                        "name_en": "Customer management",
                        "purposes": [{"description": "Klantenbeheer", "legal_basis": "contract"}],
                        "data_categories": list(CATEGORIES),
                        "retention": rules,
                    }
                ],
            }
        ],
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    options = {"override_reason": override_reason} if override_reason else {}
    try:
        call_command("import_register", str(path), stdout=io.StringIO(), **options)
    except CommandError as error:
        return str(error)
    return None


def file_rule(rule: law.Rule) -> dict:
    return {
        "data_category": rule.data_category,
        "duration": {"value": rule.duration_value, "unit": rule.duration_unit} if rule.duration_value else None,
        "trigger": rule.trigger,
        "action": rule.action,
        "grace_days": rule.grace_days,
        "statutory": rule.statutory,
        **({"maximum": True} if rule.maximum else {}),
        "legal_reference": rule.legal_reference or None,
        "note": rule.note or None,
    }


class InvariantWorld:
    """What every example starts from: two controllers of the test with three activities and no rules yet,
    the VoiceKing statement as shipped, a controller loaded from a register file, a DPO (token and admin
    login) and one system token per controller."""

    def __init__(self, tmp_path, *, statement: bool = True):
        self.tmp_path = tmp_path
        self.statement = statement
        if statement:
            call_command("load_statements", STATEMENT, stdout=io.StringIO())
        for code in CATEGORIES:
            DataCategoryFactory(code=code)
        customers = DataSubjectCategoryFactory(code="inv-customers")
        self.controllers = {key: ControllerFactory(key=key) for key in ("inv-acme", "inv-globex")}
        self.activities = {}
        for controller_key, reference in (("inv-acme", "INV-A1"), ("inv-acme", "INV-A2"), ("inv-globex", "INV-B1")):
            activity = ProcessingActivityFactory(controller=self.controllers[controller_key], reference=reference)
            PurposeFactory(activity=activity, legal_basis=LegalBasis.CONTRACT)
            PurposeFactory(activity=activity, legal_basis=LegalBasis.CONSENT, description="Nieuwsbrief")
            activity.data_categories.add(*activity.data_categories.model.objects.filter(code__in=CATEGORIES))
            activity.data_subject_categories.add(customers)
            self.activities[reference] = activity
        refused = import_file(
            tmp_path / "register.yaml", rules=[file_rule(law.Rule(None, 0, "collection", 2, "years"))]
        )
        assert refused is None, refused
        self.controllers["inv-imp"] = Controller.objects.get(key="inv-imp")
        if statement:
            self.controllers[STATEMENT] = Controller.objects.get(key=STATEMENT)
            for reference in STATEMENT_ACTIVITIES:
                self.activities[reference] = ProcessingActivity.objects.get(
                    controller__key=STATEMENT, reference=reference
                )
        self.activities["IMP-01"] = ProcessingActivity.objects.get(controller__key="inv-imp", reference="IMP-01")
        self.dpo = Api(api_token_issue(role="dpo", name="dpo invariants")[1])
        self.systems = {}
        for key, controller in self.controllers.items():
            source_system = f"{key}-crm"
            token = api_token_issue(
                role="system", name=f"{key} system", controllers=[controller], source_system=source_system
            )
            self.systems[key] = (source_system, Api(token[1]))
        user = get_user_model().objects.create(username="inv-dpo", is_staff=True, is_superuser=True)
        self.admin = Client(raise_request_exception=False)
        login_verified(self.admin, user)


# --- the machine ---------------------------------------------------------------------------------------


class RegisterMachine(RuleBasedStateMachine):
    """One example: a register that starts as the world left it, and the model of what the law requires."""

    world: InvariantWorld  # set by the test
    concurrent = False  # the PostgreSQL machine with committed transactions also sweeps twice at once

    def __init__(self):
        super().__init__()
        if not self.concurrent:
            self.savepoint = transaction.savepoint()
        self.clock = server_now()
        self.markers = 0
        self.reloads = self.imports = 0
        w = self.world
        self.activity_controller = {a.pk: a.controller.key for a in w.activities.values()}
        self.activity_categories = {
            a.pk: sorted(a.data_categories.values_list("code", flat=True)) for a in w.activities.values()
        }
        self.editable = [a.pk for ref, a in w.activities.items() if ref != "IMP-01"]
        self.owners = dict(ProcessingActivity.objects.filter(pk__in=self.editable).values_list("pk", "owner"))
        self.consent_purposes = {
            a.pk: list(a.purposes.filter(legal_basis=LegalBasis.CONSENT).values_list("pk", flat=True))
            for a in w.activities.values()
        }
        # Rules as stored when the example starts: the statement's and the imported file's.
        self.rules: dict[int, law.Rule] = {}
        self.rule_order: dict[int, list[int]] = {pk: [] for pk in self.activity_controller}
        for row in RetentionRule.objects.filter(activity_id__in=self.activity_controller).order_by("position", "id"):
            self.rules[row.pk] = self.rule_of(row)
            self.rule_order[row.activity_id].append(row.pk)
        self.records: dict[int, law.Record] = {}
        self.by_key: dict[tuple[str, str], int] = {}
        self.anonymised: set[int] = set()
        self.subjects: dict[tuple[str, str], dict] = {}
        self.holds: dict[int, law.Hold] = {}
        self.restrictions: dict[int, set[int]] = {}
        self.tombstones: dict[int, str] = {}  # record pk -> action, for every erasure the law allowed
        self.flags_of_run: dict[int, int] = {}
        self.flags_of_pair: dict[tuple[int, int], int] = {}
        self.due_labels: dict[int, str] = {}
        self.prev_rows: dict[int, dict] = {}
        self.prev_verdicts: dict[int, law.Verdict] = {}
        self.check("start", at=server_now())

    def teardown(self):
        if self.concurrent:
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            ContentType.objects.clear_cache()
        else:
            transaction.savepoint_rollback(self.savepoint)

    # --- the model's helpers ---------------------------------------------------------------------------

    @staticmethod
    def rule_of(row: RetentionRule) -> law.Rule:
        return law.Rule(
            id=row.pk,
            activity_id=row.activity_id,
            trigger=row.trigger,
            duration_value=row.duration_value,
            duration_unit=row.duration_unit,
            action=row.action,
            grace_days=row.grace_days,
            statutory=row.statutory,
            maximum=bool(getattr(row, "maximum", False)),
            data_category=row.data_category.code if row.data_category_id else None,
            legal_reference=row.legal_reference,
            note=row.note,
            source_quote=row.source_quote,
        )

    def verdict(self, record: law.Record) -> law.Verdict:
        rules = [self.rules[pk] for pk in self.rule_order[record.activity_id]]
        return law.verdict(law.applicable(rules, category=record.category, named=record.named_rule), record.dates, TZ)

    def covered(self, pk: int) -> bool:
        return any(hold.in_force and pk in hold.covers for hold in self.holds.values())

    def cover(self) -> None:
        """Every hold in force covers what is in its scope now, and keeps what it covered before."""
        for hold in self.holds.values():
            if hold.in_force:
                hold.covers |= {pk for pk, r in self.records.items() if hold.in_scope(r, self.activity_controller)}

    def marker(self) -> int:
        self.markers += 1
        return self.markers

    def rules_removed(self, gone: set[int]) -> None:
        for pk in gone:
            self.rules.pop(pk, None)
        for record in self.records.values():
            if record.named_rule in gone:
                record.named_rule = None

    def live_of_subject(self, controller: str, key: str) -> list[law.Record]:
        return [r for r in self.records.values() if (r.controller, r.subject) == (controller, key)]

    # --- strategies ------------------------------------------------------------------------------------

    def draw_date(self, data):
        return today() - dt.timedelta(days=data.draw(st.integers(min_value=-60, max_value=4000)))

    def draw_rule_fields(self, data, activity_id: int, *, whole: bool) -> dict:
        """Rule fields as the model names them: all of them (``whole``) or a few."""
        fields = {
            "trigger": st.sampled_from(TRIGGERS),
            "duration": st.one_of(
                st.none(),
                st.tuples(st.integers(1, 40), st.sampled_from(["days", "weeks"])),
                st.tuples(st.integers(1, 36), st.just("months")),
                st.tuples(st.integers(1, 12), st.just("years")),
            ),
            "action": st.sampled_from(["flag", "anonymise", "delete"]),
            "grace_days": st.sampled_from([0, 1, 30]),
            "statutory": st.booleans(),
            "maximum": st.booleans(),
            "data_category": st.sampled_from([None, *self.activity_categories[activity_id]]),
            "legal_reference": st.sampled_from(["", "art. 60 WBTW", "Boek III BW"]),
            "note": st.sampled_from(["", "kept for the audit"]),
        }
        if whole:
            chosen = list(fields)
        else:
            chosen = data.draw(st.lists(st.sampled_from(list(fields)), min_size=0, max_size=3, unique=True))
        values = {name: data.draw(fields[name]) for name in chosen}
        if whole and values["statutory"]:
            values["maximum"] = False  # mostly valid rules; invalid ones come from partial edits
        return values

    @staticmethod
    def apply_fields(rule: law.Rule, fields: dict) -> law.Rule:
        rule = law.dataclasses.replace(rule)
        for name, value in fields.items():
            if name == "duration":
                rule.duration_value, rule.duration_unit = (None, "") if value is None else value
            else:
                setattr(rule, name, value)
        return rule

    @staticmethod
    def api_fields(fields: dict) -> dict:
        out = dict(fields)
        if "duration" in out:
            out["duration"] = (
                None if out["duration"] is None else {"value": out["duration"][0], "unit": out["duration"][1]}
            )
        return out

    @staticmethod
    def api_row(rule: law.Rule) -> dict:
        return {
            **({"id": rule.id} if rule.id else {}),
            "data_category": rule.data_category,
            "duration": {"value": rule.duration_value, "unit": rule.duration_unit} if rule.duration_value else None,
            "trigger": rule.trigger,
            "action": rule.action,
            "grace_days": rule.grace_days,
            "statutory": rule.statutory,
            "maximum": rule.maximum,
            "legal_reference": rule.legal_reference,
            "note": rule.note,
            "source_quote": rule.source_quote,
        }

    def rules_valid(self, activity_id: int, rules: list[law.Rule]) -> bool:
        categories = set(self.activity_categories[activity_id])
        return all(not r.problems() and r.data_category in (None, *categories) for r in rules)

    # --- steps: the rules of the register ----------------------------------------------------------------

    @initialize(data=st.data())
    def give_the_activities_rules(self, data):
        """The test's three activities get their first rules through the API (a PATCH of new whole rows)."""
        for reference in ("INV-A1", "INV-A2", "INV-B1"):
            activity_id = self.world.activities[reference].pk
            count = data.draw(st.integers(min_value=0, max_value=3), label=f"rules of {reference}")
            wanted = []
            for _ in range(count):
                fields = self.draw_rule_fields(data, activity_id, whole=True)
                rule = self.apply_fields(law.Rule(None, activity_id, fields["trigger"]), fields)
                if not rule.problems():
                    wanted.append(rule)
            if wanted:
                self.patch_rules(activity_id, [self.api_row(r) for r in wanted], new=wanted)
        self.check("first rules", at=server_now())

    def patch_rules(self, activity_id: int, rows: list[dict], *, new: list[law.Rule]):
        """PATCH new whole rules onto an activity that has none yet (the first rules of an example)."""
        response = self.world.dpo.call("patch", f"processing-activities/{activity_id}/", {"retention_rules": rows})
        if response.status_code != 200:
            raise Violation(f"refusal: new rules {rows} were refused: {response.status_code} {response.json()}")
        self.take_rules(activity_id, response.json()["retention_rules"], [], new)

    def judge_rules(self, activity_id: int, pairs: list[tuple], *, override: bool) -> str:
        """What the register must do with a change of an activity's rules, ``pairs`` of (stored, new) rules
        (None: none): ``invalid`` (refused: a rule that cannot be), ``weakens`` (refused: it could end a
        statutory minimum sooner while that still keeps records, and no reason overrides it) or ``ok``."""
        if not self.rules_valid(activity_id, [new for _stored, new in pairs if new is not None]):
            return "invalid"
        at = server_now()
        for stored, new in pairs:
            weakened = stored is not None and not override and law.weakens(stored, new)
            if weakened and law.still_keeps(stored, self.records.values(), at, TZ):
                return "weakens"
        return "ok"

    def moved_earlier(self, before: dict[int, law.Verdict]) -> list[int]:
        """Records whose expiry the last change moved earlier, or gave where they had none."""
        moved = []
        for pk, record in self.records.items():
            old, new = before.get(pk), self.verdict(record).expires_at
            if old is not None and new is not None and (old.expires_at is None or new < old.expires_at):
                moved.append(pk)
        return sorted(moved)

    def expect_rule_write(self, response, judged: str, what: str) -> bool:
        """Whether the write must have been taken; raise when the register did otherwise."""
        if judged != "ok":
            if response.status_code < 300:
                raise Violation(f"refusal: {what} was accepted although it is {judged}")
            return False
        if response.status_code != 200:
            raise Violation(f"refusal: {what} was refused: {response.status_code} {response.content[:400]!r}")
        return True

    def listed_problems(self, response, before: dict[int, law.Verdict]) -> list[str]:
        """A write of rules lists, before any sweep can act, the records whose expiry it moved earlier."""
        listed = response.json().get("retention_changes")
        moved = self.moved_earlier(before)
        if listed is None or listed["records"] != moved[:100] or listed["earlier"] != len(moved):
            return [f"listed: the write lists {listed}, the law moved {moved} earlier"]
        return []

    def take_rules(self, activity_id: int, stored: list[dict], kept: list[law.Rule], new: list[law.Rule]) -> None:
        """The rules the activity has now: ``kept`` (by id, as the model changed them) and ``new`` ones, whose
        ids are the stored ones not seen before, in order."""
        before = set(self.rule_order[activity_id])
        kept_ids = {r.id for r in kept}
        fresh = [row["id"] for row in stored if row["id"] not in before]
        if len(fresh) != len(new):
            raise Violation(f"omission: {len(new)} new rule(s) sent, {len(fresh)} stored: {stored}")
        for changed in kept:
            self.rules[changed.id] = changed
        for pk, made in zip(fresh, new, strict=True):
            self.rules[pk] = law.dataclasses.replace(made, id=pk)
        self.rules_removed(before - kept_ids)
        self.rule_order[activity_id] = [r.id for r in kept] + fresh

    # Every step is one of these, drawn with these weights among those possible now. One rule that draws
    # its step, rather than one rule per step: hypothesis enables a random few of a machine's rules in each
    # example ("swarm testing"), which within a bounded budget leaves most examples with two or three kinds
    # of step; the invariant needs records, rule changes, holds and sweeps to meet in one example.
    STEPS = (
        ("register_records", 3, lambda self: True),
        ("register_again", 2, lambda self: bool(self.records)),
        ("patch_record_dates", 1, lambda self: bool(self.records)),
        ("change_the_rules", 2, lambda self: True),
        ("hold_or_release", 2, lambda self: True),
        ("restrict_or_lift", 1, lambda self: bool(self.records)),
        ("withdraw_consent", 1, lambda self: bool(self.records)),
        ("complete_an_erasure_request", 1, lambda self: bool(self.records)),
        ("decide_in_the_review_queue", 2, lambda self: any(r["status"] == "flagged" for r in self.prev_rows.values())),
        ("import_a_register_file", 1, lambda self: self.imports < 2),
        ("reload_the_statements", 1, lambda self: self.world.statement and self.reloads < 1),
        ("sweep", 4, lambda self: True),
        ("two_sweeps_at_once", 2, lambda self: self.concurrent),
    )

    @rule(data=st.data())
    def act(self, data):
        """One step of a system, the DPO or the clock."""
        names = [name for name, weight, possible in self.STEPS if possible(self) for _ in range(weight)]
        name = data.draw(st.sampled_from(names), label="step")
        getattr(self, name)(data)

    def change_the_rules(self, data):
        """The DPO changes an activity's rules: a PATCH or a PUT of the activity (API), or a rule's change form
        in the admin."""
        surfaces = ["patch", "put"]
        if any(self.rule_order[pk] for pk in self.editable):
            surfaces.append("admin")
        surface = data.draw(st.sampled_from(surfaces), label="surface")
        {"patch": self.patch_rules_partially, "put": self.put_activity, "admin": self.edit_rule_in_the_admin}[surface](
            data
        )

    def draw_override(self, data) -> str | None:
        if data.draw(st.integers(0, 2), label="override") == 0:
            return f"Verified with counsel, note {self.marker()}"
        return None

    def patch_rules_partially(self, data):
        """A DPO token PATCHes an activity's rules: every rule by id with only the fields that change (maybe
        none), perhaps a new whole rule, perhaps a broken row that must be refused."""
        activity_id = data.draw(st.sampled_from(self.editable), label="activity")
        rows, pairs = [], []
        for pk in self.rule_order[activity_id]:
            fields = self.draw_rule_fields(data, activity_id, whole=False)
            rows.append({"id": pk, **self.api_fields(fields)})
            pairs.append((self.rules[pk], self.apply_fields(self.rules[pk], fields)))
        new = []
        if data.draw(st.booleans(), label="add a rule"):
            fields = self.draw_rule_fields(data, activity_id, whole=True)
            rule = self.apply_fields(law.Rule(None, activity_id, fields["trigger"]), fields)
            rows.append(self.api_row(rule))
            new.append(rule)
        broken = data.draw(st.sampled_from([None, {}, {"duration": {"value": 5}}, {"legal_reference": "x"}]))
        if broken is not None:
            rows.append(broken)
        override = self.draw_override(data)
        judged = self.judge_rules(activity_id, pairs + [(None, r) for r in new], override=bool(override))
        judged = "invalid" if broken is not None else judged
        body = {"retention_rules": rows, **({"override": {"reason": override}} if override else {})}
        owner = f"Team {self.marker()}" if data.draw(st.booleans(), label="new owner") else None
        if owner:
            body["owner"] = owner
        before = {pk: self.verdict(r) for pk, r in self.records.items()}
        response = self.world.dpo.call("patch", f"processing-activities/{activity_id}/", body)
        problems = []
        if self.expect_rule_write(response, judged, f"a PATCH of rules {body}"):
            self.take_rules(activity_id, response.json()["retention_rules"], [n for _s, n in pairs], new)
            self.owners[activity_id] = owner or self.owners[activity_id]
            problems = self.listed_problems(response, before)
        self.check("PATCH rules", at=server_now(), problems=problems)

    def put_activity(self, data):
        """A DPO token PUTs the activity back as it read it, with its rules as whole rows: some changed, some
        left out (removed), perhaps a new one; a row without its duration or statutory flag must be refused."""
        activity_id = data.draw(st.sampled_from(self.editable), label="activity")
        body = self.world.dpo.call("get", f"processing-activities/{activity_id}/").json()
        kept, rows, pairs = [], [], []
        for pk in self.rule_order[activity_id]:
            if data.draw(st.integers(0, 5), label="drop") == 0:
                pairs.append((self.rules[pk], None))
                continue
            fields = self.draw_rule_fields(data, activity_id, whole=False)
            rule = self.apply_fields(self.rules[pk], fields)
            kept.append(rule)
            rows.append(self.api_row(rule))
            pairs.append((self.rules[pk], rule))
        new = []
        if data.draw(st.booleans(), label="add a rule"):
            fields = self.draw_rule_fields(data, activity_id, whole=True)
            rule = self.apply_fields(law.Rule(None, activity_id, fields["trigger"]), fields)
            new.append(rule)
            rows.append(self.api_row(rule))
            pairs.append((None, rule))
        missing = None
        if rows and data.draw(st.integers(0, 4), label="leave a field out") == 0:
            missing = data.draw(st.sampled_from(["duration", "statutory"]))
            del rows[data.draw(st.integers(0, len(rows) - 1))][missing]
        override = self.draw_override(data)
        judged = "invalid" if missing else self.judge_rules(activity_id, pairs, override=bool(override))
        body["retention_rules"] = rows
        if override:
            body["override"] = {"reason": override}
        before = {pk: self.verdict(r) for pk, r in self.records.items()}
        response = self.world.dpo.call("put", f"processing-activities/{activity_id}/", body)
        problems = []
        if self.expect_rule_write(response, judged, f"a PUT of rules {rows} (without {missing})"):
            self.take_rules(activity_id, response.json()["retention_rules"], kept, new)
            problems = self.listed_problems(response, before)
        self.check("PUT activity", at=server_now(), problems=problems)

    def edit_rule_in_the_admin(self, data):
        """The DPO opens a rule's change form in the admin, changes a few fields and saves it."""
        pk = data.draw(st.sampled_from([p for a in self.editable for p in self.rule_order[a]]), label="rule")
        rule = self.rules[pk]
        page = self.world.admin.get(f"/admin/retention/retentionrule/{pk}/change/")
        assert page.status_code == 200, page.status_code
        form = page.context["adminform"].form
        post = {}
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field.widget, CheckboxInput):
                if value:
                    post[name] = "on"
            else:
                post[name] = "" if value is None else str(value)
        fields = self.draw_rule_fields(data, rule.activity_id, whole=False)
        changed = self.apply_fields(rule, fields)
        for name, value in fields.items():
            if name == "duration":
                post["duration_value"] = "" if value is None else str(value[0])
                post["duration_unit"] = "" if value is None else value[1]
            elif name == "data_category":
                post[name] = "" if value is None else str(DataCategory.objects.get(code=value).pk)
            elif isinstance(value, bool):
                post.pop(name, None)
                if value:
                    post[name] = "on"
            else:
                post[name] = str(value)
        override = self.draw_override(data)
        if override:
            post["override_reason"] = override
        post["_save"] = "Save"
        judged = self.judge_rules(rule.activity_id, [(rule, changed)], override=bool(override))
        response = self.world.admin.post(f"/admin/retention/retentionrule/{pk}/change/", post)
        if response.status_code >= 500:
            raise Violation(f"server: the admin answered {response.status_code}")
        if judged == "ok" and response.status_code != 302:
            errors = response.context["adminform"].form.errors if response.context else response.status_code
            raise Violation(f"refusal: a valid admin edit {fields} of rule {pk} was refused: {errors}")
        if judged != "ok" and response.status_code == 302:
            raise Violation(f"refusal: an admin edit {fields} of rule {pk} was saved although it is {judged}")
        if judged == "ok":
            self.rules[pk] = changed
        self.check("admin rule edit", at=server_now())

    def import_a_register_file(self, data):
        """The DPO imports a new version of the register file: the imported activity's rules become the file's."""
        self.imports += 1
        activity_id = self.world.activities["IMP-01"].pk
        wanted = []
        for _ in range(data.draw(st.integers(0, 3), label="rules in the file")):
            fields = self.draw_rule_fields(data, activity_id, whole=True)
            rule = self.apply_fields(law.Rule(None, activity_id, fields["trigger"]), fields)
            if not rule.problems():
                wanted.append(rule)
        # The file's rules take the stored ones' places in order; those beyond its end are removed.
        current = [self.rules[pk] for pk in self.rule_order[activity_id]]
        pairs = [(old, wanted[n] if n < len(wanted) else None) for n, old in enumerate(current)]
        override = self.draw_override(data)
        judged = self.judge_rules(activity_id, pairs, override=bool(override))
        refused = import_file(
            self.world.tmp_path / f"register-{self.marker()}.yaml",
            rules=[file_rule(r) for r in wanted],
            override_reason=override,
        )
        if judged == "ok" and refused:
            raise Violation(f"refusal: a valid register file was refused: {refused}")
        if judged != "ok":
            if not refused:
                raise Violation(f"refusal: a register file was loaded although it is {judged}")
            self.check("import (refused)", at=server_now())
            return
        stored = list(RetentionRule.objects.filter(activity_id=activity_id).order_by("position", "id"))
        if len(stored) != len(wanted):
            raise Violation(f"omission: the file has {len(wanted)} rule(s), the register {len(stored)}")
        before = set(self.rule_order[activity_id])
        for row, rule in zip(stored, wanted, strict=True):
            self.rules[row.pk] = law.dataclasses.replace(rule, id=row.pk, source_quote=row.source_quote)
        self.rules_removed(before - {row.pk for row in stored})
        self.rule_order[activity_id] = [row.pk for row in stored]
        self.check("import", at=server_now())

    def reload_the_statements(self, data):
        """The statements are loaded again (as ``./dev run`` does): nothing the DPO changed may move."""
        self.reloads += 1
        call_command("load_statements", STATEMENT, stdout=io.StringIO())
        self.check("reload", at=server_now())

    # --- steps: records ------------------------------------------------------------------------------------

    def draw_item(self, data, controller: str, taken: set[str], named: set[str], external_id=None) -> dict | None:
        """One record as a system sends it: often one it sent before, with fields left out."""
        source_system, _api = self.world.systems[controller]
        pool = [f"{controller}-r{n}" for n in range(5) if f"{controller}-r{n}" not in taken]
        if external_id is None:
            if not pool:
                return None
            external_id = data.draw(st.sampled_from(pool), label="external id")
        existing = self.records.get(self.by_key.get((source_system, external_id)))
        activities = [pk for pk, key in self.activity_controller.items() if key == controller]
        activity_id = (
            existing.activity_id if existing and data.draw(st.booleans()) else data.draw(st.sampled_from(activities))
        )
        category = data.draw(st.sampled_from(self.activity_categories[activity_id]), label="category")
        if existing and data.draw(st.integers(0, 5)) > 0:
            subject = existing.subject
        else:
            subject = data.draw(st.sampled_from(["s0", "s1", "s2"]), label="subject")
        item = {"external_id": external_id, "subject": subject, "activity": activity_id, "data_category": category}
        payload = data.draw(st.sampled_from(["omit", "null", "value"]), label="payload")
        if payload == "null":
            item["payload"] = None
        elif payload == "value":
            item["payload"] = {"name": f"Jan Peeters {self.marker()}", "email": "jan@example.be"}
        if data.draw(st.integers(0, 3)) == 0 and subject not in named:
            # Once per subject in a batch: two different sets for one person in one request say nothing.
            item["subject_identifiers"] = {"email": f"{subject}.{self.marker()}@example.be"}
            named.add(subject)
        # A new record mostly comes with its dates; a known one is mostly sent again with some left out.
        choices = ["omit", "omit", "null", "date"] if existing else ["omit", "null", "date", "date", "date"]
        for name in RECORD_DATES:
            choice = data.draw(
                st.sampled_from(["date"] if name == "collected_on" and not existing else choices), label=name
            )
            if choice == "null":
                item[name] = None
            elif choice == "date":
                item[name] = iso(self.draw_date(data))
        named = data.draw(st.sampled_from(["omit", "omit", "null", "rule"]), label="named rule")
        rules = [pk for pk in self.rule_order[activity_id] if self.rules[pk].data_category in (None, category)]
        if named == "null":
            item["retention_rule"] = None
        elif named == "rule" and rules:
            item["retention_rule"] = data.draw(st.sampled_from(rules))
        return item

    def judge_item(self, controller: str, item: dict) -> tuple[str, law.Record, str]:
        """What the register must do with ``item`` (docs/retention.md, "Registering a record again"): ``new``,
        ``updated``, ``unchanged``, or ``refuse``; the record as it must then be; why it must be refused.
        Refused: a move to another subject; a named rule (kept as left out) that is not of the record's
        activity or category; a move (activity, category, named rule) of a record a hold covers; any change
        of a restricted record (payload, dates, a move)."""
        source_system, _api = self.world.systems[controller]
        pk = self.by_key.get((source_system, item["external_id"]))
        dates = {
            name: dt.date.fromisoformat(item[name]) if item[name] else None for name in law.DATE_FIELDS if name in item
        }
        if pk is None:
            record = law.Record(
                pk=0,
                source_system=source_system,
                external_id=item["external_id"],
                controller=controller,
                subject=item["subject"],
                activity_id=item["activity"],
                category=item["data_category"],
                payload=item.get("payload"),
                dates={name: dates.get(name) for name in law.DATE_FIELDS},
                named_rule=item.get("retention_rule"),
            )
            return "new", record, ""
        old = self.records[pk]
        record = law.dataclasses.replace(old, dates=dict(old.dates))
        record.activity_id, record.category = item["activity"], item["data_category"]
        if "payload" in item:
            record.payload = item["payload"]
        record.dates.update(dates)
        if "retention_rule" in item:
            record.named_rule = item["retention_rule"]
        if item["subject"] != old.subject:
            return "refuse", old, f"record {pk} moved to another subject"
        named = self.rules.get(record.named_rule)
        if named is not None and (
            named.activity_id != record.activity_id or named.data_category not in (None, record.category)
        ):
            return "refuse", old, f"record {pk} keeps naming rule {named.id}, not one of its new activity or category"
        moved = (record.activity_id, record.category, record.named_rule) != (
            old.activity_id,
            old.category,
            old.named_rule,
        )
        changed = moved or record.payload != old.payload or record.dates != old.dates
        if moved and self.covered(pk):
            return "refuse", old, f"record {pk} is under a legal hold and would move"
        if changed and old.restricted:
            return "refuse", old, f"record {pk} is restricted and would change"
        return ("updated" if changed else "unchanged"), record, ""

    def take_registration(self, controller: str, item: dict, record: law.Record, pk: int) -> None:
        key = (controller, item["subject"])
        if key not in self.subjects:
            self.subjects[key] = {}
        if "subject_identifiers" in item:
            self.subjects[key] = item["subject_identifiers"]
        record.pk = pk
        self.records[pk] = record
        self.by_key[record.key()] = pk

    def register(self, controller: str, items: list[dict], *, batch: bool) -> list[str]:
        _source_system, api = self.world.systems[controller]
        judged = [self.judge_item(controller, item) for item in items]
        if batch:
            response = api.call("post", "records/batch/", {"records": items})
        else:
            response = api.call("post", "records/", items[0])
        verdicts = {kind for kind, _record, _why in judged}
        if "refuse" in verdicts:
            if response.status_code < 300:
                reasons = [why for kind, _record, why in judged if kind == "refuse"]
                raise Violation(f"refusal: registration accepted although {'; '.join(reasons)}: {items}")
            return []
        if response.status_code not in (200, 201):
            raise Violation(
                f"refusal: a valid registration was refused ({response.status_code} {response.json()}): {items}"
            )
        body = response.json()
        results = body["results"] if batch else [body]
        problems = []
        for item, (kind, record, _why), result in zip(items, judged, results, strict=True):
            outcome = "created" if kind == "new" else kind
            if result.get("outcome") != outcome:
                problems.append(
                    f"counts: record {item['external_id']} answered {result.get('outcome')}, it was {outcome}"
                )
            self.take_registration(controller, item, record, result["id"])
            no_expiry = any(w.get("code") == "no_expiry" for w in result.get("warnings", []))
            if no_expiry != (self.verdict(record).expires_at is None):
                problems.append(f"expiry: record {result['id']} answered no_expiry={no_expiry}, wrongly")
        if batch:
            for outcome in ("created", "updated", "unchanged"):
                wanted = sum(1 for kind, _record, _why in judged if ("created" if kind == "new" else kind) == outcome)
                if body.get(outcome) != wanted:
                    problems.append(f"counts: the batch says {body.get(outcome)} {outcome}, it was {wanted}")
        return problems

    def register_records(self, data):
        """A system registers one record or a batch (all or nothing), new and known ones mixed: what a
        re-registration leaves out keeps its value."""
        controller = data.draw(st.sampled_from(sorted(self.world.systems)), label="controller")
        self.send_records(data, controller, [])

    def register_again(self, data):
        """A system sends one of its records again, often with fields left out, perhaps under another
        activity or category, perhaps in a batch with others."""
        record = self.records[data.draw(st.sampled_from(sorted(self.records)), label="record")]
        self.send_records(data, record.controller, [record.external_id])

    def send_records(self, data, controller: str, known: list[str]) -> None:
        batch = data.draw(st.booleans(), label="batch")
        items, taken, named = [], set(), set()
        for external_id in known:
            items.append(self.draw_item(data, controller, taken, named, external_id=external_id))
            taken.add(external_id)
        for _ in range(data.draw(st.integers(1, 6), label="batch size") - len(known) if batch else 1 - len(known)):
            item = self.draw_item(data, controller, taken, named)
            if item is None:
                break
            taken.add(item["external_id"])
            items.append(item)
        problems = self.register(controller, items, batch=batch)
        self.cover()
        self.check("batch" if batch else "register", at=server_now(), problems=problems)

    def patch_record_dates(self, data):
        """Trigger dates of a record change (null clears one): its system PATCHes them over the API, or the DPO
        corrects them on the record's page in the admin. A restricted record takes no other dates."""
        pk = data.draw(st.sampled_from(sorted(self.records)), label="record")
        record = self.records[pk]
        names = data.draw(st.lists(st.sampled_from(RECORD_DATES), min_size=1, max_size=3, unique=True))
        body = {}
        for name in names:
            body[name] = None if data.draw(st.integers(0, 3)) == 0 else iso(self.draw_date(data))
        new = {name: dt.date.fromisoformat(value) if value else None for name, value in body.items()}
        changes = any(record.dates[name] != value for name, value in new.items())
        if data.draw(st.booleans(), label="in the admin"):
            page = self.world.admin.get(f"/admin/subjects/personaldatarecord/{pk}/change/")
            form = page.context["adminform"].form
            post = {name: form_value(form[name].value()) for name in form.fields}
            post.update({name: value or "" for name, value in body.items()})
            response = self.world.admin.post(
                f"/admin/subjects/personaldatarecord/{pk}/change/", {**post, "_save": "Save"}
            )
            taken = response.status_code == 302
        else:
            _source_system, api = self.world.systems[record.controller]
            response = api.call("patch", f"records/{pk}/", body)
            taken = response.status_code == 200
        if response.status_code >= 500:
            raise Violation(f"server: changing the dates of record {pk} answered {response.status_code}")
        if record.restricted and changes:
            if taken:
                raise Violation(f"refusal: restricted record {pk} took new trigger dates {body}")
        elif not taken and not (record.restricted and not changes):
            raise Violation(f"refusal: new dates {body} of record {pk} were refused: {response.status_code}")
        elif taken:
            record.dates.update(new)
        self.check("record dates", at=server_now())

    # --- steps: holds, restriction, consent, requests ----------------------------------------------------------

    def hold_or_release(self, data):
        """The DPO places a legal hold, or releases one in force."""
        if any(h.in_force for h in self.holds.values()) and data.draw(st.integers(0, 2), label="release") == 0:
            self.release_a_hold(data)
        else:
            self.place_a_hold(data)

    def place_a_hold(self, data):
        """The DPO places a legal hold on a record, a subject, an activity or a controller: over the API, or
        with the admin's add form."""
        scopes = ["activity", "controller"] + (["record", "subject"] if self.records else [])
        scope = data.draw(st.sampled_from(scopes), label="scope")
        if scope == "record":
            target = data.draw(st.sampled_from(sorted(self.records)))
            body, form = {"record": target}, {"record": target}
        elif scope == "subject":
            record = self.records[data.draw(st.sampled_from(sorted(self.records)))]
            target = (record.controller, record.subject)
            body = {"controller": record.controller, "subject": record.subject}
            form = {"subject": DataSubject.objects.get(controller__key=record.controller, key=record.subject).pk}
        elif scope == "activity":
            target = data.draw(st.sampled_from(sorted(self.activity_controller)))
            body, form = {"activity": target}, {"activity": target}
        else:
            target = data.draw(st.sampled_from(sorted(self.world.controllers)))
            body, form = {"controller": target}, {"controller": self.world.controllers[target].pk}
        reason = HOLD_REASON.format(n=self.marker())
        if data.draw(st.booleans(), label="in the admin"):
            response = self.world.admin.post(
                "/admin/retention/legalhold/add/", {**form, "reason": reason, "_save": "Save"}
            )
            if response.status_code != 302:
                raise Violation(f"refusal: the admin refused hold {form}: {response.status_code}")
            pk = LegalHold.objects.filter(reason=reason).get().pk
        else:
            response = self.world.dpo.call("post", "legal-holds/", {**body, "reason": reason})
            if response.status_code != 201:
                raise Violation(f"refusal: hold {body} refused: {response.status_code} {response.json()}")
            pk = response.json()["id"]
        self.holds[pk] = law.Hold(pk=pk, scope=scope, target=target)
        self.cover()
        self.check("place hold", at=server_now())

    def release_a_hold(self, data):
        """The DPO releases a hold: over the API, or with the admin list's action."""
        pk = data.draw(st.sampled_from(sorted(pk for pk, h in self.holds.items() if h.in_force)), label="hold")
        if data.draw(st.booleans(), label="in the admin"):
            response = self.world.admin.post(
                "/admin/retention/legalhold/", {"action": "release_holds", "_selected_action": [pk], "index": 0}
            )
            released = response.status_code == 302
        else:
            response = self.world.dpo.call("post", f"legal-holds/{pk}/release/", {"reason": "settled"})
            released = response.status_code == 200
        if not released:
            raise Violation(f"refusal: releasing hold {pk}: {response.status_code}")
        self.holds[pk].in_force = False
        self.check("release hold", at=server_now())

    def file_request(self, record: law.Record, kind: str) -> int:
        _source_system, api = self.world.systems[record.controller]
        response = api.call("post", "requests/", {"subject": record.subject, "type": kind})
        if response.status_code != 201:
            raise Violation(f"refusal: filing a {kind} request: {response.status_code} {response.json()}")
        return response.json()["id"]

    def restrict_or_lift(self, data):
        """Art. 18: a restriction request completed, or the DPO lifts one."""
        if any(pks & set(self.records) for pks in self.restrictions.values()) and data.draw(
            st.booleans(), label="lift"
        ):
            self.lift_a_restriction(data)
        else:
            self.restrict(data)

    def restrict(self, data):
        """A restriction request (Art. 18) is filed by the system and completed by the DPO: all the subject's
        records, or some."""
        record = self.records[data.draw(st.sampled_from(sorted(self.records)), label="record")]
        request = self.file_request(record, "restriction")
        mine = sorted(r.pk for r in self.live_of_subject(record.controller, record.subject))
        chosen = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(mine), min_size=1, unique=True)))
        response = self.world.dpo.call(
            "post", f"requests/{request}/complete/", {} if chosen is None else {"records": chosen}
        )
        if response.status_code != 200:
            raise Violation(f"refusal: completing restriction {request}: {response.status_code} {response.json()}")
        restricted = set()
        for pk in mine if chosen is None else chosen:
            if not self.records[pk].restricted:
                self.records[pk].restricted = True
                restricted.add(pk)
        self.restrictions[request] = restricted
        self.check("restrict", at=server_now())

    def lift_a_restriction(self, data):
        live = sorted(req for req, pks in self.restrictions.items() if pks & set(self.records))
        request = data.draw(st.sampled_from(live), label="restriction")
        response = self.world.dpo.call("post", f"requests/{request}/lift-restriction/", {})
        if response.status_code != 200:
            raise Violation(f"refusal: lifting restriction {request}: {response.status_code} {response.json()}")
        for pk in self.restrictions.pop(request) & set(self.records):
            self.records[pk].restricted = False
        self.check("lift restriction", at=server_now())

    def withdraw_consent(self, data):
        """The system records a consent of a subject to a purpose, then its withdrawal on a past day: the
        subject's records under that activity whose consent_withdrawn_on is blank get that day."""
        consenting = {key for pk, key in self.activity_controller.items() if self.consent_purposes[pk]}
        candidates = sorted(pk for pk, r in self.records.items() if r.controller in consenting)
        if not candidates:
            return
        record = self.records[data.draw(st.sampled_from(candidates), label="record")]
        activities = [
            pk for pk, key in self.activity_controller.items() if key == record.controller and self.consent_purposes[pk]
        ]
        activity_id = data.draw(st.sampled_from(activities), label="activity")
        _source_system, api = self.world.systems[record.controller]
        given = server_now() - dt.timedelta(days=5000)
        response = api.call(
            "post",
            "consents/",
            {
                "subject": record.subject,
                "purpose": self.consent_purposes[activity_id][0],
                "source": "web form",
                "given_at": given.isoformat(),
            },
        )
        if response.status_code != 201:
            raise Violation(f"refusal: recording a consent: {response.status_code} {response.json()}")
        withdrawn_at = server_now() - dt.timedelta(
            days=data.draw(st.integers(0, 3000)), hours=data.draw(st.integers(0, 23))
        )
        response = api.call(
            "post", f"consents/{response.json()['id']}/withdraw/", {"withdrawn_at": withdrawn_at.isoformat()}
        )
        if response.status_code != 200:
            raise Violation(f"refusal: withdrawing a consent: {response.status_code} {response.json()}")
        day = timezone.localtime(withdrawn_at).date()
        moved = set()
        for other in self.live_of_subject(record.controller, record.subject):
            if other.activity_id == activity_id and other.dates["consent_withdrawn_on"] is None:
                other.dates["consent_withdrawn_on"] = day
                moved.add(other.pk)
        reported = {line["record"] for line in response.json()["records"]}
        if reported != moved:
            raise Violation(f"omission: the withdrawal moved {sorted(reported)}, the model expects {sorted(moved)}")
        self.check("withdraw consent", at=server_now())

    def complete_an_erasure_request(self, data):
        """Art. 17: filed by the system, completed by the DPO. Everything of the subject goes, except what a
        hold covers or a statutory minimum still keeps (judged at the server's now)."""
        record = self.records[data.draw(st.sampled_from(sorted(self.records)), label="record")]
        request = self.file_request(record, "erasure")
        verified = self.world.dpo.call("post", f"requests/{request}/identity-verify/", {})
        if verified.status_code != 200:
            raise Violation(f"refusal: verifying erasure request {request}: {verified.status_code} {verified.json()}")
        at = server_now()
        response = self.world.dpo.call("post", f"requests/{request}/complete/", {})
        if response.status_code != 200:
            raise Violation(f"refusal: completing erasure request {request}: {response.status_code} {response.json()}")
        erased, kept, problems = {}, set(), []
        for other in self.live_of_subject(record.controller, record.subject):
            v = self.verdict(other)
            if self.covered(other.pk) or law.inside_statutory_minimum(v, at):
                kept.add(other.pk)
            else:
                erased[other.pk] = "anonymise" if v.rule is not None and v.rule.action == "anonymise" else "delete"
        outcome = response.json()["outcome"]
        said_erased = {line["record"] for line in outcome.get("erased", [])}
        said_kept = {line["record"] for line in outcome.get("kept", [])}
        if said_erased != set(erased) or said_kept != kept:
            problems.append(
                f"request: outcome erased {sorted(said_erased)} kept {sorted(said_kept)}, "
                f"the law erases {sorted(erased)} and keeps {sorted(kept)}"
            )
        _source_system, api = self.world.systems[record.controller]
        seen_by_system = api.call("get", f"requests/{request}/").content.decode()
        if "Litigation file" in seen_by_system:
            problems.append(f"request: the system token reads a hold's reason in the outcome of request {request}")
        self.erase(erased)
        self.check("erasure request", at=at, erased=erased, problems=problems)

    def decide_in_the_review_queue(self, data):
        """The DPO decides on flagged records in the review queue (admin), with a reason: a flag-only rule's
        record is erased now or kept until a day; any is held; an erasing rule's is let go at once. What the
        decision does not fit (an erasing rule's record to erase or keep, a held one, one inside a statutory
        minimum, one not expired by the server's clock) is refused and stays as it is."""
        flagged = sorted(pk for pk, row in self.prev_rows.items() if row["status"] == "flagged")
        chosen = data.draw(st.lists(st.sampled_from(flagged), min_size=1, max_size=3, unique=True), label="records")
        action = data.draw(st.sampled_from(["erase", "keep", "hold", "release"]), label="decision")
        reason = f"Decided in review, note {self.marker()}"
        post = {"action": action, "record": [str(pk) for pk in chosen], "confirm": "1", "reason": reason}
        until = today() + dt.timedelta(days=data.draw(st.integers(1, 800), label="days kept"))
        if action == "keep":
            post["until"] = until.isoformat()
        at = server_now()
        response = self.world.admin.post("/admin/retention/review/", post)
        if response.status_code != 302:
            raise Violation(f"refusal: the review queue answered {response.status_code} to {action} {chosen}")
        erased, decided = {}, {}
        for pk in chosen:
            record, v = self.records[pk], self.verdict(self.records[pk])
            flag_only = v.rule is None or v.rule.action not in law.ERASING
            expired = v.expires_at is not None and v.expires_at <= at
            held = self.covered(pk)
            if action == "erase" and flag_only and expired and not held and not law.inside_statutory_minimum(v, at):
                erased[pk] = "delete"
            elif action == "keep" and flag_only and expired:
                decided[pk] = "keep"
                record.kept_until = law.end_moment(until - dt.timedelta(days=1), TZ)
            elif action == "release" and not flag_only and not held:
                decided[pk] = "release"
            elif action == "hold" and not held:
                hold = LegalHold.objects.get(record_id=pk, reason=reason)
                self.holds[hold.pk] = law.Hold(pk=hold.pk, scope="record", target=pk, covers={pk})
        self.erase(erased)
        self.check("review", at=at, erased=erased, decided=decided)

    def erase(self, erased: dict[int, str]) -> None:
        """The model forgets erased records; a subject with nothing kept any more has no identifiers."""
        for pk, action in erased.items():
            record = self.records.pop(pk)
            self.by_key.pop(record.key(), None)
            self.tombstones[pk] = action
            if action == "anonymise":
                self.anonymised.add(pk)
            if not self.live_of_subject(record.controller, record.subject):
                self.subjects[(record.controller, record.subject)] = {}

    # --- steps: the sweep ----------------------------------------------------------------------------------

    def sweep(self, data):
        """Time passes on the virtual clock, then the retention sweep runs at that moment."""
        self.clock += data.draw(st.sampled_from(STEPS_OF_THE_CLOCK), label="time passes")
        expected = self.sweep_expectations()
        run = retention_enforce(now=self.clock, origin="invariants")
        self.flags_of_run[run.pk] = len(expected["flag"])
        self.after_sweep(expected)

    def two_sweeps_at_once(self, data):
        """Two sweeps at the same moment, from two threads with their own database connections."""
        self.clock += data.draw(st.sampled_from(STEPS_OF_THE_CLOCK), label="time passes")
        expected = self.sweep_expectations()
        barrier, runs, errors = threading.Barrier(2), [], []

        def sweep():
            try:
                barrier.wait(timeout=30)
                runs.append(retention_enforce(now=self.clock, origin="invariants", batch_size=2))
            except Exception as error:  # reported below, in the test's thread
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        if errors:
            raise Violation(f"server: a concurrent sweep failed: {errors!r}")
        first, second = runs
        # Together they flag what one sweep would, however they share the work.
        self.flags_of_pair[(first.pk, second.pk)] = len(expected["flag"])
        self.after_sweep(expected)

    def sweep_expectations(self) -> dict:
        """What a sweep at ``self.clock`` must flag and erase, from the law and the last checked state."""
        flag, erase = set(), {}
        for pk, record in self.records.items():
            v = self.verdict(record)
            if self.covered(pk) or v.expires_at is None or v.expires_at > self.clock:
                continue
            if record.kept_until is not None and record.kept_until > self.clock:
                continue  # the DPO keeps it until then
            row = self.prev_rows[pk]
            if row["status"] == "active":
                flag.add(pk)
                erase_after = self.clock + dt.timedelta(days=v.rule.grace_days)
            else:
                erase_after = row["erase_after"]
            if v.rule.action in law.ERASING and erase_after is not None and erase_after <= self.clock:
                erase[pk] = v.rule.action
            self.due_labels[pk] = "maximum" if v.capped_by_maximum else "due"
        return {"flag": flag, "erase": erase}

    def after_sweep(self, expected: dict) -> None:
        at = self.clock
        for pk in expected["flag"]:
            self.records[pk].kept_until = None  # back in the queue
        self.erase(expected["erase"])
        self.check("sweep", at=at, erased=expected["erase"], flagged=expected["flag"])

    # --- the checks ------------------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        rows = {
            row["id"]: row
            for row in PersonalDataRecord.objects.values(
                "id",
                "subject__key",
                "subject__controller__key",
                "activity_id",
                "data_category__code",
                "retention_rule_id",
                "source_system",
                "external_id",
                "payload",
                "expires_at",
                "expiry_rule_id",
                "status",
                "flagged_at",
                "erase_after",
                "restricted_at",
                "kept_until",
                *law.DATE_FIELDS,
            )
        }
        return {
            "records": rows,
            "subjects": {
                (s["controller__key"], s["key"]): s["identifiers"]
                for s in DataSubject.objects.values("controller__key", "key", "identifiers")
            },
        }

    def check(self, step: str, *, at: dt.datetime, erased=None, flagged=None, problems=None, decided=None) -> None:
        """Compare the register with the model after ``step`` (judged at ``at``); raise every broken invariant.
        ``erased``: what the step must have erased; ``flagged``: what the sweep must have flagged;
        ``decided``: review decisions that move a flagged record (``keep``, ``release``)."""
        erased, flagged, decided = erased or {}, flagged or set(), decided or {}
        problems = list(problems or [])
        sweep = step == "sweep"
        after = server_now()
        db = self.snapshot()
        rows = db["records"]
        verdicts = {}
        for pk, record in self.records.items():
            v = verdicts[pk] = self.verdict(record)
            row = rows.get(pk)
            prev = self.prev_rows.get(pk)
            why = self.why_kept(pk, v, at) or ("grace" if sweep else "omission")
            if row is None or row["status"] == "erased":
                problems.append(f"{why}: record {pk} was {'deleted' if row is None else 'anonymised'} by '{step}'")
                continue
            problems += self.record_problems(pk, record, row)
            if v.expires_at != row["expires_at"] or (v.rule.id if v.rule else None) != row["expiry_rule_id"]:
                problems.append(
                    f"expiry: record {pk} expires at {row['expires_at']} under rule {row['expiry_rule_id']}, "
                    f"the law says {v.expires_at} under rule {v.rule.id if v.rule else None}"
                )
            if prev is None:
                if row["status"] != "active":
                    problems.append(f"early: new record {pk} is {row['status']}")
                continue
            if sweep:
                problems += self.sweep_problems(pk, v, row, prev, flagged, at)
            elif pk in decided:
                problems += self.decision_problems(pk, decided[pk], row, prev, at, after)
            else:
                problems += self.write_problems(pk, v, row, prev, at, after, step)
        for pk, action in erased.items():
            row = rows.get(pk)
            if action == "delete" and row is not None:
                problems.append(
                    f"{self.due_label(pk)}: record {pk} should have been deleted by '{step}', it is {row['status']}"
                )
            if action == "anonymise" and (row is None or row["status"] != "erased"):
                problems.append(f"{self.due_label(pk)}: record {pk} should have been anonymised by '{step}'")
        for pk in self.anonymised:
            row = rows.get(pk)
            if row is None:
                problems.append(f"omission: anonymised record {pk} disappeared")
            elif row["status"] != "erased" or any(
                row[name] is not None for name in ("payload", "subject__key", "external_id", "restricted_at")
            ):
                problems.append(f"identifiers: anonymised record {pk} holds personal data again: {row}")
        unknown = set(rows) - set(self.records) - self.anonymised
        if unknown:
            problems.append(f"omission: records {sorted(unknown)} exist that no step registered")
        problems += self.subject_problems(db["subjects"])
        problems += self.rule_problems()
        owners = dict(ProcessingActivity.objects.filter(pk__in=self.owners).values_list("pk", "owner"))
        problems += [
            f"omission: activity {pk} has owner {owners[pk]!r}, it should be {owner!r}"
            for pk, owner in self.owners.items()
            if owners[pk] != owner
        ]
        problems += self.hold_problems()
        problems += self.evidence_problems()
        if problems:
            raise Violation(f"after '{step}':\n  " + "\n  ".join(problems))
        self.prev_rows = {pk: rows[pk] for pk in self.records}
        self.prev_verdicts = verdicts

    def why_kept(self, pk: int, v: law.Verdict, at: dt.datetime) -> str | None:
        if self.covered(pk):
            return "hold"
        if law.inside_statutory_minimum(v, at):
            return "statutory"
        if v.expires_at is None or v.expires_at > at:
            return "early"
        return None

    def due_label(self, pk: int) -> str:
        return self.due_labels.get(pk, "due")

    def record_problems(self, pk: int, record: law.Record, row: dict) -> list[str]:
        problems = []
        stored = {
            "subject": row["subject__key"],
            "activity": row["activity_id"],
            "category": row["data_category__code"],
            "payload": row["payload"],
            "named rule": row["retention_rule_id"],
            "restricted": row["restricted_at"] is not None,
            "kept until": row["kept_until"],
            **{name: row[name] for name in law.DATE_FIELDS},
        }
        wanted = {
            "subject": record.subject,
            "activity": record.activity_id,
            "category": record.category,
            "payload": record.payload,
            "named rule": record.named_rule,
            "restricted": record.restricted,
            "kept until": record.kept_until,
            **{name: record.dates.get(name) for name in law.DATE_FIELDS},
        }
        for name, value in wanted.items():
            if stored[name] != value:
                label = "refusal" if name in (*law.DATE_FIELDS, "payload") and record.restricted else "omission"
                problems.append(f"{label}: record {pk} has {name} {stored[name]!r}, it should be {value!r}")
        return problems

    def sweep_problems(self, pk, v, row, prev, flagged, at) -> list[str]:
        problems = []
        why = self.why_kept(pk, v, at)
        if pk in flagged:
            if row["status"] != "flagged":
                label = "maximum" if v.capped_by_maximum else "due"
                problems.append(f"{label}: record {pk} expired at {v.expires_at} is still {row['status']} at {at}")
            elif row["flagged_at"] != at or row["erase_after"] != at + dt.timedelta(days=v.rule.grace_days):
                problems.append(
                    f"due: record {pk} flagged at {row['flagged_at']} to be erased after {row['erase_after']}; "
                    f"the sweep ran at {at} and the grace period is {v.rule.grace_days} days"
                )
        elif row["status"] != prev["status"] or row["erase_after"] != prev["erase_after"]:
            problems.append(
                f"{why or 'omission'}: the sweep at {at} moved record {pk} from {prev['status']} to {row['status']} "
                f"(expiry {v.expires_at})"
            )
        return problems

    def write_problems(self, pk, v, row, prev, at, after, step) -> list[str]:
        """A write never flags or erases; it may send a flagged record back to active only when its new expiry
        is after the server's now, and must when its expiry moved there."""
        if row["status"] == prev["status"] and row["erase_after"] == prev["erase_after"]:
            before = self.prev_verdicts.get(pk)
            moved = before is not None and before.expires_at != v.expires_at
            if row["status"] == "flagged" and moved and (v.expires_at is None or v.expires_at > after):
                return [f"due: flagged record {pk} stays flagged by '{step}' although it now expires at {v.expires_at}"]
            return []
        if prev["status"] == "flagged" and row["status"] == "active":
            if v.expires_at is None or v.expires_at > at:
                return []
            return [f"due: '{step}' sent flagged record {pk} back to active although it expired at {v.expires_at}"]
        why = self.why_kept(pk, v, at) or "early"
        return [f"{why}: '{step}' moved record {pk} from {prev['status']} to {row['status']}"]

    @staticmethod
    def decision_problems(pk, decision, row, prev, at, after) -> list[str]:
        """Kept until a day: active again, its grace period gone. Released: erased by the next sweep."""
        if decision == "keep":
            if (row["status"], row["flagged_at"], row["erase_after"]) != ("active", None, None):
                return [f"review: record {pk} kept until a day is {row['status']}, erase after {row['erase_after']}"]
            return []
        if prev["erase_after"] <= at:
            wanted_ok = row["erase_after"] == prev["erase_after"]
        else:
            wanted_ok = row["erase_after"] is not None and at <= row["erase_after"] <= after
        if row["status"] != "flagged" or not wanted_ok:
            return [f"review: record {pk} released for erasure is {row['status']}, erase after {row['erase_after']}"]
        return []

    def subject_problems(self, stored: dict) -> list[str]:
        problems = []
        for key, identifiers in self.subjects.items():
            kept = self.live_of_subject(*key)
            if not kept:
                if stored.get(key):
                    problems.append(
                        f"identifiers: subject {key[1]} of {key[0]} has nothing kept but still {sorted(stored[key])}"
                    )
                continue
            if key not in stored:
                problems.append(f"omission: subject {key[1]} of {key[0]} disappeared while records of it are kept")
            elif stored[key] != identifiers:
                problems.append(
                    f"omission: subject {key[1]} of {key[0]} has identifiers {stored[key]}, it should be {identifiers}"
                )
        return problems

    def rule_problems(self) -> list[str]:
        problems = []
        stored = {
            row.pk: row
            for row in RetentionRule.objects.filter(activity_id__in=self.activity_controller).select_related(
                "data_category"
            )
        }
        for pk in sorted(set(stored) - set(self.rules)):
            problems.append(f"omission: rule {pk} exists that no step made ({stored[pk].sentence()})")
        for pk, wanted in self.rules.items():
            if pk not in stored:
                problems.append(f"omission: rule {pk} of activity {wanted.activity_id} was removed")
                continue
            have = self.rule_of(stored[pk]).values()
            for name, value in wanted.values().items():
                if have[name] != value:
                    problems.append(f"omission: rule {pk} has {name} {have[name]!r}, it should be {value!r}")
        return problems

    def hold_problems(self) -> list[str]:
        stored = dict(LegalHold.objects.filter(pk__in=self.holds).values_list("pk", "released_at"))
        return [
            f"omission: hold {pk} is {'released' if stored.get(pk) else 'in force'}, it should not be"
            for pk, hold in self.holds.items()
            if (stored.get(pk) is None) != hold.in_force
        ]

    def evidence_problems(self) -> list[str]:
        problems = [f"chain: {problem}" for problem in tombstone_chain_problems()]
        stones = list(Tombstone.objects.values("record_id", "action", "run_id", "rule_id"))
        by_record = {}
        for stone in stones:
            if stone["record_id"] in by_record:
                problems.append(f"counts: record {stone['record_id']} has two tombstones")
            by_record[stone["record_id"]] = stone["action"]
        if by_record != self.tombstones:
            problems.append(f"counts: tombstones {by_record}, the erasures the law allowed {self.tombstones}")
        notices = set(ErasureNotice.objects.values_list("record_id", flat=True))
        if notices != set(self.tombstones):
            problems.append(f"counts: feed lines for records {sorted(notices)}, erased {sorted(self.tombstones)}")
        per_run: dict = {}
        for stone in stones:
            counts = per_run.setdefault(stone["run_id"], {})
            key = (str(stone["rule_id"]), stone["action"])
            counts[key] = counts.get(key, 0) + 1
        for run in RetentionRun.objects.filter(dry_run=False):
            counted = {
                (rule, action): n
                for rule, actions in run.counts.items()
                for action, n in actions.items()
                if action in law.ERASING and n
            }
            made = per_run.get(run.pk, {})
            if counted != made:
                problems.append(f"counts: run {run.pk} counts {counted}, its tombstones {made}")
            for action, field in (("anonymise", run.anonymised), ("delete", run.deleted)):
                if field != sum(n for (_rule, a), n in made.items() if a == action):
                    problems.append(f"counts: run {run.pk} says {field} {action}, its tombstones differ")
            if run.pk in self.flags_of_run and run.flagged != self.flags_of_run[run.pk]:
                problems.append(f"counts: run {run.pk} flagged {run.flagged}, the law {self.flags_of_run[run.pk]}")
        flagged = dict(
            RetentionRun.objects.filter(pk__in={pk for pair in self.flags_of_pair for pk in pair}).values_list(
                "pk", "flagged"
            )
        )
        for (first, second), wanted in self.flags_of_pair.items():
            if flagged[first] + flagged[second] != wanted:
                problems.append(f"counts: two sweeps flagged {flagged[first]} + {flagged[second]}, the law {wanted}")
        return problems


# --- the tests -------------------------------------------------------------------------------------------


@pytest.fixture
def invariant_world(db, tmp_path, settings):
    settings.ROPA_API_THROTTLE_RATE = "1000000/minute"
    return InvariantWorld(tmp_path)


def test_retention_invariants_hold_on_every_write_path(invariant_world):
    RegisterMachine.world = invariant_world
    run_state_machine_as_test(RegisterMachine, settings=PROFILE)


class ConcurrentRegisterMachine(RegisterMachine):
    concurrent = True

    def __init__(self):
        self.world = InvariantWorld(self.tmp_path, statement=False)
        super().__init__()


@pytest.mark.postgres
@pytest.mark.postgres(reason="two sweeps at once need PostgreSQL's row locks (SQLite serialises writers)")
def test_retention_invariants_hold_with_two_sweeps_at_once(transactional_db, tmp_path, settings):
    settings.ROPA_API_THROTTLE_RATE = "1000000/minute"
    ConcurrentRegisterMachine.tmp_path = tmp_path
    run_state_machine_as_test(
        ConcurrentRegisterMachine,
        settings=hypothesis_settings(PROFILE, max_examples=max(3, EXAMPLES // 3)),
    )
