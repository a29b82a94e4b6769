from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinnova.audit import Actor
from recommendations.models import ModelStatus, ModelVersion
from recommendations.package import package_sha256
from recommendations.registry import model_version_activate, model_version_upload


class Command(BaseCommand):
    help = "Register the shipped model packages (recommendations/pretrained/*.zip); activate where none is active."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.PRETRAINED_DIR))

    def handle(self, *args, dir, **options):
        actor = Actor(client="load_models")
        paths = sorted(Path(dir).glob("*.zip"))
        if not paths:
            raise CommandError(f"no model packages in {dir}")
        for path in paths:
            data = path.read_bytes()
            existing = ModelVersion.objects.filter(sha256=package_sha256(data)).exclude(status=ModelStatus.REJECTED).first()
            version = existing or model_version_upload(data=data, filename=path.name, actor=actor,
                                                             validate_now=True)
            if version.status == ModelStatus.REJECTED:
                raise CommandError(f"{path.name} was rejected: {version.rejection_reason}")
            if not ModelVersion.objects.filter(disease=version.disease, status=ModelStatus.ACTIVE).exists():
                model_version_activate(version=version, actor=actor)
            state = "already registered" if existing else "registered"
            self.stdout.write(f"{path.name}: {version.get_disease_display()} v{version.version} {state}, "
                              f"{ModelVersion.objects.get(pk=version.pk).status}")
