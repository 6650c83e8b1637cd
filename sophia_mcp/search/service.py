"""`gong_semantic_search` as one domain call: the caller's rep and account turned into filters
(a rep by name is looked up among the Gong users), then the store's answer with its note and age."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

from sophia_mcp.gong.errors import InvalidArgumentError
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.search.model import SearchFilters, SearchMode, SemanticResults
from sophia_mcp.search.store import SearchStore


def moment(value: datetime | date | None) -> datetime | None:
    """A date means its start (UTC); a naive time means UTC."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


class SemanticSearch:
    def __init__(
        self, store: SearchStore, gong: Callable[[], GongRepository | None], stale_after_hours: float = 24.0
    ) -> None:
        self.store = store
        self._gong = gong  # the repository once the database is open
        self._stale_after = timedelta(hours=stale_after_hours)

    async def rep_user_id(self, rep: str | None) -> str | None:
        """A Gong user id as given, or the one user whose name or email matches."""
        rep = rep.strip() if rep else None
        if not rep or rep.isdigit():
            return rep or None
        gong = self._gong()
        if gong is None:
            raise InvalidArgumentError("Give `rep` as a Gong user id: names need SOPHIA_POSTGRES_URL to be looked up.")
        users = (await gong.list_users(rep, limit=5)).users
        if len(users) != 1:
            found = ", ".join(f"{u.name} ({u.id})" for u in users) or "nobody"
            raise InvalidArgumentError(f"`rep` {rep!r} matches {found}; pass one user id (gong_list_users finds them).")
        return users[0].id

    async def filters(
        self, since: datetime | date | None, until: datetime | date | None, rep: str | None, account: str | None
    ) -> SearchFilters:
        """An account is a CRM id when it is all digits, else part of the account's name."""
        account = account.strip() if account else None
        return SearchFilters(
            started_from=moment(since),
            started_to=moment(until),
            rep_user_id=await self.rep_user_id(rep),
            account_id=account if account and account.isdigit() else None,
            account_name=account if account and not account.isdigit() else None,
        )

    async def ask(
        self,
        question: str,
        *,
        since: datetime | date | None = None,
        until: datetime | date | None = None,
        rep: str | None = None,
        account: str | None = None,
        mode: SearchMode = SearchMode.HYBRID,
        limit: int = 5,
    ) -> SemanticResults:
        question = question.strip()
        filters = await self.filters(since, until, rep, account)
        answer = await self.store.answer(question, filters, limit=limit, mode=mode)
        note = answer.note
        if not answer.hits and not note:
            note = "No call matched; loosen the filters, try another mode, or check the index with `sophia-mcp index`."
        # The index's age: the newest Gong row it holds (its watermark), stale past SOPHIA_STALE_AFTER_HOURS.
        as_of = datetime.fromisoformat(answer.as_of) if answer.as_of else None
        stale = None if as_of is None else datetime.now(timezone.utc) - as_of > self._stale_after
        return SemanticResults(
            question=question, mode=answer.mode, calls=answer.hits, note=note, as_of=as_of, stale=stale
        )
