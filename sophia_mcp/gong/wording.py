"""Matching what was said word for word, ignoring case and accents, on both sides of the wire.

Postgres finds candidate calls with full-text search over the transcript's sentences ('simple'
configuration: no stemming, so product codes and names stay as written), after folding accented
Latin letters to their base letter with `translate` (immutable, so it can sit in an index; the
`unaccent` extension would need installing). This program then checks each candidate's sentences
with the same folding and cuts the snippets.

The transcript expression below is also the recommended GIN index's key (layout.py): the planner
uses the index only when a query spells the expression exactly so, hence one function for both.
"""

from __future__ import annotations

import re
import unicodedata

# Every Latin-1 and Latin Extended-A letter that decomposes into an ASCII letter plus marks.
_ACCENTED = "".join(
    ch
    for ch in map(chr, range(0xC0, 0x180))
    if ch.isalpha() and (base := unicodedata.normalize("NFKD", ch)[0]) != ch and base.isascii()
)
_PLAIN = "".join(unicodedata.normalize("NFKD", ch)[0] for ch in _ACCENTED)
_TO_PLAIN = str.maketrans(_ACCENTED, _PLAIN)
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case, accents off: what matching compares."""
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return stripped.translate(_TO_PLAIN).casefold()


def words(text: str) -> list[str]:
    """The folded words of a phrase; punctuation separates them and is otherwise ignored."""
    return _WORD.findall(fold(text))


def _folded_sql(text_sql: str) -> str:
    # The two literals are this module's own constant letters (no quote can occur in them).
    return f"translate({text_sql}, '{_ACCENTED}', '{_PLAIN}')"


def transcript_words_sql(transcript_column: str) -> str:
    """The tsvector of every sentence's text in a callTranscripts.transcript value."""
    sentences = f"jsonb_path_query_array({transcript_column}, '$[*].sentences[*].text')::text"
    return f"to_tsvector('simple'::regconfig, {_folded_sql(sentences)})"


def words_query_sql(phrase_param: str) -> str:
    """A tsquery of every word of the phrase, anywhere (no positions: the index answers it alone)."""
    return f"plainto_tsquery('simple'::regconfig, {_folded_sql(phrase_param)})"


def find(sentence: str, wanted: list[str], exact: bool) -> tuple[int, int] | None:
    """Where the wanted words are in a sentence (start, end in the folded sentence), or None.
    `exact`: the words in this order, one after another; else every word, anywhere in it."""
    folded = fold(sentence)
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
    tokens = [token for _, _, token in spans]
    if exact:
        for index in range(len(tokens) - len(wanted) + 1):
            if tokens[index : index + len(wanted)] == wanted:
                return spans[index][0], spans[index + len(wanted) - 1][1]
        return None
    found = [next((span for span in spans if span[2] == word), None) for word in wanted]
    if any(span is None for span in found):
        return None
    return min(span[0] for span in found if span), max(span[1] for span in found if span)


def snippet(sentence: str, where: tuple[int, int], width: int = 160) -> str:
    """About `width` characters of the sentence around the match, with … where it was cut.
    NFKD can change lengths, so positions are mapped back through the folded prefix lengths."""
    start, end = _original_positions(sentence, where)
    room = max(0, width - (end - start)) // 2
    left, right = max(0, start - room), min(len(sentence), end + room)
    return ("…" if left else "") + sentence[left:right].strip() + ("…" if right < len(sentence) else "")


def _original_positions(sentence: str, where: tuple[int, int]) -> tuple[int, int]:
    offsets, length = [], 0
    for index, ch in enumerate(sentence):
        offsets.append((length, index))
        length += len(fold(ch))
    offsets.append((length, len(sentence)))

    def back(position: int) -> int:
        return next((index for folded, index in reversed(offsets) if folded <= position), 0)

    return back(where[0]), max(back(where[1]), back(where[0]) + 1)
