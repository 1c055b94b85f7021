"""Reading a mail as it arrived: headers (8-bit and wrongly declared charsets included), the text a customer wrote
(quoted history and signature stripped by mail-parser-reply, the whole text kept), sanitised HTML (nh3),
attachments, and whether it is an automatic mail or a delivery report."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3
from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

# Persian mail clients (Gmail, Outlook in Persian) introduce the quoted history with "… نوشت:" and sign off with
# these; mail-parser-reply knows no Persian, and reads its languages from this table.
MAIL_LANGUAGES.setdefault(
    "fa",
    {
        "wrote_header": r"^((?:> ?)*(?:در|On)\s.+?\s?نوشت:?)$",
        "from_header": r"((?:(?:^|\n|\n(?:> ?)*)[* ]*(?:از|فرستنده|ارسال شده|به|موضوع|تاریخ):[ *]*"
        r"(?:\s{,2}).*){2,}(?:\n.*){,1})",
        "disclaimers": [],
        "signatures": ["با احترام", "با سپاس", "ارادتمند", "با تشکر"],
        "sent_from": "ارسال شده از",
    },
)
REPLY_LANGUAGES = ["en", "de", "fr", "es", "fa"]

AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|noreply|bounces?|auto-?reply)([+@]|$)", re.I)


def clean_header(value) -> str:
    """A header as text: 8-bit bytes (undeclared, usually UTF-8) come back from the parser as surrogates, and a
    header may fold over lines; never an exception."""
    if value is None:
        return ""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(text.split())


def message_ids(value: str) -> list[str]:
    return [m.strip() for m in re.findall(r"<([^<>\s]+)>", value or "")]


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Bounce:
    original_message_id: str = ""
    recipient: str = ""
    status: str = ""
    diagnostic: str = ""

    def reason(self) -> str:
        return " ".join(part for part in (self.status, self.diagnostic) if part) or "delivery failed"


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    from_name: str
    from_address: str
    to: list[str]
    subject: str
    text: str  # the whole text (the plain part, or the HTML's text)
    shown: str  # what the customer wrote this time: quoted history and signature removed
    html: str  # sanitised
    attachments: list[Attachment] = field(default_factory=list)
    automatic: bool = False
    bounce: Bounce | None = None
    x_loop: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    language: str = ""  # "fa" or "en" when the mail says or shows it, else unknown


def _decoded(part: EmailMessage) -> str:
    """A text part's content whatever its declared charset: an unknown or wrong one falls back to UTF-8, then
    Latin-1 (which decodes any byte)."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AssertionError, KeyError, ValueError):
        pass
    payload = part.get_payload(decode=True) or b""
    for charset in (part.get_content_charset() or "", "utf-8", "cp1256", "latin-1"):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


class _Text(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sanitise_html(html: str) -> str:
    """Safe to show in the inbox: no script, style, event handler or form; no image, so that opening a mail loads
    nothing from its sender (tracking pixels)."""
    tags = set(nh3.ALLOWED_TAGS) - {"img"}
    return nh3.clean(html, tags=tags, link_rel="noopener noreferrer nofollow")


def strip_quoted(text: str) -> str:
    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text).replies
        shown = replies[0].body if replies else ""
    except Exception:  # noqa: BLE001 — a regex library on hostile text: the whole text is shown instead
        shown = ""
    shown = (shown or "").strip()
    return shown or text.strip()


def _bounce(message: EmailMessage) -> Bounce | None:
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    bounce = Bounce()
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload() if part.is_multipart() else []:
                for key, target in (
                    ("Final-Recipient", "recipient"),
                    ("Status", "status"),
                    ("Diagnostic-Code", "diagnostic"),
                ):
                    value = clean_header(block.get(key))
                    if value and not getattr(bounce, target):
                        setattr(bounce, target, value.split(";", 1)[-1].strip())
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            if part.is_multipart():
                inner = part.get_payload()[0]
                original = clean_header(inner.get("Message-ID"))
            else:
                headers = BytesParser(policy=policy.default).parsebytes(
                    _decoded(part).encode("utf-8", "replace"), headersonly=True
                )
                original = clean_header(headers.get("Message-ID"))
            ids = message_ids(original)
            if ids:
                bounce.original_message_id = ids[0]
    return bounce


def is_automatic(message: EmailMessage, from_address: str, envelope_from: str | None) -> bool:
    """RFC 3834 and the headers mail servers and list software actually send: an answer to it would start a loop."""
    auto_submitted = clean_header(message.get("Auto-Submitted")).lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if clean_header(message.get("Precedence")).lower() in ("bulk", "junk", "list", "auto_reply"):
        return True
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe"):
        if message.get(header) is not None:
            return True
    if envelope_from is not None and envelope_from.strip("<> ") == "":
        return True  # the null sender: a bounce or another delivery report
    return bool(AUTOMATIC_SENDERS.match(from_address or ""))


ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
LETTER = re.compile(r"[^\W\d_]")


def language_of(content_language: str, text: str) -> str:
    """The customer's language, for the acknowledgement and the replies: what the mail declares, else Persian
    when most of its letters are in the Arabic script (the desk ships English and Persian)."""
    declared = content_language.split(",")[0].strip().lower().split("-")[0]
    if declared in ("en", "fa"):
        return declared
    letters = LETTER.findall(text[:2000])
    if not letters:
        return ""
    return "fa" if len(ARABIC_SCRIPT.findall("".join(letters))) > len(letters) / 2 else "en"


def parse_mail(raw: bytes, *, envelope_from: str | None = None) -> ParsedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    defects = [type(d).__name__ for d in message.defects]
    ids = message_ids(clean_header(message.get("Message-ID")))
    # A mail without a Message-ID gets one from its content, so that a second delivery is still recognised.
    message_id = ids[0] if ids else f"sha256.{hashlib.sha256(raw).hexdigest()}@supportdesk.invalid"
    from_name, from_address = parseaddr(clean_header(message.get("From")))
    from_address = from_address.strip().lower()
    text_part = html_part = None
    attachments: list[Attachment] = []
    try:
        body = message.get_body(preferencelist=("plain",))
        text_part = body if body is not None else None
        html_body = message.get_body(preferencelist=("html",))
        html_part = html_body if html_body is not None and html_body.get_content_type() == "text/html" else None
        for part in message.iter_attachments():
            if part.get_content_maintype() in ("multipart", "message") and part.get_content_type() != "message/rfc822":
                continue
            content = part.get_payload(decode=True)
            if content is None:
                continue
            filename = clean_header(part.get_filename()) or "attachment"
            attachments.append(
                Attachment(filename=filename[:255], content_type=part.get_content_type(), content=content)
            )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        defects.append(type(exc).__name__)
        if not message.is_multipart():
            text_part = message
    if text_part is None and html_part is None and not message.is_multipart():
        text_part = message
    html = sanitise_html(_decoded(html_part)) if html_part is not None else ""
    if text_part is not None and text_part.get_content_type() == "text/plain":
        text = _decoded(text_part)
    elif text_part is not None and text_part.get_content_type() == "text/html":
        html = html or sanitise_html(_decoded(text_part))
        text = html_to_text(_decoded(text_part))
    else:
        text = html_to_text(html) if html else ""
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    return ParsedMail(
        message_id=message_id[:998],
        in_reply_to=message_ids(clean_header(message.get("In-Reply-To"))),
        references=message_ids(clean_header(message.get("References"))),
        from_name=from_name.strip()[:120],
        from_address=from_address,
        to=[addr.lower() for _name, addr in getaddresses([clean_header(v) for v in message.get_all("To") or []])],
        subject=clean_header(message.get("Subject"))[:300],
        text=text,
        shown=strip_quoted(text) if text else "",
        html=html,
        attachments=attachments,
        automatic=is_automatic(message, from_address, envelope_from),
        bounce=_bounce(message),
        x_loop=[clean_header(v).lower() for v in message.get_all("X-Loop") or []],
        defects=defects,
        language=language_of(clean_header(message.get("Content-Language")), strip_quoted(text) if text else ""),
    )
