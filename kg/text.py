"""Text as terms: folding, content words, headlines without a provider tail,
and the bulk numbering of the terms of many texts at once.

Shared by story detection (:mod:`kg.stories`: term vectors), topic clusters
(:mod:`kg.clusters`: label words) and views (:mod:`kg.views`: matching a
search text), so none of them reaches into another for its text handling.

>>> terms(strip_tail("Clearview AI faces £17m fine in the UK - BBC News"))
['clearview', 'ai', 'faces', '17m', 'fine', 'uk']
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

__all__ = ["fold", "terms", "strip_tail", "text_terms", "sorted_unique", "stem_words",
           "match_words", "first_field", "SYNONYMS"]

_STOP = frozenset("""
a about above after again against all also am an and any are as at be because
been before being below between both but by can could did do does doing down
during each few for from further had has have having he her here hers him his
how i if in into is it its itself just me more most my no nor not now of off
on once only or other our out over own same she should so some such than that
the their them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you
your says said say new news may might one two its it's s t us via amid latest
""".split())
# Combining marks (accents) left by NFKD decomposition.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[^\W_]{2,}")
# "Headline - The New York Times": a short provider tail after a dash or bar.
_TAIL = re.compile(r"\s+[-|\u2013\u2014]\s+[^-|\u2013\u2014]{2,40}$")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text, for matching.

    >>> fold("Reconnaissance FACIALE à Montréal")
    'reconnaissance faciale a montreal'
    """
    if text.isascii():
        return text.lower()  # the common case: nothing to decompose
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def terms(text: str) -> list[str]:
    """The content words of a text: folded, stop words and 1-letter words dropped.

    >>> terms("Clearview AI faces £17m fine in the UK")
    ['clearview', 'ai', 'faces', '17m', 'fine', 'uk']
    """
    return [w for w in _WORD.findall(fold(text)) if w not in _STOP]


# Bulk tokenising (text_terms).  The texts are folded and joined with
# _MARK, a word of its own that no normalisation, case mapping or tokenising
# touches; every other character that is not a word character becomes a
# space.  Words are then found and numbered with numpy rather than made into
# millions of Python strings: a word of up to 8 ASCII characters is numbered
# by its bytes read as one little-endian integer (below _LONG: its last byte
# is at most "z"), and the few longer or non-ASCII words from _LONG up.
_MARK = "\x00"
_LONG = 0x7B << 56
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)
# For ASCII text, ``[^\W_]`` is ``[A-Za-z0-9]``: this table lower-cases
# letters, keeps digits and _MARK and blanks everything else.
_ASCII_WORDS = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 or c == 0
                     else 32 for c in range(256))
_WORD_CHAR = re.compile(r"[^\W_]")
_TEXTS = 20_000  # texts tokenised at once (memory)


def _blanked(texts: list[str], ascii: bool) -> tuple[str, np.ndarray]:
    """The texts folded, joined with _MARK, other non-word characters blanked.

    Returns that text and its characters as bytes (1 for a non-ASCII one).
    """
    sep = f" {_MARK} "
    joined = sep.join(texts) + sep
    if joined.count(_MARK) != len(texts):  # a text holds _MARK: a non-word character too
        joined = sep.join([t.replace(_MARK, " ") for t in texts]) + sep
    if ascii:
        data = joined.encode("ascii").translate(_ASCII_WORDS)
        return data.decode("ascii"), np.frombuffer(data, np.uint8)
    # NFKD and casefold map character by character, and _MARK is a starter
    # without decomposition, so folding the joined texts folds each text.
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", joined)).casefold()
    # Blanked through a code point table in numpy, not a regex over the whole text.
    blank = [ord(c) for c in set(folded) if c != _MARK and not _WORD_CHAR.match(c)]
    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), np.uint32)
    table = np.arange(int(codes.max()) + 1, dtype=np.uint32)
    table[blank] = ord(" ")
    codes = table[codes]
    return (codes.tobytes().decode("utf-32-le", "surrogatepass"),
            np.where(codes < 128, codes, 1).astype(np.uint8))


def _numbered_words(text: str, chars: np.ndarray,
                    long_words: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The words of a :func:`_blanked` text: (text number, word number) of each.

    Words of more than 8 characters or with a non-ASCII one are numbered
    in ``long_words``.
    """
    inside = chars != ord(" ")
    edge = np.concatenate(([False], inside, [False]))
    edge = np.flatnonzero(edge[1:] != edge[:-1])
    starts, ends = edge[0::2], edge[1::2]
    mark = chars[starts] == 0
    which = np.cumsum(mark) - mark  # the marks before each word
    keep = ~mark
    starts, ends, which = starts[keep], ends[keep], which[keep]
    size = ends - starts
    # Every 8 bytes from every offset, as integers.
    data = chars.tobytes() + bytes(8)
    words8 = np.ndarray((len(chars) + 1,), "<u8", data, strides=(1,))
    number = (words8[starts] & _MASKS[np.minimum(size, 8)]).view(np.int64)
    special = size > 8
    special[np.searchsorted(starts, np.flatnonzero(chars == 1), "right") - 1] = True
    others = [text[s:e] for s, e in zip(starts[special].tolist(), ends[special].tolist())]
    for w in others:
        if w not in long_words:
            long_words[w] = _LONG + len(long_words)
    number[special] = np.fromiter(map(long_words.__getitem__, others), np.int64, len(others))
    return which, number


def _word_of(numbers: np.ndarray, long_words: dict[str, int]) -> list[str]:
    """The words of word numbers (see :func:`_numbered_words`)."""
    # Trailing NUL bytes are dropped by numpy; long words' numbers are replaced below.
    out = [b.decode("latin-1") for b in numbers.astype("<u8").view("S8").tolist()]
    if long_words:
        word_of = {v: w for w, v in long_words.items()}
        for k in np.flatnonzero(numbers >= _LONG).tolist():
            out[k] = word_of[int(numbers[k])]
    return out


def text_terms(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The terms of each text (the set of its :func:`terms`), numbered in bulk.

    Returns ``(words, ptr, terms)``: the distinct terms of all the texts,
    sorted, and the numbers (places in ``words``) of text ``k``'s terms as
    ``terms[ptr[k]:ptr[k + 1]]``, increasing.

    >>> words, ptr, numbers = text_terms(["Clearview fined - BBC", "Fined twice"])
    >>> words
    ['bbc', 'clearview', 'fined', 'twice']
    >>> [[words[w] for w in numbers[ptr[k]:ptr[k + 1]]] for k in range(2)]
    [['bbc', 'clearview', 'fined'], ['fined', 'twice']]
    """
    ascii = [t.isascii() for t in texts]
    long_words: dict[str, int] = {}
    found = [(np.zeros(0, np.int64), np.zeros(0, np.int64))]
    for flag in (True, False):
        ks = [k for k, a in enumerate(ascii) if a is flag]
        # A block of texts at a time, each text's words once: the arrays of
        # every word of every text at once are many times their distinct words.
        for b in range(0, len(ks), _TEXTS):
            block = np.array(ks[b:b + _TEXTS], np.int64)
            which, number = _numbered_words(*_blanked([texts[k] for k in block.tolist()], flag), long_words)
            vocab = sorted_unique(number)
            which, word = np.divmod(sorted_unique(which * len(vocab) + np.searchsorted(vocab, number)),
                                    max(len(vocab), 1))
            found.append((block[which], vocab[word]))
    text = np.concatenate([t for t, _ in found])
    number = np.concatenate([w for _, w in found])
    vocab = sorted_unique(number)
    seen = _word_of(vocab, long_words)
    words = sorted(w for w in seen if len(w) > 1 and w not in _STOP)
    rank = dict(zip(words, range(len(words))))
    term = np.array([rank.get(w, -1) for w in seen], np.int64)[np.searchsorted(vocab, number)]
    nv = max(len(words), 1)
    keep = term >= 0  # not a stop word or a 1-character word
    text, term = np.divmod(sorted_unique(text[keep] * nv + term[keep]), nv)
    ptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(text, minlength=len(texts)), out=ptr[1:])
    return words, ptr, term


#: Phrases that name one thing, for matching (``kg stories --match``): the
#: content words of the key, in order, read as those of the value.
SYNONYMS = {
    "face recognition": "facial recognition",
    "facial recognition technology": "facial recognition",
    "frt": "facial recognition",
    "covid 19": "covid", "coronavirus": "covid", "sars cov 2": "covid",
    "artificial intelligence": "ai",
}
_SYNONYM = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True))
                      + r")\b")


def match_words(text: str) -> set[str]:
    """The words a text is matched by: its content words (:func:`terms`:
    case-, accent- and hyphen-insensitive), with :data:`SYNONYMS` read as one.

    >>> sorted(match_words("Face recognition")) == sorted(match_words("facial-recognition"))
    True
    >>> sorted(match_words("COVID-19 and the coronavirus"))
    ['covid']
    """
    return set(_SYNONYM.sub(lambda m: SYNONYMS[m.group(1)], " ".join(terms(text))).split())


def first_field(wanted: set[str], fields: list[tuple[str, set[str]]]) -> str | None:
    """The first field whose words hold all of ``wanted`` (``"several"`` when
    only their union does; None when not even that): where a search matched.

    >>> fields = [("title", match_words("Clearview fined")), ("excerpt", match_words("Face-recognition firm"))]
    >>> first_field(match_words("face recognition"), fields), first_field({"clearview", "firm"}, fields)
    ('excerpt', 'several')
    >>> first_field({"said"}, fields) is None
    True
    """
    seen: set[str] = set()
    for name, words in fields:
        if wanted <= words:
            return name
        seen |= words
    return "several" if wanted <= seen else None


def stem_words(words: list[str]) -> list[str]:
    """The English (Snowball) stems of folded words; made-up words starting
    with ``zz`` (the anchors of :mod:`kg.anchors`) are kept as they are.

    >>> stem_words(["fined", "fines", "watchdogs", "zzusd92a"])
    ['fine', 'fine', 'watchdog', 'zzusd92a']
    """
    import Stemmer  # PyStemmer

    stemmed = Stemmer.Stemmer("english").stemWords(words)
    return [w if w.startswith("zz") else s for w, s in zip(words, stemmed)]


def strip_tail(title: str) -> str:
    """A headline without a short provider tail after a dash or bar.

    >>> strip_tail("Worcester bans facial recognition - The Boston Globe")
    'Worcester bans facial recognition'
    """
    if not ("-" in title or "|" in title or "\u2013" in title or "\u2014" in title):
        return title  # the common case: no dash or bar, no tail (skips the regex)
    stripped = _TAIL.sub("", title)
    return stripped if len(stripped) >= 20 else title


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of ``a``, sorted.

    (numpy 2.3+'s ``np.unique`` hashes integers, slower here than a sort.)

    >>> sorted_unique(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    a = np.sort(a)
    if len(a) > 1:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a

