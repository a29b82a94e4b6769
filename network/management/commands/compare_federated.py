import json
import statistics

from django.core.management.base import BaseCommand

from network.training_compare import ARMS, SHARES, compare
from patients.dictionary import Disease
from recommendations.training import DEFAULT_PATIENTS


class Command(BaseCommand):
    help = ("Measure pooled, federated (each Flower XGBoost strategy) and site-local training on the synthetic "
            "cohort split across four sites of unequal size; print the table of docs/federated-training.md.")

    def add_arguments(self, parser):
        parser.add_argument("--disease", action="append", choices=Disease.values)
        parser.add_argument("--seeds", default="7", help="comma-separated seeds (default 7)")
        parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS)
        parser.add_argument("--max-rounds", type=int, default=300)
        parser.add_argument("--json", dest="json_path", help="also write every measured row to this file")
        parser.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of {', '.join(ARMS)}")

    def handle(self, *args, disease, seeds, patients, max_rounds, arms, json_path: str | None = None, **options):
        STRATEGIES = [a for a in arms.split(",") if a]
        rows = []
        for name in disease or Disease.values:
            for seed in [int(s) for s in seeds.split(",")]:
                rows.append(compare(disease=name, seed=seed, n_patients=patients, max_rounds=max_rounds,
                                    arms=STRATEGIES))
                self.stderr.write(f"{name} seed {seed} done")
                if json_path:  # after every row, so a long measurement keeps what it has
                    with open(json_path, "w") as out:
                        out.write(json.dumps(rows, indent=1))
        sites = list(SHARES)
        head = ["disease", "seeds", "pooled AUC"] + [f"{s} AUC (rounds, MB, s)" for s in STRATEGIES] + \
               [f"local {c}" for c in sites]
        self.stdout.write("| " + " | ".join(head) + " |")
        self.stdout.write("|" + " --- |" * len(head))
        for name in disease or Disease.values:
            mine = [r for r in rows if r["disease"] == name]

            def mean(get):
                return statistics.mean(get(r) for r in mine)
            cells = [Disease(name).label, ",".join(str(r["seed"]) for r in mine), f"{mean(lambda r: r['pooled']['auc']):.4f}"]
            for s in STRATEGIES:
                cells.append(f"{mean(lambda r: r[s]['auc']):.4f} ({mean(lambda r: r[s]['rounds']):.0f}, "
                             f"{mean(lambda r: r[s]['bytes']) / 1e6:.1f}, {mean(lambda r: r[s]['seconds']):.0f})")
            cells += [f"{mean(lambda r: r['local'][c]):.4f}" for c in sites]
            self.stdout.write("| " + " | ".join(cells) + " |")
        self.stdout.write("\nPer-drug calibration slopes on an independent draw (min–max over drugs of each drug's mean "
                          "over seeds), before and after the per-drug recalibration fitted on the validation rows "
                          "(pooled: in one place; federated: from the sites' summed sums), and the AUC after it:")
        for name in disease or Disease.values:
            mine = [r for r in rows if r["disease"] == name]
            cells = [Disease(name).label]
            for arm in ["pooled", *STRATEGIES]:
                for key in ("slopes", "slopes_recalibrated"):
                    drugs = mine[0][arm][key]
                    per = {atc: statistics.mean(r[arm][key][atc] for r in mine if atc in r[arm][key]) for atc in drugs}
                    cells.append(f"{arm} {'recalibrated ' if key != 'slopes' else ''}{min(per.values()):.2f}–"
                                 f"{max(per.values()):.2f}")
                cells.append(f"AUC {statistics.mean(r[arm]['auc_recalibrated'] for r in mine):.4f}")
            self.stdout.write("| " + " | ".join(cells) + " |")
