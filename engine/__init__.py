"""Where the heavy proof work runs: the `map_fn` that mixnet's functions take, from one engine.

mixnet never knows where its kernels run; the server, `mixscope verify`, the trustees and the mixers each
hold one engine and hand its `map` to mixnet:

- `LocalEngine`: in this process (no pool) or on a local `concurrent.futures` process pool;
- `ClusterEngine` (engine/cluster.py): on a Dask `distributed` scheduler's workers, `tcp://host:port` or
  `local:N` (a LocalCluster of N worker processes on 127.0.0.1). It falls back to its local engine when the
  scheduler cannot be reached at start or is lost later, and says so on its event callback.

This package imports no other Mixscope layer (mixnet's kernels arrive as functions), so the server, the
nodes and the CLI all use it; `distributed` is imported only when a cluster is named.
"""

import threading

from mixscope.engine.address import ClusterAddressError, parse_address
from mixscope.engine.local import LocalEngine

__all__ = ["ClusterAddressError", "LocalEngine", "parse_address", "open_engine"]


def open_engine(cluster: str | None, local: LocalEngine, publish=None, log=None, background: bool = False):
    """`local` when no cluster is named; else a ClusterEngine over `cluster` that falls back to `local`.
    `background`: connect on a thread (a server starts at once; its maps run locally until connected)."""
    if not cluster:
        return local
    from mixscope.engine.cluster import ClusterEngine

    engine = ClusterEngine(cluster, local, publish=publish, log=log)
    if background:
        threading.Thread(target=engine.start, name="cluster-connect", daemon=True).start()
    else:
        engine.start()
    return engine
