"""Booster documents for tests: a valid one as Python data, and writers for XGBoost JSON and UBJSON."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import xgboost

from tests.conftest import pretrained_bytes


def booster_doc(disease: str = "crohns_disease") -> dict:
    """The shipped booster of a disease as the document XGBoost writes (JSON form)."""
    booster = xgboost.Booster()
    booster.load_model(bytearray(zipfile.ZipFile(io.BytesIO(pretrained_bytes(disease))).read("model.ubj")))
    return json.loads(bytes(booster.save_raw("json")))


def ubj(value) -> bytes:
    """UBJSON as XGBoost reads it (draft 12; arrays written untyped, counted by their end marker)."""
    if value is None:
        return b"Z"
    if value is True:
        return b"T"
    if value is False:
        return b"F"
    if isinstance(value, int):
        if -(2 ** 63) <= value < 2 ** 63:
            return b"L" + struct.pack(">q", value)
        return b"H" + _ubj_len(len(str(value))) + str(value).encode()
    if isinstance(value, float):
        return b"D" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode("utf-8", "surrogatepass")
        return b"S" + _ubj_len(len(raw)) + raw
    if isinstance(value, list):
        return b"[" + b"".join(ubj(v) for v in value) + b"]"
    if isinstance(value, dict):
        out = [b"{"]
        for key, v in value.items():
            raw = str(key).encode()
            out += [_ubj_len(len(raw)), raw, ubj(v)]
        return b"".join(out) + b"}"
    raise TypeError(type(value))


def _ubj_len(n: int) -> bytes:
    return b"L" + struct.pack(">q", n)


def package_with_booster(booster: bytes, *, fmt: str = "ubj", disease: str = "crohns_disease",
                         extra: dict[str, bytes] | None = None) -> bytes:
    """The shipped package of a disease with its booster replaced (model.ubj or model.json), without the shipped
    ensemble members (they belong to the shipped booster)."""
    source = zipfile.ZipFile(io.BytesIO(pretrained_bytes(disease)))
    manifest = json.loads(source.read("manifest.json"))
    manifest.pop("ensemble", None)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("manifest.json", json.dumps(manifest))
        target.writestr("model.ubj" if fmt == "ubj" else "model.json", booster)
        for name, payload in (extra or {}).items():
            target.writestr(name, payload)
    return out.getvalue()
