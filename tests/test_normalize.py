"""Unit tests of the pure normalisation functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from kg.normalize import (
    DateError,
    URLError,
    canonical_url,
    clean_label,
    parse_datetime,
    registrable_domain,
    repair_text,
    topic_key,
    topic_slug,
    web_url,
)


@pytest.mark.parametrize("raw, canon", [
    ("HTTPS://WWW.Example.COM/Path/Case", "https://www.example.com/Path/Case"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com/a#section-2", "https://example.com/a"),
    ("https://example.com/a?utm_source=tw&utm_medium=x&id=7", "https://example.com/a?id=7"),
    ("https://example.com/a?fbclid=abc", "https://example.com/a"),
    ("https://example.com", "https://example.com/"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("https://apnews.com/Business Wire/5054", "https://apnews.com/Business%20Wire/5054"),
])
def test_canonical_url(raw, canon):
    assert canonical_url(raw) == canon


@pytest.mark.parametrize("bad", [
    "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<script>x</script>",
    "ftp://example.com/a", "mailto:a@b.c", "/relative/path", "not a url", "https://",
    "https://exa\nmple.com/", "http://[::1/",
])
def test_canonical_url_refuses_non_http(bad):
    with pytest.raises(URLError):
        canonical_url(bad)


@pytest.mark.parametrize("amp, web", [
    # AMP cache, with the host's hyphens doubled
    ("https://wap-business--standard-com.cdn.ampproject.org/c/s/wap.business-standard.com/article-amp/x.html",
     "https://wap.business-standard.com/article-amp/x.html"),
    ("https://theconversation-com.cdn.ampproject.org/c/s/theconversation.com/amp/info-173584",
     "https://theconversation.com/info-173584"),
    ("https://www-timesunion-com.cdn.ampproject.org/c/s/www.timesunion.com/news/amp/Indy-15250835.php",
     "https://www.timesunion.com/news/Indy-15250835.php"),
    # /amp/ path segment, amp. host, .amp.html, ?amp, ?outputType=amp, amp=1
    ("https://nypost.com/2021/12/15/worcester-bans/amp/", "https://nypost.com/2021/12/15/worcester-bans/"),
    ("https://amp.cnn.com/cnn/2020/05/01/us/x/index.html", "https://cnn.com/cnn/2020/05/01/us/x/index.html"),
    ("https://www.example.com/news/story.amp.html", "https://www.example.com/news/story.html"),
    ("https://www.bbc.co.uk/news/uk-123.amp", "https://www.bbc.co.uk/news/uk-123"),
    ("https://www.example.com/story?amp", "https://www.example.com/story"),
    ("https://www.example.com/story?amp=1&id=3", "https://www.example.com/story?id=3"),
    ("https://www.ft.com/content/abc?outputType=amp", "https://www.ft.com/content/abc"),
])
def test_web_url_of_amp_variants(amp, web):
    assert web_url(amp) == web


def test_web_url_keeps_words_that_merely_contain_amp():
    url = "https://example.com/news/amplifiers-and-campers"
    assert web_url(url) == url


@pytest.mark.parametrize("name, domain", [
    ("www.cbc.ca", "cbc.ca"), ("cbc.ca", "cbc.ca"), ("CBC.CA", "cbc.ca"),
    ("dailymail.co.uk", "dailymail.co.uk"), ("www.dailymail.co.uk", "dailymail.co.uk"),
    ("https://amp.theguardian.com/world/x", "theguardian.com"),
    ("news.bbc.co.uk", "bbc.co.uk"), ("example.com:8080", "example.com"),
    ("foo.blogspot.com", "foo.blogspot.com"),  # a private suffix: each blog is its own
])
def test_registrable_domain(name, domain):
    assert registrable_domain(name) == domain


@pytest.mark.parametrize("bad", ["", "localhost", "co.uk", "not a domain", "com"])
def test_registrable_domain_of_non_domains(bad):
    assert registrable_domain(bad) is None


@pytest.mark.parametrize("raw, fixed", [
    ("SAFRÂ® from RealNetworks", "SAFR® from RealNetworks"),
    ("it&#8217;s", "it\u2019s"),
    ("Tom &amp; Jerry", "Tom & Jerry"),
    ("CafÃ© au lait", "Café au lait"),
    ("plain ascii", "plain ascii"),
    ("quotes ‘stay’ “curly”", "quotes ‘stay’ “curly”"),
    ("bell\x07 and null\x00 gone", "bell and null gone"),
    ("&lt;script&gt;", "<script>"),  # unescaped once, to text: escaping is the view's job
    ("&amp;amp;", "&amp;"),           # exactly one level of entities
])
def test_repair_text(raw, fixed):
    assert repair_text(raw) == fixed


def test_topic_identity_ignores_case_space_and_unicode_form():
    assert topic_key("Coronavirus in US") == topic_key("  coronavirus   IN us ")
    assert topic_key("COVID\u201119") == topic_key("covid-19")
    assert topic_key("Ｃｏｖｉｄ") == topic_key("covid")  # full-width (NFKC)
    assert topic_key("AI") != topic_key("A.I.")
    assert clean_label("  Power\tApps ") == "Power Apps"


def test_topic_slugs_do_not_collide():
    keys = ["c++", "c#", "c", "ai", "a.i.", "power apps", "power-apps"]
    slugs = [topic_slug(k) for k in keys]
    assert len(set(slugs)) == len(slugs)
    assert topic_slug("power apps") == "power-apps"


@pytest.mark.parametrize("value, expected", [
    ("2021-12-15T12:20:00Z", datetime(2021, 12, 15, 12, 20, tzinfo=UTC)),
    ("2019-08-19T14:00:10-07:00", datetime(2019, 8, 19, 21, 0, 10, tzinfo=UTC)),
    ("2021-12-15 12:20:00", datetime(2021, 12, 15, 12, 20, tzinfo=UTC)),
    ("2021-12-15", datetime(2021, 12, 15, tzinfo=UTC)),
    ("Wed, 15 Dec 2021 13:20:00 +0100", datetime(2021, 12, 15, 12, 20, tzinfo=UTC)),
    (datetime(2021, 12, 15, 12, 20), datetime(2021, 12, 15, 12, 20, tzinfo=UTC)),
    (datetime(2021, 12, 15, 14, 20, tzinfo=timezone(timedelta(hours=2))),
     datetime(2021, 12, 15, 12, 20, tzinfo=UTC)),
    (date(2021, 12, 15), datetime(2021, 12, 15, tzinfo=UTC)),
])
def test_parse_datetime_gives_aware_utc(value, expected):
    got = parse_datetime(value)
    assert got == expected and got.tzinfo == UTC


@pytest.mark.parametrize("bad", ["2021-13-45T10:00:00Z", "yesterday", "", 12345, None, ["2021"]])
def test_parse_datetime_refuses_impossible_dates(bad):
    with pytest.raises(DateError):
        parse_datetime(bad)


def _corpus_urls(corpus_dir) -> list[str]:
    import yaml_rs

    urls = []
    for path in sorted(corpus_dir("real").glob("*.md"))[:1500]:
        meta = yaml_rs.loads(path.read_text(encoding="utf-8").split("---\n")[1], parse_datetime=False)
        for entry in [meta] + (meta.get("related") or []):
            urls += [entry[k] for k in ("webUrl", "ampWebUrl", "cdnAmpWebUrl", "originalUrl") if entry.get(k)]
            urls += [img["url"] for img in entry.get("images") or []]
    return urls


def test_canonical_url_fast_path_agrees_with_the_full_parse(corpus_dir):
    import kg.normalize as n
    urls = _corpus_urls(corpus_dir)
    assert len(urls) > 5000
    # A leading space never matches the fast path: it forces the full parse.
    assert [n.canonical_url(u) for u in urls] == [n.canonical_url.__wrapped__(" " + u) for u in urls]


def test_plain_url_split_is_urlsplits(corpus_dir):
    from urllib.parse import urlsplit

    import kg.normalize as n
    odd = ["https://a.org/?", "https://a.org/p?q?r", "http://a-b.c.org/x/?y=1&z", "https://a.org/é?x=ü",
           "https://a.org//double//slash", "https://x.cdn.ampproject.org/c/s/a.org/p?amp=1"]
    plain = [u for u in _corpus_urls(corpus_dir) + odd if n._PLAIN.match(u)]
    assert len(plain) > 5000
    for u in plain:
        parts = urlsplit(u)
        assert n._split_plain(u) == (parts.scheme, parts.netloc, parts.path, parts.query), u
        assert parts.fragment == "" and parts.hostname == parts.netloc


def test_web_url_fast_path_agrees_with_the_full_parse(corpus_dir):
    import kg.normalize as n
    canon = {n.canonical_url(u) for u in _corpus_urls(corpus_dir)}
    amp = [u for u in canon if "amp" in u.lower()]
    assert len(amp) > 1000
    # A leading space makes canonical_url take the full parse; web_url then splits what it gives.
    assert [n.web_url(u) for u in amp] == [n.web_url.__wrapped__(" " + u) for u in amp]


def _texts(corpus_dir) -> list[str]:
    import yaml_rs

    texts = []
    for name in ("real", "ai-facial"):
        for path in sorted(corpus_dir(name).glob("*.md")):
            meta = yaml_rs.loads(path.read_text(encoding="utf-8").split("---\n")[1], parse_datetime=False)
            for entry in [meta] + (meta.get("related") or []):
                texts += [v for k in ("title", "excerpt") if isinstance(v := entry.get(k), str)]
    return texts


def test_the_mojibake_prefilter_never_hides_mojibake(corpus_dir):
    from ftfy.badness import is_bad

    from kg.normalize import _mojibake_suspects
    needed = _mojibake_suspects()
    assert needed is not None  # the installed ftfy's test is the one it was read from
    texts = [t for t in _texts(corpus_dir) if not t.isascii()]
    # mojibake made the usual ways: UTF-8 bytes read as Windows-1252, Latin-1, MacRoman
    for t in texts[:3000]:
        for codec in ("cp1252", "latin-1", "mac_roman"):
            texts.append(t.encode("utf-8").decode(codec, errors="replace"))
    bad = [t for t in texts if is_bad(t)]
    assert len(bad) > 1000
    assert all(needed.search(t) for t in bad)
    # typography alone never needs the full test
    assert not needed.search("It’s “quoted” – and — so on… • « »\u00a0‘x’")


def test_no_pair_of_characters_without_a_suspect_looks_like_mojibake():
    # every short text over the characters ftfy's pattern names, less the
    # suspects, passes ftfy's badness test: the prefilter skips no mojibake
    import string

    from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES, is_bad

    from kg.normalize import _class_chars, _mojibake_suspects
    needed = _mojibake_suspects()
    named = set().union(*map(_class_chars, MOJIBAKE_CATEGORIES.values()))
    named |= {c for c in BADNESS_RE.pattern if not c.isascii()}
    others = sorted(c for c in named | set(string.printable) if not needed.search(c))
    assert len(others) > 250
    assert not [a + b for a in others for b in others if is_bad(a + b)]
    assert not [t for t in (" " + a + b + c for a in others for b in "Aa .’–" for c in others)
                if is_bad(t)]
