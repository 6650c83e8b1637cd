"""Splitting a call into passages: call-level content, speaker turns kept whole, bounded size."""

from __future__ import annotations

from sophia_mcp.search.chunking import MAX_CHUNK_CHARS, chunk_call, speaker_names
from tests.search.sample_calls import SAMPLE_CALLS

PARTIES = [
    {"speakerId": "s1", "name": "Dana Lee"},
    {"speakerId": "s2", "emailAddress": "sam@vendor.example"},
    {"speakerId": "s3"},
]


def turn(speaker: str, start_ms: int, *sentences: str) -> dict[str, object]:
    return {
        "speakerId": speaker,
        "sentences": [
            {"start": start_ms + 1000 * i, "end": start_ms + 1000 * i + 900, "text": s} for i, s in enumerate(sentences)
        ],
    }


def test_speaker_names_come_from_the_parties() -> None:
    assert speaker_names(PARTIES) == {"s1": "Dana Lee", "s2": "sam@vendor.example"}


def test_call_level_content_becomes_labelled_chunks() -> None:
    content = {
        "brief": "Acme wants a lower renewal quote.",
        "keyPoints": [{"text": "Budget is capped"}, {"text": "Decision in June"}],
        "highlights": [{"title": "Next steps", "items": [{"text": "Send a revised quote", "startTimes": [754.5]}]}],
        "outline": [
            {"section": "Pricing", "startTime": 600, "items": [{"text": "Quote review"}, {"text": "Discounts"}]}
        ],
    }
    chunks = chunk_call(content, PARTIES, None)
    assert [(c.key, c.text, c.speaker, c.offset_seconds) for c in chunks] == [
        ("brief:0", "Call brief:\nAcme wants a lower renewal quote.", None, None),
        ("key_points:0", "Key points:\n- Budget is capped\n- Decision in June", None, None),
        ("highlights:0", "Highlights:\nNext steps: Send a revised quote", None, 754.5),
        ("outline:0", "Outline:\nPricing: Quote review; Discounts", None, 600.0),
    ]


def test_turns_stay_whole_and_together_with_resolved_names() -> None:
    transcript = [
        turn("s1", 5_000, "The quote is over budget.", "Finance will not sign."),
        turn("s2", 12_000, "Understood."),
        turn("s3", 14_000, "Let us talk about terms."),
        turn("s9", 20_000, "Hello?"),
    ]
    [chunk] = chunk_call(None, PARTIES, transcript)
    assert chunk.key == "transcript:0"
    assert chunk.text == (
        "Dana Lee: The quote is over budget. Finance will not sign.\n"
        "sam@vendor.example: Understood.\n"
        "Speaker s3: Let us talk about terms.\n"
        "Speaker s9: Hello?"
    )
    assert (chunk.speaker, chunk.offset_seconds) == ("Dana Lee", 5.0)


def test_chunks_are_bounded_and_break_between_turns() -> None:
    sentence = "We compared three vendors on cost, support and how fast the rollout could go."
    transcript = [turn("s1" if i % 2 else "s2", 10_000 * i, sentence, sentence) for i in range(12)]
    chunks = chunk_call(None, PARTIES, transcript)
    assert len(chunks) > 3
    assert all(len(chunk.text) <= MAX_CHUNK_CHARS for chunk in chunks)
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            assert line.endswith(sentence)  # no turn is cut: every line is a whole turn
    assert [c.key for c in chunks] == [f"transcript:{i}" for i in range(len(chunks))]


def test_a_turn_longer_than_a_chunk_is_cut_at_sentence_ends_and_keeps_its_speaker() -> None:
    monologue = [f"Point number {i} is about the rollout plan and the training schedule." for i in range(20)]
    chunks = chunk_call(None, PARTIES, [turn("s1", 60_000, *monologue)])
    assert len(chunks) > 1 and all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(c.text.startswith("Dana Lee: Point number") and c.text.endswith("schedule.") for c in chunks)
    assert {(c.speaker, c.offset_seconds) for c in chunks} == {("Dana Lee", 60.0)}
    assert " ".join(c.text.removeprefix("Dana Lee: ") for c in chunks) == " ".join(monologue)


def test_a_sentence_longer_than_a_chunk_is_cut_at_spaces() -> None:
    ramble = " ".join(["word"] * 300)
    chunks = chunk_call({"brief": ramble}, None, None)
    assert len(chunks) > 1 and all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(c.text.startswith("Call brief:\nword") for c in chunks)


def test_missing_or_empty_parts_give_no_chunks() -> None:
    assert chunk_call(None, None, None) == []
    assert chunk_call({"brief": None, "keyPoints": [], "highlights": None}, [], [turn("s1", 0)]) == []


def test_the_same_call_always_gives_the_same_chunks() -> None:
    call = SAMPLE_CALLS[0]
    extensive = call.extensive or {}

    def chunks() -> list[tuple[str, str]]:
        return [(c.key, c.text) for c in chunk_call(extensive["content"], extensive["parties"], call.transcript)]

    assert chunks() == chunks()
    assert {key.split(":")[0] for key, _ in chunks()} == {"brief", "key_points", "transcript"}
