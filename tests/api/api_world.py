"""What the API tests share: the running system's layout, the people in it and customer A's resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from e2e.e2e_steps import Account

from casefold_local.stack import Layout

# identity trusts X-Forwarded-For behind the gateway: requests sent to it directly name their own client address,
# so the fuzzer's failed logins and sign-ups fill buckets of their own, never those of the people's logins.
FUZZER_ADDRESS = "198.51.100.7"
PEOPLE_ADDRESS = "203.0.113.9"


@dataclass
class World:
    layout: Layout
    people: dict[str, Account]
    product: str
    case_a: dict[str, Any]
    case_b: dict[str, Any]
    attachment_a: str
    message_a: str

    def fresh_token(self, person: str) -> str:
        """A new access token for one of the people, straight from identity (fuzzing may have logged them out)."""
        account = self.people[person]
        response = httpx.post(
            f"{self.layout.service('identity').url}/api/identity/sessions",
            json={"email": account.email, "password": account.password},
            headers={"X-Forwarded-For": PEOPLE_ADDRESS},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token
