import argparse
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinnova.audit import Actor
from network.engine import SubmitError, run_submit
from network.models import FederatedRun, RunKind, RunStatus
from network.training import BAGGING, STRATEGIES
from network.training_compare import SHARES, centrally_train, site_share
from network.training_package import federated_register, manifest_federated
from network.training_requests import TrainingRequestError, training_cancel, training_claim, training_request
from patients.dictionary import Disease
from recommendations.training import DEFAULT_PATIENTS, DEFAULT_SEED, MAX_ROUNDS


class Command(BaseCommand):
    help = ("At the hub: train one model for a disease across the site nodes over Flower (or, with --local SITE, "
            "at one site alone) and register it as a model version through the upload's validation.")

    def add_arguments(self, parser):
        parser.add_argument("--disease", required=True, choices=Disease.values)
        parser.add_argument("--local", choices=list(SHARES), help="train on this site's data alone")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--rounds", type=int, default=MAX_ROUNDS, help="most rounds (early stopping may end sooner)")
        parser.add_argument("--strategy", choices=STRATEGIES, default=BAGGING)
        parser.add_argument("--data", choices=["nodes", "cohort"], default="nodes",
                            help="nodes: each site's own decided visits and outcomes (default); cohort: each site's "
                                 "share of the synthetic cohort (the measurement against pooled training)")
        parser.add_argument("--weighted", action=argparse.BooleanOptionalAction, default=True,
                            help="scale each site's step by its share of rows (default; --no-weighted: equal steps)")
        parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS,
                            help="synthetic cohort size (its held-out patients give the test metrics)")
        parser.add_argument("--superlink", help="host:port of the SuperLink (default NETWORK_SUPERLINK)")
        parser.add_argument("--cancel", type=int, metavar="RUN", help="cancel a running training run and exit")

    def handle(self, *args, disease, local, seed, rounds, strategy, patients, superlink, cancel, data, weighted,
               **options):
        if cancel:
            run = FederatedRun.objects.filter(pk=cancel, kind=RunKind.TRAINING).first()
            if run is None or not training_cancel(run=run, actor=Actor(client="manage.py train_federated")):
                raise CommandError(f"run {cancel} is not a pending or running training run")
            self.stdout.write(f"run {cancel}: cancelled; it stops before its next round and registers nothing")
            return
        if rounds < 1:
            raise CommandError(f"--rounds {rounds}: must be at least 1")
        actor = Actor(client="manage.py train_federated")
        if not local:
            return self._federated(disease=disease, seed=seed, rounds=rounds, strategy=strategy, patients=patients,
                                   superlink=superlink, data=data, weighted=weighted, actor=actor)
        started = time.perf_counter()
        site = site_share(disease=disease, seed=seed, n_patients=patients, site=local)
        booster = centrally_train(data=site, seed=seed)
        how = {"local": local, "strategy": "local", "site_rows": {local: site.n_train}, "data": "cohort",
               "rounds": booster.num_boosted_rounds(), "rounds_run": booster.num_boosted_rounds(), "bytes": 0,
               "seconds": round(time.perf_counter() - started, 1)}
        manifest = manifest_federated(disease=disease, seed=seed, n_patients=patients, booster=booster, how=how)
        version = federated_register(manifest=manifest, booster=booster, actor=actor,
                                     filename=f"{disease}-local-{local}-seed{seed}.zip")
        self._report(version, how)

    def _report(self, version, how):
        test = version.manifest.get("metrics", {}).get("test", {})
        self.stdout.write(f"{version.get_disease_display()} version {version.version}: {version.status}; test AUC "
                          f"{test.get('auc')}, {how['rounds']} rounds, {how['bytes'] / 1e6:.1f} MB, {how['seconds']} s")
        if version.rejection_reason:
            raise CommandError(f"rejected by validation: {version.rejection_reason}")

    def _federated(self, *, disease, seed, rounds, strategy, patients, superlink, data, weighted, actor):
        try:
            run = training_request(disease=disease, actor=actor, rounds=rounds, strategy=strategy, seed=seed,
                                   data=data, n_patients=patients, weighted=weighted, submit=False)
        except TrainingRequestError as exc:
            raise CommandError(str(exc)) from None
        training_claim(run.pk)
        self.stdout.write(f"run {run.pk}: training {disease} over Flower ({strategy}, {data}); "
                          f"cancel with: manage.py train_federated --disease {disease} --cancel {run.pk}")
        try:
            run = run_submit(run, superlink=superlink, wait=rounds * (settings.NETWORK_ROUND_TIMEOUT + 5) + 300)
        except SubmitError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            training_cancel(run=run, actor=actor)
            raise CommandError(f"run {run.pk} cancelled; nothing registered") from None
        for code, state in sorted(run.sites.items()):
            self.stdout.write(f"  {code}: {state}")
        if run.status != RunStatus.DONE or run.model_version is None:
            raise CommandError(f"run {run.pk} {run.status}: {run.error or 'no result'}; nothing registered")
        self._report(run.model_version, run.model_version.manifest["x_federated"])
