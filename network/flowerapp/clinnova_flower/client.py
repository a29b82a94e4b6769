"""A site's ClientApp (network.flower.client_app), started by its SuperNode."""

from clinnova_flower import django_app

app = django_app("network.flower.client_app")
