"""Rules of an email: identity, thread, subject, backoff, and what the templates produce."""

from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import replace
from email.message import EmailMessage

from notifications.adapters.case_projection import Case
from notifications.adapters.directory import User
from notifications.adapters.mime import compose
from notifications.adapters.templates import Renderer
from notifications.app.mailer import DISABLED_RECIPIENT, Mailer, human_size
from notifications.domain.emails import (
    case_subject,
    describe,
    is_permanent,
    message_id,
    retry_delay,
    severity_label,
    thread_references,
    thread_root,
)
from notifications.domain.replies import ReplyTokens

EVENT = uuid.UUID("0190a3c4-0000-7000-8000-000000000001")


def _mailer() -> Mailer:
    return Mailer(Renderer(), "Casefold Support <support@casefold.local>", "support-team@casefold.local",
                  "casefold.local", "http://portal.test/")  # fmt: skip


def _case(prioritised: bool = False) -> Case:
    return Case(uuid.uuid4(), 1042, "Login <slow>", uuid.uuid4(), 3, prioritised, "open", EVENT)


def test_message_id_derives_from_the_event_and_kind() -> None:
    assert message_id(EVENT, "ack", "casefold.local") == f"<{EVENT}.ack@casefold.local>"
    assert thread_root(EVENT, "x.test") == f"<{EVENT}.ack@x.test>"


def test_subject_carries_the_zero_padded_case_number_on_one_line() -> None:
    assert case_subject(1042, "Login is slow") == "[Case 00001042] Login is slow"
    assert case_subject(7, "a\r\nBcc: evil@x.test") == "[Case 00000007] a Bcc: evil@x.test"


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 1.0, 5.0, jitter=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_is_jittered_between_half_the_step_and_the_step() -> None:
    assert retry_delay(3, 1.0, 5.0, jitter=lambda: 0.0) == 2.0
    delays = {retry_delay(3, 1.0, 5.0) for _ in range(50)}
    assert len(delays) > 1
    assert all(2.0 <= d <= 4.0 for d in delays)


def test_only_5xx_is_permanent() -> None:
    assert is_permanent(550)
    assert not is_permanent(451)
    assert not is_permanent(421)


def test_human_size() -> None:
    assert human_size(10) == "10 bytes"
    assert human_size(2048) == "2.0 KB"


def test_acknowledgement_is_the_thread_root_and_escapes_html() -> None:
    case = _case()
    owner = User(case.owner_id, "ada@customer.test", "Ada", True, "customer")
    draft = _mailer().to_customer(EVENT, "ack", case, owner, prioritised=False, product_name="Cloud", severity=3)
    headers = draft.headers()
    assert headers["Message-ID"] == f"<{EVENT}.ack@casefold.local>"
    assert "In-Reply-To" not in headers
    assert headers["To"] == "Ada <ada@customer.test>"
    assert draft.subject == "[Case 00001042] Login <slow>"
    assert "case 00001042" in draft.text
    assert "What happens next" in draft.text
    assert "Login &lt;slow&gt;" in draft.html
    assert f"http://portal.test/cases/{case.case_id}" in draft.text


def test_later_emails_thread_under_the_acknowledgement() -> None:
    case = _case()
    comment_event = uuid.uuid4()
    draft = _mailer().to_customer(comment_event, "agent-comment", case, None, author="Grace", body="Hi")
    assert draft.status == "waiting"
    assert draft.to_address is None
    assert draft.headers()["In-Reply-To"] == f"<{EVENT}.ack@casefold.local>"
    assert draft.headers()["References"] == f"<{EVENT}.ack@casefold.local>"
    assert draft.message_id == f"<{comment_event}.agent-comment@casefold.local>"
    assert "Hello there" in draft.text


def test_closing_confirmation_says_a_new_case_is_needed() -> None:
    draft = _mailer().to_customer(uuid.uuid4(), "closed", _case(), None)
    assert "open a new case" in draft.text
    assert "open a new case" in draft.html


def test_account_email_carries_its_link_as_the_secret() -> None:
    url = "https://portal.test/confirm?token=abc&x=1"
    draft = _mailer().account(EVENT, "confirm-email", "ada@customer.test", "Ada", url, "2026-12-01 10:00 UTC")
    assert url in draft.text
    assert "token=abc&amp;x=1" in draft.html
    assert draft.secret == url
    assert draft.case_id is None


def test_a_password_reset_email_carries_its_link_and_expiry_as_the_secret() -> None:
    url = "https://portal.test/reset-password?token=abc"
    draft = _mailer().account(EVENT, "password-reset", "ada@customer.test", "Ada", url, "2026-12-01 10:00 UTC")
    assert draft.subject == "Casefold: Reset your password"
    assert url in draft.text
    assert f'href="{url}"' in draft.html
    assert "2026-12-01 10:00 UTC" in draft.text
    assert draft.secret == url


def test_the_reset_notice_has_no_link() -> None:
    draft = _mailer().account(EVENT, "password-reset-notice", "ada@customer.test", "Ada", None, None)
    assert draft.subject == "Casefold: Your password was reset"
    assert "was just reset" in draft.text
    assert "was just reset" in draft.html
    assert draft.secret is None


def test_the_acknowledgement_names_the_severity_in_text_and_html() -> None:
    case = _case()
    owner = User(case.owner_id, "ada@customer.test", "Ada", True, "customer")
    draft = _mailer().to_customer(EVENT, "ack", case, owner, prioritised=False, product_name="Cloud",
                                  severity=severity_label(2))  # fmt: skip
    assert "Severity: 2 (Major)" in draft.text
    assert '<th align="left">Severity</th><td>2 (Major)</td>' in draft.html


def test_with_replies_by_email_on_a_case_email_says_a_reply_becomes_a_comment() -> None:
    case = _case()
    owner = User(case.owner_id, "ada@customer.test", "Ada", True, "customer")
    mailer = replace(_mailer(), replies=ReplyTokens(b"k" * 32, "casefold.local"))

    ack = mailer.to_customer(EVENT, "ack", case, owner, prioritised=False, product_name="Cloud", severity="2")
    answer = mailer.to_customer(EVENT, "agent-comment", case, owner, author="Grace", body="Try again now.")

    assert ack.reply_to is not None
    assert "or reply to this email: a reply becomes a comment on the case" in ack.text
    assert "or reply to this email: a reply becomes a comment on the case" in ack.html
    assert "Reply to this email to answer: your reply is added to the case as a comment" in answer.text
    assert "Reply to this email to answer: your reply is added to the case as a comment" in answer.html


def test_without_replies_by_email_a_case_email_points_to_the_portal_only() -> None:
    case = _case()
    owner = User(case.owner_id, "ada@customer.test", "Ada", True, "customer")

    answer = _mailer().to_customer(EVENT, "agent-comment", case, owner, author="Grace", body="Try again now.")

    assert answer.reply_to is None
    assert "Reply by adding a comment to the case in the portal." in answer.text
    assert "reply to this email" not in answer.text.lower()


def test_each_severity_level_has_the_name_the_portal_gives_it() -> None:
    assert [severity_label(level) for level in (1, 2, 3)] == ["1 (Critical)", "2 (Major)", "3 (Minor)"]
    assert severity_label(4) == "4"  # a level this service does not know yet is shown, never dropped


def test_built_message_is_multipart_alternative_with_the_headers() -> None:
    draft = _mailer().to_customer(uuid.uuid4(), "closed", _case(), None)
    headers = {**draft.headers(), "To": "ada@customer.test"}
    message = email.message_from_bytes(compose(headers, draft.text, draft.html).data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"] == draft.message_id
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_the_references_chain_keeps_the_root_and_the_latest_messages() -> None:
    earlier = [f"<m{n}@x>" for n in range(1, 20)]

    chain = thread_references("<root@x>", ["<root@x>", *earlier])

    assert len(chain) == 10
    assert chain[0] == "<root@x>"
    assert chain[1:] == tuple(earlier[-9:])
    assert thread_references("<root@x>", []) == ("<root@x>",)


def test_each_kind_is_described_for_its_reader() -> None:
    assert describe("customer-comment", for_agent=False) == "Your comment"
    assert describe("customer-comment", for_agent=True) == "Comment from the customer"
    assert describe("agent-comment", for_agent=False) == "Reply from support"
    assert describe("something-new", for_agent=False) == "Email"


def test_case_mail_to_a_disabled_customer_is_withheld_with_its_reason() -> None:
    case = _case()
    owner = User(case.owner_id, "ada@customer.test", "Ada", True, "customer", disabled=True)
    draft = _mailer().to_customer(uuid.uuid4(), "closed", case, owner)
    assert (draft.status, draft.withheld) == ("withheld", DISABLED_RECIPIENT)
    assert draft.to_address == "Ada <ada@customer.test>"  # kept, so the history says to whom it was not sent
    enabled = _mailer().to_customer(uuid.uuid4(), "closed", case, replace(owner, disabled=False))
    assert (enabled.status, enabled.withheld) == ("queued", None)


def test_agent_mail_for_a_disabled_or_former_agent_goes_to_the_support_address() -> None:
    case = _case()
    agent = User(uuid.uuid4(), "grace@casefold.local", "Grace", True, "agent")
    context = {"clock_label": "resolution", "due": "2026-12-07 10:00 UTC", "action": "Act.", "assignee": "Grace"}
    mailer = _mailer()
    assert mailer.to_agent(EVENT, "sla-warning", case, agent, **context).to_address == "Grace <grace@casefold.local>"
    for gone in (replace(agent, disabled=True), replace(agent, role="customer"), None):
        assert mailer.to_agent(EVENT, "sla-warning", case, gone, **context).to_address == mailer.support_address
