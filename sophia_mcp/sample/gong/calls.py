"""One sample call, as Gong's API describes it: metadata, parties, a timed transcript, and the
content and interaction stats Gong derives from it (so the stats agree with the transcript)."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sophia_mcp.sample.gong import vocabulary as words
from sophia_mcp.sample.gong.world import Account, Contact, Opportunity, User, World, aside, digits

# How fast people speak in the generated transcripts, before timings are stretched to the call.
MS_PER_CHARACTER = 65
# A share of transcripts holds one speaker id the parties do not list (Gong could not match them).
UNKNOWN_SPEAKER_SHARE = 0.03


@dataclass(frozen=True)
class CallFacts:
    """What a test may assert about one call that the generator wrote (its latest version)."""

    id: str
    title: str
    started: datetime
    duration_s: int
    direction: str
    rep_id: str
    account_id: str
    account_name: str
    opportunity_id: str
    stage_at_call: str
    themes: tuple[str, ...]
    # speakerId -> the party's name, for the speakers that talk in the transcript.
    speakers: dict[str, str]
    talk_ratio: float
    longest_monologue_s: int
    company_questions: int
    has_transcript: bool
    has_older_version: bool
    # Emails of the customer-side parties (invited or speaking).
    customer_emails: tuple[str, ...] = ()
    # Sentences from PHRASES_TO_FIND said in the call, and the trackers that fired (name -> count).
    said: tuple[str, ...] = ()
    trackers: tuple[tuple[str, int], ...] = ()
    # When a sync first extracted the call (an older version, if one was written).
    first_extracted: datetime | None = None


@dataclass
class Call:
    facts: CallFacts
    account: Account
    opportunity: Opportunity
    meta: dict[str, Any]  # the `calls` record, also extensiveCalls' metaData
    parties: list[dict[str, Any]]
    content: dict[str, Any]
    interaction: dict[str, Any]
    transcript: list[dict[str, Any]]


@dataclass
class _Speaker:
    party: dict[str, Any]
    internal: bool


@dataclass
class _Turn:
    speaker: _Speaker
    topic: str
    sentences: list[str]
    theme: str | None = None
    # (start ms, end ms) per sentence, filled in by _time().
    times: list[tuple[int, int]] | None = None


def new_call(rng: random.Random, world: World, call_id: str) -> Call:
    account = rng.choices(world.accounts, weights=world.account_weights)[0]
    started = _start_time(rng, world)
    opportunity = account.opportunity_at(started)
    stage = opportunity.stage_at(started)
    rep = _rep_for(rng, world, account)
    direction = rng.choices(("Conference", "Outbound", "Inbound"), weights=(75, 18, 7))[0]
    conference = direction == "Conference"
    duration = rng.randrange(900, 3600) if conference else rng.randrange(120, 900)
    themes = tuple(t.key for t in rng.sample(words.THEMES, rng.randint(1, 3) if conference else 1))
    fill = _fill(rng)

    speakers = _speakers(rng, world, account, rep, conference)
    turns = _script(rng, speakers, themes, fill)
    if rng.random() < UNKNOWN_SPEAKER_SHARE:
        stranger = _Speaker({"speakerId": digits(rng, 19)}, internal=False)
        turns.insert(len(turns) // 2, _Turn(stranger, "Small Talk", [rng.choice(words.CUSTOMER_ACKS)]))
    _time(rng, turns, duration)
    said = _plant_phrase(aside(call_id), turns)
    if account.single_threaded:
        _one_contact(speakers, account.contacts[0])

    title = f"{account.name} <> {words.SELLER} | {_title_phrase(rng, themes, stage)}"
    meta = _meta(rng, call_id, title, started, duration, rep, direction)
    interaction, stats = _interaction(turns, speakers, duration)
    content = _content(rng, turns, themes, fill, account, rep, stage)
    named = {s.party["speakerId"]: s.party["name"] for s in speakers if s.party.get("speakerId")}
    spoken = {turn.speaker.party["speakerId"] for turn in turns}
    facts = CallFacts(
        id=call_id,
        title=title,
        started=started,
        duration_s=duration,
        direction=direction,
        rep_id=rep.id,
        account_id=account.id,
        account_name=account.name,
        opportunity_id=opportunity.id,
        stage_at_call=stage,
        themes=themes,
        speakers={sid: name for sid, name in named.items() if sid in spoken},
        talk_ratio=stats["Talk Ratio"],
        longest_monologue_s=int(stats["Longest Monologue"]),
        company_questions=interaction["questions"]["companyCount"],
        has_transcript=rng.random() > 0.04,
        has_older_version=False,
        customer_emails=tuple(s.party["emailAddress"] for s in speakers if not s.internal),
        said=said,
        trackers=tuple((t["name"], t["count"]) for t in content["trackers"]),
    )
    transcript = [
        {
            "speakerId": turn.speaker.party["speakerId"],
            "topic": turn.topic,
            "sentences": [
                {"start": start, "end": end, "text": text}
                for text, (start, end) in zip(turn.sentences, turn.times or [], strict=True)
            ],
        }
        for turn in turns
    ]
    return Call(facts, account, opportunity, meta, [s.party for s in speakers], content, interaction, transcript)


def _plant_phrase(rng: random.Random, turns: list[_Turn]) -> tuple[str, ...]:
    """Now and then the customer's small talk is one of the rare phrases tests search for."""
    if rng.random() >= words.PHRASE_SHARE:
        return ()
    said = rng.choice(words.PHRASES_TO_FIND)
    turns[1].sentences[0] = said
    return (said,)


def _one_contact(speakers: list[_Speaker], contact: Contact) -> None:
    """A single-threaded account: every customer-side party on the call is its one contact."""
    for speaker in speakers:
        if not speaker.internal:
            speaker.party.update(
                name=contact.name,
                emailAddress=contact.email,
                title=contact.title,
                phoneNumber=contact.phone,
                context=[{"system": "Salesforce", "objects": [{"objectType": "Contact", "objectId": contact.crm_id}]}],
            )


def crm_context(account: Account, opportunity: Opportunity, at_call: datetime, now: datetime) -> list[dict[str, Any]]:
    """The `context` Gong returns with contextTiming [Now, TimeOfCall]: each CRM object twice."""
    objects = []
    for timing, moment in (("Now", now), ("TimeOfCall", at_call)):
        stage = opportunity.stage_at(moment)
        objects.append(
            {
                "objectType": "Account",
                "objectId": account.id,
                "timing": timing,
                "fields": [
                    {"name": "Name", "value": account.name},
                    {"name": "Website", "value": f"https://www.{account.domain}"},
                    {"name": "Industry", "value": account.industry},
                ],
            }
        )
        objects.append(
            {
                "objectType": "Opportunity",
                "objectId": opportunity.id,
                "timing": timing,
                "fields": [
                    {"name": "Name", "value": opportunity.name},
                    {"name": "StageName", "value": stage},
                    {"name": "Amount", "value": opportunity.amount},
                    {"name": "CloseDate", "value": opportunity.close_date.isoformat()},
                    {"name": "Probability", "value": words.STAGE_PROBABILITY[stage]},
                    {"name": "Type", "value": opportunity.type},
                    {"name": "LeadSource", "value": opportunity.lead_source},
                ],
            }
        )
    return [{"system": "Salesforce", "objects": objects}]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start_time(rng: random.Random, world: World) -> datetime:
    # Business hours in the Americas, mostly on weekdays, and synced at least once before `now`.
    day = world.first_day + timedelta(days=rng.randrange(0, max((world.now - world.first_day).days, 1)))
    start = day.replace(hour=rng.randrange(13, 23), minute=rng.choice((0, 0, 15, 30, 45)), second=0, microsecond=0)
    start += timedelta(seconds=rng.randrange(0, 240))
    if start.weekday() >= 5 and rng.random() < 0.8:
        start -= timedelta(days=start.weekday() - 4)
    while start > world.now - timedelta(hours=9):
        start -= timedelta(days=1)
    return start


def _rep_for(rng: random.Random, world: World, account: Account) -> User:
    if rng.random() < 0.8:
        return world.users_by_id[account.owner_id]
    return rng.choice(world.reps)


def _fill(rng: random.Random) -> dict[str, str]:
    return {
        "competitor": rng.choice(words.COMPETITORS),
        "system": rng.choice(words.SYSTEMS),
        "idp": rng.choice(words.IDENTITY_PROVIDERS),
        "amount": f"${rng.randrange(20, 400) * 1000:,}",
        "pct": str(rng.randrange(10, 45)),
        "quarter": rng.choice(words.QUARTERS),
        "seats": str(rng.randrange(20, 900)),
    }


def _party(rng: random.Random, name: str, email: str, title: str, *, user_id: str | None, speaks: bool) -> dict[str, Any]:
    party: dict[str, Any] = {
        "id": digits(rng, 16),
        "emailAddress": email,
        "name": name,
        "title": title,
        "affiliation": "Internal" if user_id else "External",
        "methods": ["Invitee", "Attendee"] if speaks else ["Invitee"],
    }
    if user_id:
        party["userId"] = user_id
    if speaks:
        party["speakerId"] = digits(rng, 19)
    return party


def _speakers(rng: random.Random, world: World, account: Account, rep: User, conference: bool) -> list[_Speaker]:
    speakers = [_Speaker(_party(rng, rep.name, rep.email, rep.title, user_id=rep.id, speaks=True), True)]
    if conference and rng.random() < 0.35:
        helper = rng.choice(world.support)
        speakers.append(_Speaker(_party(rng, helper.name, helper.email, helper.title, user_id=helper.id, speaks=True), True))
    guests = rng.sample(account.contacts, min(len(account.contacts), rng.randint(1, 3) if conference else 1))
    for contact in guests:
        party = _party(rng, contact.name, contact.email, contact.title, user_id=None, speaks=True)
        party["phoneNumber"] = contact.phone
        party["context"] = [{"system": "Salesforce", "objects": [{"objectType": "Contact", "objectId": contact.crm_id}]}]
        speakers.append(_Speaker(party, False))
    if conference and rng.random() < 0.2:
        # Invited, never joined: a party with no speakerId.
        absent = rng.choice(account.contacts)
        speakers.append(_Speaker(_party(rng, absent.name, absent.email, absent.title, user_id=None, speaks=False), False))
    return speakers


def _script(rng: random.Random, speakers: list[_Speaker], themes: tuple[str, ...], fill: dict[str, str]) -> list[_Turn]:
    rep = speakers[0]
    internal = [s for s in speakers if s.internal]
    guests = [s for s in speakers if not s.internal and "speakerId" in s.party]

    def say(lines: tuple[str, ...], count: int = 1) -> list[str]:
        return [line.format(**fill) for line in rng.sample(lines, min(count, len(lines)))]

    turns = [
        _Turn(rep, "Call Setup", say(words.OPENING_LINES) + say(words.AGENDA_LINES)),
        _Turn(rng.choice(guests), "Small Talk", say(words.CUSTOMER_ACKS)),
        _Turn(rep, "Discovery", say(words.DISCOVERY_QUESTIONS, rng.randint(1, 2))),
        _Turn(rng.choice(guests), "Discovery", say(words.CUSTOMER_CONTEXT)),
    ]
    for key in themes:
        theme = words.THEMES_BY_KEY[key]
        for _ in range(rng.randint(1, 2)):
            turns.append(_Turn(rng.choice(guests), theme.topic, say(theme.customer_lines, rng.randint(1, 2)), key))
            turns.append(_Turn(rng.choice(internal), theme.topic, say(theme.rep_lines), key))
            turns.append(_Turn(rng.choice(guests), theme.topic, say(words.CUSTOMER_ACKS)))
    turns.append(_Turn(rep, "Next Steps", say(words.NEXT_STEP_LINES, 2)))
    turns.append(_Turn(rng.choice(guests), "Next Steps", say(words.CUSTOMER_ACKS)))
    return turns


def _time(rng: random.Random, turns: list[_Turn], duration_s: int) -> None:
    """Give each sentence a start and end in ms, stretched so the talk fills most of the call."""
    raw: list[list[tuple[int, int]]] = []
    clock = rng.randrange(2000, 20000)
    for turn in turns:
        spans = []
        for sentence in turn.sentences:
            length = len(sentence) * MS_PER_CHARACTER + rng.randrange(0, 800)
            spans.append((clock, clock + length))
            clock += length + rng.randrange(200, 700)
        raw.append(spans)
        clock += rng.randrange(400, 2500)
    stretch = duration_s * 1000 * 0.95 / clock
    for turn, spans in zip(turns, raw, strict=True):
        turn.times = [(int(start * stretch), int(end * stretch)) for start, end in spans]


def _interaction(turns: list[_Turn], speakers: list[_Speaker], duration_s: int) -> tuple[dict[str, Any], dict[str, float]]:
    talk_ms: dict[str, int] = {}
    longest = {True: 0, False: 0}
    questions = {True: 0, False: 0}
    for turn in turns:
        times = turn.times or []
        speaker_id = turn.speaker.party["speakerId"]
        talk_ms[speaker_id] = talk_ms.get(speaker_id, 0) + sum(end - start for start, end in times)
        longest[turn.speaker.internal] = max(longest[turn.speaker.internal], times[-1][1] - times[0][0])
        questions[turn.speaker.internal] += sum(sentence.endswith("?") for sentence in turn.sentences)
    internal_ids = {s.party["speakerId"] for s in speakers if s.internal}
    total = sum(talk_ms.values()) or 1
    company = sum(ms for speaker_id, ms in talk_ms.items() if speaker_id in internal_ids)
    stats = {
        "Talk Ratio": round(company / total, 2),
        "Longest Monologue": round(longest[True] / 1000),
        "Longest Customer Story": round(longest[False] / 1000),
        "Interactivity": round(min(10.0, len(turns) * 60 / duration_s), 1),
        "Patience": round(0.6 + (duration_s % 17) / 10, 2),
        "Question Rate": round(questions[True] * 3600 / duration_s, 1),
    }
    interaction = {
        "speakers": [
            {
                "id": s.party["id"],
                "userId": s.party.get("userId"),
                "talkTime": round(talk_ms[s.party["speakerId"]] / 1000, 1),
            }
            for s in speakers
            if s.party.get("speakerId") in talk_ms
        ],
        "interactionStats": [{"name": name, "value": value} for name, value in stats.items()],
        "questions": {"companyCount": questions[True], "nonCompanyCount": questions[False]},
        "video": [],
    }
    return interaction, stats


def _content(
    rng: random.Random,
    turns: list[_Turn],
    themes: tuple[str, ...],
    fill: dict[str, str],
    account: Account,
    rep: User,
    stage: str,
) -> dict[str, Any]:
    picked = [words.THEMES_BY_KEY[key] for key in themes]
    topic_ms: dict[str, int] = {}
    topic_start: dict[str, int] = {}
    for turn in turns:
        times = turn.times or []
        topic_ms[turn.topic] = topic_ms.get(turn.topic, 0) + times[-1][1] - times[0][0]
        topic_start.setdefault(turn.topic, times[0][0])
    next_step = turns[-2]
    next_step_times = next_step.times or []
    outcome_id, category, outcome_name = rng.choice(words.OUTCOMES)
    guest = next(t.speaker.party["name"] for t in turns if not t.speaker.internal and "name" in t.speaker.party)
    brief = (
        f"{guest} from {account.name} met {rep.name} ({stage} stage) to discuss "
        f"{', '.join(theme.topic.lower() for theme in picked)}. "
        + " ".join(f"The customer {theme.brief.format(**fill)}." for theme in picked)
        + f" Next step: {next_step.sentences[0]}"
    )
    return {
        "brief": brief,
        "keyPoints": [{"text": rng.choice(theme.key_points).format(**fill)} for theme in picked],
        "topics": [{"name": name, "duration": round(ms / 1000)} for name, ms in topic_ms.items()],
        "trackers": [_tracker(rng, theme, turns) for theme in picked],
        "highlights": [
            {
                "title": "Next steps",
                "items": [{"text": next_step.sentences[0], "startTimes": [next_step_times[0][0] / 1000]}],
            },
        ],
        "outline": [
            {
                "section": name,
                "startTime": topic_start[name] / 1000,
                "duration": round(ms / 1000),
                "items": [
                    {"text": turn.sentences[0], "startTime": (turn.times or [(0, 0)])[0][0] / 1000}
                    for turn in turns
                    if turn.topic == name and not turn.speaker.internal
                ][:3],
            }
            for name, ms in topic_ms.items()
        ],
        "callOutcome": {"id": outcome_id, "category": category, "name": outcome_name},
        "pointsOfInterest": {
            "actionItems": [
                {
                    "snippet": next_step.sentences[-1],
                    "snippetStartTime": next_step_times[-1][0] / 1000,
                    "snippetEndTime": next_step_times[-1][1] / 1000,
                    "speakerID": next_step.speaker.party["speakerId"],
                }
            ]
        },
    }


def _tracker(rng: random.Random, theme: words.Theme, turns: list[_Turn]) -> dict[str, Any]:
    occurrences = [
        {"speakerId": turn.speaker.party["speakerId"], "startTime": start / 1000}
        for turn in turns
        if turn.theme == theme.key
        for start, _ in (turn.times or [])
    ]
    return {
        # Stable across runs (str hashes are not): trackers keep their ids from call to call.
        "id": str(7 * 10**17 + zlib.crc32(theme.key.encode())),
        "name": theme.tracker,
        "type": "SMART" if rng.random() < 0.5 else "KEYWORD",
        "count": len(occurrences),
        "occurrences": occurrences,
    }


def _title_phrase(rng: random.Random, themes: tuple[str, ...], stage: str) -> str:
    # Titles name the first theme or, as often, just the sales stage.
    return words.THEMES_BY_KEY[themes[0]].title if rng.random() < 0.5 else words.STAGE_TITLES[stage]


def _meta(
    rng: random.Random, call_id: str, title: str, started: datetime, duration: int, rep: User, direction: str
) -> dict[str, Any]:
    conference = direction == "Conference"
    return {
        "id": call_id,
        "url": f"{words.GONG_HOST}/call?id={call_id}",
        "title": title,
        "scheduled": started.replace(second=0) if conference else None,
        "started": started,
        "duration": duration,
        "primaryUserId": rep.id,
        "direction": direction,
        "system": rng.choice(("Zoom", "Google Meet", "Microsoft Teams")) if conference else "Outreach",
        "scope": "External",
        "media": "Video" if conference else "Audio",
        "language": "eng",
        "workspaceId": words.WORKSPACE_ID,
        "sdrDisposition": None if conference else rng.choice(("Connected", "Meeting Scheduled", "Not Interested")),
        "clientUniqueId": None if conference else digits(rng, 12),
        "customData": None,
        "purpose": None,
        "meetingUrl": f"https://zoom.us/j/{digits(rng, 11)}" if conference else None,
        "isPrivate": False,
        "calendarEventId": f"{digits(rng, 10)}_{started:%Y%m%dT%H%M%SZ}" if conference else None,
    }
