"""Reading a resident's e-mail (chalicelib.domain.mail): the body's own words (plain or
HTML, without quoted replies and signatures), SES's verdicts, machine-sent mail, the
attachments as sent and the answer's wording. (The place its words name:
tests/unit/test_place_words.py.)"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest

from chalicelib.domain.mail import (
    MailUnreadable,
    RefusedAttachment,
    Verdicts,
    body_words,
    html_to_text,
    read_mail,
    reply,
    spoof_reason,
)

PASSED = "amazonses.com; spf=pass smtp.mailfrom=a.org; dkim=pass header.i=@a.org; dmarc=pass;"


def _raw(text: str | None = "A pothole outside 12 Oak St.", *, html: str | None = None,
         headers: dict[str, str] | None = None, attachments=()) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    for name, value in {"Authentication-Results": PASSED, "From": "Ana <Ana@A.org>",
                        "To": "maplefalls.example@reports.example", "Subject": "Hole",
                        "Message-ID": "<1@a.org>", **(headers or {})}.items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content, kind in attachments:
        main, sub = kind.split("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


def test_the_plain_text_body_sender_and_recipients_are_read() -> None:
    mail = read_mail(_raw())
    assert mail.sender == "ana@a.org" and mail.sender_name == "Ana"
    assert mail.recipients == ("maplefalls.example@reports.example",)
    assert mail.subject == "Hole" and mail.body == "A pothole outside 12 Oak St."
    assert mail.verdicts == Verdicts(spf="pass", dkim="pass", dmarc="pass")
    assert mail.automatic is None and mail.attachments == ()


def test_the_plain_part_is_preferred_and_an_html_only_body_becomes_its_words() -> None:
    both = read_mail(_raw("plain words", html="<p>html words</p>"))
    assert both.body == "plain words" and both.attachments == ()
    only = read_mail(_raw(None, html="<html><head><style>p{color:red}</style></head><body>"
                                     "<p>Deep <b>pothole</b></p><div>at 12 Oak St</div>"
                                     "<script>alert(1)</script>"
                                     "<blockquote>your earlier mail</blockquote></body></html>"))
    assert only.body == "Deep pothole\n\nat 12 Oak St"


def test_html_to_text_drops_markup_scripts_and_quotes() -> None:
    assert html_to_text("<p>One</p><p>Two&nbsp;&amp; three</p><script>x()</script>") == \
        "One\n\nTwo & three"


@pytest.mark.parametrize("tail", [
    "\n\nOn Mon, Dec 1, 2026 at 9:00 AM Maple Falls <311@maplefalls.example> wrote:\n> ok",
    "\n\nEl lun, 1 dic 2026 a las 9:00, Maple Falls escribió:\n> ok",
    "\n\n-----Original Message-----\nFrom: Maple Falls\nSent: Monday",
    "\n\nFrom: Maple Falls <311@maplefalls.example>\nSent: Monday",
    "\n\n-- \nAna Ruiz\n555-0100",
    "\n\nSent from my iPhone",
    "\n\nEnviado desde mi teléfono",
])
def test_quoted_replies_and_signatures_are_dropped(tail: str) -> None:
    assert body_words("The hole is back.\nStill deep." + tail) == "The hole is back.\nStill deep."


def test_quoted_lines_are_dropped_and_the_body_is_bounded() -> None:
    assert body_words("> old\nnew words\n> more old") == "new words"
    long = body_words("word " * 2000, limit=100)
    assert len(long) <= 102 and long.endswith("…")


def test_control_characters_are_dropped_not_refused() -> None:
    assert body_words("a\x00b\x07c\n\nd") == "abc\n\nd"


@pytest.mark.parametrize(("verdicts", "reason"), [
    (Verdicts(spf="pass", dkim="pass", dmarc="pass", spam="PASS", virus="PASS"), None),
    (Verdicts(spf="pass", dkim="none", dmarc="none"), None),
    (Verdicts(spf="fail", dkim="pass", dmarc="pass"), None),
    (Verdicts(spf="pass", dkim="pass", dmarc="fail"), "dmarc_failed"),
    (Verdicts(spf="softfail", dkim="fail", dmarc="none"), "spf_and_dkim_failed"),
    (Verdicts(), "unverified"),
    (Verdicts(spf="pass", dkim="pass", dmarc="pass", virus="FAIL"), "virus"),
    (Verdicts(spf="pass", dkim="pass", dmarc="pass", spam="FAIL"), "spam"),
])
def test_ses_verdicts_decide_whether_the_sender_may_be_answered(verdicts, reason) -> None:
    assert spoof_reason(verdicts) == reason


def test_only_sess_own_topmost_authentication_results_count() -> None:
    # SES prepends its header; one the sender wrote lower down (or another server's) is
    # not SES's verdict.
    raw = _raw(headers={"Authentication-Results": "amazonses.com; spf=fail; dkim=fail; "
                                                  "dmarc=fail;"})
    forged = raw.replace(b"From:", b"Authentication-Results: " + PASSED.encode() + b"\r\nFrom:")
    assert read_mail(forged).verdicts.dmarc == "fail"
    other = _raw(headers={"Authentication-Results": "mx.evil.example; spf=pass; dkim=pass"})
    assert spoof_reason(read_mail(other).verdicts) == "unverified"


@pytest.mark.parametrize(("headers", "reason"), [
    ({"Auto-Submitted": "auto-replied"}, "auto_submitted"),
    ({"Auto-Submitted": "no"}, None),
    ({"Precedence": "bulk"}, "bulk"),
    ({"Precedence": "list"}, "bulk"),
    ({"List-Id": "<x.a.org>"}, "mailing_list"),
    ({"X-Autoreply": "yes"}, "auto_submitted"),
    ({"Return-Path": "<>"}, "bounce"),
    ({"From": "MAILER-DAEMON@a.org"}, "bounce"),
    ({"From": "no-reply@a.org"}, "bounce"),
])
def test_machine_sent_mail_is_recognised(headers, reason) -> None:
    assert read_mail(_raw(headers=headers)).automatic == reason


def test_attachments_are_kept_with_their_names_whatever_their_declared_type() -> None:
    mail = read_mail(_raw(attachments=(("hole.jpg", b"\xff\xd8\xff\xe0jpeg", "image/jpeg"),
                                       ("run.exe", b"MZ\x90\x00", "application/octet-stream"),
                                       ("notes.txt", b"words", "text/plain"))))
    assert [(a.filename, a.content) for a in mail.attachments] == [
        ("hole.jpg", b"\xff\xd8\xff\xe0jpeg"), ("run.exe", b"MZ\x90\x00"),
        ("notes.txt", b"words")]


def test_the_same_message_has_the_same_key_and_another_sender_another() -> None:
    first, again = read_mail(_raw()), read_mail(_raw())
    assert first.dedupe_key == again.dedupe_key
    other = read_mail(_raw(headers={"From": "eve@b.org"}))
    assert other.dedupe_key != first.dedupe_key  # a copied Message-ID is not the same mail
    no_id = read_mail(_raw().replace(b"Message-ID: <1@a.org>\r\n", b""))
    assert no_id.message_id is None and no_id.dedupe_key == no_id.digest


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02\xff" * 50])
def test_what_is_not_a_message_is_unreadable(raw: bytes) -> None:
    with pytest.raises(MailUnreadable):
        read_mail(raw)


def test_the_envelope_recipient_in_sess_received_line_is_a_recipient() -> None:
    raw = _raw(headers={"To": "undisclosed-recipients:;",
                        "Received": "from mx.a.org by inbound-smtp.us-east-1.amazonaws.com "
                                    "with SMTP id x for maplefalls.example@reports.example; "
                                    "Tue, 1 Dec 2026 10:00:00 +0000"})
    assert read_mail(raw).recipients == ("maplefalls.example@reports.example",)


def test_spanish_words_make_a_spanish_mail() -> None:
    assert read_mail(_raw("Hay un bache en la calle, por favor.")).language == "es"
    assert read_mail(_raw("There is a hole in the street.")).language == "en"
    assert read_mail(_raw("12 Oak St")).language is None


def test_the_answer_says_the_number_what_was_understood_and_what_was_refused() -> None:
    subject, text = reply("en", town="Maple Falls", tracking_number="K7QD-3M2P",
                          service_name="Pothole", place="12 Oak St", link="https://x/t",
                          refused=[RefusedAttachment("big.jpg", "too_large"),
                                   RefusedAttachment("a.exe", "not_a_photo")],
                          photo_limit=5, max_mb=12)
    assert subject == "Maple Falls: we received your e-mail (K7QD-3M2P)"
    assert "K7QD-3M2P" in text and "Pothole, at 12 Oak St" in text and "https://x/t" in text
    assert "- big.jpg: too large (at most 12 MB)" in text
    assert "- a.exe: not a photo" in text
    _, spanish = reply("es", town="Maple Falls", tracking_number="K7QD-3M2P",
                       service_name="Bache", place=None, link="https://x/t", refused=[],
                       photo_limit=5, max_mb=12)
    assert "sin un lugar que pudiéramos encontrar" in spanish and "No pudimos" not in spanish
