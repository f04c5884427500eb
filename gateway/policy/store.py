"""The policy set in force: versioned copies in the data dir, each named by its content hash.

``sluis init`` copies the shipped ``policies/`` into ``DATA/policies/revisions/REV``
and points ``DATA/policies/current`` at it. A change is written to a staging
copy, checked with ``opa check --strict`` and ``opa test``, and only then made
current by an atomic symlink swap: the old set stays in force if anything fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.core.errors import BadInput, DependencyDown, NotFound, PayloadTooLarge
from gateway.policy.opa_server import find_opa

POLICY_SUFFIXES = (".rego", ".json")
MAX_POLICY_FILE_BYTES = 512 * 1024
CHECK_TIMEOUT_S = 120
GUARDRAILS = Path(__file__).with_name("guardrails")
_FAILED_INVARIANT = re.compile(r"(test_invariant_\w+)(?:#\d+)?: (?:FAIL|ERROR)")
# A policy set may not add to (or shadow) the gateway's guard-rail package.
_GUARDRAIL_PACKAGE = re.compile(r"^\s*package\s+guardrails(\.|\s|$)", re.MULTILINE)
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-.]+)*\.(rego|json)$")


def shipped_policies() -> Path:
    """The ``policies/`` folder that came with this installation."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_policies", here.parent / "policies"):
        if candidate.is_dir():
            return candidate
    raise DependencyDown("the shipped policies/ folder is missing from this installation")


def policy_files(root: Path) -> list[str]:
    """Relative paths of every policy and data file under ``root``, sorted."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix in POLICY_SUFFIXES
    )


def revision_of(root: Path) -> str:
    """Content hash over every file's path and bytes: the policy revision."""
    h = hashlib.sha256()
    for rel in policy_files(root):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return h.hexdigest()


def check_path(relpath: str) -> str:
    """Refuse paths that could leave the policy folder or are not policy files."""
    if not _SAFE_PATH.match(relpath) or ".." in relpath.split("/"):
        raise BadInput(
            "policy path must be relative, use letters, digits, - and _, and end in .rego or .json"
        )
    return relpath


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    output: str
    failed_invariants: tuple[str, ...] = ()

    def refusal(self) -> BadInput:
        """The 422 a refused policy set gets: what failed, and the tool output."""
        detail: dict[str, object] = {"message": "policy change refused", "output": self.output}
        if self.failed_invariants:
            names = ", ".join(self.failed_invariants)
            detail["message"] = f"policy change refused: it breaks the guard rail(s) {names}"
            detail["failed_invariants"] = list(self.failed_invariants)
        return BadInput(detail)


def _run(cmd: list[str], root: Path) -> tuple[int, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DependencyDown(f"could not run `opa {cmd[1]}`") from exc
    out = proc.stdout + proc.stderr
    for folder in (root, GUARDRAILS):  # paths relative to the policy folder, as users know them
        out = out.replace(f"{folder}/", "")
    return proc.returncode, out.strip()


def run_checks(opa: str, root: Path, guardrails: Path | None = GUARDRAILS) -> CheckOutcome:
    """``opa check --strict``; then the set's own tests and the gateway's guard rails.

    Both test runs happen even if the first fails, so a refusal always names
    every broken invariant.
    """
    code, out = _run([opa, "check", "--strict", str(root)], root)
    outputs = [f"$ opa check --strict\n{out}"]
    if code != 0:
        return CheckOutcome(False, "\n".join(outputs))
    code, out = _run([opa, "test", "--fail-on-empty", str(root)], root)
    outputs.append(f"$ opa test\n{out}")
    ok, failed = code == 0, ()
    if guardrails is not None:
        only = ["--run", r"^data\.guardrails\."]  # the set's own tests ran just above
        code, out = _run([opa, "test", "--fail-on-empty", *only, str(root), str(guardrails)], root)
        outputs.append(f"$ opa test (with the guard rails)\n{out}")
        failed = tuple(sorted(set(_FAILED_INVARIANT.findall(out))))
        ok = ok and code == 0
    return CheckOutcome(ok, "\n".join(outputs), failed)


class PolicyStore:
    """Reads and changes the versioned policy sets under ``DATA/policies``."""

    def __init__(self, base: Path, opa_bin: str | None = None) -> None:
        self.base = base
        self.opa_bin = opa_bin
        self.revisions = base / "revisions"
        self.current_link = base / "current"

    def install(self, source: Path | None = None) -> str:
        """Make the shipped set current unless a set is already in force (idempotent)."""
        if self.current_link.exists():
            return self.revision
        staging = self._stage_copy(source or shipped_policies())
        return self._activate(staging)

    @property
    def current(self) -> Path:
        if not self.current_link.exists():
            raise DependencyDown("no policy set is installed; run `sluis init`")
        return self.current_link.resolve()

    @property
    def revision(self) -> str:
        return self.current.name

    def read(self, relpath: str) -> str:
        path = self.current / check_path(relpath)
        if not path.is_file():
            raise NotFound(f"no policy file {relpath}")
        return path.read_text(encoding="utf-8")

    @contextmanager
    def staged(
        self, *, source: Path | None = None, files: Mapping[str, str] | None = None
    ) -> Iterator[Path]:
        """A private copy of ``source`` (default: the set in force) with ``files`` overlaid.

        The copy is removed afterwards unless it was activated.
        """
        if source is not None and not source.is_dir():
            raise BadInput("the proposed policy folder does not exist")
        staging = self._stage_copy(source or self.current)
        try:
            for relpath, text in (files or {}).items():
                check_path(relpath)
                if len(text.encode()) > MAX_POLICY_FILE_BYTES:
                    raise PayloadTooLarge(
                        f"a policy file may be at most {MAX_POLICY_FILE_BYTES} bytes"
                    )
                target = staging / relpath
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            for rel in policy_files(staging):
                if rel.endswith(".rego") and _GUARDRAIL_PACKAGE.search(
                    (staging / rel).read_text("utf-8")
                ):
                    raise BadInput(f"{rel}: the package guardrails belongs to the gateway")
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def check(self, staging: Path) -> CheckOutcome:
        return run_checks(find_opa(self.opa_bin), staging)

    def propose(
        self, *, source: Path | None = None, files: Mapping[str, str] | None = None
    ) -> tuple[str, str]:
        """Stage, check and activate a new set. Returns (revision, check output).

        Raises :class:`BadInput` with the compiler, test or guard-rail output when
        checks fail; the set in force is then untouched.
        """
        with self.staged(source=source, files=files) as staging:
            outcome = self.check(staging)
            if not outcome.ok:
                raise outcome.refusal()
            return self._activate(staging), outcome.output

    def activate(self, revision: str) -> None:
        """Point ``current`` back at an earlier revision (used when loading a new one fails)."""
        if not (self.revisions / revision).is_dir():
            raise NotFound(f"no policy revision {revision}")
        self._point_at(revision)

    def _stage_copy(self, source: Path) -> Path:
        self.base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.base))
        for rel in policy_files(source):
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, dest)
        return staging

    def _activate(self, staging: Path) -> str:
        rev = revision_of(staging)
        final = self.revisions / rev
        self.revisions.mkdir(parents=True, exist_ok=True)
        if not final.exists():
            os.replace(staging, final)  # else: identical content is already kept
        self._point_at(rev)
        return rev

    def _point_at(self, rev: str) -> None:
        tmp_link = self.base / f".current-{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(Path("revisions") / rev)
        os.replace(tmp_link, self.current_link)  # atomic: readers see old or new, never neither
