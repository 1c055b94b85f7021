"""What a file is by its content, not by its name: shared by mail attachments and chat attachments.

A name or a declared type is written by whoever sends the file; the first bytes are what a program opening it
will read, so the type kept (and served) is the one the content shows.
"""

from __future__ import annotations

from pathlib import PurePath

MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04",),
}
# Office files are zip archives; only their name tells which.
ZIP_BY_EXTENSION = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TEXT_BY_EXTENSION = {".csv": "text/csv"}
# Every type detect_content_type can name: what an inbox's list of attachment types may hold.
KNOWN_TYPES = (
    *MAGIC,
    "image/webp",
    *ZIP_BY_EXTENSION.values(),
    "text/plain",
    "text/csv",
)
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def content_matches(content_type: str, content: bytes) -> bool:
    """Whether `content` can be a file of `content_type` (the types the desk keeps; any other is not checked)."""
    if content_type == "image/webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    if content_type in MAGIC:
        return content.startswith(MAGIC[content_type])
    if content_type.startswith("application/vnd.openxmlformats"):
        return content.startswith(MAGIC["application/zip"])
    if content_type.startswith("text/"):
        return _is_text(content)
    return True


def _is_text(content: bytes) -> bool:
    # No NUL in the first 4 KiB: what every binary format the desk refuses has early on, and no text file has.
    return b"\x00" not in content[:4096]


def detect_content_type(content: bytes, name: str) -> str | None:
    """The type the content shows, the name choosing only among types the content allows (a zip that is a .docx,
    text that is a .csv); None for content the desk does not recognise."""
    extension = PurePath(name).suffix.lower()
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    for content_type, starts in MAGIC.items():
        if content.startswith(starts):
            if content_type == "application/zip":
                return ZIP_BY_EXTENSION.get(extension, content_type)
            return content_type
    if content and _is_text(content):
        return TEXT_BY_EXTENSION.get(extension, "text/plain")
    return None
