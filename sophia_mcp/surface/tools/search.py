"""gong_semantic_search: Gong conversations by meaning, from the Qdrant collection (read-only)."""

from datetime import date, datetime, time, timezone
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from sophia_mcp.surface.context import AppContext, app_context
from sophia_mcp.search.store import SearchFilters, SemanticHit
from sophia_mcp.surface.tools.gong import Account, Rep, Since, Until
from sophia_mcp.surface.tools.shaping import add_tools, compact, tool_errors


class SemanticResults(BaseModel):
    question: str
    calls: list[SemanticHit] = Field(description="Best call first; one passage per call.")
    note: str | None = None


def _moment(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


async def _rep_user_id(app: AppContext, rep: str | None) -> str | None:
    """A Gong user id as given, or the one user whose name or email matches."""
    if rep is None or not rep.strip() or rep.strip().isdigit():
        return rep.strip() if rep and rep.strip() else None
    if app.settings.postgres.url is None:
        raise ToolError("Give `rep` as a Gong user id: names need SOPHIA_POSTGRES_URL to be looked up.")
    users = (await app.gong.list_users(rep, limit=5)).users
    if len(users) != 1:
        found = ", ".join(f"{u.name} ({u.id})" for u in users) or "nobody"
        raise ToolError(f"`rep` {rep!r} matches {found}; pass one user id (gong_list_users finds them).")
    return users[0].id


@tool_errors
async def gong_semantic_search(
    ctx: Context,
    question: Annotated[str, Field(min_length=2, max_length=1000, description="What to look for, in plain words.")],
    since: Since = None,
    until: Until = None,
    rep: Rep = None,
    account: Account = None,
    limit: Annotated[int, Field(ge=1, le=20, description="How many calls.")] = 5,
) -> Annotated[CallToolResult, SemanticResults]:
    """Search Gong call content and transcripts by meaning ("they balked at the price" finds pricing
    objections). Filters as in gong_search_calls. Returns the best calls, each with its best passage,
    speaker, offset and score; call ids work with gong_get_call and gong_get_transcript."""
    app = app_context(ctx)
    account = account.strip() if account else None
    filters = SearchFilters(
        started_from=_moment(since),
        started_to=_moment(until),
        rep_user_id=await _rep_user_id(app, rep),
        account_id=account if account and account.isdigit() else None,
        account_name=account if account and not account.isdigit() else None,
    )
    store = await app.search()
    hits = await store.search(question.strip(), filters, limit=limit)
    note = None if hits else "No call matched; loosen the filters, or check the index with `sophia-mcp index`."
    return compact(SemanticResults(question=question.strip(), calls=hits, note=note))


def register(server: MCPServer[AppContext]) -> None:
    add_tools(
        server,
        (gong_semantic_search,),
        ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False),
    )
