"""gong_semantic_search: Gong conversations by meaning and by exact words, from Qdrant (read-only)."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from sophia_mcp.search.model import SearchMode, SemanticResults
from sophia_mcp.surface.context import app_context
from sophia_mcp.surface.tools.gong import Account, Rep, Since, Until
from sophia_mcp.surface.tools.shaping import compact, tool_errors


@tool_errors
async def gong_semantic_search(
    ctx: Context,
    question: Annotated[str, Field(min_length=2, max_length=1000, description="What to look for, in plain words.")],
    since: Since = None,
    until: Until = None,
    rep: Rep = None,
    account: Account = None,
    mode: Annotated[
        Literal["hybrid", "semantic", "keyword"],
        Field(
            description="hybrid (default): meaning and exact words fused; semantic: meaning only; "
            "keyword: exact words, names and codes only."
        ),
    ] = "hybrid",
    limit: Annotated[int, Field(ge=1, le=20, description="How many calls.")] = 5,
) -> Annotated[CallToolResult, SemanticResults]:
    """Search Gong call content and transcripts by meaning ("they balked at the price" finds pricing
    objections) and by exact names and codes. Filters as in gong_search_calls. Returns the best calls,
    each with its best passage, speaker, offset and score; call ids work with gong_get_call and
    gong_get_transcript."""
    search = await app_context(ctx).search()
    results = await search.ask(question, since=since, until=until, rep=rep, account=account, mode=SearchMode(mode), limit=limit)
    return compact(results)
