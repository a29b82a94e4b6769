"""The model package format: a zip holding manifest.json and an XGBoost booster, nothing executable.

    manifest.json   what the model is (format_version 1, see package_manifest.MANIFEST_SCHEMA)
    model.ubj       the booster as XGBoost UBJSON (model.json, XGBoost JSON, is accepted too)
    members/01.ubj  optional: the boosters of a bootstrap ensemble, as many as manifest.ensemble.members
    …               says (01 … NN, UBJSON). Scoring takes probability and SHAP values from model.ubj and
                    the interval and tiers from the members (recommendations.tiers). A package without
                    members (every package before intervals) still loads: its drugs just have no interval.

There is no pickle or joblib anywhere: a package is data, so reading one can never
run code. Every way a package can be wrong is a named check ("size", "archive",
"paths", "bomb", "manifest_schema", "features", "drugs", "feature_count", …) so
an upload can be answered with the list of checks it passed and the one it failed.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import xgboost

from recommendations.booster_structure import BoosterStructureError, booster_structure_check, json_depth
from recommendations.features import column_names
from recommendations.package_manifest import (
    COLUMN_LAYOUT,
    FORMAT_VERSION,
    MODEL_CARD_SECTIONS,
    OUTCOMES,
    manifest_kind,
    manifest_model_problem,
    manifest_problem,
    manifest_unstorable_text,
)

__all__ = [
    "CHECKS", "COLUMN_LAYOUT", "FORMAT_VERSION", "MODEL_CARD_SECTIONS", "OUTCOMES", "Check", "PackageError",
    "booster_checks_run", "booster_load", "package_build", "package_checks", "package_load", "package_precheck",
    "package_load_members", "package_read", "package_sha256",
]

MANIFEST_NAME = "manifest.json"
BOOSTER_NAMES = {"model.ubj": "ubj", "model.json": "json"}
MAX_MEMBERS = 40
MAX_ENTRIES = 2 + MAX_MEMBERS
MEMBER_DIR = "members/"
MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200
# Tiny members compress well without harm; the ratio limit is about large ones.
RATIO_FLOOR_BYTES = 64 * 1024
# Entries carry a fixed timestamp so the same manifest and booster give the same bytes.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(ValueError):
    """A package failed the named check; the message names the offending value."""

    def __init__(self, check: str, message: str):
        self.check = check
        self.message = message
        super().__init__(f"{check}: {message}")


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str
    ran: bool = True


# --- building ----------------------------------------------------------------


def package_build(*, manifest: dict, booster: xgboost.Booster, members: list[xgboost.Booster] = ()) -> bytes:
    """The package bytes; the same manifest and boosters always give the same bytes.

    `members` are the bootstrap ensemble's boosters; manifest.ensemble.members must count them.

    Raises PackageError when the manifest would not pass package_read, so a bad
    package is never written.
    """
    problem = manifest_problem(manifest)
    if problem:
        raise PackageError("manifest_schema", problem)
    if found := manifest_model_problem(manifest):
        raise PackageError(*found)
    _booster_fits(booster, manifest)
    if len(members) != _members_declared(manifest):
        raise PackageError("members", f"manifest.ensemble.members says {_members_declared(manifest)} members; "
                                      f"{len(members)} boosters were given")
    for member in members:
        _booster_fits(member, manifest)
    entries = [(MANIFEST_NAME, json.dumps(manifest, indent=2, ensure_ascii=False).encode()),
               ("model.ubj", bytes(booster.save_raw("ubj")))]
    entries += [(member_name(i), bytes(m.save_raw("ubj"))) for i, m in enumerate(members)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, payload)
    return buffer.getvalue()


def package_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading: the named checks ------------------------------------------------


@dataclass
class _Reading:
    data: bytes
    max_bytes: int
    archive: zipfile.ZipFile | None = None
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    manifest_bytes: bytes = b""
    manifest: dict | None = None
    booster_bytes: bytes = b""
    fmt: str = ""
    booster: xgboost.Booster | None = None
    member_bytes: list[bytes] = field(default_factory=list)
    member_boosters: list[xgboost.Booster] = field(default_factory=list)


def member_name(i: int) -> str:
    """The archive name of ensemble member i (0-based): members/01.ubj, members/02.ubj, …"""
    return f"{MEMBER_DIR}{i + 1:02d}.ubj"


def _check_size(r: _Reading) -> str:
    if len(r.data) > r.max_bytes:
        raise PackageError("size", f"the file is {len(r.data):,} bytes; the limit is {r.max_bytes:,} bytes")
    if not r.data:
        raise PackageError("size", "the file is empty")
    return f"{len(r.data):,} bytes (limit {r.max_bytes:,})"


def _check_archive(r: _Reading) -> str:
    head = r.data[:4]
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        # Detected by its magic bytes only: a pickle is never loaded, whatever it claims to hold.
        raise PackageError("archive", "the file is a Python pickle, not a zip; pickles are never loaded")
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        shown = "".join(c if c.isprintable() else "·" for c in head.decode("latin-1"))
        raise PackageError("archive", f"the file is not a zip archive: a zip starts with “PK”, this file with "
                                      f"“{shown}”")
    try:
        r.archive = zipfile.ZipFile(io.BytesIO(r.data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise PackageError("archive", f"the zip archive is truncated or corrupt ({exc})") from None
    return "a zip archive"


def _check_entries(r: _Reading) -> str:
    infos = r.archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise PackageError("entries", f"the archive has {len(infos)} entries; at most {MAX_ENTRIES} are allowed")
    for info in infos:
        if info.filename in r.members:
            raise PackageError("entries", f"the archive holds {info.filename!r} twice")
        if info.flag_bits & 0x1:
            raise PackageError("entries", f"{info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise PackageError("entries", f"{info.filename!r} uses compression method {info.compress_type}; "
                                          "only stored and deflated are read")
        r.members[info.filename] = info
    return f"{len(infos)} entries"


def _check_paths(r: _Reading) -> str:
    for info in r.members.values():
        for name in {info.filename, info.orig_filename}:
            parts = name.split("/")
            if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
                raise PackageError("paths", f"member {name!r} has an absolute path")
            if "\\" in name or ".." in parts:
                raise PackageError("paths", f"member {name!r} points outside the package")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise PackageError("paths", f"member {info.filename!r} is a symbolic link")
    return "every member stays inside the package"


def _check_bomb(r: _Reading) -> str:
    limit = min(10 * r.max_bytes, MAX_TOTAL_UNCOMPRESSED)
    total = sum(info.file_size for info in r.members.values())
    if total > limit:
        largest = max(r.members.values(), key=lambda info: info.file_size)
        raise PackageError("bomb", f"the archive unpacks to {total:,} bytes, {largest.file_size:,} of them in "
                                   f"{largest.filename!r}; the limit is {limit:,} bytes")
    for info in r.members.values():
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise PackageError("bomb", f"member {info.filename!r} expands {ratio:,.0f}× "
                                       f"({info.compress_size:,} to {info.file_size:,} bytes; limit {MAX_RATIO}×)")
    return f"unpacks to {total:,} bytes"


def _check_contents(r: _Reading) -> str:
    members = {member_name(i) for i in range(MAX_MEMBERS)}
    extra = sorted(set(r.members) - {MANIFEST_NAME, *BOOSTER_NAMES, *members})
    if extra:
        # Nothing else is ever read, so nothing else is stored: a package is a manifest, a booster and members.
        raise PackageError("contents", f"the package holds {', '.join(repr(n) for n in extra[:5])} besides the "
                                       f"manifest and boosters; a package holds only {MANIFEST_NAME}, model.ubj "
                                       f"(or model.json) and ensemble members {member_name(0)} … "
                                       f"{member_name(MAX_MEMBERS - 1)}")
    if MANIFEST_NAME not in r.members:
        raise PackageError("contents", f"the package has no {MANIFEST_NAME}")
    boosters = [name for name in BOOSTER_NAMES if name in r.members]
    if not boosters:
        raise PackageError("contents", "the package has no booster (model.ubj or model.json)")
    if len(boosters) > 1:
        raise PackageError("contents", "the package holds both model.ubj and model.json; keep one")
    r.fmt = BOOSTER_NAMES[boosters[0]]
    r.manifest_bytes = _member_read(r, MANIFEST_NAME)
    r.booster_bytes = _member_read(r, boosters[0])
    present = sorted(name for name in r.members if name.startswith(MEMBER_DIR))
    if present != [member_name(i) for i in range(len(present))]:
        raise PackageError("contents", f"ensemble members must be numbered {member_name(0)} onwards without gaps; "
                                       f"the package holds {', '.join(present[:5])}")
    r.member_bytes = [_member_read(r, name) for name in present]
    return f"{MANIFEST_NAME} and {boosters[0]}" + (f" and {len(present)} ensemble members" if present else "")


def _member_read(r: _Reading, name: str) -> bytes:
    # zipfile stops at the declared size and checks the CRC, so a lying header cannot inflate past the bomb check.
    try:
        return r.archive.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise PackageError("contents", f"member {name!r} is corrupt ({exc})") from None


MANIFEST_MAX_DEPTH = 8


def _check_manifest_json(r: _Reading) -> str:
    depth = json_depth(r.manifest_bytes)
    if depth > MANIFEST_MAX_DEPTH:
        raise PackageError("manifest_json", f"{MANIFEST_NAME} nests {depth:,} levels deep; at most "
                                            f"{MANIFEST_MAX_DEPTH} are allowed")
    try:
        manifest = json.loads(r.manifest_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PackageError("manifest_json", f"{MANIFEST_NAME} is not UTF-8 ({exc})") from None
    except json.JSONDecodeError as exc:
        raise PackageError("manifest_json", f"{MANIFEST_NAME} is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise PackageError("manifest_json", f"{MANIFEST_NAME} holds a value Python will not read: "
                                            f"{str(exc)[:120]}") from None
    if not isinstance(manifest, dict):
        raise PackageError("manifest_json", f"{MANIFEST_NAME} must hold a JSON object, not {manifest_kind(manifest)}")
    if found := manifest_unstorable_text(manifest):
        raise PackageError("manifest_json", f"{MANIFEST_NAME} {found}")
    r.manifest = manifest
    return f"{MANIFEST_NAME} is JSON"


def _check_manifest_schema(r: _Reading) -> str:
    problem = manifest_problem(r.manifest)
    if problem:
        raise PackageError("manifest_schema", problem)
    return f"format_version {FORMAT_VERSION}"


def _members_declared(manifest: dict) -> int:
    return int(manifest.get("ensemble", {}).get("members", 0))


def _check_members(r: _Reading) -> str:
    declared = _members_declared(r.manifest)
    if declared != len(r.member_bytes):
        raise PackageError("members", f"manifest.ensemble.members says {declared} members but the package holds "
                                      f"{len(r.member_bytes)} ({MEMBER_DIR}…)")
    if declared == 1:
        raise PackageError("members", "an ensemble of 1 member gives no interval; ship 0 or at least 2 members")
    return f"{declared} ensemble members" if declared else "no ensemble (no intervals)"


def _check_model_names(name: str) -> Callable[[_Reading], str]:
    def check(r: _Reading) -> str:
        found = manifest_model_problem(r.manifest)
        # One function finds the first unknown disease, feature or drug; each check reports its own kind.
        if found and found[0] == name:
            raise PackageError(*found)
        return {"disease": lambda m: m["disease"], "features": lambda m: f"{len(m['features'])} dictionary features",
                "drugs": lambda m: f"{len(m['drugs'])} catalogue drugs"}[name](r.manifest)
    return check


def _check_booster_structure(r: _Reading) -> str:
    try:
        described = booster_structure_check(r.booster_bytes, r.fmt)
    except BoosterStructureError as exc:
        raise PackageError("booster_structure", str(exc)) from None
    return described


def _members_structure_check(r: _Reading) -> None:
    """The structure check of every ensemble member, just before XGBoost parses them.

    Run where the members are parsed (the sandbox child, or this project's own training), not in the web
    process's precheck: in Python it costs ~0.3 s per member, and nothing but the child ever parses them.
    """
    for i, data in enumerate(r.member_bytes):
        try:
            booster_structure_check(data, "ubj")
        except BoosterStructureError as exc:
            raise PackageError("booster_structure", f"{member_name(i)}: {exc}") from None


def _check_booster_load(r: _Reading) -> str:
    r.booster = _booster_parse(r.booster_bytes, r.fmt)
    _members_structure_check(r)
    r.member_boosters = [_booster_parse(data, "ubj", name=member_name(i)) for i, data in enumerate(r.member_bytes)]
    return f"XGBoost {r.fmt} booster, {r.booster.num_boosted_rounds()} rounds" + (
        f", and {len(r.member_boosters)} ensemble members" if r.member_boosters else "")


def _check_objective(r: _Reading) -> str:
    for booster in [r.booster, *r.member_boosters]:
        _objective_check(booster)
    return "binary:logistic"


def _check_feature_count(r: _Reading) -> str:
    for booster in [r.booster, *r.member_boosters]:
        _booster_fits(booster, r.manifest)
        _names_clear(booster)
    return f"{r.booster.num_features()} columns in the manifest layout"


STATIC_CHECKS: tuple[tuple[str, Callable[[_Reading], str]], ...] = (
    ("size", _check_size), ("archive", _check_archive), ("entries", _check_entries), ("paths", _check_paths),
    ("bomb", _check_bomb), ("contents", _check_contents), ("manifest_json", _check_manifest_json),
    ("manifest_schema", _check_manifest_schema), ("disease", _check_model_names("disease")),
    ("features", _check_model_names("features")), ("drugs", _check_model_names("drugs")),
    ("members", _check_members), ("booster_structure", _check_booster_structure),
)
BOOSTER_CHECKS: tuple[tuple[str, Callable[[_Reading], str]], ...] = (
    ("booster_load", _check_booster_load), ("objective", _check_objective), ("feature_count", _check_feature_count),
)
CHECKS = tuple(name for name, _ in STATIC_CHECKS + BOOSTER_CHECKS)


def package_read(data: bytes, *, max_bytes: int) -> tuple[dict, bytes, str]:
    """(manifest, booster bytes, "ubj" | "json") of a package that passes every check before booster_load.

    Raises PackageError naming the first failed check. The booster bytes are not parsed here.
    """
    reading = _Reading(data=data, max_bytes=max_bytes)
    for _name, check in STATIC_CHECKS:
        check(reading)
    return reading.manifest, reading.booster_bytes, reading.fmt


def _checks_run(reading: _Reading, checks) -> list[Check]:
    results: list[Check] = []
    failed = False
    for name, check in checks:
        if failed:
            results.append(Check(name, False, "not run: an earlier check failed", ran=False))
            continue
        try:
            results.append(Check(name, True, check(reading)))
        except PackageError as exc:
            results.append(Check(name, False, exc.message))
            failed = True
        except Exception as exc:  # an untrusted booster may fail in ways nobody listed: a rejection, not a 500
            results.append(Check(name, False, f"{type(exc).__name__}: {str(exc)[:200]}"))
            failed = True
    return results


def package_precheck(data: bytes, *, max_bytes: int) -> tuple[list[Check], dict | None]:
    """The checks that never hand the booster to XGBoost (archive, manifest, booster structure), in this process.

    The rest (booster_load, objective, feature_count, canary) parse the booster: uploads run them through
    recommendations.sandbox, in a limited child process. The manifest is returned once it passed its schema.
    """
    reading = _Reading(data=data, max_bytes=max_bytes)
    results = _checks_run(reading, STATIC_CHECKS)
    schema_passed = any(c.name == "manifest_schema" and c.passed for c in results)
    return results, reading.manifest if schema_passed else None


def booster_checks_run(data: bytes, *, max_bytes: int, parsed: dict | None = None):
    """The checks that parse the booster, one at a time (for the sandbox child, which reports each as it ends).

    When every check passed, `parsed` receives the manifest and booster, so the canary need not read them again.
    """
    reading = _Reading(data=data, max_bytes=max_bytes)
    for check in _checks_run(reading, STATIC_CHECKS):
        if not check.passed:
            yield check
            return
    for name, check in BOOSTER_CHECKS:
        results = _checks_run(reading, ((name, check),))
        yield results[0]
        if not results[0].passed:
            return
    if parsed is not None:
        parsed.update(manifest=reading.manifest, booster=reading.booster)


def package_checks(data: bytes, *, max_bytes: int) -> tuple[list[Check], dict | None, xgboost.Booster | None]:
    """Every check in order in this process, stopping at the first failure (the rest are reported as not run).

    Parses the booster here: only for packages this project built itself (training); uploads go through
    package_precheck and recommendations.sandbox. The manifest is returned once it has passed the schema
    check; the booster only when every check passed.
    """
    reading = _Reading(data=data, max_bytes=max_bytes)
    results = _checks_run(reading, STATIC_CHECKS + BOOSTER_CHECKS)
    failed = any(not c.passed for c in results)
    schema_passed = any(c.name == "manifest_schema" and c.passed for c in results)
    return results, reading.manifest if schema_passed else None, None if failed else reading.booster


def package_load(data: bytes, *, max_bytes: int) -> tuple[dict, xgboost.Booster]:
    """(manifest, booster) of a package that passes every check; PackageError naming the first that fails."""
    manifest, booster_bytes, fmt = package_read(data, max_bytes=max_bytes)
    return manifest, booster_load(booster_bytes, fmt, manifest=manifest)


def package_load_members(data: bytes, *, max_bytes: int) -> tuple[dict, xgboost.Booster, list[xgboost.Booster]]:
    """(manifest, booster, ensemble members) of a package that passes every check; members is [] for a package
    without an ensemble. Only for validated packages (scoring: the members passed their structure check in the
    sandbox when the package was uploaded) or this project's own (training)."""
    reading = _Reading(data=data, max_bytes=max_bytes)
    for _name, check in STATIC_CHECKS:
        check(reading)
    booster = booster_load(reading.booster_bytes, reading.fmt, manifest=reading.manifest)
    members = [booster_load(b, "ubj", manifest=reading.manifest, name=member_name(i))
               for i, b in enumerate(reading.member_bytes)]
    return reading.manifest, booster, members


# --- the booster ----------------------------------------------------------------


def booster_load(booster_bytes: bytes, fmt: str, *, manifest: dict | None = None,
                 name: str = "") -> xgboost.Booster:
    """The booster parsed from its raw bytes (XGBoost's own format, never pickle); PackageError "booster_load"
    when they are not a booster.

    With a manifest, also checks that the objective is binary:logistic ("objective") and that the booster
    reads exactly len(features) + len(drugs) columns, named as the manifest lays them out when the booster
    carries names ("feature_count"). The returned booster carries no feature names, so callers pass plain
    float32 matrices in the manifest layout (recommendations.features.feature_matrix).
    """
    booster = _booster_parse(booster_bytes, fmt, name=name)
    if manifest is not None:
        _objective_check(booster)
        _booster_fits(booster, manifest)
    _names_clear(booster)
    return booster


def _booster_parse(booster_bytes: bytes, fmt: str, *, name: str = "") -> xgboost.Booster:
    if fmt not in BOOSTER_NAMES.values():
        raise PackageError("booster_load", f"booster format {fmt!r} is unknown (expected ubj or json)")
    booster = xgboost.Booster(params={"nthread": 1})
    try:
        booster.load_model(bytearray(booster_bytes))
    except xgboost.core.XGBoostError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        what = name or f"the {fmt} booster"
        raise PackageError("booster_load", f"{what} cannot be read: {first_line}") from None
    return booster


def _names_clear(booster: xgboost.Booster) -> None:
    # Names were checked against the manifest; without them XGBoost accepts unnamed matrices too.
    booster.feature_names = None
    booster.feature_types = None


def _objective_check(booster: xgboost.Booster) -> None:
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    if objective != "binary:logistic":
        raise PackageError("objective", f"the booster's objective is {objective!r}; scoring needs binary:logistic")


def _booster_fits(booster: xgboost.Booster, manifest: dict) -> None:
    expected = column_names(manifest["features"], manifest["drugs"])
    found = booster.num_features()
    if found != len(expected):
        raise PackageError("feature_count", f"the booster reads {found} columns but the manifest lists "
                                            f"{len(manifest['features'])} features + {len(manifest['drugs'])} drugs "
                                            f"= {len(expected)}")
    names = booster.feature_names
    if names is not None and list(names) != expected:
        first = next(i for i, (a, b) in enumerate(zip(names, expected)) if a != b)
        raise PackageError("feature_count", f"booster column {first} is {names[first]!r} but the manifest "
                                            f"layout puts {expected[first]!r} there")
