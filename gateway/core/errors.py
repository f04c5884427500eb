"""The one error tree of the gateway; ``gateway.api.errors`` maps it to HTTP.

    SluisError
     ├── NotAuthenticated        401  no or bad token
     ├── PolicyDenied            403  the policy said no (carries reasons)
     ├── NotFound                404  unknown, or not visible to the caller
     ├── Conflict                409  state does not allow this now
     ├── BadInput                422  the request is malformed; says what to fix
     │    ├── PayloadTooLarge    413
     │    └── UnsupportedMedia   415
     ├── DisclosureRisk          422  an output would reveal too much
     └── DependencyDown          503  OPA or the database does not answer

Messages name columns, ids and rules; never a value from a dataset.
"""

from __future__ import annotations

from collections.abc import Sequence


class SluisError(Exception):
    """Base of every error the gateway raises on purpose."""

    status_code = 500

    def __init__(self, detail: object) -> None:
        super().__init__(str(detail))
        self.detail = detail


class NotAuthenticated(SluisError):
    status_code = 401


class PolicyDenied(SluisError):
    status_code = 403

    def __init__(self, reasons: Sequence[str], decision_id: str | None = None) -> None:
        super().__init__({"reasons": list(reasons)})
        self.reasons = list(reasons)
        self.decision_id = decision_id


class NotFound(SluisError):
    status_code = 404


class Conflict(SluisError):
    status_code = 409


class BadInput(SluisError):
    status_code = 422


class PayloadTooLarge(BadInput):
    status_code = 413


class UnsupportedMedia(BadInput):
    status_code = 415


class DisclosureRisk(SluisError):
    status_code = 422


class DependencyDown(SluisError):
    status_code = 503
