from django.core.management.base import BaseCommand, CommandError

from clinnova.stack import services_ready
from doors.loadtest import SCENARIOS, scenario_run, table


class Command(BaseCommand):
    help = "Load and fault tests against the real stack (gunicorn, Celery, PostgreSQL, Redis) on this machine."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=60)
        parser.add_argument("--clients", type=int, default=50)
        parser.add_argument("--scenario", choices=SCENARIOS, action="append")

    def handle(self, *args, seconds, clients, scenario, **options):
        reason = services_ready()
        if reason:
            raise CommandError(f"loadtest {reason}")
        outcomes = []
        for name in scenario or SCENARIOS:
            self.stdout.write(f"{name}: {clients} EHR clients for {seconds:.0f} s…")
            outcomes.append(scenario_run(name, seconds=seconds, clients=clients))
        self.stdout.write("")
        self.stdout.write(table(outcomes))
        if not all(o.ok for o in outcomes):
            raise CommandError("a scenario failed: see the table")
