"""Six hand-written calls, each about one thing, in the shape of the latest `extensiveCalls` and
`callTranscripts` rows. The pricing objection never uses the words "price", "pricing" or "balk",
so finding it for "they balked at the price" takes meaning, not keywords."""

from __future__ import annotations

from sophia_mcp.gong.queries.call_documents import CallDocument

REP_ANA = "u-ana"
REP_BEN = "u-ben"

PRICING_CALL = "7001"
SECURITY_CALL = "7002"
ONBOARDING_CALL = "7003"
COMPETITOR_CALL = "7004"
ACME_API_CALL = "7005"
DISCOVERY_CALL = "7006"


def make_call(
    call_id: str,
    *,
    title: str,
    started: str,
    rep: str,
    account: tuple[str, str],
    brief: str,
    key_points: list[str],
    turns: list[tuple[str, str]],
) -> CallDocument:
    """`turns` are (speaker id, words); "rep" speaks for the rep, "buyer" for the customer."""
    parties = [
        {
            "speakerId": "rep",
            "name": "Ana Rivera" if rep == REP_ANA else "Ben Okafor",
            "userId": rep,
            "affiliation": "Internal",
        },
        {"speakerId": "buyer", "name": "Dana Lee", "affiliation": "External"},
    ]
    transcript = [
        {
            "speakerId": speaker,
            "topic": None,
            "sentences": [{"start": 15_000 * i, "end": 15_000 * i + 9_000, "text": text}],
        }
        for i, (speaker, text) in enumerate(turns)
    ]
    account_id, account_name = account
    return CallDocument(
        call_id=call_id,
        extensive={
            "metaData": {"id": call_id, "title": title, "started": started, "primaryUserId": rep},
            "content": {"brief": brief, "keyPoints": [{"text": point} for point in key_points]},
            "parties": parties,
            "context": [
                {
                    "system": "Salesforce",
                    "objects": [
                        {
                            "objectType": "Account",
                            "objectId": account_id,
                            "fields": [{"name": "Name", "value": account_name}],
                        }
                    ],
                }
            ],
        },
        transcript=transcript,
    )


SAMPLE_CALLS = [
    make_call(
        PRICING_CALL,
        title="Acme Corp renewal check-in",
        started="2025-03-04T15:00:00Z",
        rep=REP_ANA,
        account=("001-acme", "Acme Corp"),
        brief="Dana said the renewal quote is far above what Acme budgeted; Ana offered a multi-year term to bring the yearly cost down.",
        key_points=["The quote exceeds the approved budget", "CFO wants a cheaper option before signing"],
        turns=[
            ("rep", "Thanks for making time today. I wanted to walk through the renewal proposal we sent last week."),
            (
                "buyer",
                "Sure. Honestly, the number you sent is way more than we set aside for this. Our CFO looked at the cost per seat and said it is just too steep.",
            ),
            ("rep", "I understand. If we moved to a three year term I could lower the yearly amount quite a bit."),
            ("buyer", "Maybe. We would need it under last year's spend before finance signs anything."),
            ("rep", "Let me take that back to my manager and come back with options by Friday."),
        ],
    ),
    make_call(
        SECURITY_CALL,
        title="Globex security review",
        started="2025-03-10T17:00:00Z",
        rep=REP_BEN,
        account=("001-globex", "Globex"),
        brief="Globex's security team asked for the SOC 2 report, single sign-on and where customer data is stored.",
        key_points=["Needs SOC 2 Type II report", "Requires SAML single sign-on", "Data must stay in the EU"],
        turns=[
            (
                "buyer",
                "Before legal approves anything we need your SOC 2 Type II report and the penetration test summary.",
            ),
            ("rep", "Absolutely, I will send both under NDA today."),
            ("buyer", "We also require SAML single sign-on and all recordings stored in an EU data center."),
            ("rep", "We support Okta and Azure AD, and we have a Frankfurt region."),
        ],
    ),
    make_call(
        ONBOARDING_CALL,
        title="Initech kickoff",
        started="2025-04-02T14:00:00Z",
        rep=REP_ANA,
        account=("001-initech", "Initech"),
        brief="Kickoff of the Initech rollout: admin setup, training sessions for forty reps and a go-live date in May.",
        key_points=["Go-live set for May 15", "Two training sessions for the sales team"],
        turns=[
            ("rep", "Welcome aboard! Today we plan the rollout, admin setup and training."),
            ("buyer", "Great. We have forty reps, so we would like two training sessions split by region."),
            ("rep", "Works for us. If your admin connects the calendar and CRM this week, we can go live May 15."),
        ],
    ),
    make_call(
        COMPETITOR_CALL,
        title="Umbrella evaluation follow-up",
        started="2025-04-20T16:00:00Z",
        rep=REP_BEN,
        account=("001-umbrella", "Umbrella"),
        brief="Umbrella is comparing us with another vendor's feature set, mostly the Salesforce integration and forecasting.",
        key_points=["Evaluating a rival vendor", "Salesforce integration depth matters most"],
        turns=[
            (
                "buyer",
                "We are also looking at another vendor, and their forecasting module looked more mature in the demo.",
            ),
            ("rep", "Fair. Where we stand out is the two-way Salesforce sync; fields update without any manual step."),
            ("buyer", "That matters, our reps hate double entry."),
        ],
    ),
    make_call(
        ACME_API_CALL,
        title="Acme Corp technical deep dive",
        started="2025-05-06T15:00:00Z",
        rep=REP_BEN,
        account=("001-acme", "Acme Corp"),
        brief="Acme's engineers asked about API rate limits, webhooks and exporting call data to their warehouse.",
        key_points=["Webhooks for new calls", "Nightly export to Snowflake"],
        turns=[
            ("buyer", "What are the API rate limits, and can we get a webhook whenever a new recording is processed?"),
            ("rep", "Three requests per second per key, and yes, webhooks fire when processing finishes."),
            ("buyer", "Good. We also want a nightly export into Snowflake."),
        ],
    ),
    make_call(
        DISCOVERY_CALL,
        title="Hooli discovery",
        started="2025-05-20T18:00:00Z",
        rep=REP_ANA,
        account=("001-hooli", "Hooli"),
        brief="First conversation with Hooli: the team is doubling headcount and managers cannot coach every new hire.",
        key_points=["Sales team doubling this year", "Managers lack time to coach"],
        turns=[
            ("rep", "Tell me a bit about how your team works today."),
            ("buyer", "We are doubling the sales team this year and managers cannot listen to every new hire's calls."),
            ("rep", "That is exactly where call libraries and automatic coaching notes help."),
        ],
    ),
]
