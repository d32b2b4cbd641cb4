"""Listing 1 of the seeds: instances by state, then every change as it happens."""
import itertools
import os
from collections import Counter

from deltacloud_client import Client

env = os.environ
with Client(env["DELTACLOUD_URL"], env["DELTACLOUD_USER"], env["DELTACLOUD_PASSWORD"]) as cloud:
    instances = cloud.instances.list()
    for state, count in sorted(Counter(i.state for i in instances).items()):
        print(f"{state}: {count}", flush=True)
    changes = cloud.instances.watch(initial=instances)  # server events if offered, else polling
    for change in itertools.islice(changes, int(env.get("CHANGES", 0)) or None):
        print(change, flush=True)  # inst1 changed from RUNNING to STOPPED
