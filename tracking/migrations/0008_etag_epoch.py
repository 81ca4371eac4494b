"""Issue 14: an ETag epoch, and evidence checked by its content.

The epoch: ETags hash the data version, a sequence (migration 0006). A
restore from backup sets that sequence back, so versions come round again
and a client's old ETag could match different data. The epoch, a random
number written here and replaced by `manage.py new_etag_epoch` (the README's
restore procedure runs it), goes into every ETag with the version, read in
the same query (tracking.db.etag_version()). A plain table, like 0006's
counter: no model, so test flushes leave it alone.

The evidence validator changes no column (validators live in Python only).
"""

import secrets

import django.core.validators
import tracking.evidence
import tracking.models.reports
from django.db import migrations, models


def create_epoch(apps, schema_editor):
    schema_editor.execute(
        "CREATE TABLE tracking_etag_epoch (id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL)"
    )
    schema_editor.execute("INSERT INTO tracking_etag_epoch VALUES (1, %s)", [secrets.randbits(62)])


def drop_epoch(apps, schema_editor):
    schema_editor.execute("DROP TABLE tracking_etag_epoch")


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0007_status_overdue_code_order'),
    ]

    operations = [
        migrations.RunPython(create_epoch, drop_epoch, elidable=False),
        migrations.AlterField(
            model_name='historicalprogressreport',
            name='evidence',
            field=models.TextField(blank=True, help_text='照片或 PDF，不超过 10 MB', max_length=100, validators=[django.core.validators.FileExtensionValidator(['pdf', 'jpg', 'jpeg', 'png']), tracking.models.reports.validate_evidence_size, tracking.evidence.validate_evidence_content], verbose_name='佐证材料'),
        ),
        migrations.AlterField(
            model_name='progressreport',
            name='evidence',
            field=models.FileField(blank=True, help_text='照片或 PDF，不超过 10 MB', upload_to='evidence/%Y/%m/', validators=[django.core.validators.FileExtensionValidator(['pdf', 'jpg', 'jpeg', 'png']), tracking.models.reports.validate_evidence_size, tracking.evidence.validate_evidence_content], verbose_name='佐证材料'),
        ),
    ]
