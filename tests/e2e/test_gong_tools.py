"""Every Gong tool and resource through the real server (`sophia-mcp serve`, launched as mcp.json
launches it) and the official MCP client over stdio, checked against the sample generator's manifest.

One stdio session serves most tests (module scope); the partial installation and the short
statement timeout each get their own server process.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from sophia_mcp.sample.gong_data import SampleManifest
from tests.e2e.conftest import error_text, stdio_params, tool_json
from tests.fixtures.postgres import PARTIAL_PREFIX, PARTIAL_SCHEMA, GongSample
from tests.gong.test_readonly_safety import ATTACKS, table_checksums

pytestmark = pytest.mark.anyio

GONG_TOOLS = {
    "gong_search_calls", "gong_get_call", "gong_get_transcript", "gong_list_users",
    "gong_account_activity", "gong_rep_stats", "gong_data_status", "gong_search_transcripts",
    "gong_list_deals", "gong_deal_brief", "gong_tracker_stats", "gong_scorecard_stats", "gong_changes_since",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def gong(gong_sample: GongSample) -> AsyncIterator[Client]:
    """One server process for the module, on the session's sample database."""
    async with Client(stdio_params({"SOPHIA_POSTGRES_URL": gong_sample.url})) as client:
        yield client


@pytest.fixture(scope="module")
def manifest(gong_sample: GongSample) -> SampleManifest:
    return gong_sample.manifest


async def call(client: Client, tool: str, **args) -> dict:
    return tool_json(await client.call_tool(tool, args))


async def all_pages(client: Client, **filters) -> list[dict]:
    calls, cursor = [], None
    while True:
        page = await call(client, "gong_search_calls", limit=100, **filters, **({"cursor": cursor} if cursor else {}))
        calls += page["calls"]
        if not (cursor := page.get("next_cursor")):
            return calls


async def read_json(client: Client, uri: str) -> dict:
    result = await client.read_resource(uri)
    assert result.contents[0].mime_type == "application/json"
    return json.loads(result.contents[0].text)


async def resource_error(client: Client, uri: str) -> str:
    with pytest.raises(MCPError) as raised:
        await client.read_resource(uri)
    return str(raised.value)


def busiest(manifest: SampleManifest, key: str) -> str:
    return Counter(getattr(c, key) for c in manifest.calls.values()).most_common(1)[0][0]


# --- listing -----------------------------------------------------------------------------------


async def test_tools_and_resources_are_listed(gong: Client):
    tools = {t.name: t for t in (await gong.list_tools()).tools}
    assert GONG_TOOLS <= tools.keys()
    for name in GONG_TOOLS:
        assert tools[name].annotations.read_only_hint is True and tools[name].annotations.destructive_hint is False
        assert tools[name].output_schema is not None and "null" not in json.dumps(tools[name].output_schema)
        assert tools[name].description and "\n" not in tools[name].description
    templates = {t.uri_template for t in (await gong.list_resource_templates()).resource_templates}
    assert {
        "gong://calls/{call_id}", "gong://calls/{call_id}/transcript", "gong://users/{user_id}", "sophia://schema{?cached}",
    } <= templates


# --- search -----------------------------------------------------------------------------------


async def test_every_call_once_newest_first_latest_version_and_never_a_private_one(gong: Client, manifest):
    calls = await all_pages(gong)
    ids = [c["id"] for c in calls]
    assert len(ids) == len(set(ids)) == len(manifest.calls)
    assert set(ids) == set(manifest.calls)
    assert not set(manifest.private_call_ids) & set(ids)
    assert [(c["started"], c["id"]) for c in calls] == sorted(((c["started"], c["id"]) for c in calls), reverse=True)
    older = [c for c in calls if manifest.calls[c["id"]].has_older_version]
    assert older and all(c["title"] == manifest.calls[c["id"]].title for c in older)
    assert all(c["duration_s"] == manifest.calls[c["id"]].duration_s for c in older)


async def test_search_by_rep_pages_with_a_cursor_newest_first(gong: Client, manifest):
    rep = manifest.users[busiest(manifest, "rep_id")]
    expected = sorted(
        (c for c in manifest.calls.values() if c.rep_id == rep.id), key=lambda c: (c.started, c.id), reverse=True
    )
    seen, cursor = [], None
    while True:
        page = await call(gong, "gong_search_calls", rep=rep.id, limit=17, **({"cursor": cursor} if cursor else {}))
        assert len(page["calls"]) <= 17
        seen += page["calls"]
        if not (cursor := page.get("next_cursor")):
            break
    assert [c["id"] for c in seen] == [c.id for c in expected]
    assert all(c["rep"] == rep.name and c["rep_id"] == rep.id for c in seen)
    assert all(c["account_id"] == manifest.calls[c["id"]].account_id for c in seen)
    by_email = await all_pages(gong, rep=rep.email.upper())
    assert [c["id"] for c in by_email] == [c.id for c in expected]


async def test_search_by_dates_rep_account_and_direction(gong: Client, manifest):
    rep_id = busiest(manifest, "rep_id")
    until = manifest.now - timedelta(days=10)
    since = until - timedelta(days=60)
    found = await all_pages(gong, rep=rep_id, since=since.isoformat(), until=until.isoformat())
    expected = {c.id for c in manifest.calls.values() if c.rep_id == rep_id and since <= c.started < until}
    assert expected and {c["id"] for c in found} == expected

    account = manifest.accounts[busiest(manifest, "account_id")]
    found = await all_pages(gong, account=account.id, direction="Conference")
    expected = {c.id for c in manifest.calls.values() if c.account_id == account.id and c.direction == "Conference"}
    assert expected and {c["id"] for c in found} == expected
    assert {c["account"] for c in found} == {account.name}


# --- one call ----------------------------------------------------------------------------------


async def test_get_call_parties_account_opportunity_and_latest_version(gong: Client, manifest):
    facts = next(c for c in manifest.calls.values() if c.has_older_version)
    detail = await call(gong, "gong_get_call", call_id=facts.id)
    rep = manifest.users[facts.rep_id]
    assert (detail["id"], detail["title"], detail["duration_s"]) == (facts.id, facts.title, facts.duration_s)
    assert detail["direction"] == facts.direction and detail["rep"]["name"] == rep.name
    assert detail["account"] == {
        "id": facts.account_id, "name": facts.account_name, **{
            k: v for k, v in detail["account"].items() if k in ("industry", "website")
        },
    }
    opportunity = next(o for o in detail["opportunities"] if o["id"] == facts.opportunity_id)
    assert opportunity["stage_at_call"] == facts.stage_at_call
    party_names = {p["name"] for p in detail["parties"]}
    assert set(facts.speakers.values()) <= party_names and rep.name in party_names
    assert detail["brief"] and detail["topics"] and detail["stats"]["talk_ratio"] == facts.talk_ratio
    assert "unavailable" not in detail


async def test_get_call_scorecards_and_outline_budget(gong: Client, manifest):
    call_id, reviews = next(iter(manifest.scorecards_by_call.items()))
    detail = await call(gong, "gong_get_call", call_id=call_id, outline_chars=0)
    assert {s["id"] for s in detail["scorecards"]} == {r.id for r in reviews}
    assert [s["overall"] for s in detail["scorecards"]] == [r.overall_score for r in reviews]
    assert "outline" not in detail and "outline_chars=" in detail["outline_more"]


async def test_private_missing_and_malformed_call_ids_are_clear_errors(gong: Client, manifest):
    for call_id in (manifest.private_call_ids[0], "1234567890123456789"):
        assert "No call with id" in error_text(await gong.call_tool("gong_get_call", {"call_id": call_id}))
        assert "No transcript" in error_text(await gong.call_tool("gong_get_transcript", {"call_id": call_id}))
    assert "numeric Gong id" in error_text(await gong.call_tool("gong_get_call", {"call_id": "abc"}))


# --- transcripts --------------------------------------------------------------------------------


async def test_transcript_pages_with_names_from_the_parties_and_the_latest_version(gong: Client, manifest, gong_sample):
    facts = max(
        (c for c in manifest.calls.values() if c.has_transcript and c.has_older_version and len(c.speakers) >= 3),
        key=lambda c: c.duration_s,
    )
    turns, cursor, pages = [], None, 0
    while True:
        page = await call(gong, "gong_get_transcript", call_id=facts.id, max_chars=500, **({"cursor": cursor} if cursor else {}))
        turns += page["turns"]
        pages += 1
        if not (cursor := page.get("next_cursor")):
            break
    assert pages > 1
    speakers = {t["speaker"] for t in turns}
    assert set(facts.speakers.values()) <= speakers
    assert speakers - set(facts.speakers.values()) <= {s for s in speakers if s.startswith("unknown speaker")}
    assert turns[0]["speaker"] == manifest.users[facts.rep_id].name
    connection = await asyncpg.connect(gong_sample.url)
    try:
        lengths = await connection.fetch(
            'SELECT jsonb_array_length(transcript) AS n FROM "callTranscripts" WHERE "callId" = $1 '
            "ORDER BY _airbyte_extracted_at DESC",
            facts.id,
        )
    finally:
        await connection.close()
    assert len(lengths) == 2 and lengths[0]["n"] > lengths[1]["n"]  # the older sync saw half of it
    assert page["turns_total"] == lengths[0]["n"]


# --- users, accounts, reps, status ------------------------------------------------------------------


async def test_list_users_by_name_and_activity(gong: Client, manifest):
    user = next(u for u in manifest.users.values() if u.active)
    found = await call(gong, "gong_list_users", query=user.email.split("@")[0])
    assert [u["id"] for u in found["users"]] == [user.id]
    assert found["users"][0]["title"] == user.title
    inactive = {u.id for u in manifest.users.values() if not u.active}
    assert {u["id"] for u in (await call(gong, "gong_list_users", active=False, limit=200))["users"]} == inactive


async def test_account_activity_calls_people_and_stages(gong: Client, manifest):
    account = manifest.accounts[busiest(manifest, "account_id")]
    mine = sorted((c for c in manifest.calls.values() if c.account_id == account.id), key=lambda c: (c.started, c.id))
    activity = await call(gong, "gong_account_activity", account=account.name, limit=5)
    assert activity["account"]["id"] == account.id and activity["calls_total"] == len(mine)
    assert [c["id"] for c in activity["calls"]] == [c.id for c in reversed(mine[-5:])]
    assert activity["people"][0]["affiliation"] == "External"
    for history in activity["opportunities"]:
        expected: list[str] = []
        for facts in mine:
            if facts.opportunity_id == history["id"] and (not expected or expected[-1] != facts.stage_at_call):
                expected.append(facts.stage_at_call)
        assert [s["stage"] for s in history["stages"]] == expected
    assert "No account matches" in error_text(await gong.call_tool("gong_account_activity", {"account": "No Such Co"}))


async def test_rep_stats_agree_with_the_calls(gong: Client, manifest):
    since, until = manifest.now - timedelta(days=45), manifest.now
    stats = await call(gong, "gong_rep_stats", since=since.isoformat(), until=until.isoformat(), limit=500)
    in_period = [c for c in manifest.calls.values() if since <= c.started < until]
    assert sum(r["calls"] for r in stats["reps"]) == len(in_period)
    for rep in stats["reps"][:3]:
        mine = [c for c in in_period if c.rep_id == rep["rep_id"]]
        assert rep["rep"] == manifest.users[rep["rep_id"]].name and rep["calls"] == len(mine)
        assert rep["minutes"] == round(sum(c.duration_s for c in mine) / 60, 1)
        assert rep["talk_ratio"] == round(sum(c.talk_ratio for c in mine) / len(mine), 2)
        assert rep["longest_monologue_s"] == max(c.longest_monologue_s for c in mine)


async def test_data_status_reports_every_stream(gong: Client, manifest):
    status = await call(gong, "gong_data_status")
    streams = {s["stream"]: s for s in status["streams"]}
    assert {name: s["rows"] for name, s in streams.items()} == manifest.rows
    assert streams["calls"]["records"] == len(manifest.calls)
    assert streams["users"]["fresh"] is True and all(s["found"] for s in streams.values())


async def test_every_gong_answer_says_how_old_its_data_is(gong: Client, manifest):
    newest = max(manifest.last_extracted.values())
    facts = next(c for c in manifest.calls.values() if c.has_transcript)
    answers = [
        await call(gong, "gong_search_calls", limit=1),
        await call(gong, "gong_get_call", call_id=facts.id),
        await call(gong, "gong_get_transcript", call_id=facts.id),
        await call(gong, "gong_list_users", limit=1),
        await call(gong, "gong_account_activity", account=facts.account_id),
        await call(gong, "gong_rep_stats"),
        await call(gong, "gong_data_status"),
        await call(gong, "gong_search_transcripts", phrase="BW-4471"),
        await call(gong, "gong_list_deals", limit=1),
        await call(gong, "gong_deal_brief", opportunity=facts.opportunity_id),
        await call(gong, "gong_tracker_stats", by="month"),
        await call(gong, "gong_scorecard_stats"),
        await call(gong, "gong_changes_since"),
    ]
    for answer in answers:
        as_of = datetime.fromisoformat(answer["as_of"].replace("Z", "+00:00"))
        assert as_of <= newest and newest - as_of < timedelta(days=2), answer["as_of"]
        assert answer["stale"] is False


async def test_search_transcripts_finds_the_phrase_with_speaker_and_offset(gong: Client, manifest):
    from sophia_mcp.sample.gong.vocabulary import PHRASES_TO_FIND

    sentence = PHRASES_TO_FIND[1]
    expected = {c.id for c in manifest.calls.values() if sentence in c.said and c.has_transcript}
    found, cursor = [], None
    while True:
        page = await call(gong, "gong_search_transcripts", phrase="zurich", limit=50, **({"cursor": cursor} if cursor else {}))
        found += page["calls"]
        if not (cursor := page.get("next_cursor")):
            break
    assert {c["call_id"] for c in found} == expected
    assert all(c["said"][0]["speaker"] in manifest.calls[c["call_id"]].speakers.values() for c in found)
    text = error_text(await gong.call_tool("gong_search_transcripts", {"phrase": "  ...  "}))
    assert "no letters or digits" in text
    empty = error_text(await gong.call_tool("gong_search_transcripts", {"phrase": ""}))
    assert "phrase" in empty and ("empty" in empty or "at least 1" in empty)


async def test_deals_at_risk_and_one_deal_brief_over_stdio(gong: Client, manifest):
    from tests.gong.test_deals import expected_deals

    expected = expected_deals(manifest)
    regressed = await call(gong, "gong_list_deals", flag="stage_regressed", limit=100)
    assert {d["id"] for d in regressed["deals"]} == {i for i, f in expected.items() if "stage_regressed" in f["flags"]}
    brief = await call(gong, "gong_deal_brief", opportunity=regressed["deals"][0]["id"])
    assert brief["deal"]["id"] == regressed["deals"][0]["id"]
    assert any(r["flag"] == "stage_regressed" and "call " in r["evidence"] for r in brief["risks"])
    assert "matches several deals" in error_text(await gong.call_tool("gong_deal_brief", {"opportunity": "2026"}))
    unknown = error_text(await gong.call_tool("gong_deal_brief", {"opportunity": "no-such-deal-zz"}))
    assert "No deal has" in unknown and "gong_list_deals" in unknown
    assert "loosen" in (await call(gong, "gong_list_deals", stage="nope"))["note"]


async def test_trackers_scorecards_and_changes_over_stdio(gong: Client, manifest):
    stats = await call(gong, "gong_tracker_stats", by="account")
    top = stats["trackers"][0]
    fired = {c.id for c in manifest.calls.values() if any(name == top["tracker"] for name, _ in c.trackers)}
    assert top["calls"] == len(fired)
    calls = await all_pages(gong, tracker=top["tracker"].lower())
    assert {c["id"] for c in calls} == fired
    assert "Trackers that did" in error_text(await gong.call_tool("gong_tracker_stats", {"tracker": "nope"}))
    reviews = sum(len(r) for r in manifest.scorecards_by_call.values())
    assert (await call(gong, "gong_scorecard_stats"))["reviewed"] == reviews
    since = manifest.now - timedelta(days=2)
    changes = await call(gong, "gong_changes_since", since=since.isoformat())
    assert changes["new_calls"] == sum(c.first_extracted >= since for c in manifest.calls.values())
    backwards = await gong.call_tool("gong_scorecard_stats", {"since": "2026-02-01", "until": "2026-01-01"})
    assert "since must be before until" in error_text(backwards)


# --- resources ------------------------------------------------------------------------------------


async def test_call_resource_is_the_get_call_json(gong: Client, manifest):
    facts = next(iter(manifest.calls.values()))
    assert await read_json(gong, f"gong://calls/{facts.id}") == await call(gong, "gong_get_call", call_id=facts.id)


async def test_transcript_resource_holds_the_whole_of_a_usual_transcript(gong: Client, manifest):
    # Sample transcripts are a few thousand characters: the resource's budget holds all of one
    # (tests/gong/test_resources.py covers one too long for it).
    facts = max((c for c in manifest.calls.values() if c.has_transcript), key=lambda c: c.duration_s)
    body = await read_json(gong, f"gong://calls/{facts.id}/transcript")
    assert body["call_id"] == facts.id and len(body["turns"]) == body["turns_total"]
    assert "next_cursor" not in body and "more" not in body
    assert set(facts.speakers.values()) <= {t["speaker"] for t in body["turns"]}
    paged = await call(gong, "gong_get_transcript", call_id=facts.id, max_chars=30000)
    assert paged["turns"] == body["turns"]


async def test_user_resource(gong: Client, manifest):
    user = next(u for u in manifest.users.values() if u.manager_id)
    body = await read_json(gong, f"gong://users/{user.id}")
    assert (body["id"], body["name"], body["email"], body["title"], body["active"]) == (
        user.id, user.name, user.email, user.title, user.active,
    )
    assert body["manager_id"] == user.manager_id and body["manager"] == manifest.users[user.manager_id].name


async def test_schema_resource_shows_tables_columns_and_mapping(gong: Client):
    schema = await read_json(gong, "sophia://schema")
    streams = {s["stream"]: s for s in schema["streams"]}
    assert schema["schema_name"] == "public" and set(streams) == {
        "users", "calls", "extensiveCalls", "scorecards", "answeredScorecards", "callTranscripts",
    }
    assert streams["extensiveCalls"]["table"] == "public.extensiveCalls" and streams["extensiveCalls"]["key"] == "id"
    assert streams["extensiveCalls"]["columns"]["id"] == "bigint" and streams["calls"]["columns"]["id"] == "character varying"
    assert all(s["found"] and s["used_by"] for s in streams.values())
    assert any("_airbyte_extracted_at" in rule for rule in schema["rules"])
    assert await read_json(gong, "sophia://schema?cached=true") == schema


async def test_resource_errors_are_clear(gong: Client, manifest):
    assert "No call with id" in await resource_error(gong, f"gong://calls/{manifest.private_call_ids[0]}")
    assert "No transcript" in await resource_error(gong, "gong://calls/1234567890123456789/transcript")
    assert "No Gong user with id" in await resource_error(gong, "gong://users/1234567890")
    assert "numeric Gong id" in await resource_error(gong, "gong://users/bob")


# --- read-only safety -------------------------------------------------------------------------------

TEXT_ARGUMENTS = {
    "gong_search_calls": ("text", "rep", "account", "opportunity", "tracker", "cursor"),
    "gong_search_transcripts": ("phrase", "rep", "account", "cursor"),
    "gong_list_deals": ("stage", "owner", "account", "cursor"),
    "gong_deal_brief": ("opportunity",),
    "gong_tracker_stats": ("tracker",),
    "gong_scorecard_stats": ("scorecard", "rep"),
    "gong_get_call": ("call_id",),
    "gong_get_transcript": ("call_id", "cursor"),
    "gong_list_users": ("query", "cursor"),
    "gong_account_activity": ("account",),
    "gong_rep_stats": ("rep",),
}
# Arguments a tool needs besides the one under attack.
REQUIRED = {"gong_search_transcripts": {"phrase": "pricing"}}
# A lone surrogate cannot be sent as UTF-8 JSON at all; the repository tests cover it.
WIRE_ATTACKS = [a for a in ATTACKS if a != "\ud800"]


async def test_injection_strings_in_every_text_argument_change_nothing(gong: Client, manifest, gong_sample):
    before = await table_checksums(gong_sample.url)
    transcript_call = next(c.id for c in manifest.calls.values() if c.has_transcript)
    outcomes: Counter[str] = Counter()
    for tool, names in TEXT_ARGUMENTS.items():
        for name in names:
            for attack in WIRE_ATTACKS:
                args = {**REQUIRED.get(tool, {}), name: attack}
                if tool == "gong_get_transcript" and name == "cursor":
                    args["call_id"] = transcript_call
                started = time.monotonic()
                result = await gong.call_tool(tool, args)
                assert time.monotonic() - started < 3, "no caller text may make a query sleep"
                text = result.content[0].text
                if result.is_error:
                    outcomes["error"] += 1
                    # A crash would read just "Error executing tool <name>", with no reason.
                    assert text.strip() != f"Error executing tool {tool}", (tool, name, attack)
                    assert len(text) < 2000 and "Traceback" not in text, (tool, name, attack, text)
                else:
                    outcomes["ok"] += 1
                    # gong_search_transcripts echoes the phrase it looked for; nothing else may carry the text.
                    answer = json.dumps({k: v for k, v in json.loads(text).items() if k != "phrase"})
                    assert "pg_read_file" not in answer and "root:" not in answer
    assert outcomes["ok"] and outcomes["error"]
    for uri in ("gong://calls/1%3B%20DROP%20TABLE%20calls", "gong://users/%27%20OR%20%271%27%3D%271"):
        await resource_error(gong, uri)
    assert await table_checksums(gong_sample.url) == before
    assert (await call(gong, "gong_search_calls", limit=1))["calls"], "still serving"


# --- other installations ----------------------------------------------------------------------------


async def test_a_missing_stream_disables_only_what_needs_it(partial_gong: GongSample):
    manifest = partial_gong.manifest
    facts = next(iter(manifest.calls.values()))
    env = {
        "SOPHIA_POSTGRES_URL": partial_gong.url,
        "SOPHIA_GONG_SCHEMA": PARTIAL_SCHEMA,
        "SOPHIA_GONG_TABLE_PREFIX": PARTIAL_PREFIX,
    }
    async with Client(stdio_params(env)) as client:
        found = await call(client, "gong_search_calls", rep=facts.rep_id, limit=100)
        assert facts.id in {c["id"] for c in found["calls"]}
        detail = await call(client, "gong_get_call", call_id=facts.id)
        assert detail["title"] == facts.title and "parties" not in detail
        assert any("extensiveCalls" in note for note in detail["unavailable"])
        assert await call(client, "gong_list_users", query=manifest.users[facts.rep_id].email)
        assert (await read_json(client, f"gong://users/{facts.rep_id}"))["id"] == facts.rep_id

        for tool, args, stream in (
            ("gong_get_transcript", {"call_id": facts.id}, "callTranscripts"),
            ("gong_account_activity", {"account": facts.account_id}, "extensiveCalls"),
            ("gong_rep_stats", {}, "extensiveCalls"),
            ("gong_search_calls", {"account": "Acme"}, "extensiveCalls"),
        ):
            text = error_text(await client.call_tool(tool, args))
            assert f'Enable the "{stream}" stream in the Airbyte connection' in text, (tool, text)
        text = await resource_error(client, f"gong://calls/{facts.id}/transcript")
        assert 'Enable the "callTranscripts" stream' in text

        status = {s["stream"]: s for s in (await call(client, "gong_data_status"))["streams"]}
        assert status["calls"]["found"] and status["calls"]["table"] == f"{PARTIAL_SCHEMA}.{PARTIAL_PREFIX}calls"
        assert not status["extensiveCalls"]["found"] and 'Enable the "extensiveCalls" stream' in status["extensiveCalls"]["hint"]
        schema = {s["stream"]: s for s in (await read_json(client, "sophia://schema"))["streams"]}
        assert schema["calls"]["found"] and not schema["callTranscripts"]["found"]
        assert "gong_get_transcript" in schema["callTranscripts"]["used_by"]


async def test_gong_tools_without_a_database_say_what_to_set():
    async with Client(stdio_params({})) as client:
        assert "SOPHIA_POSTGRES_URL" in error_text(await client.call_tool("gong_search_calls", {}))
        assert "SOPHIA_POSTGRES_URL" in await resource_error(client, "sophia://schema")


async def test_a_query_past_the_statement_timeout_is_a_clear_error_and_the_next_call_works(gong_sample: GongSample):
    facts = next(iter(gong_sample.manifest.calls.values()))
    env = {"SOPHIA_POSTGRES_URL": gong_sample.url, "SOPHIA_POSTGRES_STATEMENT_TIMEOUT_MS": "300"}
    async with Client(stdio_params(env)) as client:
        await call(client, "gong_get_call", call_id=facts.id)  # tables discovered, pool open
        admin = await asyncpg.connect(gong_sample.url)
        try:
            # What an Airbyte sync swapping the table does: an exclusive lock that reads wait behind.
            transaction = admin.transaction()
            await transaction.start()
            await admin.execute('LOCK TABLE "calls" IN ACCESS EXCLUSIVE MODE')
            started = time.monotonic()
            text = error_text(await client.call_tool("gong_get_call", {"call_id": facts.id}))
            assert "longer than 0.3 s" in text and "cancelled" in text
            assert time.monotonic() - started < 3
            await transaction.rollback()
        finally:
            await admin.close()
        assert (await call(client, "gong_get_call", call_id=facts.id))["id"] == facts.id
