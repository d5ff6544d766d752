"""Event anchors (kg.anchors): figures across currencies, counts, dates, names."""

from __future__ import annotations

import pytest

from kg.anchors import anchor_words, describe, title_marks


def money(text: str) -> set[str]:
    return {w for w in anchor_words(text, "") if w.startswith("zzusd")}


@pytest.mark.parametrize("a, b", [
    ("ICO warns Clearview AI could face £17m fine", "Clearview AI is facing a $23 million fine"),
    ("fined GBP 17 million", "UK privacy commissioner fines Clearview AI $22.6 million."),
    ("a 17 million-pound fine", "gets USD22.68M privacy fine"),
    ("relaunches SenseTime $767m listing", "Reopens $770 Million IPO"),
    ("hit by a 100,000 yuan fine", "fined $15,700"),
])
def test_one_amount_in_two_currencies_or_roundings_shares_an_anchor(a, b):
    assert money(a) and money(b)
    assert money(a) & money(b), (money(a), money(b))


@pytest.mark.parametrize("a, b", [
    ("£17m fine", "$512 million from cornerstone investors"),
    ("$23 million fine", "$30 million fine"),
    ("€1.2bn fine", "$1.2m fine"),
])
def test_different_amounts_share_no_anchor(a, b):
    assert money(a) and money(b)
    assert not money(a) & money(b)


def test_counts_dates_acronyms_and_aliases():
    words = anchor_words("Xpeng deletes 430,000 photos",
                         "On Dec. 14, the Airports Authority of India and the Information "
                         "Commissioner's Office; 10 billion images; French regulator")
    assert "zzn4p3e05" in words and "zzn1e10" in words      # 430,000 and 10 billion
    assert "zzd1214" in words                                  # Dec. 14
    assert "aai" in words and "ico" in words and "france" in words
    assert anchor_words("December 14", "")[0] == "zzd1214"
    # "us" the pronoun is not the United States; "US" and "U.S." are
    assert "usa" not in anchor_words("Tell us", "") and "usa" in anchor_words("US firm", "")
    assert "usa" in anchor_words("U.S. firm", "")


def test_describe_reads_anchors_back():
    (word,) = sorted(money("$22.6 million"))[:1]
    assert describe(word).startswith("money ≈ $") and "M" in describe(word)
    assert describe("zzd1214") == "date 12-14" and describe("clearview") == "clearview"


def test_title_marks_places_and_figures():
    assert title_marks("Maryland schools to close for rest of year") == (frozenset({"maryland"}), frozenset())
    places, figures = title_marks("New Jersey schools closed; Nova Scotia reports nine new cases of COVID-19")
    assert places == {"new_jersey", "nova_scotia"}
    assert figures == {"9"}  # not the 19 of COVID-19
    assert title_marks("Britain's watchdog")[0] == {"uk"}
    assert title_marks("British Columbia orders Clearview")[0] == {"british_columbia"}
    assert title_marks("Outlook for 2022")[1] == frozenset()  # a year is not a figure
