from clinnova.models import AuditEvent


def test_a_clinician_sees_her_sites_patient(alice_client, ra_patient_lu):
    response = alice_client.get(f"/patients/{ra_patient_lu.pk}/")
    assert response.status_code == 200
    assert b"LU-0001" in response.content


def test_a_clinician_of_another_site_gets_not_found(bob_client, ra_patient_lu):
    response = bob_client.get(f"/patients/{ra_patient_lu.pk}/")
    assert response.status_code == 404
    assert b"LU-0001" not in response.content
    assert AuditEvent.objects.filter(action="access_refused", patient_id=ra_patient_lu.pk).exists()


def test_the_patient_list_shows_the_clinicians_own_patients(alice_client, ra_patient_lu):
    assert f"/patients/{ra_patient_lu.pk}/".encode() in alice_client.get("/patients/").content


def test_bob_does_not_find_alices_patient_in_his_list(bob_client, ra_patient_lu):
    content = bob_client.get("/patients/?q=LU-0001").content
    assert str(ra_patient_lu.pk).encode() not in content
    assert b"No patients match" in content


def test_viewing_a_patient_is_audited(alice_client, alice, ra_patient_lu):
    alice_client.get(f"/patients/{ra_patient_lu.pk}/")
    event = AuditEvent.objects.get(action="patient_view")
    assert event.actor_user == alice
    assert event.patient_id == ra_patient_lu.pk


def test_an_anonymous_visitor_is_sent_to_sign_in(client, ra_patient_lu):
    response = client.get(f"/patients/{ra_patient_lu.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
