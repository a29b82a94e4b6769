"""What travels in a Flower message, and how the hub describes each one in the message log.

A request carries a ConfigRecord "request" (scalars, and the model package as bytes); a reply carries a
ConfigRecord "reply" whose "payload" is the site's aggregate as JSON text. JSON rather than arrays keeps
every released number readable in the log; the disclosure rules (network.disclosure) decide what it holds.
"""

from __future__ import annotations

import json

from flwr.app import ConfigRecord, Message, RecordDict
from flwr.common.serde import message_to_proto

EVALUATE = "query.evaluate"
MONITOR = "query.monitor"
DISTRIBUTE = "query.distribute"
TRAIN = "train.xgb"
CALIBRATE = "query.calibrate"
REFUSED = 403  # the error code of a site whose participation is switched off
FAILED = 500


def request_content(**fields) -> RecordDict:
    return RecordDict({"request": ConfigRecord(fields)})


def reply_content(payload: dict) -> RecordDict:
    return RecordDict({"reply": ConfigRecord({"payload": json.dumps(payload, separators=(",", ":"))})})


def reply_payload(message: Message) -> dict:
    return json.loads(message.content["reply"]["payload"])


def training_reply_content(reply: dict) -> RecordDict:
    """A site's training reply: its aggregates as JSON text, its trees (XGBoost JSON) as bytes."""
    payload = {k: v for k, v in reply.items() if k != "trees"}
    return RecordDict({"reply": ConfigRecord({"payload": json.dumps(payload, separators=(",", ":")),
                                              "trees": bytes(reply["trees"])})})


def training_reply(message: Message) -> dict:
    return {**reply_payload(message), "trees": bytes(message.content["reply"]["trees"])}


def message_shape(message: Message) -> dict:
    """Records, their keys, and the length of each value (bytes, characters or items), never the values."""
    if not message.has_content():
        return {}
    shape = {}
    for name, record in message.content.items():
        shape[name] = {key: {"type": type(value).__name__,
                             "length": len(value) if isinstance(value, (bytes, str, list)) else 1}
                       for key, value in record.items()}
    return shape


def message_size(message: Message) -> int:
    """The message's size as Flower serialises it (content, metadata and error)."""
    return message_to_proto(message).ByteSize()
