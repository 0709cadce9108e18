"""The C allocator's settings for a process that handles megabyte texts on several threads (glibc only).

glibc gives each thread that contends for the heap its own arena (up to 8 per core) and raises its threshold for
serving a block with its own mapping to the largest block freed so far (up to 32 MiB). A server that parses a
mix stage's 50 MB answer on one thread, stores it on another and encodes the next request on a third then keeps
every freed megabyte in some arena, and each stage's high-water mark starts above the last one's (docs/scaling.md
has the figures). Two arenas, and a fixed threshold above which a block is its own mapping, returned to the
system as soon as it is freed, keep the high-water mark near what is really live.
"""

from __future__ import annotations

import ctypes
import os
import platform

ARENAS = 2
OWN_MAPPING_FROM = 256 * 1024  # bytes: a block this large or larger is mapped on its own, unmapped when freed
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # mallopt parameters (malloc.h)


def tune() -> bool:
    """Apply the settings to this process, and through the environment to the processes it starts (their pools,
    nodes, voter simulators). False where the C library is not glibc: nothing changes."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS))
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(OWN_MAPPING_FROM))
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"]))
                    and libc.mallopt(_M_MMAP_THRESHOLD, int(os.environ["MALLOC_MMAP_THRESHOLD_"])))
    except (OSError, AttributeError, ValueError):  # no mallopt, or a value set in the environment that is no int
        return False
