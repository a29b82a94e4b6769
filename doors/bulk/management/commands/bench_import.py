from django.core.management.base import BaseCommand

from doors.bulk.bench import bulk_rate


class Command(BaseCommand):
    help = "Measure the bulk import's rate beside a plain bulk INSERT of as many visit rows (rolled back)."

    def add_arguments(self, parser):
        parser.add_argument("--visits", type=int, default=5000)

    def handle(self, *args, visits, **options):
        self.stdout.write(f"Importing {visits} benchmark visits (rolled back afterwards)…")
        r = bulk_rate(visits)
        self.stdout.write(f"{'bulk import: file → door → PostgreSQL':<44}{r['rate']:>12.0f} visits/s"
                          f"  ({r['stored']} stored)")
        self.stdout.write(f"{'raw limit: bulk INSERT of visit rows':<44}{r['raw']:>12.0f} visits/s"
                          f"  (import at {r['rate'] / r['raw']:.2f} of it)")
        self.stdout.write(f"{'latest visit of each patient scored':<44}{r['scored']:>12} of {r['latest']} "
                          f"in {r['scoring_s']:.1f} s")
        self.stdout.write(f"{'import until every latest visit is scored':<44}{r['total_rate']:>12.0f} visits/s")
