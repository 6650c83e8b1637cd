"""Words the sample data is made of: people, companies, and the sales themes calls talk about.

Each theme has several phrasings on both sides of the conversation, so that a search by meaning
("customers worried about cost") finds calls that never use the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

SELLER = "Brightwave"
SELLER_DOMAIN = "brightwave.io"
WORKSPACE_ID = "5562739194953732039"
GONG_HOST = "https://us-4927.app.gong.io"


@dataclass(frozen=True)
class Theme:
    key: str
    topic: str  # Gong topic name
    tracker: str  # Gong tracker name
    title: str  # how a call about it is titled
    brief: str  # a clause for the call brief
    key_points: tuple[str, ...]
    customer_lines: tuple[str, ...]
    rep_lines: tuple[str, ...]


THEMES: tuple[Theme, ...] = (
    Theme(
        key="pricing_objection",
        topic="Pricing",
        tracker="Pricing objection",
        title="Pricing discussion",
        brief="pushed back on price and asked for a discount",
        key_points=(
            "Customer said the quoted {amount} is above the budget for this year.",
            "Pushback on per-seat pricing compared with {competitor}.",
            "Asked for a discount in exchange for a two-year commitment.",
        ),
        customer_lines=(
            "Honestly the price is higher than what we budgeted for this year.",
            "Your quote came in about {pct} percent above what {competitor} offered us.",
            "I'm not sure we can justify {amount} for the first year.",
            "Finance pushed back on the per-seat cost, it feels steep for a team our size.",
            "Is there any flexibility on the list price if we sign for two years?",
            "The total cost is really the sticking point for us right now.",
            "We like the product, but the numbers just don't work at this price point.",
            "Can you break down what we are actually paying for in each tier?",
        ),
        rep_lines=(
            "I hear you on cost. Let's look at the value you'd see in the first quarter.",
            "If we move to an annual commitment I can bring the per-seat price down.",
            "What budget range would make this an easy yes for your CFO?",
            "We could start with a smaller rollout and expand once you see the return.",
        ),
    ),
    Theme(
        key="security_review",
        topic="Security",
        tracker="Security & compliance",
        title="Security review",
        brief="needs a security review before signing",
        key_points=(
            "Security review required before signing: SOC 2 report and questionnaire requested.",
            "Questions about single sign-on with {idp} and where data is stored.",
        ),
        customer_lines=(
            "Our security team needs to review your SOC 2 Type II report before we go further.",
            "Where is our data stored, and is it encrypted at rest?",
            "We'll need you to fill in our vendor security questionnaire.",
            "Do you support single sign-on through {idp} and SCIM provisioning?",
            "Our CISO wants to know how often you run penetration tests.",
            "Legal flagged data residency, everything has to stay in the EU.",
            "Who on your side can access our call recordings?",
        ),
        rep_lines=(
            "I can send over our SOC 2 report and the latest pen test summary today.",
            "Everything is encrypted in transit and at rest with AES-256.",
            "We support SAML single sign-on with {idp} and SCIM on the Enterprise plan.",
            "Our security team can join a call to walk your CISO through the architecture.",
        ),
    ),
    Theme(
        key="integration_questions",
        topic="Integrations",
        tracker="Integration",
        title="Integration deep dive",
        brief="asked how the product connects to {system}",
        key_points=(
            "An integration with {system} is a hard requirement.",
            "Asked about API access and mapping custom fields.",
        ),
        customer_lines=(
            "How does this integrate with {system}?",
            "We need the data to sync back into {system} automatically.",
            "Is there an API we can use to pull the results into our warehouse?",
            "Our team lives in {system}, so the integration is a must-have.",
            "What does the setup look like on the {system} side, do we need an admin?",
            "Does the connector handle our custom fields?",
        ),
        rep_lines=(
            "We have a native {system} integration that syncs every few minutes.",
            "There's a REST API and webhooks, our solutions engineer can walk you through them.",
            "Setup takes about an hour with an admin on your side.",
        ),
    ),
    Theme(
        key="competitor_mention",
        topic="Competition",
        tracker="Competitors",
        title="Evaluation follow-up",
        brief="is also evaluating {competitor}",
        key_points=(
            "Evaluating {competitor} in parallel.",
            "Compared us with {competitor} on features and price.",
        ),
        customer_lines=(
            "We're also evaluating {competitor}.",
            "{competitor} showed us something very similar last week.",
            "Why would we pick you over {competitor}?",
            "Our previous vendor was {competitor} and the rollout was painful.",
            "{competitor} is offering us a free three-month pilot.",
        ),
        rep_lines=(
            "Compared with {competitor}, our forecasts are built on the actual conversations.",
            "A lot of our customers switched from {competitor} for the depth of the analytics.",
            "Happy to put together a side-by-side comparison with {competitor}.",
        ),
    ),
    Theme(
        key="renewal_risk",
        topic="Renewal",
        tracker="Churn risk",
        title="Renewal check-in",
        brief="may not renew because adoption is low",
        key_points=(
            "Renewal at risk: low adoption and a new executive reviewing vendors.",
            "Customer may cancel at the end of the term unless usage improves.",
        ),
        customer_lines=(
            "Adoption has been lower than we hoped, only a handful of people log in.",
            "I'm not sure we'll renew if usage doesn't pick up.",
            "Our new VP is reviewing every vendor contract before the renewal.",
            "We had a lot of support tickets this quarter and the team is frustrated.",
            "Next year's budget is under review, so the renewal isn't guaranteed.",
            "Honestly, we're considering cancelling at the end of the term.",
        ),
        rep_lines=(
            "Let's put together an adoption plan with your team leads before the renewal date.",
            "I'll bring in our customer success manager to review usage with you.",
            "What would need to change for the renewal to be a clear decision?",
        ),
    ),
    Theme(
        key="implementation_timeline",
        topic="Implementation",
        tracker="Timeline",
        title="Implementation planning",
        brief="wants to be live before the end of {quarter}",
        key_points=(
            "Target go-live before the end of {quarter}.",
            "Wants a phased rollout that starts with one team.",
        ),
        customer_lines=(
            "We'd need to be live before the end of {quarter}.",
            "How long does onboarding usually take for a team of our size?",
            "Our IT team is swamped until next month, can we phase the rollout?",
            "Who would be our point of contact during implementation?",
        ),
        rep_lines=(
            "Typical onboarding takes four to six weeks with a dedicated implementation manager.",
            "We can phase it: start with one team, then expand.",
        ),
    ),
    Theme(
        key="procurement_legal",
        topic="Legal & Procurement",
        tracker="Procurement",
        title="Contract review",
        brief="has the contract with legal and procurement",
        key_points=(
            "Contract in procurement; MSA redlines and a DPA requested.",
            "Legal is concerned about the liability cap.",
        ),
        customer_lines=(
            "Procurement will need a redlined version of the MSA.",
            "Our legal team has concerns about the liability cap.",
            "Can you send the order form so we can start the purchase order?",
            "We need the DPA signed before anything goes to legal.",
        ),
        rep_lines=(
            "I'll send the MSA and the DPA today so legal can start.",
            "We can usually turn redlines around within a week.",
        ),
    ),
    Theme(
        key="budget_freeze",
        topic="Budget",
        tracker="Budget",
        title="Budget discussion",
        brief="put the project on hold because of a spending freeze",
        key_points=(
            "Spending freeze: the project is on hold until next quarter.",
            "Any new spend above {amount} needs CFO approval.",
        ),
        customer_lines=(
            "We have a hiring and spending freeze until next quarter.",
            "The budget got cut and this project is on hold for now.",
            "Any new spend over {amount} needs sign-off from our CFO.",
        ),
        rep_lines=(
            "Understood. Could we line this up for when the new budget opens?",
            "Would a smaller pilot fit under the approval threshold?",
        ),
    ),
    Theme(
        key="roi_business_case",
        topic="Business Case",
        tracker="ROI",
        title="Business case review",
        brief="needs a business case with a clear return for the CFO",
        key_points=(
            "Needs a business case with a clear return on investment for the CFO.",
            "Asked for case studies from similar companies.",
        ),
        customer_lines=(
            "I need to show my CFO a clear return on this investment.",
            "Can you help us build the business case?",
            "What kind of results have companies like ours seen?",
        ),
        rep_lines=(
            "Customers like you typically see a fifteen percent lift in win rates within six months.",
            "Let's build the business case together with your own numbers.",
        ),
    ),
    Theme(
        key="feature_request",
        topic="Product Feedback",
        tracker="Feature request",
        title="Product feedback",
        brief="asked for features that are not there yet",
        key_points=(
            "Feature requests: PDF export of dashboards and a mobile app.",
            "Reporting lacks a view by region.",
        ),
        customer_lines=(
            "It would be great if the dashboards could be exported to PDF.",
            "We really need a mobile app for the field team.",
            "Is transcription in more languages on the roadmap?",
            "The reporting is missing a view by region.",
        ),
        rep_lines=(
            "That's on our roadmap for next quarter, I'll share the timeline.",
            "I'll log that as a feature request with our product team.",
        ),
    ),
)
THEMES_BY_KEY = {theme.key: theme for theme in THEMES}

OPENING_LINES = (
    "Thanks for making the time today.",
    "Can everyone hear me okay?",
    "Good to see you again, how was your week?",
    "Thanks for joining, I know it's a busy time of the quarter.",
)
AGENDA_LINES = (
    "Today I'd like to cover where you are in the evaluation and agree on next steps.",
    "I have a few questions about your current process, then I'll show you the product.",
    "Let's recap where we left off last time and go from there.",
)
DISCOVERY_QUESTIONS = (
    "What does your current process look like?",
    "Who else is involved in the decision?",
    "What's driving the timeline on your side?",
    "How are you measuring success for this project?",
    "What happens if you don't solve this this year?",
)
CUSTOMER_ACKS = (
    "That makes sense.",
    "Sounds good.",
    "Got it, thanks.",
    "Okay, that helps.",
    "Right, that's what I expected.",
)
CUSTOMER_CONTEXT = (
    "We have about {seats} reps across three regions right now.",
    "Today everything lives in spreadsheets and it's hard to keep up.",
    "Our managers spend hours every week listening to recordings.",
    "We're growing fast and onboarding new reps takes too long.",
)
NEXT_STEP_LINES = (
    "Let's schedule a follow-up for next week.",
    "I'll send a recap email with the next steps.",
    "I'll loop in our solutions engineer for the technical questions.",
    "Can we get your CFO on the next call?",
)

# Rare, exact things a customer says now and then: product codes, names and an accented place, for
# searches by exact phrase that meaning-based search misses. Each call says at most one.
PHRASES_TO_FIND = (
    "We still run the BW-4471 connector from the pilot.",
    "Our team in Zürich needs the Edge X9 bundle before the rollout.",
    "Procurement flagged the Nightingale-7 clause in the master agreement.",
    "Clarion AI quoted us for the HX-220 tier last month.",
)
PHRASE_SHARE = 0.08

OUTCOMES = (
    ("MEETING_BOOKED", "Answered", "Meeting booked"),
    ("FOLLOW_UP_SCHEDULED", "Answered", "Follow-up scheduled"),
    ("DEMO_SCHEDULED", "Answered", "Demo scheduled"),
    ("PROPOSAL_SENT", "Answered", "Proposal sent"),
    ("NOT_INTERESTED", "Answered", "Not interested"),
)

COMPETITORS = ("Chorally", "DealSignal", "Revio", "CallMetrics", "Clarion AI")
IDENTITY_PROVIDERS = ("Okta", "Azure AD", "Google Workspace", "OneLogin")
SYSTEMS = ("Salesforce", "HubSpot", "Slack", "Snowflake", "Zendesk", "Microsoft Teams", "Marketo")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")

FIRST_NAMES = (
    "Dana", "Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Priya", "Wei", "Carlos", "Fatima", "Lukas", "Sofia", "Mateo", "Aisha", "Kenji", "Elena",
    "Noah", "Olivia", "Liam", "Emma", "Mia", "Ethan", "Zara", "Omar", "Hannah", "Diego",
    "Ingrid", "Tomasz", "Chloe", "Rahul", "Grace", "Samuel", "Nadia", "Victor", "Leila", "Marcus",
    "Yuki", "Anya", "Felix", "Isabel", "Hugo", "Maya", "Arjun", "Nora", "Daniel", "Rosa",
)
LAST_NAMES = (
    "Lee", "Patel", "Garcia", "Kim", "Nguyen", "Smith", "Johnson", "Brown", "Martinez", "Chen",
    "Müller", "Rossi", "Dubois", "Okafor", "Silva", "Novak", "Cohen", "Khan", "Andersen", "Tanaka",
    "Williams", "Jones", "Davis", "Lopez", "Wilson", "Clark", "Lewis", "Walker", "Hall", "Young",
    "Fischer", "Ivanova", "Haddad", "Murphy", "O'Brien", "Schmidt", "Costa", "Sato", "Moreau", "Berg",
)

# Famous made-up companies first, so tests and demos can ask about "Acme" or "Globex".
FAMOUS_ACCOUNTS = (
    ("Acme Corp", "Manufacturing"), ("Globex", "Energy"), ("Initech", "Software"),
    ("Umbrella Corp", "Biotech"), ("Hooli", "Software"), ("Stark Industries", "Manufacturing"),
    ("Wayne Enterprises", "Financial Services"), ("Cyberdyne Systems", "Robotics"),
    ("Soylent", "Food & Beverage"), ("Wonka Industries", "Food & Beverage"),
    ("Tyrell Corp", "Biotech"), ("Vandelay Industries", "Retail"), ("Dunder Mifflin", "Retail"),
    ("Pied Piper", "Software"), ("Massive Dynamic", "Research"), ("Nakatomi Trading", "Financial Services"),
)
ACCOUNT_STEMS = (
    "Blue", "Silver", "Granite", "Summit", "Harbor", "Pioneer", "Northstar", "Evergreen", "Cobalt",
    "Apex", "Meridian", "Redwood", "Lakeside", "Ironclad", "Crescent", "Falcon", "Keystone",
    "Liberty", "Maple", "Orion", "Pacific", "Quantum", "Riverbend", "Sterling", "Titan", "Vertex",
    "Willow", "Zenith", "Beacon", "Cascade", "Atlas", "Horizon",
)
ACCOUNT_INDUSTRIES = (
    ("Logistics", "Logistics"), ("Health", "Healthcare"), ("Financial", "Financial Services"),
    ("Foods", "Food & Beverage"), ("Energy", "Energy"), ("Robotics", "Robotics"), ("Media", "Media"),
    ("Insurance", "Insurance"), ("Retail", "Retail"), ("Labs", "Research"),
    ("Manufacturing", "Manufacturing"), ("Biotech", "Biotech"), ("Telecom", "Telecommunications"),
    ("Analytics", "Software"), ("Capital", "Financial Services"), ("Airlines", "Travel"),
    ("Motors", "Automotive"), ("Software", "Software"), ("Hospitality", "Hospitality"),
    ("Education", "Education"),
)
ACCOUNT_SUFFIXES = ("", " Inc", " Group", " Holdings", " Partners", " Systems", " Corp", " International")

CUSTOMER_TITLES = (
    "VP of Sales", "Chief Revenue Officer", "Head of Sales Operations", "CFO", "Director of IT",
    "CISO", "Procurement Manager", "RevOps Manager", "Sales Enablement Lead", "VP Customer Success",
    "CTO", "Head of Security", "Legal Counsel", "Director of Finance",
)
REP_TITLES = ("Account Executive", "Senior Account Executive", "Enterprise Account Executive")
SUPPORT_TITLES = ("Solutions Engineer", "Customer Success Manager", "Sales Development Representative")
MANAGER_TITLE = "Regional Sales Manager"

STAGES = ("Prospecting", "Qualification", "Discovery", "Demo", "Proposal", "Negotiation")
CLOSED_STAGES = ("Closed Won", "Closed Lost")
STAGE_PROBABILITY = {
    "Prospecting": 10, "Qualification": 20, "Discovery": 30, "Demo": 40, "Proposal": 60,
    "Negotiation": 80, "Closed Won": 100, "Closed Lost": 0,
}
STAGE_TITLES = {
    "Prospecting": "Intro call", "Qualification": "Qualification call", "Discovery": "Discovery call",
    "Demo": "Product demo", "Proposal": "Proposal review", "Negotiation": "Commercial discussion",
    "Closed Won": "Kickoff", "Closed Lost": "Check-in",
}
OPPORTUNITY_TYPES = ("New Business", "Expansion", "Renewal")
LEAD_SOURCES = ("Inbound", "Outbound", "Partner", "Event", "Referral")

SCORECARDS = (
    ("Discovery call", (
        "Did the rep uncover the customer's main pain?",
        "Did the rep identify the decision makers?",
        "Did the rep agree on clear next steps?",
    )),
    ("Demo", (
        "Did the demo follow the customer's use case?",
        "Did the rep handle objections well?",
        "Did the rep confirm the timeline?",
    )),
    ("Negotiation", (
        "Did the rep defend the value before discussing price?",
        "Did the rep secure a mutual close plan?",
    )),
)
