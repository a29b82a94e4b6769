"""The hub's Flower ServerApp: one round of requests to the connected site nodes for one FederatedRun.

Loaded by network/flowerapp (which sets Django up first) in a process the SuperLink starts with the hub's
environment; `flwr run … --run-config run-id=N` names the FederatedRun row to carry out.
"""

from __future__ import annotations

from django.db import close_old_connections
from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from network.models import FederatedRun
from network.runs import run_execute

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    close_old_connections()
    run = FederatedRun.objects.get(pk=int(context.run_config["run-id"]))
    run_execute(run=run, grid=grid)
