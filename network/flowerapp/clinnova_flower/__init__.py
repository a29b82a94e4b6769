"""Entry points Flower loads; each sets Django up for the node it runs on, then imports the project's app."""

import importlib
import os


def django_app(module: str):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinnova.settings")
    import django

    django.setup()
    return importlib.import_module(module).app
