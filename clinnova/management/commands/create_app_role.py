import os

from django.core.management.base import BaseCommand, CommandError

from clinnova.app_role import app_role_grant


class Command(BaseCommand):
    help = ("Create or update the PostgreSQL role the application runs as (INSERT and SELECT only on the audit "
            "table). Run it as the owner role, after every migrate.")

    def add_arguments(self, parser):
        parser.add_argument("--role", default=os.environ.get("DATABASE_APP_ROLE", "clinnova_app"))
        parser.add_argument("--password-env", default="DATABASE_APP_PASSWORD",
                            help="environment variable holding the role's password (never on the command line)")

    def handle(self, *args, role, password_env, **options):
        password = os.environ.get(password_env) or None
        try:
            for line in app_role_grant(role=role, password=password):
                self.stdout.write(line)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
