from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = "Network: site nodes, hub, federated evaluation and monitoring"
