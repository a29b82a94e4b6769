from django.core.management.base import BaseCommand, CommandError

from clinnova.stack import services_ready
from doors.loadtest import SCENARIOS, cpu_table, raw_run, scenario_run, table


class Command(BaseCommand):
    help = ("Load and fault tests against the real stack (gunicorn, Celery, PostgreSQL, Redis) on this machine: the "
            "steady scenario at each --clients count beside the raw limit, then each fault at --fault-clients.")

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=60)
        parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200],
                            help="EHR clients of the steady scenario, one run per count")
        parser.add_argument("--fault-clients", type=int, default=50)
        parser.add_argument("--scenario", choices=SCENARIOS, action="append")
        parser.add_argument("--no-raw", action="store_true", help="skip the raw limit beside each steady run")

    def handle(self, *args, seconds, clients, fault_clients, scenario, no_raw, **options):
        reason = services_ready()
        if reason:
            raise CommandError(f"loadtest {reason}")
        outcomes = []
        for name in scenario or SCENARIOS:
            for n in clients if name == "steady" else [fault_clients]:
                self.stdout.write(f"{name}: {n} EHR clients for {seconds:.0f} s…")
                outcomes.append(scenario_run(name, seconds=seconds, clients=n))
                if name == "steady" and not no_raw:
                    self.stdout.write(f"raw limit: {n} clients for {seconds:.0f} s…")
                    outcomes.append(raw_run(seconds=seconds, clients=n))
        self.stdout.write("")
        self.stdout.write(table(outcomes))
        self.stdout.write("")
        self.stdout.write(cpu_table(outcomes))
        self.stdout.write("")
        self.stdout.write("raw limit: the same clients and bodies against a plain DRF endpoint that validates the "
                          "shape and inserts one row (doors/loadtest_raw.py), on the same gunicorn and database.")
        if not all(o.ok for o in outcomes):
            raise CommandError("a scenario failed: see the table")
