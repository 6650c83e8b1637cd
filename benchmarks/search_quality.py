"""Search quality on the sample data: semantic search against keyword search, on labelled questions.

    python -m benchmarks.search_quality [--calls 1000] [--seed 7] [--work-dir DIR] [--write]
    python -m benchmarks.search_quality --int8 [--write]   # ~8 min: the quality gate of the int8 copy

Builds the sample Gong data (`load_sample_data`, fixed date), indexes it with `run_index` (the real
model, a local Qdrant folder), then asks every question of QUESTIONS three ways:

- semantic: `SearchStore.search` in `semantic` mode, what `gong_semantic_search` runs (model + Qdrant, grouped by call);
- keyword, BM25: Okapi BM25 (k1=1.2, b=0.75) over each call's text, the same chunks that were
  indexed, tokenised by Postgres' `english` text search configuration (stemmed, stop words out);
- keyword, Postgres full-text: `ts_rank_cd` over the same per-call `tsvector`, the question's
  words OR-ed (AND would find nothing for most questions).

Not `gong_search_calls`: its `text` matches call titles only (`ILIKE`), so a whole question finds
nothing; the two keyword baselines above search exactly the text semantic search sees.

A question's answers are the calls whose generator themes (manifest) include its theme, within its
account when it names one (the account is then a filter for every method). Recall@5 is capped
(hits in the top 5 / min(5, answers)); MRR looks at the top 10. A question is "paraphrased" when it
shares no stemmed word with anything the generator writes for its theme (title, topic, tracker,
brief, key points, both sides' lines, the names filled into them): this is checked, not declared.

With --write, the tables replace the quality section of benchmarks/SEARCH.md. With --int8 the same
questions are asked of an index built by the fp32 model and of one built by its int8 copy
(`SOPHIA_EMBEDDING_QUANTIZE=int8`), and the comparison replaces the int8 section instead.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread
import asyncpg

from benchmarks.search_common import MODEL_PATH, REPO, index_settings, postgres_server, sample_database
from sophia_mcp.sample.gong import vocabulary as words
from sophia_mcp.sample.gong_data import SampleManifest
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.indexer import run_index
from sophia_mcp.search.model import PayloadFields, SearchFilters, SearchMode
from sophia_mcp.search.qdrant import INDEX_STATE_POINT_ID
from sophia_mcp.search.store import SearchStore
from sophia_mcp.settings import Settings

SEARCH_MD = REPO / "benchmarks" / "SEARCH.md"
TOP = 5
MRR_DEPTH = 10


@dataclass(frozen=True)
class Question:
    text: str
    theme: str
    account: str | None = None
    name: str | None = None  # an exact name or code: the answers are the calls whose text says it


NAME_THEME = "exact_name"


def named(text: str, name: str, account: str | None = None) -> Question:
    return Question(text, NAME_THEME, account, name)


# Written from sophia_mcp/sample/gong/vocabulary.py: what the calls of each theme say, asked the
# way a manager would ask it. The first of each theme's questions avoid the theme's words; the
# benchmark checks which ones really do.
QUESTIONS: tuple[Question, ...] = (
    # pricing_objection
    Question("they balked at what we charge", "pricing_objection"),
    Question("prospects who think we are too expensive", "pricing_objection"),
    Question("customer asked for a discount on the price", "pricing_objection"),
    Question("per-seat cost is above their budget", "pricing_objection"),
    # security_review
    Question("buyers worried about how we protect their information", "security_review"),
    Question("their infosec people demanded an audit certificate", "security_review"),
    Question("SOC 2 report and vendor security questionnaire", "security_review"),
    # integration_questions
    Question("can it plug into the tools their reps already work in", "integration_questions"),
    Question("hooking our platform up to their CRM", "integration_questions"),
    Question("API access and syncing custom fields", "integration_questions"),
    # competitor_mention
    Question("they are shopping around with rival suppliers", "competitor_mention"),
    Question("looking at alternatives to us", "competitor_mention"),
    Question("also evaluating a competitor in parallel", "competitor_mention"),
    # renewal_risk
    Question("the account might walk away when the agreement expires", "renewal_risk"),
    Question("hardly anybody opens the app so they could drop us", "renewal_risk"),
    Question("renewal at risk because of low adoption", "renewal_risk"),
    # implementation_timeline
    Question("how soon can they get up and running", "implementation_timeline"),
    Question("deployment schedule for their staff", "implementation_timeline"),
    Question("onboarding and go-live timeline", "implementation_timeline"),
    # procurement_legal
    Question("their lawyers want changes to the paperwork", "procurement_legal"),
    Question("negotiating terms with the buying department", "procurement_legal"),
    Question("MSA redlines and the DPA", "procurement_legal"),
    # budget_freeze
    Question("the deal is paused because the company stopped all purchases", "budget_freeze"),
    Question("money is tight and leadership blocked every expense", "budget_freeze"),
    Question("project on hold because of a spending freeze", "budget_freeze"),
    # roi_business_case
    Question("they must prove the payoff to the finance chief", "roi_business_case"),
    Question("evidence that it pays for itself", "roi_business_case"),
    Question("business case with a clear return on investment", "roi_business_case"),
    # feature_request
    Question("capabilities they wish we had", "feature_request"),
    Question("things users want added in future versions", "feature_request"),
    Question("feature request for PDF export of dashboards", "feature_request"),
    # one account at a time: few answers, so the ranking matters
    Question("did they balk at what we charge", "pricing_objection", "Acme Corp"),
    Question("were they worried about how we protect their information", "security_review", "Acme Corp"),
    Question("is the renewal at risk", "renewal_risk", "Globex"),
    Question("might they walk away when the agreement expires", "renewal_risk", "Globex"),
    Question("are they shopping around with rival suppliers", "competitor_mention", "Initech"),
    Question("their lawyers want changes to the paperwork", "procurement_legal", "Initech"),
    Question("did they ask for features we do not have", "feature_request", "Umbrella Corp"),
    Question("was spending frozen", "budget_freeze", "Hooli"),
    Question("how soon can they get up and running", "implementation_timeline", "Stark Industries"),
    Question("do they need a business case for the CFO", "roi_business_case", "Wayne Enterprises"),
    # Questions that hinge on an exact name (competitors, identity providers, systems): dense
    # embeddings know meaning, not these names. Answers: the calls whose indexed text says the name.
    named("calls where Chorally came up", "Chorally"),
    named("deals where DealSignal is in the running", "DealSignal"),
    named("what did prospects say about Revio", "Revio"),
    named("anyone comparing us with CallMetrics", "CallMetrics"),
    named("Clarion AI", "Clarion AI"),
    named("customers who log in with Okta", "Okta"),
    named("OneLogin", "OneLogin"),
    named("Azure AD setup", "Azure AD"),
    named("exporting data to Snowflake", "Snowflake"),
    named("Zendesk", "Zendesk"),
    named("syncing leads with Marketo", "Marketo"),
    named("teams on HubSpot", "HubSpot"),
    named("Chorally", "Chorally", "Acme Corp"),
)


def exact_name_questions(documents: dict[str, str], people: int = 8, amounts: int = 4) -> list[Question]:
    """Questions that hinge on a rare exact string of this sample: a customer contact who speaks in
    2-6 calls (the transcript turns carry the speaker's full name) and a quoted dollar amount said in
    2-3 calls. Picked in name order, so a seed always asks the same ones."""
    speakers: Counter[str] = Counter()
    dollars: Counter[str] = Counter()
    for text in documents.values():
        speakers.update(set(re.findall(r"^([A-Z][a-z]+ [A-Z][A-Za-z'ü]+):", text, re.M)))
        dollars.update(set(re.findall(r"\$[0-9]{2,3},000\b", text)))
    rare_people = sorted(name for name, count in speakers.items() if 2 <= count <= 6)[:people]
    rare_dollars = sorted(amount for amount, count in dollars.items() if 2 <= count <= 3)[:amounts]
    return [named(f"what did {name} tell us", name) for name in rare_people] + [
        named(f"the {amount} figure", amount) for amount in rare_dollars
    ]


def theme_texts(key: str) -> list[str]:
    theme = words.THEMES_BY_KEY[key]
    fills = (*words.COMPETITORS, *words.IDENTITY_PROVIDERS, *words.SYSTEMS, *words.QUARTERS)
    return [
        theme.topic,
        theme.tracker,
        theme.title,
        theme.brief,
        *theme.key_points,
        *theme.customer_lines,
        *theme.rep_lines,
        *fills,
    ]


# --- keyword baselines over the indexed text ------------------------------------------------------


@dataclass
class KeywordIndex:
    """Each call's indexed text as Postgres `english` lexemes, for BM25 and `ts_rank_cd`."""

    connection: asyncpg.Connection
    counts: dict[str, Counter[str]]
    accounts: dict[str, list[str]]

    @classmethod
    async def build(cls, connection: asyncpg.Connection, documents: dict[str, str], accounts: dict[str, list[str]]):
        await connection.execute("DROP TABLE IF EXISTS bench_keyword_docs")
        await connection.execute(
            "CREATE TABLE bench_keyword_docs (call_id text PRIMARY KEY, accounts text, tsv tsvector)"
        )
        await connection.executemany(
            "INSERT INTO bench_keyword_docs VALUES ($1, $2, to_tsvector('english', $3))",
            [(call_id, " | ".join(accounts.get(call_id, [])), text) for call_id, text in documents.items()],
        )
        rows = await connection.fetch(
            "SELECT call_id, (unnest(tsv)).lexeme, array_length((unnest(tsv)).positions, 1) AS n "
            "FROM bench_keyword_docs"
        )
        counts: dict[str, Counter[str]] = {call_id: Counter() for call_id in documents}
        for row in rows:
            # tsvector keeps at most 256 positions per lexeme; no call comes near that.
            counts[row["call_id"]][row["lexeme"]] = row["n"] or 1
        return cls(connection, counts, accounts)

    async def lexemes(self, text: str) -> list[str]:
        return list(await self.connection.fetchval("SELECT tsvector_to_array(to_tsvector('english', $1))", text))

    def candidates(self, account: str | None) -> list[str]:
        if account is None:
            return list(self.counts)
        wanted = account.lower()
        return [c for c in self.counts if any(wanted in name.lower() for name in self.accounts.get(c, []))]

    async def bm25(self, question: str, account: str | None, limit: int, k1: float = 1.2, b: float = 0.75) -> list[str]:
        terms = await self.lexemes(question)
        docs = self.counts
        n = len(docs)
        lengths = {c: sum(counts.values()) for c, counts in docs.items()}
        average = sum(lengths.values()) / n
        df = {t: sum(1 for counts in docs.values() if t in counts) for t in terms}
        idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms}
        scores = {}
        for call_id in self.candidates(account):
            counts = docs[call_id]
            score = 0.0
            for t in terms:
                tf = counts.get(t, 0)
                if tf:
                    score += idf[t] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[call_id] / average))
            if score > 0:
                scores[call_id] = score
        return [c for c, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]]

    async def full_text(self, question: str, account: str | None, limit: int) -> list[str]:
        terms = await self.lexemes(question)
        if not terms:
            return []
        query = " | ".join("'" + t.replace("'", "''") + "'" for t in terms)
        rows = await self.connection.fetch(
            "SELECT call_id FROM bench_keyword_docs, to_tsquery('simple', $1) AS q "
            "WHERE tsv @@ q AND ($2::text IS NULL OR accounts ILIKE '%' || $2 || '%') "
            "ORDER BY ts_rank_cd(tsv, q, 1) DESC, call_id LIMIT $3",
            query,
            account,
            limit,
        )
        return [row["call_id"] for row in rows]


# --- scoring --------------------------------------------------------------------------------------


def answers(manifest: SampleManifest, question: Question, documents: dict[str, str]) -> set[str]:
    if question.name is not None:
        said = re.compile(rf"(?<![\w$]){re.escape(question.name)}(?!\w)", re.I)
        return {
            call_id
            for call_id, text in documents.items()
            if said.search(text) and (question.account is None or manifest.calls[call_id].account_name == question.account)
        }
    return {
        call.id
        for call in manifest.calls_about(question.theme)
        if question.account is None or call.account_name == question.account
    }


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = TOP) -> float:
    return len(set(ranked[:k]) & relevant) / min(k, len(relevant))


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], depth: int = MRR_DEPTH) -> float:
    return next((1 / (i + 1) for i, call_id in enumerate(ranked[:depth]) if call_id in relevant), 0.0)


@dataclass
class Row:
    question: Question
    paraphrased: bool
    relevant: set[str]
    ranked: dict[str, list[str]]  # method -> call ids, best first

    def recall(self, method: str) -> float:
        return recall_at(self.ranked[method], self.relevant)

    def mrr(self, method: str) -> float:
        return reciprocal_rank(self.ranked[method], self.relevant)


METHODS = ("hybrid", "semantic", "keyword", "bm25", "full_text")
LABELS = {
    "hybrid": "hybrid (default: dense + BM25, RRF)",
    "semantic": "semantic (all-MiniLM-L6-v2 + Qdrant)",
    "keyword": "keyword mode (Qdrant BM25)",
    "bm25": "keyword: BM25 on the same text",
    "full_text": "keyword: Postgres full-text (ts_rank_cd, OR)",
}


def table(rows: Sequence[Row]) -> str:
    subsets = (
        ("all questions", rows),
        ("paraphrased (no word of the theme)", [r for r in rows if r.paraphrased]),
        ("using the calls' words", [r for r in rows if not r.paraphrased]),
        ("with an account filter", [r for r in rows if r.question.account]),
        ("exact names (new)", [r for r in rows if r.question.name]),
        ("the 41 theme questions", [r for r in rows if not r.question.name]),
    )
    lines = ["| questions | n | " + " | ".join(f"{LABELS[m]} R@5 / MRR" for m in METHODS) + " |"]
    lines.append("| --- | --- |" + " --- |" * len(METHODS))
    for name, subset in subsets:
        cells = []
        for method in METHODS:
            recall = statistics.mean(r.recall(method) for r in subset)
            mrr = statistics.mean(r.mrr(method) for r in subset)
            cells.append(f"{recall:.2f} / {mrr:.2f}")
        lines.append(f"| {name} | {len(subset)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_question(rows: Sequence[Row]) -> str:
    lines = [
        "| question | theme | account | paraphrased | answers | hybrid R@5 | semantic R@5 | keyword mode R@5 "
        "| BM25 R@5 | full-text R@5 |"
    ]
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        cells = [f"{r.recall(m):.1f}" for m in METHODS]
        lines.append(
            f"| {r.question.text} | {r.question.theme} | {r.question.account or ''} | "
            f"{'yes' if r.paraphrased else 'no'} | {len(r.relevant)} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


# --- the run --------------------------------------------------------------------------------------


def indexed_text(settings: Settings) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each call's chunks joined, and its account names, read back from the collection."""
    import qdrant_edge

    fields = PayloadFields.from_settings(settings.qdrant)
    assert settings.qdrant.path is not None
    shard = qdrant_edge.EdgeShard.load(str(settings.qdrant.path / settings.qdrant.collection))
    try:
        texts: dict[str, list[str]] = {}
        accounts: dict[str, list[str]] = {}
        records, _ = shard.scroll(qdrant_edge.ScrollRequest(limit=10_000_000, with_payload=True))
        for point in records:
            if str(point.id) == INDEX_STATE_POINT_ID:
                continue
            payload = point.payload or {}
            call_id = payload[fields.call_id]
            texts.setdefault(call_id, []).append(payload[fields.text])
            accounts[call_id] = payload.get(fields.account_names) or []
    finally:
        shard.close()
    return {call_id: "\n".join(chunks) for call_id, chunks in texts.items()}, accounts


async def run(calls: int, seed: int, work_dir: Path) -> tuple[list[Row], dict[str, float]]:
    with postgres_server(work_dir) as admin_url:
        return await evaluate(admin_url, calls, seed, work_dir)


async def evaluate(
    admin_url: str, calls: int, seed: int, work_dir: Path, embedder: FastEmbedProvider | None = None
) -> tuple[list[Row], dict[str, float]]:
    """Build the sample database and its index, and ask every question three ways."""
    facts: dict[str, float] = {}
    started = time.perf_counter()
    url, manifest = await sample_database(admin_url, "sophia_bench_search_quality", calls, seed)
    facts["load_s"] = time.perf_counter() - started
    settings = index_settings(url, work_dir / "qdrant")  # path replaced below, once the embedder is known
    embedder = embedder or FastEmbedProvider(model_path=settings.embedding.model_path)
    variant = "int8" if embedder.model.endswith("(int8)") else "fp32"
    settings = index_settings(url, work_dir / f"qdrant-{calls}-{seed}-{variant}")
    report = await run_index(settings, embedder=embedder)
    facts.update(indexed_calls=report.calls_indexed, index_s=report.seconds, index_load=os.getloadavg()[0])
    documents, accounts = await anyio.to_thread.run_sync(indexed_text, settings)
    facts["calls"] = len(documents)
    connection = await asyncpg.connect(url)
    try:
        keyword = await KeywordIndex.build(connection, documents, accounts)
        theme_lexemes = {key: set(await keyword.lexemes(" ".join(theme_texts(key)))) for key in words.THEMES_BY_KEY}
        store = SearchStore(settings.qdrant, embedder)
        rows = []
        try:
            for question in (*QUESTIONS, *exact_name_questions(documents)):
                relevant = answers(manifest, question, documents)
                if not relevant:  # a smaller --calls may leave an account without such a call
                    print(f"skipped, no call answers it: {question}", file=sys.stderr)
                    continue
                filters = SearchFilters(account_name=question.account) if question.account else None
                ranked = {
                    mode.value: [hit.call_id for hit in await store.search(question.text, filters, MRR_DEPTH, mode)]
                    for mode in SearchMode
                }
                ranked |= {
                    "bm25": await keyword.bm25(question.text, question.account, MRR_DEPTH),
                    "full_text": await keyword.full_text(question.text, question.account, MRR_DEPTH),
                }
                if question.name is None:
                    overlap = set(await keyword.lexemes(question.text)) & theme_lexemes[question.theme]
                else:
                    overlap = {question.name}  # a name is the calls' own word
                rows.append(Row(question, not overlap, relevant, ranked))
        finally:
            await store.aclose()
            await connection.execute("DROP TABLE IF EXISTS bench_keyword_docs")
    finally:
        await connection.close()
    return rows, facts


def report(rows: Sequence[Row], facts: dict[str, float], calls: int, seed: int) -> str:
    paraphrased = [r for r in rows if r.paraphrased]
    sem = statistics.mean(r.recall("semantic") for r in paraphrased)
    best_keyword = max(statistics.mean(r.recall(m) for r in paraphrased) for m in ("bm25", "full_text"))
    names = [r for r in rows if r.question.name]

    def mean(subset: Sequence[Row], method: str) -> float:
        return statistics.mean(r.recall(method) for r in subset)

    return "\n".join(
        [
            "## Quality: semantic against keyword search",
            "",
            f"Modes of `gong_semantic_search`: over all {len(rows)} questions hybrid (the default) reaches R@5 "
            f"{mean(rows, 'hybrid'):.2f} against {mean(rows, 'semantic'):.2f} for semantic and "
            f"{mean(rows, 'keyword'):.2f} for keyword mode; on the {len(names)} exact-name questions "
            f"{mean(names, 'hybrid'):.2f} against {mean(names, 'semantic'):.2f} (semantic) and "
            f"{mean(names, 'keyword'):.2f} (keyword).",
            "",
            f"`python -m benchmarks.search_quality --calls {calls} --seed {seed}`: {int(facts['calls'])} sample calls "
            f"(seed {seed}), {len(rows)} labelled questions ({len(paraphrased)} paraphrased). "
            "Answers come from the generator's manifest (a call's themes, within the question's account when "
            "it names one). R@5 is capped recall (answers in the top 5 / min(5, answers)); MRR looks at the top 10. "
            "Both keyword baselines search exactly the text that was embedded, per call, with the same account "
            "filter; `gong_search_calls` is not one of them because its `text` matches titles only.",
            "",
            table(rows),
            "",
            f"On the paraphrased questions semantic search reaches R@5 {sem:.2f} against {best_keyword:.2f} for the "
            f"better keyword baseline{' (semantic wins)' if sem > best_keyword else ' (SEMANTIC DOES NOT WIN)'}. "
            "The sample calls are generated from a small vocabulary (10 themes, each said a handful of ways), "
            "so absolute scores are kinder than real calls would give; the gap between the methods is the finding. "
            "Misses are mostly vague questions (\"capabilities they wish we had\", \"evidence that it pays for "
            "itself\") that land on neighbouring themes.",
            "",
            "<details><summary>Per question</summary>",
            "",
            per_question(rows),
            "",
            "</details>",
        ]
    )


INT8_SECTION = "## Quality: the int8 copy against the fp32 model"
# The int8 copy may become the default only if recall@5 over all questions moves by less than this.
INT8_GATE = 0.02


async def run_int8(calls: int, seed: int, work_dir: Path) -> tuple[list[Row], list[Row], dict[str, float]]:
    """The questions asked of an fp32-built and an int8-built index of the same sample calls."""
    with postgres_server(work_dir) as admin_url:
        fp32, facts = await evaluate(admin_url, calls, seed, work_dir)
        int8_embedder = FastEmbedProvider(model_path=MODEL_PATH, quantize="int8", cache_dir=work_dir / "models")
        int8, int8_facts = await evaluate(admin_url, calls, seed, work_dir, int8_embedder)
    facts.update({f"int8_{key}": value for key, value in int8_facts.items()})
    return fp32, int8, facts


def int8_report(fp32: Sequence[Row], int8: Sequence[Row], facts: dict[str, float], calls: int, seed: int) -> str:
    def subsets(rows: Sequence[Row]) -> list[tuple[str, Sequence[Row]]]:
        return [
            ("all questions", rows),
            ("paraphrased (no word of the theme)", [r for r in rows if r.paraphrased]),
            ("with an account filter", [r for r in rows if r.question.account]),
            ("exact names", [r for r in rows if r.question.name]),
            ("the 41 theme questions", [r for r in rows if not r.question.name]),
        ]

    def cell(rows: Sequence[Row], method: str) -> str:
        return f"{statistics.mean(r.recall(method) for r in rows):.2f} / {statistics.mean(r.mrr(method) for r in rows):.2f}"

    assert [r.question for r in fp32] == [r.question for r in int8], "both indexes must answer the same questions"
    lines = [
        INT8_SECTION,
        "",
        f"`python -m benchmarks.search_quality --int8 --calls {calls} --seed {seed}`: the same {int(facts['calls'])} "
        f"sample calls indexed twice, by the fp32 model and by its int8 copy (`SOPHIA_EMBEDDING_QUANTIZE=int8`, "
        f"questions embedded by the same variant), {len(fp32)} questions. Indexing took {facts['index_s']:.0f} s "
        f"(fp32) and {facts['int8_index_s']:.0f} s (int8) for {int(facts['indexed_calls'])} calls, run one after "
        f"the other (1-minute load average after each: {facts['index_load']:.1f} and {facts['int8_index_load']:.1f}).",
        "",
        "| questions | n | hybrid fp32 R@5 / MRR | hybrid int8 R@5 / MRR | semantic fp32 R@5 / MRR | semantic int8 R@5 / MRR |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (name, a), (_, b) in zip(subsets(fp32), subsets(int8), strict=True):
        lines.append(
            f"| {name} | {len(a)} | {cell(a, 'hybrid')} | {cell(b, 'hybrid')} | {cell(a, 'semantic')} | {cell(b, 'semantic')} |"
        )
    verdicts = []
    for method in ("hybrid", "semantic"):
        delta = statistics.mean(r.recall(method) for r in int8) - statistics.mean(r.recall(method) for r in fp32)
        verdicts.append(f"{method} {delta:+.3f}")
    worst = min(
        statistics.mean(r.recall(m) for r in int8) - statistics.mean(r.recall(m) for r in fp32)
        for m in ("hybrid", "semantic")
    )
    passed = worst > -INT8_GATE
    lines += [
        "",
        f"Change of recall@5 over all questions, int8 minus fp32: {', '.join(verdicts)}. The gate is "
        f"{INT8_GATE}: the int8 copy {'passes' if passed else 'FAILS'} it.",
    ]
    return "\n".join(lines)


def write_section(text: str, heading: str) -> None:
    """Replace the section starting at `heading` (up to the next `## `) in SEARCH.md, or append it."""
    current = SEARCH_MD.read_text() if SEARCH_MD.exists() else "# Semantic search: quality and speed\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text.rstrip() + "\n\n", current)
    else:
        updated = current.rstrip() + "\n\n" + text.rstrip() + "\n"
    SEARCH_MD.write_text(updated.rstrip() + "\n")


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work-dir", type=Path, help="keep Postgres and the index here (default: a temporary folder)")
    parser.add_argument("--write", action="store_true", help="write the tables into benchmarks/SEARCH.md")
    parser.add_argument("--int8", action="store_true", help="the int8 copy against the fp32 model (the quality gate)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    with ExitStack() as stack:
        work_dir = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sophia-bench-quality-")))
        work_dir.mkdir(parents=True, exist_ok=True)
        if args.int8:
            fp32, int8, facts = anyio.run(run_int8, args.calls, args.seed, work_dir)
            text = int8_report(fp32, int8, facts, args.calls, args.seed)
            print(text)
            if args.write:
                write_section(text, INT8_SECTION)
            return 0
        rows, facts = anyio.run(run, args.calls, args.seed, work_dir)
    text = report(rows, facts, args.calls, args.seed)
    print(text)
    print(f"\n(load {facts['load_s']:.0f} s, index {facts['index_s']:.0f} s for {facts['indexed_calls']:.0f} calls)", file=sys.stderr)
    if args.write:
        write_section(text, "## Quality: semantic against keyword search")
    return 0


if __name__ == "__main__":
    sys.exit(main())
