"""The dashboard in a real browser: `drawdown run` on the embedded default serves it, headless
Chromium renders it, and the DOM shows what an analyst would see.

Four seeds are replayed before the page opens and the Persian one while it is open, so the
page must pick up ain-al-asad's withdrawal by itself, told by the live stream of alert
events (its slow fallback timer is held still by Playwright's clock). The search box,
the timeline's filters and the counts per language are used as an analyst would.
Screenshots at desktop and phone widths are saved as test artifacts in
``DRAWDOWN_TEST_ARTIFACTS`` (default ``.artifacts/`` in the repository).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import ROOT, SEEDS, drawdown_cli, drawdown_serving

PERSIAN_SEED = "002_167b56c6a4ea1e7f.txt"
ARTIFACTS = Path(os.environ.get("DRAWDOWN_TEST_ARTIFACTS", ROOT / ".artifacts"))
# As root in a container, with this machine's closed network: no sandbox, no GPU, and no
# background connections to Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    found = os.environ.get("DRAWDOWN_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is needed (make test installs Debian's chromium package)")
    return found


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`drawdown run` over a fresh SQLite file with four of the five seeds replayed."""
    sources = tmp_path / "sources.yaml"  # no outlets: nothing beyond this machine
    sources.write_text("sources: []\n", encoding="utf-8")
    env = {"DRAWDOWN_SOURCES": str(sources)}
    first = tmp_path / "first"
    first.mkdir()
    for seed in sorted(SEEDS.iterdir()):
        if seed.name != PERSIAN_SEED:
            shutil.copy(seed, first / seed.name)
    replayed = drawdown_cli("replay", str(first), env=env, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    with drawdown_serving("run", env=env, cwd=tmp_path) as base:
        yield base, env


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
async def browser(artifacts: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def _open(browser: Browser, url: str, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    """A page at ``url`` and the list, growing, of every address it asks for."""
    page = await browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.clock.install()
    await page.goto(url)
    return page, requested


async def _row(page: Page, place: str) -> dict[str, str]:
    return await page.evaluate(  # type: ignore[no-any-return]
        """place => {
            const row = document.querySelector(`[data-place-row="${place}"]`);
            const marker = document.querySelector(`a.place[data-place="${place}"]`);
            return {
                kind: row.querySelector('[data-field="kind"]').textContent.trim(),
                status: row.querySelector('[data-field="status"] .badge').dataset.status,
                marker: marker.dataset.status,
                fill: getComputedStyle(marker.querySelector('circle')).fill,
            };
        }""",
        place,
    )


async def _evidence(page: Page) -> list[dict[str, str | bool]]:
    return await page.evaluate(  # type: ignore[no-any-return]
        """() => [...document.querySelectorAll('blockquote.snippet')].map(q => ({
            text: q.textContent,
            lang: q.lang,
            rtl: q.matches(':dir(rtl)'),
            direction: getComputedStyle(q).direction,
        }))"""
    )


def _arabic_script(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def _same_origin(requested: list[str], base: str) -> None:
    origin = urlsplit(base).netloc
    elsewhere = [url for url in requested if urlsplit(url).netloc != origin]
    assert not elsewhere, f"the page loaded from elsewhere: {elsewhere}"


async def test_dashboard_in_chromium_after_replaying_the_seeds(
    site: tuple[str, dict[str, str]], browser: Browser, tmp_path: Path
) -> None:
    base, env = site
    page, requested = await _open(browser, f"{base}/", DESKTOP)

    qasrak = await _row(page, "qasrak")
    assert qasrak["kind"] == "withdrawal"
    assert qasrak["status"] in {"reported", "corroborated"}
    assert qasrak["marker"] == qasrak["status"]
    before = await _row(page, "ain-al-asad")
    assert before["status"] == before["marker"] == "none"
    shown_before = await page.locator("#timeline li.alert").count()
    assert await page.inner_text("#timeline-count") == f"latest {shown_before}, newest first"

    # The Persian seed arrives while the page is open: the live stream tells the page,
    # which redraws itself (no timer runs: Playwright's clock holds them still).
    await page.wait_for_function(
        "() => document.getElementById('dashboard').dataset.live === 'open'"
    )
    later = tmp_path / "later"
    later.mkdir()
    shutil.copy(SEEDS / PERSIAN_SEED, later / PERSIAN_SEED)
    async with page.expect_response(
        lambda response: "/dashboard/state" in response.url, timeout=120_000
    ):
        replayed = drawdown_cli("replay", str(later), env=env, cwd=tmp_path)
        assert replayed.returncode == 0, replayed.stderr
    await page.wait_for_function(
        """() => document.querySelector('a.place[data-place="ain-al-asad"]')
                 .dataset.status !== 'none'"""
    )
    after = await _row(page, "ain-al-asad")
    assert after["kind"] == "withdrawal"
    assert after["status"] == after["marker"] == "reported"
    assert after["fill"] != before["fill"]  # coloured by status
    timeline = await page.locator("#timeline li.alert").all_inner_texts()
    assert any("withdrawal" in item and "fa" in item for item in timeline), timeline
    # The heading counts what the timeline shows, after the refresh too.
    assert len(timeline) > shown_before
    assert await page.inner_text("#timeline-count") == f"latest {len(timeline)}, newest first"
    languages = await page.eval_on_selector_all(
        "#languages tr[data-language]", "rows => rows.map(r => r.dataset.language)"
    )
    assert {"ar", "fa", "ru"} <= set(languages), languages

    # Filters on the timeline: only Persian reports, then only withdrawals.
    await page.select_option('#alert-filters select[name="language"]', "fa")
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#timeline li.alert')].every("
        "li => li.textContent.includes('fa'))"
    )
    await page.select_option('#alert-filters select[name="language"]', "")
    await page.select_option('#alert-filters select[name="kind"]', "withdrawal")
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#timeline li.alert .kind')].every("
        "k => k.textContent === 'withdrawal')"
    )
    assert "kind=withdrawal" in str(await page.get_attribute("#atom-link", "href"))
    await page.select_option('#alert-filters select[name="kind"]', "")

    # Full-text search over every language: an Arabic word finds the Arabic seed.
    await page.fill("#search-q", "قسرك")
    await page.press("#search-q", "Enter")
    await page.locator("#search-results li.result").first.wait_for()
    results = await page.eval_on_selector_all(
        "#search-results .snippet",
        "items => items.map(s => ({text: s.textContent, rtl: s.matches(':dir(rtl)')}))",
    )
    assert results
    assert any(_arabic_script(r["text"]) and r["rtl"] for r in results), results
    assert "article" in await page.inner_text("#search-status")
    await page.fill("#search-q", "Пентагон*")
    await page.select_option('#search select[name="language"]', "uk")
    await page.press("#search-q", "Enter")
    await page.wait_for_function(
        "() => document.querySelector('#search-results li.result .meta')"
        "?.textContent.includes(' uk ')"
    )
    await page.screenshot(path=ARTIFACTS / "dashboard-desktop.png", full_page=True)
    _same_origin(requested, base)

    # Per-place evidence: Arabic and Persian sentences laid out right to left.
    await page.click('a.place[data-place="qasrak"]')
    await page.wait_for_url(f"{base}/places/qasrak/view")
    qasrak_evidence = await _evidence(page)
    arabic = [q for q in qasrak_evidence if _arabic_script(str(q["text"]))]
    cyrillic = [q for q in qasrak_evidence if not _arabic_script(str(q["text"]))]
    assert arabic, qasrak_evidence
    assert cyrillic, qasrak_evidence
    assert all(q["rtl"] and q["direction"] == "rtl" for q in arabic), arabic
    assert all(q["lang"] == "ar" for q in arabic), arabic  # the sentence's, not the article's
    assert not any(q["rtl"] for q in cyrillic), cyrillic
    await page.screenshot(path=ARTIFACTS / "place-qasrak.png", full_page=True)

    await page.goto(f"{base}/places/ain-al-asad/view")
    persian = await _evidence(page)
    assert persian
    assert all(q["lang"] == "fa" and q["rtl"] for q in persian), persian
    assert "withdrawal" in await page.locator(".status strong").inner_text()
    _same_origin(requested, base)
    await page.close()


async def test_dashboard_is_readable_on_a_phone(
    site: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _ = site
    for path, name in (("/", "dashboard-phone.png"), ("/places/qasrak/view", "place-phone.png")):
        page, requested = await _open(browser, base + path, PHONE)
        # Nothing wider than the screen: wide tables scroll inside their own panels.
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
        await page.screenshot(path=ARTIFACTS / name, full_page=True)
        _same_origin(requested, base)
        await page.close()


async def test_interactive_api_docs_work_offline(
    site: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _ = site
    page, requested = await _open(browser, f"{base}/docs", DESKTOP)
    await page.clock.run_for(1000)
    title = page.locator(".swagger-ui .info .title")
    await title.wait_for()
    assert "Drawdown" in await title.inner_text()
    assert await page.locator(".opblock-summary-path").count() > 10  # the routes are listed
    _same_origin(requested, base)
    await page.close()
