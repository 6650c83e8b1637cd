"""Splits one Gong call into passages small enough to embed well.

Two sources: the call-level content Gong writes (brief, key points, highlights, outline) and the
transcript. Transcript chunks are whole speaker turns, consecutive, with names resolved from the
call's parties; only a turn longer than a chunk is cut, at sentence ends. Chunk keys are ordinal
per source, so the same call always yields the same keys (the indexer derives point ids from them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# About 90 tokens: all-MiniLM-L6-v2 was trained on passages up to 128 tokens and cuts at 256,
# and a short passage keeps one idea, which is what a question matches.
MAX_CHUNK_CHARS = 400
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    key: str
    text: str
    speaker: str | None = None
    offset_seconds: float | None = None


@dataclass(frozen=True)
class _Unit:
    """One indivisible piece (a turn, a key point, an outline section) before packing."""

    text: str
    offset_seconds: float | None = None
    speaker: str | None = None


def chunk_call(
    content: Mapping[str, Any] | None,
    parties: Sequence[Mapping[str, Any]] | None,
    transcript: Sequence[Mapping[str, Any]] | None,
    *,
    max_chars: int = MAX_CHUNK_CHARS,
) -> list[Chunk]:
    """Every chunk of a call, from its extensive-call `content` and `parties` and its transcript
    segments (`callTranscripts.transcript`). Any of the three may be missing."""
    content = content or {}
    names = speaker_names(parties or [])
    sections: list[tuple[str, str, list[_Unit]]] = [
        ("brief", "Call brief", [_Unit(content.get("brief") or "")]),
        ("key_points", "Key points", [_Unit(f"- {p.get('text') or ''}") for p in content.get("keyPoints") or []]),
        ("highlights", "Highlights", list(_highlight_units(content.get("highlights") or []))),
        ("outline", "Outline", list(_outline_units(content.get("outline") or []))),
        ("transcript", "", list(_turn_units(transcript or [], names))),
    ]
    chunks: list[Chunk] = []
    for key, heading, units in sections:
        chunks.extend(_pack(key, heading, units, max_chars))
    return chunks


def speaker_names(parties: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """speakerId -> the party's name, else its email address (transcripts carry only the id)."""
    names: dict[str, str] = {}
    for party in parties:
        speaker_id = party.get("speakerId")
        label = party.get("name") or party.get("emailAddress")
        if speaker_id and label:
            names[str(speaker_id)] = label
    return names


def _highlight_units(highlights: Iterable[Mapping[str, Any]]) -> Iterable[_Unit]:
    for highlight in highlights:
        for item in highlight.get("items") or []:
            times = item.get("startTimes") or []
            title = highlight.get("title")
            text = f"{title}: {item.get('text') or ''}" if title else item.get("text") or ""
            yield _Unit(text, offset_seconds=_seconds(times[0]) if times else None)


def _outline_units(outline: Iterable[Mapping[str, Any]]) -> Iterable[_Unit]:
    for section in outline:
        items = "; ".join(item.get("text") or "" for item in section.get("items") or [])
        text = f"{section.get('section') or ''}: {items}" if items else section.get("section") or ""
        yield _Unit(text, offset_seconds=_seconds(section.get("startTime")))


def _turn_units(segments: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> Iterable[_Unit]:
    for segment in segments:
        sentences = [s for s in segment.get("sentences") or [] if s.get("text")]
        if not sentences:
            continue
        speaker_id = segment.get("speakerId")
        speaker = names.get(str(speaker_id)) or (f"Speaker {speaker_id}" if speaker_id else "Unknown speaker")
        start_ms = sentences[0].get("start")
        yield _Unit(
            " ".join(s["text"].strip() for s in sentences),
            offset_seconds=start_ms / 1000 if isinstance(start_ms, (int, float)) else None,
            speaker=speaker,
        )


def _pack(key: str, heading: str, units: Sequence[_Unit], max_chars: int) -> list[Chunk]:
    """Consecutive units joined up to `max_chars` per chunk (a heading, if any, starts each chunk)."""
    prefix = f"{heading}:\n" if heading else ""
    pieces = [piece for unit in units for piece in _fit(unit, max_chars - len(prefix))]
    chunks: list[Chunk] = []
    batch: list[_Unit] = []
    size = len(prefix)
    for piece in pieces:
        if batch and size + 1 + len(_line(piece)) > max_chars:
            chunks.append(_chunk(f"{key}:{len(chunks)}", prefix, batch))
            batch, size = [], len(prefix)
        batch.append(piece)
        size += 1 + len(_line(piece))
    if batch:
        chunks.append(_chunk(f"{key}:{len(chunks)}", prefix, batch))
    return chunks


def _fit(unit: _Unit, max_chars: int) -> Iterable[_Unit]:
    """The unit itself if it fits, else consecutive parts of it cut at sentence ends (or, for a
    sentence longer than a chunk, at spaces), each keeping the unit's speaker and time."""
    text = " ".join(unit.text.split())
    if not text:
        return
    room = max_chars - len(_line(_Unit("", speaker=unit.speaker)))
    if len(text) <= room:
        yield _Unit(text, unit.offset_seconds, unit.speaker)
        return
    part = ""
    for word_group in _pieces_within(SENTENCE_END.split(text), room):
        if part and len(part) + 1 + len(word_group) > room:
            yield _Unit(part, unit.offset_seconds, unit.speaker)
            part = ""
        part = f"{part} {word_group}" if part else word_group
    if part:
        yield _Unit(part, unit.offset_seconds, unit.speaker)


def _pieces_within(sentences: Iterable[str], room: int) -> Iterable[str]:
    for sentence in sentences:
        while len(sentence) > room:
            cut = sentence.rfind(" ", 0, room)
            cut = cut if cut > 0 else room
            yield sentence[:cut]
            sentence = sentence[cut:].lstrip()
        if sentence:
            yield sentence


def _line(unit: _Unit) -> str:
    return f"{unit.speaker}: {unit.text}" if unit.speaker else unit.text


def _chunk(key: str, prefix: str, units: Sequence[_Unit]) -> Chunk:
    # A transcript chunk may hold a short exchange: its speaker and time are those of its longest
    # turn, the statement a question most likely matched.
    voiced = [unit for unit in units if unit.speaker]
    main = max(voiced, key=lambda unit: len(unit.text)) if voiced else None
    return Chunk(
        key=key,
        text=prefix + "\n".join(_line(unit) for unit in units),
        speaker=main.speaker if main else None,
        offset_seconds=main.offset_seconds
        if main
        else next((unit.offset_seconds for unit in units if unit.offset_seconds is not None), None),
    )


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None
