"""The model card's federated-evaluation section, the evaluation page and the monitoring pages, with charts."""

import re

import numpy as np
import pytest
from django.contrib.auth import get_user_model

from network.disclosure import Unit, binned_counts
from network.evaluation import evaluation_combine
from network.models import Direction, FederatedRun, MessageLog, MonitoringAlert, MonitoringSnapshot, RunKind, RunStatus
from network.monitoring import alerts_check


def site_payload(rng, code, n):
    logit = rng.normal(-0.3, 1.1, n)
    p = 1 / (1 + np.exp(-logit))
    y = rng.random(n) < p
    units = [Unit(f"{code}-{i}", float(pi), bool(yi)) for i, (pi, yi) in enumerate(zip(p, y))]
    return {"site": code, "coverage": {"decisions": n, "known": n},
            "strata": {"overall": binned_counts(units), "drug:L04AB02": binned_counts(units[: n // 2]),
                       "sex:female": binned_counts(units[:3])}}


@pytest.fixture
def evaluation(all_models, mia):
    rng = np.random.default_rng(3)
    payloads = {code: site_payload(rng, code, 220) for code in ("LU", "FR", "DE")}
    run = FederatedRun.objects.create(kind=RunKind.EVALUATION, model_version=all_models["crohns_disease"],
                                      status=RunStatus.DONE, requested_by=mia, result=evaluation_combine(payloads),
                                      sites={"LU": "answered", "FR": "answered", "DE": "answered",
                                             "CH": "refused: CH: not taking part (maintenance)"})
    for code in payloads:
        MessageLog.objects.create(run=run, direction=Direction.FROM_SITE, site_code=code, message_type="query.evaluate",
                                  shape={}, size_bytes=4000)
    return run


def svg_points(html: str) -> int:
    return len(re.findall(r'<circle class="pt"', html))


def test_the_model_card_shows_the_pooled_figures_and_a_reliability_diagram(mia_client, evaluation):
    html = mia_client.get(f"/models/{evaluation.model_version.pk}/").content.decode()
    assert "Federated evaluation on the sites' outcomes" in html
    assert "Reliability diagram" in html and svg_points(html) >= 5
    auc = evaluation.result["strata"]["overall"]["auc"]
    assert f"{auc['value']:.3f}" in html and f"{auc['low']:.3f}" in html
    assert "CH</strong> did not: refused: CH: not taking part (maintenance)" in html
    assert "Trained on synthetic data" in html
    # A stratum no site could release is shown as suppressed, never as figures.
    assert "Female</th>\n    <td colspan=\"6\" class=\"muted\">suppressed" in html
    assert "<script" not in html and "style=" not in html


def test_the_evaluation_page_shows_what_left_each_site(mia_client, evaluation):
    html = mia_client.get(f"/network/evaluations/{evaluation.pk}/").content.decode()
    assert "Message log" in html and "12000 bytes in all" in html
    assert "Infliximab" in html or "L04AB02" in html


def test_a_model_card_without_an_evaluation_says_so(mia_client, all_models):
    html = mia_client.get(f"/models/{all_models['multiple_sclerosis'].pk}/").content.decode()
    assert "has not been evaluated across the sites yet" in html


def test_clinicians_cannot_read_evaluations_or_monitoring(alice_client, evaluation):
    assert alice_client.get(f"/network/evaluations/{evaluation.pk}/").status_code == 403
    assert alice_client.get("/network/monitoring/").status_code == 403


def monitoring_summary():
    months = {f"2026-{m:02d}": {"recommendations": 40, "decisions": 30, "followed": 20, "overridden": 10,
                                "override_reasons": {"clinical_judgement": 6, "patient_preference": None},
                                "outcomes_known": 24, "outcomes_unknown": None, "outcomes_awaiting": 6,
                                "observed": 12 + m, "expected": 12.0, "psi": {"crp": 0.05 * m}}
              for m in range(1, 9)}
    months["2026-09"] = {"recommendations": None, "decisions": None, "followed": None, "overridden": None,
                         "override_reasons": {}, "outcomes_known": None, "outcomes_unknown": None,
                         "outcomes_awaiting": None, "observed": None, "expected": None, "psi": {}}
    return {"models": {"crohns_disease:v1": {"disease": "crohns_disease", "version": 1, "main_features": ["crp"],
                                             "months": months}}}


def test_a_sites_monitoring_page_charts_its_months_and_shows_its_alerts(mia_client, settings):
    settings.CLINNOVA_SITE = "LU"
    summary = monitoring_summary()
    MonitoringSnapshot.objects.create(scope="LU", summary=summary)
    alerts_check(scope="LU", summary=summary)
    assert MonitoringAlert.objects.filter(scope="LU").exists()
    html = mia_client.get("/network/monitoring/").content.decode()
    assert "Monitoring · site LU" in html
    assert html.count('<svg class="netchart"') == 4  # response, O/E, drift, acceptance
    assert "PSI 0.25" in html and "O/E = 1" in html
    assert "Input drift" in html or "drift" in MonitoringAlert.objects.filter(scope="LU").values_list("kind", flat=True)
    assert "takes part" in html
    # The withheld month is a gap and a dash, never a zero.
    assert "2026-09</th>\n      <td>—</td>" in html
    assert "<script" not in html and "style=" not in html


def test_the_hubs_monitoring_page_is_the_networks(mia_client, settings):
    settings.CLINNOVA_ROLE = "hub"
    summary = monitoring_summary()
    summary["models"]["crohns_disease:v1"]["sites"] = ["FR", "LU"]
    MonitoringSnapshot.objects.create(scope="network", summary=summary)
    html = mia_client.get("/network/monitoring/").content.decode()
    assert "the network (from the sites' aggregates)" in html and "sites FR, LU" in html
    assert "Change participation" not in html


def test_a_site_admin_switches_participation_off_in_the_admin(client, db):
    from network.site import participation

    from tests.trust.helpers import verified

    admin_user = get_user_model().objects.create_superuser("root", password="a-long-admin-password")
    verified(client, admin_user)  # the admin asks staff for their second factor too
    switch = participation()
    response = client.post(f"/admin/network/participation/{switch.pk}/change/",
                           {"taking_part": "", "reason": "maintenance"})
    assert response.status_code in (200, 302)
    switch.refresh_from_db()
    assert (switch.taking_part, switch.reason, switch.changed_by) == (False, "maintenance", admin_user)
