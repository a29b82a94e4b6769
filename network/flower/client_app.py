"""A site's Flower client: answers the hub's requests by calling the site-side functions of network.site.

Loaded by network/flowerapp (which sets Django up first). Refuses (Flower error 403) while the site's own admin has switched participation off; any failure is
answered as an error naming its kind, never with data.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import close_old_connections
from flwr.app import Context, Error, Message
from flwr.clientapp import ClientApp

from network.flower.records import FAILED, REFUSED, reply_content
from network.monitoring import site_monitoring
from network.site import participation, site_evaluate

log = logging.getLogger(__name__)
app = ClientApp()


def _answer(message: Message, work) -> Message:
    close_old_connections()
    switch = participation()
    if not switch.taking_part:
        return Message(Error(code=REFUSED, reason=f"{settings.CLINNOVA_SITE}: not taking part"
                                                  + (f" ({switch.reason})" if switch.reason else "")),
                       reply_to=message)
    try:
        return Message(reply_content(work(message.content["request"])),
                       reply_to=message)
    except Exception as exc:  # the hub learns the kind of failure, never a value
        log.exception("site request failed")
        return Message(Error(code=FAILED, reason=f"{settings.CLINNOVA_SITE}: {type(exc).__name__}"), reply_to=message)


@app.query("evaluate")
def evaluate(message: Message, context: Context) -> Message:
    return _answer(message, lambda req: site_evaluate(package=bytes(req["package"]), site_code=settings.CLINNOVA_SITE,
                                                      min_cell=int(req["min_cell"])))


@app.query("monitor")
def monitor(message: Message, context: Context) -> Message:
    return _answer(message, lambda req: site_monitoring(site_code=settings.CLINNOVA_SITE,
                                                        min_cell=int(req["min_cell"])))
