"""Tokens for Chinese full-text search: character unigrams and bigrams, plus trigrams of ASCII letters and digits.

Documents and queries go through the same function, `grams()`, so a query's terms are always a
subset of the terms of any text that contains the query:

* every character of the text is a unigram, every two adjacent characters a bigram;
* three adjacent ASCII letters/digits are also a trigram (credit codes, case numbers and years are
  otherwise made of a few dozen very common bigrams; trigrams make them selective).

A query of one character needs its unigram; a longer query needs all its bigrams and trigrams.
That finds every text containing the query (no false negatives, whatever the text) but bigrams
may co-occur without being adjacent, so the index only proposes candidates and the caller confirms
each with an exact substring check (`needs_confirmation` says when that can be skipped).

No word segmentation: jieba cuts 路面积水 into 路/面积/水 and a search for 积水 would miss it.

Folding: ASCII letters are lower-cased (the case-insensitivity of SQLite's LIKE). Nothing else is
normalised, so the result is exactly a `LIKE '%q%'` scan.

Encoding: a term is written so that both index engines keep it whole — SQLite FTS5 with the
`ascii` tokenizer (every non-ASCII character is a token character, ASCII punctuation separates) and a
PostgreSQL tsvector built from an array (no parser at all). ASCII characters other than letters and
digits are therefore mapped to private-use characters (U+E000 + code). A document may hold such a
private-use character itself; the mapping then merges two characters into one term, which only adds
candidates that the substring check removes.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

FIELD_SEPARATOR = "\x1f"  # joins the fields of one document; never part of a match
ESCAPE_BASE = 0xE000
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def fold(text: str) -> str:
    """Lower-case ASCII letters only (as SQLite's LIKE compares them)."""
    return text.translate(_ASCII_LOWER)


def _is_plain_ascii(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _encode(char: str) -> str:
    code = ord(char)
    if code < 128 and not char.isalnum():
        return chr(ESCAPE_BASE + code)
    return char


def _is_ambiguous(char: str) -> bool:
    """Characters whose term may also stand for another character (see the module docstring)."""
    code = ord(char)
    return (code < 128 and not char.isalnum()) or ESCAPE_BASE <= code < ESCAPE_BASE + 128


@dataclass(frozen=True)
class Grams:
    unigrams: frozenset[str]
    bigrams: frozenset[str]
    trigrams: frozenset[str]

    def all(self) -> frozenset[str]:
        return self.unigrams | self.bigrams | self.trigrams


def grams(text: str) -> Grams:
    """The terms of one piece of text (one field of a document, or a query), already encoded."""
    folded = fold(text)
    encoded = [_encode(c) for c in folded]
    unigrams = frozenset(encoded)
    bigrams = frozenset(a + b for a, b in itertools.pairwise(encoded))
    trigrams = frozenset(
        folded[i:i + 3] for i in range(len(folded) - 2)
        if _is_plain_ascii(folded[i]) and _is_plain_ascii(folded[i + 1]) and _is_plain_ascii(folded[i + 2])
    )
    return Grams(unigrams, bigrams, trigrams)


def document_terms(fields: Iterable[str]) -> list[str]:
    """All terms of a document's fields (no term spans two fields), sorted for a stable index row."""
    terms: set[str] = set()
    for value in fields:
        if value:
            terms |= grams(value).all()
    return sorted(terms)


def document_body(fields: Iterable[str]) -> str:
    """The folded text the substring check runs on: the fields joined by a separator no query holds."""
    return FIELD_SEPARATOR.join(fold(value.replace(FIELD_SEPARATOR, " ")) for value in fields if value)


def query_terms(query: str) -> list[str]:
    """The terms every document containing `query` has. Empty for an empty query (it matches all)."""
    if not query:
        return []
    found = grams(query)
    if len(query) == 1:
        return sorted(found.unigrams)
    # A bigram inside a required trigram filters nothing more: leave it out.
    covered = {t[i:i + 2] for t in found.trigrams for i in (0, 1)}
    return sorted(found.trigrams | (found.bigrams - covered))


def needs_confirmation(query: str) -> bool:
    """Whether index hits must be confirmed by a substring check. Not when the query is a single
    term that stands for itself only: one character, two characters, or three ASCII letters/digits."""
    if len(query) > 3 or any(_is_ambiguous(c) for c in query):
        return True
    if len(query) == 3:
        return not all(_is_plain_ascii(c) for c in fold(query))
    return False


def serialise(terms: Iterable[str]) -> str:
    """Terms as the index stores them: separated by single spaces (terms never contain a space)."""
    return " ".join(terms)
