import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinnova.audit import Actor
from network.engine import SubmitError, run_submit
from network.models import FederatedRun, RunKind, RunStatus
from network.training import BAGGING, STRATEGIES
from network.training_compare import SHARES, centrally_train, site_share
from network.training_package import federated_register, manifest_federated
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
        parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS, help="synthetic cohort size")
        parser.add_argument("--superlink", help="host:port of the SuperLink (default NETWORK_SUPERLINK)")
        parser.add_argument("--cancel", type=int, metavar="RUN", help="cancel a running training run and exit")

    def handle(self, *args, disease, local, seed, rounds, strategy, patients, superlink, cancel, **options):
        if cancel:
            n = FederatedRun.objects.filter(pk=cancel, kind=RunKind.TRAINING,
                                            status__in=[RunStatus.PENDING, RunStatus.RUNNING]).update(
                status=RunStatus.CANCELLED)
            if not n:
                raise CommandError(f"run {cancel} is not a pending or running training run")
            self.stdout.write(f"run {cancel}: cancelled; it stops before its next round and registers nothing")
            return
        if rounds < 1:
            raise CommandError(f"--rounds {rounds}: must be at least 1")
        actor = Actor(client="manage.py train_federated")
        started = time.perf_counter()
        if local:
            data = site_share(disease=disease, seed=seed, n_patients=patients, site=local)
            booster = centrally_train(data=data, seed=seed)
            how = {"local": local, "strategy": "local", "site_rows": {local: data.n_train},
                   "rounds": booster.num_boosted_rounds(), "rounds_run": booster.num_boosted_rounds(), "bytes": 0}
        else:
            booster, how = self._federated(disease=disease, seed=seed, rounds=rounds, strategy=strategy,
                                           patients=patients, superlink=superlink)
        how["seconds"] = round(time.perf_counter() - started, 1)
        manifest = manifest_federated(disease=disease, seed=seed, n_patients=patients, booster=booster, how=how)
        name = f"{disease}-{'local-' + local if local else 'federated'}-seed{seed}.zip"
        version = federated_register(manifest=manifest, booster=booster, actor=actor, filename=name)
        test = manifest["metrics"]["test"]
        self.stdout.write(f"{Disease(disease).label} version {version.version}: {version.status}; test AUC "
                          f"{test['auc']}, {how['rounds']} rounds, {how['bytes'] / 1e6:.1f} MB, {how['seconds']} s")
        if version.rejection_reason:
            raise CommandError(f"rejected by validation: {version.rejection_reason}")

    def _federated(self, *, disease, seed, rounds, strategy, patients, superlink):
        from network.training import final_booster  # noqa: PLC0415

        run = FederatedRun.objects.create(kind=RunKind.TRAINING, config={
            "disease": disease, "seed": seed, "rounds": rounds, "strategy": strategy, "n_patients": patients})
        self.stdout.write(f"run {run.pk}: training {disease} over Flower ({strategy}); "
                          f"cancel with: manage.py train_federated --disease {disease} --cancel {run.pk}")
        try:
            run = run_submit(run, superlink=superlink, wait=rounds * (settings.NETWORK_ROUND_TIMEOUT + 5) + 120)
        except SubmitError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            FederatedRun.objects.filter(pk=run.pk, status__in=[RunStatus.PENDING, RunStatus.RUNNING]).update(
                status=RunStatus.CANCELLED)
            raise CommandError(f"run {run.pk} cancelled; nothing registered") from None
        for code, state in sorted(run.sites.items()):
            self.stdout.write(f"  {code}: {state}")
        if run.status != RunStatus.DONE:
            raise CommandError(f"run {run.pk} {run.status}: {run.error or 'no result'}; nothing registered")
        messages = run.messages.all()
        site_rows = {m.site_code: m.content["n_train"] for m in messages if m.site_code and m.content}
        how = {"local": "", "strategy": strategy, "run": run.pk, "site_rows": site_rows,
               "rounds": run.result["rounds"], "rounds_run": run.result["rounds_run"],
               "bytes": run.result["bytes_to_sites"] + run.result["bytes_from_sites"]}
        return final_booster(bytes(run.booster)), how
