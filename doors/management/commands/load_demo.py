from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from doors.demo import SITES, demo_hub_accounts_ensure, demo_network_load
from doors.demo_history import demo_history_load
from doors.demo_outcomes import demo_outcomes_load
from patients.dictionary import Disease


class Command(BaseCommand):
    help = "Load the synthetic demo network and demo accounts (idempotent). Never for production."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=20, help="patients per site and disease (default 20)")
        parser.add_argument("--outcome-patients", type=int, default=25,
                            help="patients per site and disease with a decision and follow-up visits (default 25)")
        parser.add_argument("--history-patients", type=int, default=0,
                            help="treatment history per disease across the network, each site its share "
                                 "(LU 10 %%, FR 40 %%, DE 30 %%, CH 20 %%): decided visits whose outcomes are known, "
                                 "what a site trains on in federated training (default 0)")
        parser.add_argument("--diseases", default="", help="comma-separated diseases of the outcome patients and "
                                                           "history (default: every disease)")
        parser.add_argument("--sites", default="", help="comma-separated site codes to load (default: every site)")
        parser.add_argument("--hub", action="store_true",
                            help="the network hub's accounts only (model admin, privacy officer): no site, no patient")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--allow-without-debug", action="store_true",
                            help="load even with DEBUG off (demo servers only; never a production database)")

    def handle(self, *args, patients, outcome_patients, history_patients, diseases, sites, hub, seed,
               allow_without_debug, **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError("Refusing to load demo accounts with DEBUG off: this looks like production.")
        if hub:
            accounts = demo_hub_accounts_ensure(password=settings.CLINNOVA_DEMO_PASSWORD)
            self.stdout.write(f"Hub accounts: {', '.join(accounts)}")
            return
        codes = [c.strip().upper() for c in sites.split(",") if c.strip()] or None
        unknown = sorted(set(codes or ()) - {code for code, _, _ in SITES})
        if unknown:
            raise CommandError(f"--sites {unknown[0]!r} is not a demo site (use {', '.join(c for c, _, _ in SITES)})")
        chosen = [d.strip() for d in diseases.split(",") if d.strip()] or None
        wrong = sorted(set(chosen or ()) - set(Disease.values))
        if wrong:
            raise CommandError(f"--diseases {wrong[0]!r} is not a disease (use {', '.join(Disease.values)})")
        summary = demo_network_load(patients_per_site_and_disease=patients, seed=seed,
                                    password=settings.CLINNOVA_DEMO_PASSWORD, sites=codes)
        outcome_visits = demo_outcomes_load(patients_per_site_and_disease=outcome_patients, seed=seed,
                                            today=date.today(), sites=codes, diseases=chosen)
        history_visits = demo_history_load(total_per_disease=history_patients, seed=seed, today=date.today(),
                                           sites=codes, diseases=chosen) if history_patients else 0
        self.stdout.write(
            f"Demo network: {summary.sites} sites, {summary.patients_created} new patients, "
            f"{summary.visits_created} new visits, {outcome_visits} visits with decisions and outcomes, {history_visits} visits of treatment history; accounts: {', '.join(summary.accounts)}"
        )
        self._enrolment_links()

    def _enrolment_links(self):
        """The demo's privileged accounts bind their authenticator app with a one-time link, as in production."""
        from django.contrib.auth.models import User
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from clinnova.audit import Actor
        from clinnova.enrolment import enrolment_link_issue

        for name in ("modeladmin", "privacy-officer"):
            user = User.objects.filter(username=name).first()
            if user is not None and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                path = enrolment_link_issue(user=user, actor=Actor(client="load_demo"))
                self.stdout.write(f"Second-factor enrolment link for {name} (sign in first, then open it; "
                                  f"once, 72 hours): {settings.SITE_URL}{path}")
