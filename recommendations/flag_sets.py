"""Flag sets: each distinct list of an item's flags stored once (FlagSet), found again by its digest.

Ten items per visit carried ~5.5 kB of flags JSON each, and the multi-row INSERT of that JSON was the scoring
pipeline's costliest statement; most patients share the same few lists. A batch now looks its lists up by digest
and inserts only those not stored yet, with INSERT … ON CONFLICT DO NOTHING in the batch's transaction: two
workers inserting the same list store one row (the second waits for the first to commit, then finds it), and a
batch that rolls back takes the lists it inserted with it.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection

from recommendations.models import FlagSet

INSERT_CHUNK = 200
# Encoded list → digest. A pure function of the text, so it can never go stale (ids can: a set inserted by a
# batch that rolled back is gone, so ids are read from the database each batch). The scoring pipeline hands in
# the same string objects again and again (safety.drug_flags_encoded keeps them), whose hash Python keeps.
_DIGESTS: dict[str, str] = {}
DIGESTS_SIZE = 4096


def flags_digest(flags: list[dict]) -> str:
    """sha256 of the list's JSON with sorted keys: the same for equal lists, whichever order their keys were built
    in (PostgreSQL's jsonb reorders them when stored). 1, 1.0 and True stay apart, as the pages show them."""
    canonical = json.dumps(flags, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _digest_of(encoded: str) -> str:
    digest = _DIGESTS.get(encoded)
    if digest is None:
        if len(_DIGESTS) >= DIGESTS_SIZE:
            _DIGESTS.clear()
        digest = _DIGESTS[encoded] = flags_digest(json.loads(encoded))
    return digest


def flag_sets_resolve(encoded: list[str]) -> dict[str, int]:
    """The FlagSet id of each list in `encoded` (json.dumps of a flag list, as stored), inserting those not stored.

    Call it inside the transaction that writes the items referring to the sets."""
    digest_of = {text: _digest_of(text) for text in set(encoded)}
    # One text per digest: equal lists whose keys came in another order are stored once.
    by_digest = {digest: text for text, digest in digest_of.items()}
    ids = dict(FlagSet.objects.filter(digest__in=list(by_digest)).values_list("digest", "id"))
    # Sorted: concurrent writers take the unique index's entries in one order, so they wait, never deadlock.
    missing = sorted(d for d in by_digest if d not in ids)
    if missing:
        table = FlagSet._meta.db_table
        with connection.cursor() as cursor:
            for start in range(0, len(missing), INSERT_CHUNK):
                chunk = missing[start:start + INSERT_CHUNK]
                values = ", ".join(["(%s, %s)"] * len(chunk))
                cursor.execute(f"INSERT INTO {table} (digest, flags) VALUES {values} ON CONFLICT (digest) DO NOTHING",
                               [v for d in chunk for v in (d, by_digest[d])])
        # Ours and those another worker committed meanwhile (a new statement sees them).
        ids.update(FlagSet.objects.filter(digest__in=missing).values_list("digest", "id"))
    return {text: ids[digest] for text, digest in digest_of.items()}
