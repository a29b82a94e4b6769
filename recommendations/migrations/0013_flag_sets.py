"""Flag sets: each distinct list of an item's flags stored once, items refer to it (recommendations.flag_sets).

This adds the table and a nullable reference; 0014 moves the stored items' flags into sets and 0015 drops the
items' own column. The sets' JSON is compressed with LZ4 where PostgreSQL has it, as 0012 did for the items'.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "recommendations_flagset"


def _lz4_available(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    return bool(row and row[0])


def _lz4(apps, schema_editor):
    if _lz4_available(schema_editor):
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN flags SET COMPRESSION lz4")


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0012_item_json_lz4")]

    operations = [
        migrations.CreateModel(
            name="FlagSet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("flags", models.JSONField(default=list)),
            ],
        ),
        migrations.AddField(
            model_name="recommendationitem",
            name="flag_set",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="recommendations.flagset"),
        ),
        # The table is dropped with the model on the way back.
        migrations.RunPython(_lz4, migrations.RunPython.noop),
    ]
