"""ingest.links: article links from a section front, in page order, same site only."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.links import article_links

BASE = "https://www.example-news.com/ar/middle-east/"

LISTING = """<!doctype html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>الشرق الأوسط</title>
<link rel="alternate" type="application/rss+xml" href="/ar/rss.xml">
</head><body>
<header>
  <a href="/">الرئيسية</a>
  <a href="/ar/">العربية</a>
  <a href="/ar/middle-east/">الشرق الأوسط</a>
  <a href="/login">دخول</a>
  <a href="/account/register?next=/ar/">تسجيل</a>
  <a href="/search?q=سوريا">بحث</a>
  <a href="/ar/tag/syria/">سوريا</a>
  <a href="/ar/category/iraq/">العراق</a>
  <a href="/ar/author/reporter-1/">مراسلنا</a>
  <a href="/ar/topics/us-forces">القوات الأمريكية</a>
</header>
<main>
  <article><a href="/ar/middle-east/2025/05/06/us-forces-leave-qasrak-base">
    <img src="/img/qasrak.jpg"> انسحاب القوات الأمريكية من قاعدة قسرك</a></article>
  <article><a href="2025/05/06/ain-al-asad-handover.html#comments">تسليم عين الأسد</a></article>
  <a href="https://news.example-news.com/ar/2025/05/05/al-tanf-convoy">قافلة التنف</a>
  <article><a href="/ar/middle-east/2025/05/06/us-forces-leave-qasrak-base#top">مكرر</a></article>
  <a href="/ar/middle-east/2025/05/04/%D8%A7%D9%84%D8%B4%D8%AF%D8%A7%D8%AF%D9%8A">الشدادي</a>
  <article><a href="/archives/735811?utm_source=home&amp;utm_medium=web">أرشيف الخبر</a></article>
  <article><a href="/archives/735811">مكرر بلا تتبع</a></article>
  <a href="/ar/world/">العالم</a>
  <a href="/ar/middle-east/iraq-syria/">العراق وسوريا</a>
  <a href="/media/photos/rmelan.jpg">صورة</a>
  <a href="/docs/report.pdf">تقرير</a>
  <a href="/ar/rss.xml">RSS</a>
  <a href="/ar/feed">Feed</a>
  <a href="/ar/middle-east/?page=2">التالي</a>
  <a href="/ar/middle-east/page/3/">3</a>
  <a href="/ar/2025/05/">أرشيف</a>
</main>
<footer>
  <a href="mailto:desk@example-news.com">راسلنا</a>
  <a href="javascript:void(0)">شارك</a>
  <a href="tel:+96311000000">هاتف</a>
  <a href="#">أعلى</a>
  <a href="https://twitter.com/example_news/status/1">تويتر</a>
  <a href="https://www.example-news.org/ar/2025/05/06/other-site">موقع آخر</a>
  <a href="ftp://files.example-news.com/archive.txt">FTP</a>
  <a href="/contact">اتصل بنا</a>
  <a href="/privacy-policy">خصوصية</a>
</footer>
</body></html>"""


def test_article_links_from_a_listing_page() -> None:
    assert article_links(LISTING, BASE) == [
        "https://www.example-news.com/ar/middle-east/2025/05/06/us-forces-leave-qasrak-base",
        "https://www.example-news.com/ar/middle-east/2025/05/06/ain-al-asad-handover.html",
        "https://news.example-news.com/ar/2025/05/05/al-tanf-convoy",
        "https://www.example-news.com/ar/middle-east/2025/05/04/%D8%A7%D9%84%D8%B4%D8%AF%D8%A7%D8%AF%D9%8A",
        "https://www.example-news.com/archives/735811",
    ]


def test_tracking_parameters_go_and_others_stay() -> None:
    html = '<a href="/news/story.php?id=42&utm_campaign=x&fbclid=abc#top">a</a>'
    assert article_links(html, "https://example.com/news/") == [
        "https://example.com/news/story.php?id=42"
    ]


def test_limit_keeps_the_first_links_in_page_order() -> None:
    assert article_links(LISTING, BASE, limit=2) == [
        "https://www.example-news.com/ar/middle-east/2025/05/06/us-forces-leave-qasrak-base",
        "https://www.example-news.com/ar/middle-east/2025/05/06/ain-al-asad-handover.html",
    ]
    assert article_links(LISTING, BASE, limit=0) == []


def test_base_element_resolves_relative_links() -> None:
    html = '<base href="https://www.example-news.com/en/"><a href="world/2025/05/story-one">x</a>'
    assert article_links(html, "https://www.example-news.com/en/world/") == [
        "https://www.example-news.com/en/world/2025/05/story-one"
    ]


def test_local_server_host_is_its_own_site() -> None:
    html = """<a href="/news/qasrak-base-evacuated">a</a><a href="http://127.0.0.2:8000/news/x">b</a>
    <a href="http://localhost:8000/news/y">c</a>"""
    assert article_links(html, "http://127.0.0.1:8000/news/") == [
        "http://127.0.0.1:8000/news/qasrak-base-evacuated"
    ]


def test_unicode_paths_and_broken_markup() -> None:
    html = '<p><a href="/ru/новости/вывод-войск-касрак">Касрак<a href="http://[::1">bad</a><a href'
    assert article_links(html, "https://example.ru/ru/") == [
        "https://example.ru/ru/новости/вывод-войск-касрак"
    ]


def test_no_links() -> None:
    assert article_links("<p>nothing here</p>", BASE) == []


@settings(max_examples=200, deadline=None)
@given(
    html=st.text(alphabet=st.sampled_from(list("<>a hrefbase=\"'/#?&:.x[]\\")), max_size=200)
    | st.text(max_size=200)
)
def test_article_links_never_raises(html: str) -> None:
    for url in article_links(html, "https://www.example-news.com/ar/"):
        assert url.startswith(("http://", "https://"))
