"""Account notices that carry no link: what they say, and that they have no secret to mask."""

from __future__ import annotations

import uuid

from notifications.adapters.templates import Renderer
from notifications.app.mailer import Mailer


def test_the_email_changed_notice_tells_the_old_address_what_happened_and_what_to_do() -> None:
    mailer = Mailer(Renderer(), "Casefold Support <support@casefold.local>", "support-team@casefold.local",
                    "casefold.local", "http://portal.test/")  # fmt: skip
    draft = mailer.account(uuid.uuid4(), "email-changed-notice", "old@customer.test", "Ada", None, None)
    assert draft.subject == "Casefold: The email address of your account was changed"
    assert "old@customer.test" in (draft.to_address or "")
    for body in (draft.text, draft.html):
        assert "Hello Ada" in body
        assert "was just changed" in body
        assert "If you did not, someone else may control your account" in body
    assert draft.secret is None
