"""The hub's ServerApp (network.flower.server_app), started by the SuperLink."""

from clinnova_flower import django_app

app = django_app("network.flower.server_app")
