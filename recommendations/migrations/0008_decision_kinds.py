"""Decisions gain a kind (continue, optimise, defer, start a ranked drug, start another drug), a review date
for a deferral and the form's idempotency key.

Every decision recorded before this migration named a drug of the ranking the clinician would start: they
become "start a ranked drug", which is what they meant (the data step below says so explicitly).
"""

from django.conf import settings
from django.db import migrations, models


def old_decisions_started_a_ranked_drug(apps, schema_editor):
    Decision = apps.get_model("recommendations", "Decision")
    Decision.objects.filter(kind="").update(kind="start_ranked")


KINDS = [('continue', 'Continue the current therapy'), ('optimise', 'Escalate or optimise the dose of the current therapy'), ('defer', 'Defer the decision'), ('start_ranked', 'Start a ranked drug'), ('start_other', 'Start a drug not in the ranking')]


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0002_ehr_clients'),
        ('recommendations', '0007_recommendationoutcome'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='decision',
            name='decision_override_has_reason',
        ),
        # Continuing and then optimising one drug on one ranking are two decisions: the kind joins the key.
        migrations.RemoveConstraint(
            model_name='decision',
            name='decision_once_per_clinician_and_drug',
        ),
        migrations.AddField(
            model_name='decision',
            name='idempotency_key',
            field=models.UUIDField(blank=True, editable=False, help_text="The submitted form's key: one decision per submission", null=True, unique=True),
        ),
        migrations.AddField(
            model_name='decision',
            name='kind',
            field=models.CharField(choices=[('continue', 'Continue the current therapy'), ('optimise', 'Escalate or optimise the dose of the current therapy'), ('defer', 'Defer the decision'), ('start_ranked', 'Start a ranked drug'), ('start_other', 'Start a drug not in the ranking')], default='', max_length=16),
        ),
        migrations.RunPython(old_decisions_started_a_ranked_drug, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='decision',
            name='kind',
            field=models.CharField(choices=KINDS, max_length=16),
        ),
        migrations.AddField(
            model_name='decision',
            name='review_on',
            field=models.DateField(blank=True, help_text='When a deferred decision is taken up again', null=True),
        ),
        migrations.AlterField(
            model_name='decision',
            name='drug_atc',
            field=models.CharField(blank=True, max_length=8),
        ),
        migrations.AlterField(
            model_name='decision',
            name='was_top',
            field=models.BooleanField(help_text='The drug started was the top suggestion of the recommendation'),
        ),
        migrations.AddIndex(
            model_name='decision',
            index=models.Index(fields=['visit', '-decided_at'], name='decision_visit_latest'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'start_ranked'), _negated=True), ('was_top', True), models.Q(('reason', ''), _negated=True), _connector='OR'), name='decision_override_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'start_other'), _negated=True), models.Q(models.Q(('reason', ''), _negated=True), models.Q(('drug_atc', ''), _negated=True)), _connector='OR'), name='decision_other_drug_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'defer'), _negated=True), ('review_on__isnull', False), _connector='OR'), name='decision_defer_has_date'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.CheckConstraint(condition=models.Q(('kind', 'defer'), models.Q(('drug_atc', ''), _negated=True), _connector='OR'), name='decision_names_a_drug'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.UniqueConstraint(fields=('recommendation', 'decided_by', 'kind', 'drug_atc'), name='decision_once_per_clinician_kind_and_drug'),
        ),
    ]
