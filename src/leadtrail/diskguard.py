"""A guard on the disk the database lives on: new journeys are refused (503) when free space runs
below MIN_FREE_DISK_MB, so a flood of made-up enquiries cannot fill it and take the buffer, the
dashboard and the host down with it. Checked at most once a second; reported by /healthz and
/metrics. On PostgreSQL the database's disk is not this host's to see: the guard is off there."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass


@dataclass
class DiskGuard:
    path: str | None  # the SQLite file (its directory's filesystem), or None: not watched
    min_free_mb: int
    checked_at: float = -1e9
    free_bytes: int | None = None

    def free(self) -> int | None:
        """Free bytes on the database's filesystem (cached for a second), or None when unwatched."""
        if self.path is None or self.min_free_mb <= 0:
            return None
        now = time.monotonic()
        if now - self.checked_at >= 1.0:
            self.checked_at = now
            try:
                self.free_bytes = shutil.disk_usage(os.path.dirname(os.path.abspath(self.path)) or ".").free
            except OSError:
                self.free_bytes = None
        return self.free_bytes

    def low(self) -> bool:
        free = self.free()
        return free is not None and free < self.min_free_mb * 1024 * 1024
