"""The rules page: drug × rule × source for the pharmacist, read by clinicians and model admins."""

from django.contrib.auth.models import Group, User

from clinnova.access import PRIVACY_OFFICER
from recommendations.rules_catalogue import rule_rows
from recommendations.smpc import INDICATIONS


def test_the_rules_page_needs_a_sign_in(client, db):
    response = client.get("/rules/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_clinician_reads_every_rule_of_every_drug_with_its_source_and_check_level(alice_client):
    page = alice_client.get("/rules/").content.decode()
    for row in rule_rows():
        assert f'id="drug-{row.atc}"' in page
    for fragment in ("Remicade (infliximab) EU SmPC, section 4.3 (checked against MSD UK Remicade prescribing "
                     "information)", "(not verified against the current SmPC text)",
                     '<span class="level level-N">N</span>', '<span class="level level-V">V</span>',
                     "15–49 years"):
        assert fragment in page
    assert page.count('<span class="flag">') >= len(rule_rows())
    assert "What the rules do not read" in page and "not yet in the drug catalogue" in page


def test_one_drug_can_be_shown_alone_with_its_licences(alice_client):
    page = alice_client.get("/rules/?drug=L04AE01").content.decode()
    assert 'id="drug-L04AE01"' in page and 'id="drug-L04AB04"' not in page
    assert "highly active relapsing-remitting MS" in page
    assert sum(1 for i in INDICATIONS if i.atc == "L04AE01") == page.count("<th scope=\"row\">Multiple sclerosis</th>")


def test_a_model_admin_reads_it_too_but_a_privacy_officer_does_not(mia_client, client, db):
    assert mia_client.get("/rules/").status_code == 200
    officer = User.objects.create_user("otto", password="a-long-test-password")
    officer.groups.add(Group.objects.get_or_create(name=PRIVACY_OFFICER)[0])
    from tests.trust.helpers import verified

    verified(client, officer)
    assert client.get("/rules/").status_code == 403
