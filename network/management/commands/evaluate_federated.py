from django.core.management.base import BaseCommand, CommandError

from clinnova.audit import Actor
from network.engine import SubmitError, run_submit
from network.evaluation import EvaluationError, evaluation_claim, evaluation_request
from patients.dictionary import Disease
from recommendations.models import ModelStatus, ModelVersion


class Command(BaseCommand):
    help = "At the hub: evaluate a model version on every site's outcomes over Flower and print the result."

    def add_arguments(self, parser):
        parser.add_argument("--disease", required=True, choices=Disease.values)
        parser.add_argument("--model-version", dest="number", type=int, help="version number (default: the active one)")
        parser.add_argument("--superlink", help="host:port of the SuperLink (default NETWORK_SUPERLINK)")

    def handle(self, *args, disease, number, superlink, **options):
        versions = ModelVersion.objects.filter(disease=disease).defer("package")
        chosen = versions.filter(version=number).first() if number else versions.filter(
            status=ModelStatus.ACTIVE).first()
        if chosen is None:
            raise CommandError(f"no {'version ' + str(number) if number else 'active version'} of {disease}")
        try:
            # Submitted here, not by a worker: claimed first so that the sweep never sends it a second time.
            run = evaluation_request(version=chosen, actor=Actor(client="manage.py evaluate_federated"), submit=False)
            run = run_submit(evaluation_claim(run.pk), superlink=superlink)
        except (EvaluationError, SubmitError) as exc:
            raise CommandError(str(exc)) from None
        overall = (run.result.get("strata") or {}).get("overall") or {}
        self.stdout.write(f"run {run.pk}: {run.status} in {run.seconds or 0:.1f} s")
        for code, state in sorted(run.sites.items()):
            self.stdout.write(f"  {code}: {state}")
        if overall.get("auc"):
            auc = overall["auc"]
            self.stdout.write(f"  pooled AUC {auc['value']} ({auc['low']}–{auc['high']}), n={overall['n']}")
        if run.error:
            raise CommandError(run.error)
