"""What `sluis init` and every start repair after a crash: half-done ingests and rotations."""

from __future__ import annotations

import logging

from gateway.core.config import Settings
from gateway.services import datasets, keys
from gateway.services.runtime import Runtime

__all__ = ["recover"]

log = logging.getLogger("sluis.recovery")


def recover(settings: Settings) -> list[str]:
    """Finish or undo an interrupted key rotation; sweep dead ingests' files. Idempotent."""
    done = []
    rotation = keys.finish_rotation(settings)
    if rotation:
        done.append(f"key rotation {rotation}")
    removed = datasets.sweep(Runtime(settings))
    if removed:
        done.append(f"removed {len(removed)} leftovers of interrupted ingests")
    for line in done:
        log.warning("recovery: %s", line)
    return done
