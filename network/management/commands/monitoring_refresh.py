from django.core.management.base import BaseCommand

from network.tasks import monitoring_refresh


class Command(BaseCommand):
    help = "Recompute this node's monitoring now (what the beat job does every six hours)."

    def handle(self, *args, **options):
        monitoring_refresh()
        self.stdout.write("monitoring refreshed")
