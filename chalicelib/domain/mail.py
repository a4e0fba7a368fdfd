"""A resident's e-mail to the town, as Town311 reads it: plain Python, no AWS.

SES receives the mail, scans it and stores the raw message (RFC 5322 bytes, with the
headers SES adds on top) in S3; ``chalicelib.services.mail_intake`` turns it into a draft
request. What is decided here, from the bytes alone:

- ``read_mail``: the message parsed with the standard library (``email.policy.default``),
  its sender, recipients, subject, the words of its body and its attachments. A message
  that cannot be parsed at all raises ``MailUnreadable``.
- ``refusal_of``: whether the town must not answer it, and why: SES's verdicts (a failing
  DMARC, neither SPF nor DKIM passing, a virus or spam) mean the sender may be forged, and
  answering a forged sender sends mail to a stranger (backscatter); an auto-reply, a
  bounce or a mailing list's mail would start a mail loop.
- ``body_words``: the text part (or the HTML part as text), without the quoted reply,
  the signature and the phone's "Sent from" line, bounded.

Which place the words name is read as for a text message, in ``chalicelib.domain.place_words``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

# What the draft keeps of the body (the request's description holds 4,000 characters;
# an e-mail's story is told well within this, a pasted thread is not).
BODY_LIMIT = 3000
SUBJECT_LIMIT = 200
# Parts a message may have before the rest are ignored (a message of thousands of parts
# is an attack on the parser's time, not a report).
PARTS_LIMIT = 50
ADDRESS_LIMIT = 254  # RFC 5321's longest path

# SES's own Authentication-Results header starts with its server's id; another one, lower
# in the message, may have been written by the sender and proves nothing.
SES_AUTHSERV_ID = "amazonses.com"


class MailUnreadable(ValueError):
    """The stored object is not an e-mail message that can be read."""


class MailTooLarge(MailUnreadable):
    """The stored message is larger than Town311 reads (SES accepts up to 40 MB)."""


@dataclass(frozen=True)
class Verdicts:
    """What SES concluded about the message (lower case; None: not said)."""

    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None
    spam: str | None = None  # X-SES-Spam-Verdict: PASS, FAIL, GRAY, PROCESSING_FAILED
    virus: str | None = None  # X-SES-Virus-Verdict


@dataclass(frozen=True)
class Attachment:
    """A file sent with the message: its name as sent (shown back to the sender, never
    trusted for its type) and its bytes."""

    filename: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ResidentMail:
    """The parts of a message a draft request is made from."""

    message_id: str | None
    sender: str | None  # the From address, lower-cased; None when there is none
    sender_name: str | None
    recipients: tuple[str, ...]  # every address it was sent to, as far as headers say
    subject: str
    body: str  # the resident's own words (``body_words``)
    attachments: tuple[Attachment, ...]
    verdicts: Verdicts
    language: str | None = None  # Content-Language, if the mail client said
    automatic: str | None = None  # why it is machine-sent mail (``automatic_reason``)
    digest: str = ""  # SHA-256 of the raw bytes
    parts_skipped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def dedupe_key(self) -> str:
        """The same mail delivered twice has the same key: its Message-ID with its sender
        (so a forged Message-ID cannot swallow someone else's mail), else its bytes."""
        if self.message_id:
            seed = f"{self.sender or ''}\n{self.message_id}"
            return hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()
        return self.digest


def read_mail(raw: bytes) -> ResidentMail:
    """Parse a raw message (SES's stored copy); ``MailUnreadable`` if it is not one."""
    from email import policy
    from email.parser import BytesParser

    if not raw or not raw.strip():
        raise MailUnreadable("the object is empty")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except (ValueError, TypeError, IndexError, LookupError) as e:  # pragma: no cover - stdlib
        raise MailUnreadable(f"not a message: {e}") from None
    if not isinstance(message, EmailMessage) or not message.keys():
        raise MailUnreadable("no headers")
    try:
        sender_name, sender = _sender(message)
        recipients = _recipients(message)
        subject = _clean(_header(message, "Subject") or "", SUBJECT_LIMIT, multiline=False)
        body, attachments, skipped = _contents(message)
    except (ValueError, TypeError, IndexError, LookupError, AttributeError) as e:
        raise MailUnreadable(f"unreadable structure: {type(e).__name__}") from None
    if sender is None and not recipients and not body and not attachments:
        raise MailUnreadable("neither a sender, a recipient nor any content")
    message_id = (_header(message, "Message-ID") or "").strip()[:300] or None
    language = (_header(message, "Content-Language") or "").strip().lower()[:2] or \
        language_of(f"{subject}\n{body}")
    return ResidentMail(
        message_id=message_id, sender=sender, sender_name=sender_name,
        recipients=recipients, subject=subject, body=body_words(body),
        attachments=attachments, verdicts=verdicts_of(message),
        language=language if language and language.isalpha() else None,
        automatic=automatic_reason(message), digest=hashlib.sha256(raw).hexdigest(),
        parts_skipped=skipped)


# Words that say which of the two languages a message is in (its mail client rarely says).
_SPANISH = frozenset({"el", "la", "los", "las", "en", "hay", "un", "una", "por", "favor",
                      "calle", "esta", "está", "de", "del", "que", "gracias", "muy", "con"})
_ENGLISH = frozenset({"the", "a", "an", "is", "in", "on", "there", "please", "street",
                      "of", "at", "and", "thank", "thanks", "very", "with", "it"})


def language_of(text: str) -> str | None:
    """"es" or "en" when the words clearly say so, else None (the town's language)."""
    words = re.findall(r"[a-záéíóúñ]+", text.lower())[:200]
    spanish = sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    if spanish >= 2 and spanish > 2 * english:
        return "es"
    if english >= 2 and english > 2 * spanish:
        return "en"
    return None


def _header(message: EmailMessage, name: str) -> str | None:
    """The first (topmost) value of a header as text, or None; a header so broken the
    parser cannot read it counts as absent."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError, LookupError, AttributeError):
        return None
    return None if value is None else str(value)


def _sender(message: EmailMessage) -> tuple[str | None, str | None]:
    name, address = parseaddr(_header(message, "From") or "")
    address = address.strip().lower()
    if not _is_address(address):
        return None, None
    return (_clean(name, 100, multiline=False) or None), address


def _is_address(address: str) -> bool:
    if not address or len(address) > ADDRESS_LIMIT or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    return bool(local) and "." in domain and not any(c.isspace() or c in "<>\"()[],;:\\"
                                                     for c in address)


def _recipients(message: EmailMessage) -> tuple[str, ...]:
    """Where the mail was sent: To, Cc, the delivery headers, and the envelope recipient
    SES writes in its Received line ("for <x@y>"), which also names a Bcc'd town."""
    values = [_header(message, name) or "" for name in ("To", "Cc", "Delivered-To",
                                                       "X-Original-To")]
    found: list[str] = []
    for _, address in getaddresses(values):
        address = address.strip().lower()
        if _is_address(address) and address not in found:
            found.append(address)
    received = _header(message, "Received") or ""
    for address in re.findall(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", received):
        address = address.strip().lower()
        if _is_address(address) and address not in found:
            found.append(address)
    return tuple(found[:20])


def verdicts_of(message: EmailMessage) -> Verdicts:
    """SES's verdicts: its own Authentication-Results (the topmost one that names SES's
    server, ``SES_AUTHSERV_ID``) and its X-SES verdict headers (the topmost of each: SES
    adds its headers above the sender's)."""
    results: dict[str, str] = {}
    for value in message.get_all("Authentication-Results") or []:
        text = str(value).strip()
        if text.lower().startswith(SES_AUTHSERV_ID):
            for method, outcome in re.findall(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", text.lower()):
                results.setdefault(method, outcome)
            break

    def verdict(name: str) -> str | None:
        value = _header(message, name)
        return value.strip().upper() if value else None

    return Verdicts(spf=results.get("spf"), dkim=results.get("dkim"),
                    dmarc=results.get("dmarc"), spam=verdict("X-SES-Spam-Verdict"),
                    virus=verdict("X-SES-Virus-Verdict"))


def spoof_reason(verdicts: Verdicts) -> str | None:
    """Why the sender cannot be trusted to be who the From line says, or None.

    No reply ever goes to such a sender: if it was forged, the reply would land on a
    stranger (backscatter) and Town311 would be a spam relay. Missing verdicts count as
    unproved: SES adds them to every message its rule scans (infra/template.yaml)."""
    if verdicts.virus == "FAIL":
        return "virus"
    if verdicts.spam == "FAIL":
        return "spam"
    if verdicts.dmarc == "fail":
        return "dmarc_failed"
    if verdicts.spf is None and verdicts.dkim is None and verdicts.dmarc is None:
        return "unverified"
    if verdicts.spf != "pass" and verdicts.dkim != "pass":
        return "spf_and_dkim_failed"
    return None


_LIST_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)


def automatic_reason(message: EmailMessage) -> str | None:
    """Why this is mail a machine sent (answering it could start a loop), or None:
    RFC 3834's Auto-Submitted, a bulk or list Precedence, a mailing list's List-Id, an
    empty Return-Path (RFC 5321's null sender: a bounce), a mailer daemon's address, or a
    delivery report."""
    auto = (_header(message, "Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return "auto_submitted"
    if (_header(message, "Precedence") or "").strip().lower() in _LIST_PRECEDENCE:
        return "bulk"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing_list"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "auto_submitted"
    return_path = _header(message, "Return-Path")
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "bounce"
    _, sender = parseaddr(_header(message, "From") or "")
    if _DAEMONS.match(sender.strip()) or _DAEMONS.match(
            parseaddr(return_path or "")[1].strip()):
        return "bounce"
    if message.get_content_type() == "multipart/report":
        return "bounce"
    return None


# --- the body ---------------------------------------------------------------------------------


def _contents(message: EmailMessage) -> tuple[str, tuple[Attachment, ...], int]:
    """The body as text (the plain part, else the HTML part as text) and the attachments:
    every other part with a file name or an image type, decoded."""
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        text = _text_of(body_part)
        body = html_to_text(text) if body_part.get_content_type() == "text/html" else text
    attachments: list[Attachment] = []
    skipped = 0
    parts = 0
    for part in message.walk():
        if part is body_part or part.is_multipart():
            continue
        parts += 1
        if parts > PARTS_LIMIT:
            skipped += 1
            continue
        filename = part.get_filename()
        kind = part.get_content_type()
        if part.get_content_maintype() == "text" and not filename:
            continue  # the other alternative of the body (its HTML twin), not a file
        if filename is None and not kind.startswith(("image/", "application/")):
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            skipped += 1
            continue
        name = _clean(filename or f"attachment-{parts}", 120, multiline=False) or \
            f"attachment-{parts}"
        attachments.append(Attachment(name, content))
    return body, tuple(attachments), skipped


def _text_of(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AttributeError):  # an unknown charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


class _TextOfHtml(HTMLParser):
    """HTML as the words a reader sees: scripts, styles and the head dropped, block
    elements as line breaks, quoted replies (``blockquote``) left out."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                         "table", "ul", "ol", "section", "article", "hr"})
    _HIDDEN = frozenset({"script", "style", "head", "title", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """The words of an HTML body (no markup, no script, no quoted reply)."""
    parser = _TextOfHtml()
    parser.feed(html[:200_000])
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.chunks).splitlines()]
    return "\n".join(lines).strip()


# Where a reply's quote of the earlier mail starts, in the mail clients people use
# (Gmail and Apple Mail's "On ... wrote:", Outlook's header block or its rule, Spanish
# clients' "El ... escribió:").
_QUOTE_STARTS = (
    re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.I),
    re.compile(r"^\s*El\b.{0,200}\bescribi[oó]:\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(Original Message|Mensaje original|Forwarded message)\s*-{2,}",
               re.I),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*(From|De):\s.+$", re.I),
)
# Where the signature starts: the "-- " line (RFC 3676) and phones' lines.
_SIGNATURE_STARTS = (
    re.compile(r"^--\s*$"),
    re.compile(r"^\s*Sent from my\b", re.I),
    re.compile(r"^\s*Enviado desde mi\b", re.I),
    re.compile(r"^\s*Get Outlook for\b", re.I),
)


def body_words(text: str, limit: int = BODY_LIMIT) -> str:
    """The resident's own words: up to the quoted earlier mail or the signature, quoted
    lines ("> ...") dropped, blank runs collapsed, cleaned of control characters, and at
    most ``limit`` characters (cut at a word)."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if any(p.match(line) for p in _QUOTE_STARTS) or any(
                p.match(line) for p in _SIGNATURE_STARTS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    cleaned = _clean(joined, limit * 2, multiline=True)
    if len(cleaned) > limit:
        cut = cleaned[:limit].rsplit(None, 1)[0] if " " in cleaned[:limit] else cleaned[:limit]
        cleaned = cut.rstrip() + " …"
    return cleaned


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def _clean(text: str, limit: int, *, multiline: bool) -> str:
    """Mail text as the cleaner (chalicelib.domain.text) accepts it: control characters
    dropped (a resident cannot be asked to retype their e-mail), NFC, trimmed, bounded."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = (_CONTROL if multiline else _CONTROL_LINE).sub(" " if not multiline else "", text)
    if not multiline:
        text = " ".join(text.split())
    return text.strip()[:limit].strip()


# --- the reply ---------------------------------------------------------------------------------


def display_address(address: str) -> str:
    """How an address is shown back in a reply: the bare address, never a display name
    a sender chose (it could carry a link or a lie)."""
    try:
        return Address(addr_spec=address).addr_spec
    except (ValueError, IndexError):
        return address


# The answer to a resident's e-mail, per language ($name placeholders, string.Template).
REPLY = {
    "en": {
        "subject": "$town: we received your e-mail ($tracking_number)",
        "text": ("Thank you for writing to $town. Your report's tracking number is "
                 "$tracking_number.\n\nWhat we understood: $service_name, $place.\n"
                 "A member of staff will check the service and the place, and you will "
                 "hear from us as your report moves.\n\nFollow it: $link"),
        "no_place": "with no place we could find in your message (staff will locate it)",
        "at": "at $place",
        "refused_intro": "\n\nWe could not take these attachments:",
        "too_large": "too large (at most $limit MB)",
        "not_a_photo": "not a photo (we take JPEG, PNG, WebP and HEIC photos)",
        "too_many": "more than $limit photos",
    },
    "es": {
        "subject": "$town: recibimos su correo ($tracking_number)",
        "text": ("Gracias por escribir a $town. El número de seguimiento de su reporte es "
                 "$tracking_number.\n\nLo que entendimos: $service_name, $place.\n"
                 "Una persona del personal confirmará el servicio y el lugar, y le "
                 "avisaremos a medida que avance su reporte.\n\nSígalo aquí: $link"),
        "no_place": "sin un lugar que pudiéramos encontrar en su mensaje (el personal lo "
                    "ubicará)",
        "at": "en $place",
        "refused_intro": "\n\nNo pudimos aceptar estos archivos adjuntos:",
        "too_large": "demasiado grande (máximo $limit MB)",
        "not_a_photo": "no es una foto (aceptamos fotos JPEG, PNG, WebP y HEIC)",
        "too_many": "más de $limit fotos",
    },
}


@dataclass(frozen=True)
class RefusedAttachment:
    filename: str
    reason: str  # "too_large", "not_a_photo" or "too_many"


def reply(language: str, *, town: str, tracking_number: str, service_name: str,
          place: str | None, link: str, refused: list[RefusedAttachment],
          photo_limit: int, max_mb: int) -> tuple[str, str]:
    """The subject and text of the answer to a resident's e-mail."""
    from string import Template

    words = REPLY.get(language, REPLY["en"])

    def fill(text: str, **values: object) -> str:
        return Template(text).safe_substitute({k: str(v) for k, v in values.items()})

    where = fill(words["at"], place=place) if place else words["no_place"]
    subject = fill(words["subject"], town=town, tracking_number=tracking_number)
    text = fill(words["text"], town=town, tracking_number=tracking_number,
                service_name=service_name, place=where, link=link)
    if refused:
        text += words["refused_intro"]
        for item in refused:
            why = fill(words[item.reason], limit=photo_limit if item.reason == "too_many"
                       else max_mb)
            text += f"\n- {item.filename}: {why}"
    return subject, text
