from django.core.management.base import BaseCommand, CommandError

from clinnova.audit import Actor
from network.distribution import DistributionError, distribution_request
from network.engine import SubmitError, run_submit
from patients.dictionary import Disease
from recommendations.models import ModelStatus, ModelVersion


class Command(BaseCommand):
    help = ("At the hub: offer the disease's active version to every site node over Flower and print each site's "
            "decision (accepted and active there, refused with its reason, or awaiting the site's review).")

    def add_arguments(self, parser):
        parser.add_argument("--disease", required=True, choices=Disease.values)
        parser.add_argument("--superlink", help="host:port of the SuperLink (default NETWORK_SUPERLINK)")

    def handle(self, *args, disease, superlink, **options):
        version = ModelVersion.objects.filter(disease=disease, status=ModelStatus.ACTIVE).defer("package").first()
        if version is None:
            raise CommandError(f"no active version of {disease} at this hub to distribute")
        try:
            run = distribution_request(version=version, actor=Actor(client="manage.py distribute_model"))
            run = run_submit(run, superlink=superlink)
        except (DistributionError, SubmitError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"run {run.pk}: {run.status}; {version.get_disease_display()} version {version.version}")
        decisions = (run.result or {}).get("decisions", {})
        for code, state in sorted(run.sites.items()):
            d = decisions.get(code)
            self.stdout.write(f"  {code}: " + (f"{d['status']}" + (f" ({d['reason']})" if d.get("reason") else "")
                                               if d else state))
        if run.error:
            raise CommandError(run.error)
