"""Text as terms (kg.text): folding, content words, bulk numbering."""

from __future__ import annotations

import pytest

from kg import text as kgtext


def test_fold_and_terms():
    assert kgtext.fold("ÉCOLE Électrique") == "ecole electrique"
    assert kgtext.terms("The FRANÇAIS régulateur & Clearview") == ["francais", "regulateur", "clearview"]


@pytest.mark.parametrize("block", [20_000, 7])
def test_bulk_terms_match_terms(block, monkeypatch):
    """text_terms numbers words with numpy (8-byte integers, a folded join of
    a block of texts); every text must get exactly the set of terms() it has
    alone, whatever block it falls in."""
    monkeypatch.setattr(kgtext, "_TEXTS", block)
    import random
    texts = ["", "   ", "The FRANÇAIS régulateur & Clearview", "Clearview AI faces £17m fine in the UK",
             "a b c de", "snake_case under_scores", "Straße ΣΊΣΥΦΟΣ ﬁnance Kelvin", "ＦＵＬＬ ①②③ ½ x²",
             "中文 字符 日本語テキスト", "nul\x00inside\x00text \x00", "x" * 30 + " longwordsofmanyletters",
             "tab\tnew\nline\r\n", "lone \ud800 surrogate", "12 4567 89012345678 987654321a",
             "ÀÉÎÕÜ àéîõü", "it's a test - Reuters", "emoji 😀 text", "ABCDEFGH abcdefgh abcdefghi zzzzzzzz"]
    rng = random.Random(7)
    alphabet = "abcXYZ09 _-'.\u00e9\u00df\u0301\u03a3\u4e2d\x00\u2014\u00a0\ufb01"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(40))) for _ in range(2000)]
    for batch in ([t for t in texts if "\x00" not in t], texts):  # "\x00" joins them
        words, ptr, term = kgtext.text_terms(batch)
        assert words == sorted(set(words))
        for k, text in enumerate(batch):
            mine = term[ptr[k]:ptr[k + 1]].tolist()
            assert mine == sorted(set(mine))
            assert {words[w] for w in mine} == set(kgtext.terms(text)), repr(text)
