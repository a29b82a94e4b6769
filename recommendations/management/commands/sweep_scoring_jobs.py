from django.conf import settings
from django.core.management.base import BaseCommand

from recommendations import jobs


class Command(BaseCommand):
    help = "Re-queue scoring jobs left pending or running too long; in embedded mode, run them here."

    def add_arguments(self, parser):
        parser.add_argument("--run-here", action="store_true",
                            help="score pending jobs in this process (default when no broker is configured)")

    def handle(self, *args, run_here, **options):
        in_process = run_here or settings.CELERY_TASK_ALWAYS_EAGER
        due = jobs.jobs_sweep(send=not in_process)
        if in_process:
            scored = jobs.jobs_run_pending()
            self.stdout.write(f"Scored {scored} pending jobs in this process.")
        else:
            self.stdout.write(f"Re-queued {len(due)} scoring jobs.")
