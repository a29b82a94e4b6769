import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from network.launcher import SITES, network_prepare, network_start


class Command(BaseCommand):
    help = "Start the demo network on this machine (hub, four site nodes, SuperLink, SuperNodes) until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", default=str(Path(settings.BASE_DIR) / "network-data"))
        parser.add_argument("--patients", type=int, default=20, help="demo history patients per site and disease")
        parser.add_argument("--outcome-patients", type=int, default=200,
                            help="demo patients with decisions and outcomes per site and disease")
        # 4,000 per disease leaves the smallest site (LU, 10 %) about 290 training rows, above the default floor
        # of 200 (NETWORK_TRAIN_MIN_ROWS) at which a site trains in a federated round.
        parser.add_argument("--history-patients", type=int, default=4000,
                            help="treatment history per disease across the sites (LU 10 %%, FR 40 %%, DE 30 %%, "
                                 "CH 20 %%), what the sites train on in federated training")

    def handle(self, *args, data_dir, patients, outcome_patients, history_patients, **options):
        data = Path(data_dir)
        self.stdout.write("Preparing the nodes' databases (first time: a few minutes)…")
        network_prepare(data_dir=data, patients=patients, outcome_patients=outcome_patients,
                        history_patients=history_patients)
        net = network_start(data_dir=data)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            self.stdout.write("\n  The Clinnova demo network is running (synthetic data, not for clinical use):")
            for node, url in net.urls.items():
                self.stdout.write(f"    {node:<20} {url}")
            self.stdout.write(f"  Sites: {', '.join(SITES)}; password {settings.CLINNOVA_DEMO_PASSWORD!r} for every "
                              "account (clinician-lu… at its own site; modeladmin at the hub and at each site).")
            self.stdout.write(f"  Logs and databases: {data}")
            self.stdout.write("  Evaluate from the hub's model pages, or: CLINNOVA_ROLE=hub DATABASE_URL=sqlite:///"
                              f"{data / 'hub.sqlite3'} NETWORK_SUPERLINK={net.superlink} DEBUG=1 "
                              ".venv/bin/python manage.py evaluate_federated --disease crohns_disease")
            self.stdout.write("  Ctrl-C stops everything.\n")
            stop.wait()
        finally:
            net.stop()
            self.stdout.write("Network stopped.")
