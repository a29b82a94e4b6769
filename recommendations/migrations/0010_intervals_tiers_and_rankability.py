# Intervals, tiers and the minimum data set (issue 12).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('recommendations', '0009_cds_cards_and_origins'),
    ]

    operations = [
        migrations.AddField(
            model_name='recommendation',
            name='missing_for_ranking',
            field=models.JSONField(blank=True, default=list, help_text='Inputs of the minimum data set that were not recorded'),
        ),
        migrations.AddField(
            model_name='recommendation',
            name='rankable',
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name='recommendationitem',
            name='probability_high',
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='recommendationitem',
            name='probability_low',
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='recommendationitem',
            name='tier',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='recommendationitem',
            name='top_suggestion',
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name='recommendationitem',
            name='shap',
            field=models.JSONField(default=list, help_text="SHAP values (log-odds): the model's features in manifest order, then this drug's own indicator, then (since intervals) the sum of the other drugs' indicators"),
        ),
    ]
