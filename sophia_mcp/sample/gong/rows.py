"""Sample records turned into the rows destination-postgres would hold after append syncs.

Rows follow `layout.py` column for column: jsonb as JSON text, the four `_airbyte_*` columns,
and, for a share of records, an older version extracted by an earlier sync (append mode keeps it).
Syncs run every six hours, so a record is extracted at the first sync after it changed.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sophia_mcp.gong import layout
from sophia_mcp.sample.gong import vocabulary as words
from sophia_mcp.sample.gong.calls import Call, crm_context, iso
from sophia_mcp.sample.gong.world import World, digits

SYNC_EVERY = timedelta(hours=6)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

Row = tuple[Any, ...]


@dataclass(frozen=True)
class AnsweredScorecardFacts:
    id: str
    call_id: str
    scorecard_name: str
    overall_score: int
    rep_id: str = ""
    reviewed_at: datetime | None = None
    # Question text -> score, the overall question included.
    scores: tuple[tuple[str, int], ...] = ()


def sync_after(rng: random.Random, moment: datetime) -> datetime:
    """When the first sync after `moment` extracts a record (syncs start on the six-hour mark)."""
    boundary = EPOCH + ((moment - EPOCH) // SYNC_EVERY + 1) * SYNC_EVERY
    return boundary + timedelta(seconds=rng.randrange(5, 900))


def last_sync(now: datetime) -> datetime:
    return EPOCH + ((now - EPOCH) // SYNC_EVERY) * SYNC_EVERY


def row(stream: layout.StreamLayout, values: dict[str, Any], rng: random.Random, extracted_at: datetime) -> Row:
    cells = []
    for name, kind in stream.columns:
        value = values.get(name)
        cells.append(json.dumps(value) if kind == "jsonb" and value is not None else value)
    sync_id = (extracted_at - EPOCH) // SYNC_EVERY
    return (
        *cells,
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        extracted_at,
        json.dumps({"changes": [], "sync_id": sync_id}),
        1,
    )


def call_rows(
    rng: random.Random, call: Call, now: datetime, older_version: bool
) -> tuple[dict[str, list[Row]], bool, datetime]:
    """Rows of calls, extensiveCalls and callTranscripts for one call. With `older_version`, and if a
    later sync happened, each also keeps the version an earlier sync saw (calendar title, no AI
    content yet, half a transcript). Also says whether it wrote that older version, and when the
    call was first extracted."""
    facts = call.facts
    first = sync_after(rng, facts.started + timedelta(seconds=facts.duration_s))
    resyncs = min(8, (now - first) // SYNC_EVERY)
    versions = [(first, call.meta, call.content, call.transcript)]
    older_version = older_version and resyncs > 0
    if older_version:
        first_meta = {**call.meta, "title": f"{words.SELLER} / {facts.account_name}", "duration": facts.duration_s + 60}
        first_content = {"topics": call.content["topics"]}
        # The newest version first, so that the physical order of rows cannot decide which one wins.
        versions = [
            (first + SYNC_EVERY * rng.randint(1, resyncs), call.meta, call.content, call.transcript),
            (first, first_meta, first_content, call.transcript[: len(call.transcript) // 2]),
        ]
    rows: dict[str, list[Row]] = {"calls": [], "extensiveCalls": [], "callTranscripts": []}
    for extracted_at, meta, content, transcript in versions:
        rows["calls"].append(row(layout.CALLS, meta, rng, extracted_at))
        rows["extensiveCalls"].append(
            row(
                layout.EXTENSIVE_CALLS,
                {
                    "id": int(facts.id),
                    "startdatetime": facts.started,
                    "metaData": _json_times(meta),
                    "parties": call.parties,
                    "context": crm_context(call.account, call.opportunity, facts.started, extracted_at),
                    "content": content,
                    "interaction": call.interaction,
                    "collaboration": {"publicComments": []},
                    "media": None,
                },
                rng,
                extracted_at,
            )
        )
        if facts.has_transcript:
            rows["callTranscripts"].append(
                row(
                    layout.CALL_TRANSCRIPTS,
                    {"callId": facts.id, "started": facts.started, "transcript": transcript},
                    rng,
                    extracted_at + timedelta(seconds=rng.randrange(1, 60)),
                )
            )
    return rows, older_version, min(extracted_at for extracted_at, *_ in versions)


def answered_scorecard_rows(
    rng: random.Random, call: Call, world: World, older_version: bool
) -> tuple[list[Row], AnsweredScorecardFacts] | None:
    """A manager's review of the call, if it happened before the last sync."""
    template = rng.choice(world.scorecards)
    reviewed_at = call.facts.started + timedelta(days=rng.randint(1, 4), hours=rng.randrange(0, 8))
    if reviewed_at > last_sync(world.now) - 2 * SYNC_EVERY:
        return None
    rep = world.users_by_id[call.facts.rep_id]
    answered_id = digits(rng, 18)

    def answers() -> list[dict[str, Any]]:
        return [
            {
                "questionId": question_id,
                "questionRevisionId": question_id[::-1],
                "isOverall": index == len(template.questions) - 1,
                "score": rng.randint(1, 5),
                "answerText": rng.choice((None, "Good job.", "Needs work on next steps.", "Strong discovery.")),
                "notApplicable": False,
            }
            for index, (question_id, _) in enumerate(template.questions)
        ]

    def values(given: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "answeredScorecardId": answered_id,
            "answers": given,
            "callId": call.facts.id,
            "callStartTime": call.facts.started,
            "reviewTime": reviewed_at,
            "reviewedUserId": rep.id,
            "reviewerUserId": rep.manager_id,
            "scorecardId": template.id,
            "scorecardName": template.name,
            "visibilityType": "PUBLIC",
        }

    final = answers()
    extracted = sync_after(rng, reviewed_at)
    versions = [(extracted, final)]
    if older_version:
        # Scores edited after the first sync saw them: the newest row first, the first review after it.
        versions = [(extracted + SYNC_EVERY, final), (extracted, answers())]
    rows = [row(layout.ANSWERED_SCORECARDS, values(given), rng, at) for at, given in versions]
    texts = dict(template.questions)
    scores = tuple((texts[answer["questionId"]], answer["score"]) for answer in final)
    facts = AnsweredScorecardFacts(
        answered_id, call.facts.id, template.name, final[-1]["score"], rep.id, reviewed_at, scores
    )
    return rows, facts


def user_rows(rng: random.Random, world: World, duplicate_rate: float) -> list[Row]:
    """Users is full refresh only; in append mode each sync adds every user again. Here the last
    sync holds everyone and the sync before it an older title for some."""
    latest = last_sync(world.now)
    rows = []
    for user in world.users:
        values = {
            "id": user.id,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "emailAddress": user.email,
            "emailAliases": [],
            "title": user.title,
            "active": user.active,
            "managerId": user.manager_id,
            "created": user.created,
            "phoneNumber": user.phone,
            "extension": None,
            "personalMeetingUrls": [f"https://zoom.us/my/{user.first_name.lower()}{user.id[-4:]}"],
            "settings": {"webConferencesRecorded": True, "preventWebConferenceRecording": False,
                         "telephonyCallsImported": True, "emailsImported": False},
            "spokenLanguages": [{"language": "en-US", "primary": True}],
            "meetingConsentPageUrl": None,
            "trustedEmailAddress": user.email,
        }
        rows.append(row(layout.USERS, values, rng, latest + timedelta(seconds=rng.randrange(1, 120))))
        if rng.random() < duplicate_rate:
            older = {**values, "title": f"Junior {user.title}", "active": True}
            rows.append(row(layout.USERS, older, rng, latest - SYNC_EVERY + timedelta(seconds=rng.randrange(1, 120))))
    return rows


def scorecard_rows(rng: random.Random, world: World) -> list[Row]:
    """Scorecard templates, full refresh like users: the latest sync and, before it, a draft."""
    latest = last_sync(world.now)
    rows = []
    for template in world.scorecards:
        values = {
            "scorecardId": template.id,
            "scorecardName": template.name,
            "enabled": True,
            "created": template.created,
            "updated": template.updated,
            "updaterUserId": template.updater_id,
            "workspaceId": words.WORKSPACE_ID,
            "questions": [
                {
                    "questionId": question_id,
                    "questionRevisionId": question_id[::-1],
                    "questionText": text,
                    "isOverall": index == len(template.questions) - 1,
                    "created": iso(template.created),
                    "updated": iso(template.updated),
                    "updaterUserId": template.updater_id,
                }
                for index, (question_id, text) in enumerate(template.questions)
            ],
        }
        rows.append(row(layout.SCORECARDS, values, rng, latest + timedelta(seconds=5)))
        draft = {**values, "scorecardName": f"{template.name} (draft)", "enabled": False}
        rows.append(row(layout.SCORECARDS, draft, rng, latest - SYNC_EVERY + timedelta(seconds=5)))
    return rows


def _json_times(meta: dict[str, Any]) -> dict[str, Any]:
    return {key: iso(value) if isinstance(value, datetime) else value for key, value in meta.items()}
