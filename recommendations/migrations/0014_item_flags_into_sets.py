"""The stored items' flags moved into flag sets: each distinct list once, every item pointing at its list.

Reads the items in chunks by id, so a large table is never held in memory; works alike on SQLite and PostgreSQL.
Backwards, every item gets its set's list again.
"""

import hashlib
import json

from django.db import migrations

CHUNK = 2000


def flags_digest(flags: list) -> str:
    """recommendations.flag_sets.flags_digest as of this migration (a test holds the two equal): the scoring
    pipeline finds the sets made here by the same digest."""
    canonical = json.dumps(flags, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def items_into_sets(apps, schema_editor):
    Item = apps.get_model("recommendations", "RecommendationItem")
    FlagSet = apps.get_model("recommendations", "FlagSet")
    ids: dict[str, int] = dict(FlagSet.objects.values_list("digest", "id"))
    last = 0
    while chunk := list(Item.objects.filter(pk__gt=last, flag_set__isnull=True).order_by("pk")
                        .values_list("pk", "flags")[:CHUNK]):
        items_of: dict[str, list[int]] = {}
        flags_of: dict[str, list] = {}
        for pk, flags in chunk:
            digest = flags_digest(flags)
            items_of.setdefault(digest, []).append(pk)
            flags_of.setdefault(digest, flags)
        new = sorted(d for d in items_of if d not in ids)
        FlagSet.objects.bulk_create([FlagSet(digest=d, flags=flags_of[d]) for d in new], ignore_conflicts=True)
        ids.update(FlagSet.objects.filter(digest__in=new).values_list("digest", "id"))
        for digest, pks in items_of.items():
            Item.objects.filter(pk__in=pks).update(flag_set_id=ids[digest])
        last = chunk[-1][0]


def sets_into_items(apps, schema_editor):
    Item = apps.get_model("recommendations", "RecommendationItem")
    FlagSet = apps.get_model("recommendations", "FlagSet")
    for flag_set in FlagSet.objects.order_by("pk").iterator(chunk_size=200):
        Item.objects.filter(flag_set_id=flag_set.pk).update(flags=flag_set.flags)


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0013_flag_sets")]

    operations = [migrations.RunPython(items_into_sets, sets_into_items)]
