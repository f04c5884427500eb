"""Upload file names: keep a safe base name, refuse traversal and odd characters."""

from __future__ import annotations

import re
import unicodedata

from connectors.errors import UnsafeFileName

__all__ = ["MAX_NAME_CHARS", "safe_filename"]

MAX_NAME_CHARS = 200
_ALLOWED = re.compile(r"^[\w][\w .()+\-]*$")


def safe_filename(name: str) -> str:
    r"""Return ``name`` NFC-normalised and trimmed if it is a plain file name, else refuse.

    Refused with UnsafeFileName: empty names, path separators (``/`` or ``\\``),
    ``.`` and ``..``, a leading dot, control or other characters outside letters,
    digits, space and ``_ . ( ) + -``, and names over ``MAX_NAME_CHARS``. The
    message never repeats the name.
    """
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise UnsafeFileName("the file name is empty")
    if "/" in cleaned or "\\" in cleaned or cleaned in {".", ".."}:
        raise UnsafeFileName("the file name must not contain a path; send the bare name")
    if len(cleaned) > MAX_NAME_CHARS:
        raise UnsafeFileName(f"the file name is longer than {MAX_NAME_CHARS} characters")
    if not _ALLOWED.fullmatch(cleaned) or any(unicodedata.category(c)[0] == "C" for c in cleaned):
        raise UnsafeFileName(
            "the file name may only hold letters, digits, spaces and _ . ( ) + - "
            "and must start with a letter or digit"
        )
    return cleaned
