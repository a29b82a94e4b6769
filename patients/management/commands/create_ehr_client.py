from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinnova.audit import Actor, audit_record
from patients.models import EHRClient, Site


class Command(BaseCommand):
    help = "Create an EHR client of a site and print its API token once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="site code, e.g. LU")
        parser.add_argument("--name", required=True, help="short name of the EHR system, e.g. epic-main")
        parser.add_argument("--rotate", action="store_true",
                            help="issue a new token for an existing client; the old token stops working at once")
        parser.add_argument("--cds-issuer", default=None,
                            help="the `iss` of the same EHR's CDS Hooks JWTs (see register_cds_client): its "
                                 "patient-view calls then find the patients this client sent by their FHIR "
                                 "Patient.id; with --rotate, changes the link ('' removes it)")

    def handle(self, *args, site, name, rotate, cds_issuer=None, **options):
        site_obj = Site.objects.filter(code=site).first()
        if site_obj is None:
            raise CommandError(f"No site with code {site!r}.")
        with transaction.atomic():
            client = EHRClient.objects.select_for_update().filter(site=site_obj, name=name).first()
            if client is None and rotate:
                raise CommandError(f"No EHR client {name!r} at {site}; leave out --rotate to create it.")
            if client is not None and not rotate:
                raise CommandError(f"EHR client {name!r} at {site} exists; use --rotate to issue a new token.")
            client = client or EHRClient(site=site_obj, name=name)
            # Rotation keeps the client (its identifier system and idempotency keys); only the token changes.
            token = client.token_issue()
            if cds_issuer is not None:
                client.cds_issuer = cds_issuer.strip()
            client.save()
            audit_record(actor=Actor(client="manage.py"), obj=client, site_code=site_obj.code,
                         action="ehr_token_rotate" if rotate else "ehr_client_create",
                         detail={"name": name, "token_prefix": client.token_prefix,
                                 "cds_issuer": client.cds_issuer})
        self.stdout.write(f"EHR client {client} (identifier system {client.identifier_system}"
                          + (f", CDS Hooks issuer {client.cds_issuer}" if client.cds_issuer else "") + ")")
        self.stdout.write("Token, shown this once; send it as 'Authorization: Bearer <token>':")
        self.stdout.write(token)
