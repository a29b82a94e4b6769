from django.core.management.base import BaseCommand
from django.db import transaction

from recommendations import bench


class Command(BaseCommand):
    help = "Measure scoring speed: the raw XGBoost limit, the real pipeline, and (with services) end to end."

    def add_arguments(self, parser):
        parser.add_argument("--visits", type=int, default=500)
        parser.add_argument("--e2e-visits", type=int, default=300)

    def handle(self, *args, visits, e2e_visits, **options):
        self.stdout.write(f"Creating {visits} benchmark visits (rolled back afterwards)…")
        with transaction.atomic():
            rows = bench.bench_visits_make(visits)
            raw = bench.raw_limit(rows)
            pipe = bench.pipeline(rows)
            intervals = bench.interval_cost(rows)
            transaction.set_rollback(True)
        self.stdout.write("")
        self.stdout.write(f"{'measure':<44}{'visits/s':>12}{'vs raw':>10}")
        self.stdout.write(f"{'raw limit: predict + SHAP, in memory':<44}{raw:>12.0f}{1.0:>10.2f}")
        self.stdout.write(f"{'pipeline: DB → features → SHAP → rules → DB':<44}{pipe:>12.0f}{pipe / raw:>10.2f}")
        if isinstance(intervals, str):
            self.stdout.write(f"intervals: {intervals}")
        else:
            self.stdout.write(f"intervals, per visit (median): booster predict + SHAP {intervals['single_ms']:.2f} ms; "
                              f"{intervals['members']}-member ensemble (one joined booster) "
                              f"{intervals['ensemble_ms']:.2f} ms more "
                              f"(×{(intervals['single_ms'] + intervals['ensemble_ms']) / intervals['single_ms']:.2f})")
        e2e = bench.end_to_end(n=e2e_visits)
        if isinstance(e2e, str):
            self.stdout.write(f"end to end: skipped, {e2e}")
        else:
            self.stdout.write(f"end to end: POST → recommendation stored (gunicorn, Redis, worker, PostgreSQL), "
                              f"{e2e['n']} visits one after another: p50 {e2e['p50_ms']:.0f} ms, "
                              f"p95 {e2e['p95_ms']:.0f} ms")
