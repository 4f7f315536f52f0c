"""The whole exception tree: each class knows whether a retry can help, its CLI exit code and HTTP status.

Inner code raises these; the doors (CLI, actors, API) translate them. ``quarantine`` errors are about the
input itself: the document is kept with its original bytes and the error's message as the reason.
"""

from __future__ import annotations


class DematflowError(Exception):
    """Root of every error dematflow raises on purpose."""

    retryable: bool = False
    quarantine: bool = False
    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the input is bad: keep it, quarantine it, never retry -------------------------------------------


class InputError(DematflowError):
    """The document itself cannot be processed; a person must look at it."""

    quarantine = True
    exit_code = 2
    http_status = 422
    irr_reason = "IRR_SYNTAX"  # the lifecycle reason of its 501 Irrecevable (BR-FR-CDV-CL-09)

    def journal(self) -> dict[str, str]:
        """What the quarantine's journal entry records besides the reason (nothing by default)."""
        return {}


class EmptyInput(InputError):
    """The file has no bytes."""

    irr_reason = "IRR_VIDE_F"


class UnsupportedInput(InputError):
    """The content is of a type dematflow does not accept."""

    http_status = 415
    irr_reason = "IRR_TYPE_F"


class CorruptInput(InputError):
    """The content claims a known type but cannot be read."""


class EncryptedInput(InputError):
    """A password-protected PDF: its content cannot be read or sealed."""


class OversizedInput(InputError):
    """The file exceeds a configured limit (bytes, pages or pixels)."""

    http_status = 413
    irr_reason = "IRR_TAILLE_F"


class OverBudget(OversizedInput):
    """Reading the content took more time or memory than one document may use (a bomb, most likely)."""


class HostileInput(InputError):
    """The content tries something dangerous (entity expansion, external references)."""


class InfectedInput(InputError):
    """The antivirus (clamd) found a signature in the bytes: kept in quarantine, never opened."""

    irr_reason = "IRR_ANTIVIRUS"

    def __init__(self, message: str, *, signature: str, scanner: str) -> None:
        super().__init__(message)
        self.signature = signature
        self.scanner = scanner  # clamd's VERSION answer, for the journal

    def journal(self) -> dict[str, str]:
        return {"antivirus": "infected", "signature": self.signature, "clamd": self.scanner}


class InvalidStatusMessage(InputError):
    """A lifecycle message (CDAR) that cannot be read or fails its XSD or BR-FR-CDV rules; ``details``
    lists the findings as "RULE: message"."""

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.details = details


# --- the environment is wrong or down ------------------------------------------------------------------


class ToolUnavailable(DematflowError):
    """An external program or library is missing or broken; install it, nothing to retry."""

    exit_code = 3
    http_status = 503


class ToolFailed(DematflowError):
    """An external program ran but failed or timed out on this input; a retry may help."""

    retryable = True
    exit_code = 3


class StorageUnavailable(DematflowError):
    """The archive or catalogue could not be reached; retry with backoff."""

    retryable = True
    exit_code = 4
    http_status = 503


class ArchiveConflict(DematflowError):
    """A write-once object already exists with different bytes: archived objects never change."""

    exit_code = 4
    http_status = 409


class ArchiveRefused(DematflowError):
    """The archive refuses to delete or overwrite a kept object."""

    exit_code = 4
    http_status = 403


class NotFound(DematflowError):
    """No such document or object."""

    exit_code = 5
    http_status = 404


class ConfigError(DematflowError):
    """A setting is missing or malformed."""

    exit_code = 6
    http_status = 500


# --- a request the doors refuse (HTTP API, CLI arguments) --------------------------------------------


class InvalidRequest(DematflowError):
    """A request that cannot be carried out as asked (a malformed value, a name already taken)."""

    exit_code = 7
    http_status = 422


class Unauthorised(DematflowError):
    """No valid credentials: a missing, expired or revoked token, or a wrong password."""

    exit_code = 7
    http_status = 401


class Forbidden(DematflowError):
    """Valid credentials, but this role may not do this (an auditor writing, a supplier deciding)."""

    exit_code = 7
    http_status = 403


class StatusRefused(InvalidRequest):
    """A lifecycle status that cannot be recorded as asked: unknown code, a reason not allowed for it,
    a mandatory reason or amount missing, or a side setting a status that is not its own."""


class InvalidTransition(InvalidRequest):
    """The document's current lifecycle status does not allow this one (after 210, 212, 213, 501)."""

    http_status = 409


class TooLarge(DematflowError):
    """A request body over the size limit, refused while it is read: nothing is kept."""

    exit_code = 2
    http_status = 413
