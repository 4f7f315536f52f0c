"""The names of dematflow's queues, apart from the actors, so that reading their depth (the API's
metrics) imports neither dramatiq nor the pipeline's stages; ``workers.actors`` re-exports them."""

from __future__ import annotations

# One queue per kind of work, so that each kind gets the workers (and the secrets) it needs: capture
# is OCR-heavy, checks need the rule files, sealing alone needs the seal key or the HSM.
CAPTURE, CHECK, SEAL, MAINTENANCE = "dematflow.capture", "dematflow.check", "dematflow.seal", "dematflow"
QUEUE_OF: dict[str, str] = {
    "ingest": CAPTURE,
    "classify": CAPTURE,
    "extract": CAPTURE,
    "validate": CHECK,
    "seal": SEAL,
    "archive": SEAL,
}
QUEUES = (CAPTURE, CHECK, SEAL, MAINTENANCE)
# Queues of earlier releases, still consumed by default so that an upgrade loses no message: a
# message names its actor, and whichever queue brings it, the actor runs. ``dematflow`` is the
# maintenance queue too; before 0.2 it carried every step but classify, which ``dematflow.ocr`` did.
LEGACY_QUEUES = ("dematflow.ocr",)
