import json
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from doors.cds.auth import jwks_parse
from patients.models import Site
from recommendations.models import CdsClient


def origin_check(origin: str) -> str:
    """scheme://host[:port] as a browser sends it in Origin (RFC 6454): no path, no trailing slash, no wildcard."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or "*" in origin:
        raise CommandError(f"--origin {origin!r}: an origin is scheme://host[:port], "
                           "e.g. https://sandbox.cds-hooks.org")
    return origin


class Command(BaseCommand):
    help = ("Register a CDS Hooks client (its JWT issuer and public JWK Set) and bind it to a site; "
            "run again to replace the keys.")

    def add_arguments(self, parser):
        parser.add_argument("--iss", required=True, help="the `iss` claim of the client's JWTs")
        parser.add_argument("--jwks", required=True, help='file with the public JWK Set, {"keys": [...]}')
        parser.add_argument("--site", required=True, help="site code, e.g. LU: the client sees its patients")
        parser.add_argument("--origin", action="append", default=[], dest="origins",
                            help="a browser origin the client calls from (CORS), e.g. https://sandbox.cds-hooks.org; "
                                 "repeat for several; given, it replaces the registered list")

    def handle(self, *args, iss, jwks, site, origins=(), **options):
        site_obj = Site.objects.filter(code=site).first()
        if site_obj is None:
            raise CommandError(f"No site with code {site!r}.")
        origins = sorted({origin_check(o) for o in origins})
        try:
            data = json.loads(Path(jwks).read_text())
            keys = jwks_parse(data)
        except OSError as exc:
            raise CommandError(f"Cannot read {jwks}: {exc.strerror}.") from None
        except ValueError as exc:  # JSONDecodeError is a ValueError too
            raise CommandError(f"{jwks} is not a usable JWK Set: {exc}") from None
        with transaction.atomic():
            client = CdsClient.objects.select_for_update().filter(iss=iss).first()
            created = client is None
            if created:
                client = CdsClient.objects.create(iss=iss, site=site_obj, jwks=data, origins=origins)
            else:
                client.site, client.jwks, client.updated_at, client.revoked_at = site_obj, data, timezone.now(), None
                client.origins = origins or client.origins  # without --origin, the registered ones stay
                client.save(update_fields=["site", "jwks", "origins", "updated_at", "revoked_at"])
            audit_record(actor=Actor(client="manage.py"), obj=client, site_code=site_obj.code,
                         action="cds_client_register" if created else "cds_client_keys_replace",
                         detail={"iss": iss, "kids": sorted(keys), "origins": client.origins})
        self.stdout.write(f"CDS Hooks client {client} {'registered' if created else 'updated'} "
                          f"with keys {', '.join(sorted(keys))}.")
