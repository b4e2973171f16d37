# A consent's source and evidence are cleared when nothing of the person is kept any more.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('subjects', '0003_consent_requests_restriction'),
    ]

    operations = [
        migrations.AlterField(
            model_name='consentrecord',
            name='evidence',
            field=models.TextField(blank=True, help_text="What the person agreed to: the checkbox text and its version, the form's reference. Cleared when nothing of the person is kept any more.", verbose_name='evidence'),
        ),
        migrations.AlterField(
            model_name='consentrecord',
            name='source',
            field=models.CharField(blank=True, help_text='Where the consent was given: the web form, the app, a paper form, the source system. Required when recording; cleared when nothing of the person is kept any more.', max_length=100, verbose_name='source'),
        ),
    ]
