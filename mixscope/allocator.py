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
# A short-lived command (it reads, checks and exits) keeps this much freed memory at the top of its heap rather
# than handing it back at once: `mixscope verify` otherwise returns and faults in the same pages again and again
# (about 160,000 page faults and a tenth of its CPU time, system time, on a 10,000-ballot record).
SHORT_LIVED_KEEP = 64 * 1024 * 1024
_SETTINGS = {  # environment variable: mallopt parameter (malloc.h)
    "MALLOC_ARENA_MAX": -8, "MALLOC_MMAP_THRESHOLD_": -3, "MALLOC_TRIM_THRESHOLD_": -1, "MALLOC_TOP_PAD_": -2}


def tune(short_lived: bool = False) -> bool:
    """Apply the settings to this process, and through the environment to the processes it starts (their pools,
    nodes, voter simulators). `short_lived`: also keep freed memory for reuse (SHORT_LIVED_KEEP). False where the
    C library is not glibc: nothing changes."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS))
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(OWN_MAPPING_FROM))
    if short_lived:
        os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", str(SHORT_LIVED_KEEP))
        os.environ.setdefault("MALLOC_TOP_PAD_", str(SHORT_LIVED_KEEP // 4))
    try:
        libc = ctypes.CDLL(None)
        return all([libc.mallopt(parameter, int(os.environ[name]))
                    for name, parameter in _SETTINGS.items() if name in os.environ])
    except (OSError, AttributeError, ValueError):  # no mallopt, or a value set in the environment that is no int
        return False
