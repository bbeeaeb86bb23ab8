"""My cases: All / Open / Closed, keyword search (words, prefixes, partial words), newest activity first, paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cases_builders import User

from cases.adapters import read_model

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]

SUBJECTS = [
    "Production Down in eu-west",
    "Invoice PDF is blank",
    "Cannot reset password",
    "Export to CSV times out",
    "Production database slow",
    "Billing: invoice totals wrong",
    "Configuration export stalls",
    "Configurator login timeout",
]


async def _subjects(owner: User, **params: Any) -> list[str]:
    return [i["subject"] for i in (await owner.list(**params))["items"]]


@pytest.fixture
async def owner(user: UserFactory) -> User:
    alice = user()
    for subject in SUBJECTS:
        await alice.open(subject=subject)
    return alice


async def test_newest_activity_first_and_a_comment_moves_a_case_up(owner: User) -> None:
    assert await _subjects(owner) == list(reversed(SUBJECTS))
    oldest = (await owner.list())["items"][-1]

    await owner.comment(oldest["id"], "any news?")

    assert (await _subjects(owner))[0] == SUBJECTS[0]


async def test_status_filters(owner: User) -> None:
    items = (await owner.list())["items"]
    await owner.close(items[0]["id"])

    assert len(await _subjects(owner, status="all")) == len(SUBJECTS)
    assert await _subjects(owner, status="closed") == [items[0]["subject"]]
    assert items[0]["subject"] not in await _subjects(owner, status="open")
    assert len(await _subjects(owner, status="open")) == len(SUBJECTS) - 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("invoice", {"Invoice PDF is blank", "Billing: invoice totals wrong"}),
        ("INVOICE blank", {"Invoice PDF is blank"}),
        ("prod", {"Production Down in eu-west", "Production database slow"}),
        ("production down", {"Production Down in eu-west"}),
        ("duction", {"Production Down in eu-west", "Production database slow"}),
        ("passw", {"Cannot reset password"}),
        ("sswor", {"Cannot reset password"}),
        ("eu-west", {"Production Down in eu-west"}),
        ("billing:", {"Billing: invoice totals wrong"}),
        ("nothing like this", set()),
        ("%", set()),
        ("_", set()),
        ("a:* | !(b)", set()),
        ("'; DROP TABLE case_summaries; --", set()),
        ("login timeout", {"Configurator login timeout"}),
        ("TIMEOUT log", {"Configurator login timeout"}),
        ("time", {"Export to CSV times out", "Configurator login timeout"}),
        ("export", {"Export to CSV times out", "Configuration export stalls"}),
        # longer than the prefix index's keys (10 characters): its candidates hold both, the search one
        ("configuration", {"Configuration export stalls"}),
        ("configurat", {"Configuration export stalls", "Configurator login timeout"}),
        ("configurations", set()),
        ("configuration stalls", {"Configuration export stalls"}),
        ("login stalls", set()),
    ],
)
@pytest.mark.parametrize("window", [1, 10_000])
async def test_keyword_search_on_the_subject(
    owner: User, monkeypatch: pytest.MonkeyPatch, window: int, q: str, expected: set[str]
) -> None:
    """The same cases whether the recent window answers (10,000) or the prefix index does (1: the window never
    fills a page, so every search falls back to the indexes)."""
    monkeypatch.setattr(read_model, "RECENT_WINDOW", window)

    assert set(await _subjects(owner, q=q)) == expected


@pytest.mark.parametrize("window", [1, 10_000])
async def test_a_customer_finds_only_their_own_cases_an_agent_finds_all(
    user: Callable[..., User], monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(read_model, "RECENT_WINDOW", window)
    alice, bob, agent = user(), user(), user(role="agent")
    word = "quasar" if window == 1 else "nebula"
    mine = await alice.open(subject=f"{word} login timeout")
    theirs = await bob.open(subject=f"{word} login timeouts again")

    assert [i["id"] for i in (await alice.list(q=f"{word} login timeout"))["items"]] == [mine["id"]]
    assert [i["id"] for i in (await bob.list(q=f"{word[:4]} timeout"))["items"]] == [theirs["id"]]
    found = (await agent.list(q=f"{word} timeout log"))["items"]
    assert [i["id"] for i in found] == [theirs["id"], mine["id"]]


async def test_search_combines_with_status(owner: User) -> None:
    items = (await owner.list(q="invoice"))["items"]
    await owner.close(items[0]["id"])

    assert await _subjects(owner, q="invoice", status="open") == [items[1]["subject"]]


async def test_keyset_pages_cover_everything_once(owner: User) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = await owner.list(**params)
        seen += [i["id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 2
    assert len(seen) == len(set(seen)) == len(SUBJECTS)


async def test_paging_is_stable_while_new_cases_arrive(owner: User) -> None:
    first = await owner.list(limit=3)
    await owner.open(subject="brand new")

    second = await owner.list(limit=3, cursor=first["next_cursor"])

    assert [i["subject"] for i in second["items"]] == list(reversed(SUBJECTS))[3:6]


async def test_summaries_carry_no_comments_or_description(owner: User) -> None:
    item = (await owner.list())["items"][0]

    assert set(item) == {"id", "number", "product", "subject", "severity", "prioritised", "status", "opened_by",
                         "opened_by_name", "opened_at", "closed_at", "last_activity_at", "version",
                         "waiting_on"}  # fmt: skip


@pytest.mark.parametrize("window", [1, 2, 10_000])
async def test_recent_window_and_text_index_plans_agree(
    owner: User, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(read_model, "RECENT_WINDOW", window)

    assert set(await _subjects(owner, q="invoice")) == {"Invoice PDF is blank", "Billing: invoice totals wrong"}
    assert set(await _subjects(owner, q="duction", status="open")) == {
        "Production Down in eu-west",
        "Production database slow",
    }


async def test_search_pages_by_cursor_in_both_plans(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    for window in (1, 10_000):
        monkeypatch.setattr(read_model, "RECENT_WINDOW", window)
        first = await owner.list(q="production", limit=1)
        second = await owner.list(q="production", limit=1, cursor=first["next_cursor"])

        assert [i["subject"] for i in first["items"] + second["items"]] == [
            "Production database slow",
            "Production Down in eu-west",
        ]
        assert second["next_cursor"] is None
