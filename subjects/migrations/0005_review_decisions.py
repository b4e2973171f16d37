# The DPO's decisions on records a flag-only rule flagged: erase now, keep until a day (kept_until), hold.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('processing', '0001_initial'),
        ('subjects', '0004_consent_texts_cleared_when_forgotten'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='personaldatarecord',
            name='kept_until',
            field=models.DateTimeField(blank=True, editable=False, help_text='The DPO decided in the review queue to keep the record until then (its rule only flags): the sweep flags it again, back in the queue, from this moment. Blank: no such decision in force.', null=True, verbose_name='kept until'),
        ),
        migrations.CreateModel(
            name='ReviewDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('decision', models.CharField(choices=[('erase', 'erased now'), ('keep', 'kept until a date'), ('hold', 'legal hold placed')], help_text='What the DPO decided.', max_length=8, verbose_name='decision')),
                ('reason', models.TextField(help_text="Why, in the DPO's words: the controller's evidence of the decision, shown to the DPO only. Keep personal data out: it stays after the record is erased.", verbose_name='reason')),
                ('kept_until', models.DateField(blank=True, help_text='Keep: the day the record comes back to the review queue.', null=True, verbose_name='kept until')),
                ('run_id', models.BigIntegerField(blank=True, help_text='Erase: the retention run (origin review) that erased it.', null=True, verbose_name='retention run')),
                ('hold_id', models.BigIntegerField(blank=True, help_text='Hold: the legal hold placed on the record.', null=True, verbose_name='legal hold')),
                ('decided_at', models.DateTimeField(help_text='When.', verbose_name='decided at')),
                ('activity', models.ForeignKey(help_text='The activity the record was held under.', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='processing.processingactivity', verbose_name='activity')),
                ('decided_by', models.ForeignKey(blank=True, help_text='Who decided.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('record', models.ForeignKey(db_constraint=False, help_text='The record decided on (its id stays after it is erased).', on_delete=django.db.models.deletion.DO_NOTHING, related_name='review_decisions', to='subjects.personaldatarecord', verbose_name='record')),
            ],
            options={
                'verbose_name': 'review decision',
                'verbose_name_plural': 'review decisions',
                'ordering': ['-decided_at', '-id'],
                'indexes': [models.Index(fields=['record', 'decided_at'], name='review_decision_record_idx')],
            },
        ),
    ]
