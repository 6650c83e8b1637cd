"""The seller's team and the customers it sells to: everything the sample calls are about.

Built once per seed. Sizes grow with the number of calls, so 100,000 calls still spread over a
believable number of reps and accounts.
"""

from __future__ import annotations

import random
import zlib
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sophia_mcp.sample.gong import vocabulary as words

# Shares of accounts with a single contact, and of opportunities whose stage goes back once. Drawn
# from a generator of their own per record (`aside`), so the rest of the data stays as it was.
SINGLE_CONTACT_SHARE = 0.15
REGRESSION_SHARE = 0.4


def aside(record_id: str) -> random.Random:
    """A random generator for one record's optional traits, independent of the main sequence."""
    return random.Random(zlib.crc32(record_id.encode()))


@dataclass(frozen=True)
class User:
    id: str
    first_name: str
    last_name: str
    email: str
    title: str
    active: bool
    manager_id: str | None
    created: datetime
    phone: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Contact:
    crm_id: str
    name: str
    email: str
    title: str
    phone: str


@dataclass(frozen=True)
class Opportunity:
    id: str
    name: str
    type: str
    lead_source: str
    amount: int
    close_date: date
    # (stage, entered at), oldest first.
    stages: tuple[tuple[str, datetime], ...]

    def stage_at(self, moment: datetime) -> str:
        index = bisect_right([entered for _, entered in self.stages], moment) - 1
        return self.stages[max(index, 0)][0]

    @property
    def opened(self) -> datetime:
        return self.stages[0][1]


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    domain: str
    industry: str
    owner_id: str
    contacts: tuple[Contact, ...]
    opportunities: tuple[Opportunity, ...]
    # Every call with this account has one customer contact, the first.
    single_threaded: bool = False

    def opportunity_at(self, moment: datetime) -> Opportunity:
        """The newest opportunity already open at `moment`, else the first one."""
        opened = [opportunity for opportunity in self.opportunities if opportunity.opened <= moment]
        return opened[-1] if opened else self.opportunities[0]


@dataclass(frozen=True)
class ScorecardTemplate:
    id: str
    name: str
    # (question id, text); the last one is the overall score.
    questions: tuple[tuple[str, str], ...]
    created: datetime
    updated: datetime
    updater_id: str


@dataclass
class World:
    now: datetime
    first_day: datetime
    reps: list[User]
    support: list[User]
    managers: list[User]
    accounts: list[Account]
    account_weights: list[float]
    scorecards: list[ScorecardTemplate]
    users_by_id: dict[str, User] = field(default_factory=dict)

    @property
    def users(self) -> list[User]:
        return self.managers + self.reps + self.support


def digits(rng: random.Random, count: int) -> str:
    """A Gong-style numeric id: `count` digits, no leading zero."""
    return str(rng.randrange(10 ** (count - 1), 10**count))


def salesforce_id(rng: random.Random, key_prefix: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return key_prefix + "".join(rng.choice(alphabet) for _ in range(15))


def build_world(rng: random.Random, calls: int, now: datetime, days: int) -> World:
    first_day = now - timedelta(days=days)
    managers = _users(rng, max(1, calls // 2500), [words.MANAGER_TITLE], first_day, manager_ids=[])
    manager_ids = [manager.id for manager in managers]
    reps = _users(rng, min(400, max(8, calls // 250)), words.REP_TITLES, first_day, manager_ids)
    support = _users(rng, max(3, len(reps) // 3), words.SUPPORT_TITLES, first_day, manager_ids)
    accounts = _accounts(rng, min(_account_name_count(), max(20, calls // 20)), reps, first_day, now)
    # A long tail: the first accounts (Acme, Globex, ...) get many calls, most get a few.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(accounts))]
    world = World(now, first_day, reps, support, managers, accounts, weights, _scorecards(rng, managers, first_day))
    world.users_by_id = {user.id: user for user in world.users}
    return world


def _users(
    rng: random.Random, count: int, titles: tuple[str, ...] | list[str], first_day: datetime, manager_ids: list[str]
) -> list[User]:
    users = []
    for _ in range(count):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "").replace("ü", "ue")
        users.append(
            User(
                id=digits(rng, 18),
                first_name=first,
                last_name=last,
                # A number keeps addresses unique when two people share a name.
                email=f"{local}{rng.randrange(10, 99)}@{words.SELLER_DOMAIN}",
                title=rng.choice(titles),
                # Some have left; their calls stay.
                active=rng.random() > 0.1,
                manager_id=rng.choice(manager_ids) if manager_ids else None,
                created=first_day - timedelta(days=rng.randrange(30, 900)),
                phone=f"+1 415 555 {rng.randrange(1000, 9999)}",
            )
        )
    return users


def _account_names() -> list[tuple[str, str]]:
    generated = [
        (f"{stem} {noun}{suffix}", industry)
        for suffix in words.ACCOUNT_SUFFIXES
        for stem in words.ACCOUNT_STEMS
        for noun, industry in words.ACCOUNT_INDUSTRIES
    ]
    return list(words.FAMOUS_ACCOUNTS) + generated


def _account_name_count() -> int:
    return len(words.FAMOUS_ACCOUNTS) + len(words.ACCOUNT_SUFFIXES) * len(words.ACCOUNT_STEMS) * len(
        words.ACCOUNT_INDUSTRIES
    )


def _accounts(rng: random.Random, count: int, reps: list[User], first_day: datetime, now: datetime) -> list[Account]:
    names = _account_names()
    famous, generated = names[: len(words.FAMOUS_ACCOUNTS)], names[len(words.FAMOUS_ACCOUNTS) :]
    rng.shuffle(generated)
    accounts = []
    for name, industry in (famous + generated)[:count]:
        domain = "".join(ch for ch in name.lower() if ch.isalnum()) + ".com"
        account = Account(
            id=salesforce_id(rng, "001"),
            name=name,
            domain=domain,
            industry=industry,
            owner_id=rng.choice(reps).id,
            contacts=tuple(_contact(rng, domain) for _ in range(rng.randint(2, 6))),
            opportunities=tuple(_opportunities(rng, name, first_day, now)),
        )
        accounts.append(replace(account, single_threaded=aside(account.id).random() < SINGLE_CONTACT_SHARE))
    return accounts


def _contact(rng: random.Random, domain: str) -> Contact:
    first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
    return Contact(
        crm_id=salesforce_id(rng, "003"),
        name=f"{first} {last}",
        email=f"{first[0]}{last}".lower().replace("'", "").replace("ü", "ue") + f"@{domain}",
        title=rng.choice(words.CUSTOMER_TITLES),
        phone=f"+1 212 555 {rng.randrange(1000, 9999)}",
    )


def _opportunities(rng: random.Random, account_name: str, first_day: datetime, now: datetime) -> list[Opportunity]:
    span = (now - first_day).days
    opened_days = sorted(rng.sample(range(-30, max(span - 5, 1)), rng.randint(1, 3)))
    opportunities = []
    for opened_day in opened_days:
        moment = first_day + timedelta(days=opened_day, hours=rng.randrange(8, 18))
        kind = rng.choice(words.OPPORTUNITY_TYPES)
        stages = []
        for stage in words.STAGES:
            stages.append((stage, moment))
            moment += timedelta(days=rng.randrange(6, 30))
            if moment > now:
                break
        else:
            stages.append((words.CLOSED_STAGES[0] if rng.random() < 0.6 else words.CLOSED_STAGES[1], moment))
        opportunity = Opportunity(
            id=salesforce_id(rng, "006"),
            name=f"{account_name} - {kind} {stages[0][1].year}",
            type=kind,
            lead_source=rng.choice(words.LEAD_SOURCES),
            amount=rng.randrange(30, 800) * 500,
            close_date=(moment + timedelta(days=rng.randrange(10, 60))).date(),
            stages=tuple(stages),
        )
        opportunities.append(replace(opportunity, stages=_maybe_regressed(aside(opportunity.id), opportunity.stages, now)))
    return opportunities


def _maybe_regressed(
    rng: random.Random, stages: tuple[tuple[str, datetime], ...], now: datetime
) -> tuple[tuple[str, datetime], ...]:
    """Sometimes the stage goes back one or two steps for a while (a champion left, the budget
    moved), then forward again; or stays back, if that was the latest move."""
    open_from = [at for at in range(2, len(stages)) if stages[at][0] not in words.CLOSED_STAGES]
    if not open_from or rng.random() >= REGRESSION_SHARE:
        return stages
    at = rng.choice(open_from)
    stage, entered = stages[at]
    ends = stages[at + 1][1] if at + 1 < len(stages) else now
    back = (stages[at - rng.randint(1, 2)][0], entered + (ends - entered) * 0.35)
    returned = [(stage, entered + (ends - entered) * 0.7)] if at + 1 < len(stages) else []
    return (*stages[: at + 1], back, *returned, *stages[at + 1 :])


def _scorecards(rng: random.Random, managers: list[User], first_day: datetime) -> list[ScorecardTemplate]:
    templates = []
    for name, questions in words.SCORECARDS:
        texts = questions + ("Overall, how did the rep do on this call?",)
        created = first_day - timedelta(days=rng.randrange(60, 400))
        templates.append(
            ScorecardTemplate(
                id=digits(rng, 18),
                name=name,
                questions=tuple((digits(rng, 18), text) for text in texts),
                created=created,
                updated=created + timedelta(days=rng.randrange(1, 50)),
                updater_id=rng.choice(managers).id,
            )
        )
    return templates
