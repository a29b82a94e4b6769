from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from clinnova.audit import Actor
from clinnova.enrolment import enrolment_link_issue


class Command(BaseCommand):
    help = ("Issue a one-time link (valid 72 hours) with which an account binds its second factor after signing in "
            "with its password. Audited. For the first superuser, or from a shell; superusers use the admin.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no account named {username!r}")
        path = enrolment_link_issue(user=user, actor=Actor(client="issue_enrolment_link"))
        self.stdout.write(f"{settings.SITE_URL}{path}")
