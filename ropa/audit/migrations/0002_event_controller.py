"""Each audit event keeps the controller of its object, so that a user limited to some controllers reads
only theirs. Existing events are given it where the object still exists (events are immutable: a queryset
update here, never ``save``); the rest stay blank and are read by unlimited users only."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import BigIntegerField, F, OuterRef, Subquery
from django.db.models.functions import Cast, Coalesce

# (object type, model, lookups to its controller, the first one set wins), as ``ropa.audit.registry`` writes them.
PATHS = (
    ("processing.controller", "processing.Controller", ("pk",)),
    ("processing.recipient", "processing.Recipient", ("controller",)),
    ("processing.processingactivity", "processing.ProcessingActivity", ("controller",)),
    ("processing.purpose", "processing.Purpose", ("activity__controller",)),
    ("processing.source", "processing.Source", ("activity__controller",)),
    ("retention.retentionrule", "retention.RetentionRule", ("activity__controller",)),
    (
        "retention.legalhold",
        "retention.LegalHold",
        ("controller", "activity__controller", "subject__controller", "record__activity__controller"),
    ),
    ("retention.retentionrun", "retention.RetentionRun", ("controller",)),
    ("subjects.datasubjectrequest", "subjects.DataSubjectRequest", ("controller",)),
    ("subjects.consentrecord", "subjects.ConsentRecord", ("subject__controller",)),
    ("subjects.reviewdecision", "subjects.ReviewDecision", ("activity__controller",)),
)


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    blank = AuditEvent.objects.filter(controller__isnull=True)
    # Object ids of these types are their integer primary keys (the filter on the type comes first).
    for object_type, label, paths in PATHS:
        model = apps.get_model(label)
        owner = (
            Coalesce(*(F(path) for path in paths), output_field=BigIntegerField()) if len(paths) > 1 else F(paths[0])
        )
        controller = (
            model.objects.filter(pk=Cast(OuterRef("object_id"), BigIntegerField()))
            .annotate(audit_controller=owner)
            .values("audit_controller")[:1]
        )
        blank.filter(object_type=object_type).update(controller_id=Subquery(controller))
    # A token of one controller (a system token, an auditor token of one); its events name it by lookup key.
    ApiToken = apps.get_model("api", "ApiToken")
    for token_key, ids in ApiToken.objects.values_list("token_key", "controller_ids_cache").iterator():
        if ids and len(ids) == 1:
            blank.filter(object_type="api.apitoken", object_id=token_key).update(controller_id=ids[0])
    # The subjects forgotten in one batch: kept under their controller when they all had the same one.
    DataSubject = apps.get_model("subjects", "DataSubject")
    for event in blank.filter(object_type="subjects.datasubject").only("pk", "changes").iterator():
        ids = set(
            DataSubject.objects.filter(pk__in=event.changes.get("subjects", [])).values_list("controller_id", flat=True)
        )
        if len(ids) == 1:
            blank.filter(pk=event.pk).update(controller_id=ids.pop())


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_audit_event"),
        ("processing", "0002_loaded_entry"),
        ("retention", "0006_rule_maximum"),
        ("subjects", "0005_review_decisions"),
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="controller",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The controller the object belonged to when it happened; blank when it belongs to no single controller (a vocabulary entry, a sweep of all controllers, a token of several).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="processing.controller",
                verbose_name="controller",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
