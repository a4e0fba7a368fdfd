"""The town's ways in (issue 18), in a real browser on `make run`'s stack: a resident's
e-mail becomes a draft that a supervisor finds in triage's inbox (flagged "E-mail
draft"), confirms on the form (service and place) and sees routed to Public Works with
channel E-mail; a town administrator sets the town's SMS number on the settings screen,
a bad one is said next to the field, and the saved one is shown. axe-core on every
screen."""

from __future__ import annotations

import re
import uuid
from email import policy
from email.message import EmailMessage
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot
from tests.e2e.stack import LocalRun, wait_until

# As SES stores a message it checked: verdicts and the sender's SPF/DKIM/DMARC results.
PASSED = ("amazonses.com; spf=pass (spfCheck: domain of example.org designates 192.0.2.25 "
          "as permitted sender) smtp.mailfrom=example.org; dkim=pass header.i=@example.org; "
          "dmarc=pass header.from=example.org;")


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def _email(local_run: LocalRun, sender: str) -> None:
    """A resident's e-mail to the town's default address, put where SES receiving puts it
    (``inbound-mail/`` of the stack's bucket), as `python -m local.mail` does: the stack's
    pump hands it to receive_mail."""
    import boto3

    environment = local_run.facts["environment"]
    message = EmailMessage(policy=policy.SMTP)
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = "PASS"
    message["Authentication-Results"] = PASSED
    message["From"] = f"Rosa Alvarez <{sender}>"
    message["To"] = (f"Maple Falls 311 <{local_run.town}@"
                     f"{environment['TOWN311_MAIL_INTAKE_DOMAIN']}>")
    message["Subject"] = "Pothole on Oak Street"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    message.set_content("Hello,\n\nThere is a deep pothole in the road outside 112 Oak St, "
                        "right by the curb. A car lost a hubcap there this morning.\n\nRosa")
    s3 = boto3.client("s3", region_name="us-east-1",
                      endpoint_url=local_run.facts["aws_endpoint_url"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.put_object(Bucket=environment["TOWN311_PHOTO_BUCKET"],
                  Key=f"inbound-mail/{uuid.uuid4().hex}", Body=message.as_bytes())


def _in_triage(page: Page, tracking_number: str) -> Any:
    """The draft's link in triage's inbox, reloading until the router has put it there
    (the stack's pump routes in another process)."""
    def listed() -> Any:
        page.goto("/console/inbox?department=triage")
        link = page.get_by_role("link", name=re.compile(re.escape(tracking_number)))
        return link if link.count() else None

    return wait_until(listed, f"draft {tracking_number} in triage's inbox", interval=0.5)


def test_a_supervisor_confirms_an_email_draft_and_it_is_routed(page, local_run) -> None:
    sender = f"rosa-{uuid.uuid4().hex[:8]}@example.org"
    _email(local_run, sender)
    answer = local_run.wait_for_message(sender, containing="")
    tracking_number = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", answer["text"])[0]

    _sign_in(page, "supervisor", "/console/inbox")
    link = _in_triage(page, tracking_number)
    row = page.get_by_role("row").filter(has=link)
    expect(row.get_by_text("E-mail draft: confirm")).to_be_visible()
    check_accessibility(page)
    link.click()
    expect(page.get_by_role("heading", name="E-mail draft: confirm its service and place")
           ).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Confirm service and location").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Confirm service and location · {tracking_number}")
    said = page.get_by_role("region", name="What the e-mail says")
    expect(said.get_by_text("right by the curb")).to_be_visible()
    # What the public will read: the mail's words, trimmed of the greeting and the name.
    public = page.get_by_label("What the public reads")
    expect(public).to_contain_text("right by the curb")
    public.fill("A deep pothole in the road outside 112 Oak St, right by the curb.")
    service = page.get_by_role("group", name="Service")
    expect(service.get_by_role("radio", name=re.compile("^Pothole"))).to_be_checked()
    expect(service.get_by_text("Guessed").first).to_be_visible()
    # The place as the e-mail named it, looked up again in the town's addresses.
    expect(page.get_by_label("Address, intersection or place")).to_have_value("112 Oak St")
    page.get_by_role("button", name="Find the address").click()
    places = page.get_by_role("group", name="Which place is it?")
    places.get_by_text("112 Oak St", exact=True).click()
    check_accessibility(page)
    screenshot(page, f"console-mail-confirm-{screen_name(page)}")
    page.get_by_role("button", name="Confirm and route").click()

    expect(page).to_have_url(re.compile(r"/console/requests/[^/?]+\?done=confirmed$"))
    expect(page.get_by_role("heading", name=re.compile("E-mail draft"))).to_have_count(0)

    def fact(name: str) -> Any:
        return page.locator("dt", has_text=re.compile(f"^{name}$")).locator(
            "xpath=following-sibling::dd[1]")

    expect(fact("Department")).to_contain_text("Public Works")
    expect(fact("Channel")).to_have_text("E-mail")
    check_accessibility(page)
    screenshot(page, f"console-mail-confirmed-{screen_name(page)}")
    # Open311 shows the trimmed words, never the mail's greeting or signature.
    found = page.request.get(f"/towns/{local_run.town}/open311/v2/requests.json"
                             "?extensions=true")
    (mine,) = [r for r in found.json()
               if r["extended_attributes"]["tracking_number"] == tracking_number]
    assert mine["description"] == ("A deep pothole in the road outside 112 Oak St, right "
                                   "by the curb.")


def test_a_town_admin_sets_the_towns_sms_number(page, local_run) -> None:
    _sign_in(page, "town_admin", "/console/admin/town")
    section = page.get_by_role("region", name="Ways in: texts and e-mail")
    expect(section).to_be_visible()
    number = page.get_by_label("SMS number")
    before = number.input_value()
    assert before.startswith("+"), before
    domain = local_run.facts["environment"]["TOWN311_MAIL_INTAKE_DOMAIN"]
    expect(section).to_contain_text(f"{local_run.town}@{domain}")
    check_accessibility(page)
    # A number no phone can text is said next to the field, and in the summary.
    number.fill("12")
    page.get_by_role("button", name="Save the ways in").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#sms_number-error")).to_contain_text(
        "Enter a phone number residents can text")
    check_accessibility(page)
    screenshot(page, f"console-ways-in-refused-{screen_name(page)}")
    try:
        page.get_by_label("SMS number").fill("(800) 555-0342")
        page.get_by_role("button", name="Save the ways in").click()
        expect(page.get_by_text("The ways in were saved.")).to_be_visible()
        expect(section).to_contain_text("Text messages to +18005550342")
        expect(page.get_by_label("SMS number")).to_have_value("+18005550342")
        check_accessibility(page)
        screenshot(page, f"console-ways-in-{screen_name(page)}")
    finally:
        # The stack is shared: the demo town keeps the number other stories text.
        page.get_by_label("SMS number").fill(before)
        page.get_by_role("button", name="Save the ways in").click()
        expect(page.get_by_text("The ways in were saved.")).to_be_visible()
