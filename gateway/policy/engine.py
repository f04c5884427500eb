"""Asks OPA for decisions and keeps it loaded with the policy set in force.

Policies and data are pushed with opa-python-client; decisions go over a lean
keep-alive channel (see :mod:`gateway.policy.transport`). Fail closed: an unreachable OPA, an
error or an undefined or malformed answer is :class:`DependencyDown` (503),
never an allow.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient
from opa_client.errors import DeletePolicyError, RegoParseError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.core.errors import DependencyDown
from gateway.policy.input import PolicyInput
from gateway.policy.store import policy_files, revision_of
from gateway.policy.transport import DecisionChannel, TransportError

DECISION_PACKAGE = "sluis.authz"
DECISION_RULE = "decision"
# Where the gateway tells OPA which revision it holds; policies echo it in each decision.
META_PATH = "policy_meta"
# The gateway's own decision-log masking, pushed beside every policy set (never editable).
MASK_POLICY_ID = "gateway/decision_log_mask.rego"
MASK_POLICY = Path(__file__).with_name("decision_log_mask.rego")


class Obligations(BaseModel):
    """What every output of an allowed request must satisfy; passed on to the anonymiser."""

    model_config = ConfigDict(frozen=True, extra="allow")

    min_entities: int = Field(ge=1)
    review_required: bool = False


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    allow: bool
    reasons: list[str]
    obligations: Obligations
    decision_id: str
    policy_revision: str


class PolicyEngine:
    """A connection to one OPA server; ``load`` pushes a policy folder into it."""

    def __init__(self, url: str, timeout_s: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DependencyDown("SLUIS_OPA_URL must look like http://host:port")
        self.url = url
        self.client = OpaClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 80),
            ssl=parts.scheme == "https",
            timeout=timeout_s,
            retries=1,
        )
        path = f"/v1/data/{DECISION_PACKAGE.replace('.', '/')}/{DECISION_RULE}"
        self.channel = DecisionChannel(url, path, timeout_s) if parts.scheme == "http" else None
        self.revision: str | None = None

    def load(self, root: Path) -> str:
        """Replace everything OPA holds with the files under ``root``; returns the revision.

        Data files land where ``opa run DIR`` would put them (by folder), so
        policies behave the same here as under ``opa test``. OPA compiles each
        module as it arrives, so modules that need one not yet loaded (or one
        about to be removed) are retried until the set converges.
        """
        try:
            modules: dict[str, str] = {}
            grouped: dict[str, dict[str, Any]] = defaultdict(dict)
            for rel in policy_files(root):
                text = (root / rel).read_text(encoding="utf-8")
                if rel.endswith("_test.rego"):
                    continue  # tests run under `opa test`, not in the server
                if rel.endswith(".rego"):
                    modules[rel] = text
                else:
                    parent = Path(rel).parent.as_posix()
                    grouped["" if parent == "." else parent].update(json.loads(text))
            modules[MASK_POLICY_ID] = MASK_POLICY.read_text(encoding="utf-8")
            revision = revision_of(root)
            self.revision = None  # nothing is decided while the set changes
            for folder, doc in grouped.items():
                self.client.update_or_create_data(doc, folder)
            stale = set(self.client.get_policies_list()) - set(modules)
            self._converge(modules, stale)
            self.client.update_or_create_data({"revision": revision}, META_PATH)
        except (requests.RequestException, OSError, ValueError) as exc:
            raise DependencyDown("could not load the policy set into OPA") from exc
        self.revision = revision
        return revision

    def _converge(self, modules: dict[str, str], stale: set[str]) -> None:
        steps: dict[str, Callable[[], object]] = {
            **{
                f"put:{rel}": partial(
                    self.client.update_policy_from_string, text, rel, rego_compat=False
                )
                for rel, text in modules.items()
            },
            **{f"delete:{rel}": partial(self.client.delete_policy, rel) for rel in stale},
        }
        while steps:
            failed: dict[str, Callable[[], object]] = {}
            last: Exception | None = None
            for name, step in steps.items():
                try:
                    step()
                except (RegoParseError, DeletePolicyError) as exc:
                    failed[name], last = step, exc
            if len(failed) == len(steps):
                raise DependencyDown(
                    f"OPA refused the policy set ({', '.join(sorted(failed))}): {last}"
                )
            steps = failed

    def healthy(self) -> bool:
        return bool(self.client.check_health())

    def decide(self, policy_input: PolicyInput) -> Decision:
        """Ask OPA; anything but a well-formed decision is a 503, never an allow."""
        return self.decide_document(policy_input.model_dump(mode="json"))

    def decide_document(self, document: dict[str, Any]) -> Decision:
        """Decide on an input document as recorded (dry runs replay these)."""
        if self.revision is None:
            raise DependencyDown("no policy set is loaded into OPA; access denied")
        try:
            if self.channel is not None:
                answer = self.channel.post(document)
            else:  # https: the general client handles TLS
                answer = self.client.query_rule(document, DECISION_PACKAGE, DECISION_RULE)
        except (requests.RequestException, ValueError, TransportError) as exc:
            raise DependencyDown("the policy engine (OPA) does not answer; access denied") from exc
        result = answer.get("result")
        if not isinstance(result, dict):
            raise DependencyDown("the policy engine gave no decision; access denied")
        if result.get("policy_revision") != self.revision:
            # Someone else changed what OPA holds: its answer is not ours to trust.
            raise DependencyDown("OPA answered from another policy revision; access denied")
        try:
            return Decision(
                allow=result.get("allow") is True,
                reasons=result.get("reasons", []),
                obligations=result.get("obligations", {}),
                # OPA returns a decision id when its decision log is on; else make one.
                decision_id=str(answer.get("decision_id") or uuid.uuid4()),
                policy_revision=self.revision,
            )
        except ValidationError as exc:
            raise DependencyDown(
                "the policy engine gave a malformed decision; access denied"
            ) from exc

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        self.client.close_connection()
