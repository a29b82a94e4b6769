from django.core.management.base import BaseCommand
from django.db import connection

from recommendations import bench


class Command(BaseCommand):
    help = "Measure scoring speed: the raw XGBoost limit, the real pipeline, and (with services) end to end."

    def add_arguments(self, parser):
        parser.add_argument("--visits", type=int, default=1000)
        parser.add_argument("--batch", type=int, default=100)
        parser.add_argument("--e2e-visits", type=int, default=300)

    def handle(self, *args, visits, batch, e2e_visits, **options):
        # Committed, not rolled back: the overlapped pipeline writes on a second connection, which sees only
        # committed rows. The visits stay at the BENCH site of this (benchmark) database.
        self.stdout.write(f"Creating {visits} benchmark visits at the BENCH site ({connection.vendor})…")
        rows = bench.bench_visits_make(visits)
        raw = bench.raw_limit(rows)
        one = bench.pipeline(rows, batch=batch, overlapped=False)
        over = bench.pipeline(rows, batch=batch, overlapped=True)
        raw = max(raw, bench.raw_limit(rows))  # the limit measured before and after, the better kept
        intervals = bench.interval_cost(rows)
        self.stdout.write("")
        self.stdout.write(f"{'measure':<58}{'visits/s':>10}{'vs raw':>8}")
        self.stdout.write(f"{'raw limit: predict + SHAP, in memory':<58}{raw:>10.0f}{1.0:>8.2f}")
        self.stdout.write(f"{f'pipeline, batches of {batch} one after another':<58}{one:>10.0f}{one / raw:>8.2f}")
        self.stdout.write(f"{f'pipeline, batches of {batch}, write overlapping next build':<58}{over:>10.0f}"
                          f"{over / raw:>8.2f}")
        if isinstance(intervals, str):
            self.stdout.write(f"intervals: {intervals}")
        else:
            self.stdout.write(f"intervals, per visit (median): booster predict + SHAP {intervals['single_ms']:.2f} ms; "
                              f"{intervals['members']}-member ensemble (one joined booster) "
                              f"{intervals['ensemble_ms']:.2f} ms more "
                              f"(×{(intervals['single_ms'] + intervals['ensemble_ms']) / intervals['single_ms']:.2f})")
        e2e = bench.end_to_end(n=e2e_visits) if e2e_visits else "--e2e-visits 0"
        if isinstance(e2e, str):
            self.stdout.write(f"end to end: skipped, {e2e}")
        else:
            self.stdout.write(f"end to end: POST → recommendation stored (gunicorn, Redis, worker, PostgreSQL), "
                              f"{e2e['n']} visits one after another: p50 {e2e['p50_ms']:.0f} ms, "
                              f"p95 {e2e['p95_ms']:.0f} ms")
