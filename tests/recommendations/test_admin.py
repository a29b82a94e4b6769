def test_a_superuser_sees_every_recommendations_page_of_the_admin(admin_client, ra_model, ra_patient_lu):
    from recommendations.jobs import jobs_run_pending

    jobs_run_pending()
    for page in ("modelversion", "scoringjob", "recommendation", "rescorerun", "decision", "cdsclient",
                 "cdsfeedback"):
        assert admin_client.get(f"/admin/recommendations/{page}/").status_code == 200, page
    from recommendations.models import Recommendation

    rec = Recommendation.objects.get()
    page = admin_client.get(f"/admin/recommendations/recommendation/{rec.pk}/change/").content.decode()
    assert "abatacept" in page or "L04AA24" in page


def test_the_admin_cannot_edit_a_model_version(admin_client, ra_model):
    response = admin_client.post(f"/admin/recommendations/modelversion/{ra_model.pk}/change/", {"status": "retired"})
    ra_model.refresh_from_db()
    assert ra_model.status == "active"
    assert response.status_code in (200, 403)
