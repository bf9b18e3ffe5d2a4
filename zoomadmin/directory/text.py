"""How names and emails become search keys: case- and accent-folded words.

The same folding is applied to what the directory stores and to what the agent types, so
"Søren", "soren" and "SØREN" meet, and on SQLite and PostgreSQL alike (the databases are
only asked to compare plain lowercase text).
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Letters that NFKD does not take apart into a base letter and a mark.
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
_WORD = re.compile(r"\w+")


# Names repeat (a directory has many Priyas): a sync folds each distinct one once.
@functools.lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """Lowercase, without accents: "Ó Briain-Østergård" -> "o briain-ostergard"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_words(text: str) -> list[str]:
    """The words of a query, folded; punctuation separates words ("o'brien" -> o, brien)."""
    return _WORD.findall(fold(text))


@functools.lru_cache(maxsize=65_536)
def _name_words(names: tuple[str, ...]) -> tuple[str, ...]:
    found: list[str] = []
    for name in names:
        for part in fold(name).split():
            pieces = _WORD.findall(part)
            joined = ["".join(pieces)] if len(pieces) > 1 else []
            for word in (*pieces, *joined):
                if word not in found:
                    found.append(word)
    return tuple(found)


def name_words(*names: str) -> list[str]:
    """The distinct folded words of some names, in order.

    A name part with inner punctuation also counts joined up, so "O'Brien" is found by
    "o brien", "o'brien" and "obrien", and "Min-jun" by "min", "jun" and "minjun".
    """
    return list(_name_words(names))


def search_text(names: list[str]) -> str:
    """What the word-prefix and substring searches look in: the name words, each
    preceded by a space, so that " pri" means "a word starting with pri".

    The email is searched by its own index (exact and prefix); its local part is mostly
    the names again, and left out it halves what the trigram index must hold.
    """
    return " " + " ".join(names) + " "
