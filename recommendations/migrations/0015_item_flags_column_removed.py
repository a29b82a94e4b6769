"""Items keep their flags only in flag sets (moved there by 0014): the items' own column goes, the reference
becomes required."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0014_item_flags_into_sets")]

    operations = [
        migrations.RemoveField(model_name="recommendationitem", name="flags"),
        migrations.AlterField(
            model_name="recommendationitem",
            name="flag_set",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="recommendations.flagset"),
        ),
    ]
