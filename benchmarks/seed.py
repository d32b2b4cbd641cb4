"""Give the mock cloud exactly N instances of the mock user, written straight into its store."""

from __future__ import annotations

import os

from deltacloud_mock.driver import MOCK_USER
from deltacloud_mock.store import MockStore

#: Shapes of generated instances, cycled: they differ the way real ones do (state, realm,
#: profile overrides, addresses), so every branch of the renderers is exercised.
_TEMPLATES = (
    {"state": "RUNNING", "realm_id": "us", "image_id": "img1",
     "instance_profile": {"id": "m1-small", "overrides": {}}},
    {"state": "STOPPED", "realm_id": "eu", "image_id": "img2",
     "instance_profile": {"id": "m1-large", "overrides": {"cpu": "2", "memory": "8192"}}},
    {"state": "PENDING", "realm_id": "us", "image_id": "img3",
     "instance_profile": {"id": "m1-xlarge", "overrides": {"storage": "2048"}}},
)


def seed_instances(root: str | os.PathLike[str], count: int) -> int:
    """Make ``count`` instances owned by the mock user (adding ``inst<N>`` or removing the
    highest ids). Returns the number there were before."""
    store = MockStore(root)
    try:
        with store.transaction() as tx:
            mine = [r["id"] for r in tx.list("instances") if r.get("owner_id") == MOCK_USER]
            before = len(mine)
            for id in sorted(mine, key=lambda i: (len(i), i))[count:]:
                tx.delete("instances", id)
            n = 0
            while len(mine) < count:
                id = f"inst{n}"
                n += 1
                if id in mine or tx.exists("instances", id):
                    continue
                shape = _TEMPLATES[n % len(_TEMPLATES)]
                tx.put("instances", id, {
                    "name": f"Benchmark instance {n}", "owner_id": MOCK_USER, **shape,
                    "public_addresses": [{"address": f"{shape['image_id']}.{id}.public.com", "type": "hostname"}],
                    "private_addresses": [{"address": f"{shape['image_id']}.{id}.private.com", "type": "hostname"}],
                    "create_image": True, "storage_volumes": [], "keyname": None,
                })
                mine.append(id)
        return before
    finally:
        store.close()
