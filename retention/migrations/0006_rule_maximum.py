from django.db import migrations, models

HELP = (
    "At most N: the data is erased by then, whatever open-ended rules (“as long as needed”) say, "
    "unless a statutory minimum or a legal hold keeps it."
)


class Migration(migrations.Migration):
    """A retention rule can be a maximum ("at most N"), never together with a statutory minimum."""

    dependencies = [
        ("retention", "0005_tombstone_record_ref"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalretentionrule",
            name="maximum",
            field=models.BooleanField(default=False, help_text=HELP, verbose_name="maximum"),
        ),
        migrations.AddField(
            model_name="retentionrule",
            name="maximum",
            field=models.BooleanField(default=False, help_text=HELP, verbose_name="maximum"),
        ),
        migrations.AddConstraint(
            model_name="retentionrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("maximum", True), ("statutory", True), _negated=True),
                name="retention_rule_not_statutory_and_maximum",
            ),
        ),
    ]
