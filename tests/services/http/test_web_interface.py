"""The web interface in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium; nothing is downloaded at test time), served by `recsys serve all`: a shopper queries,
filters, purchases and sees the list change; errors read in plain words; it fits a phone.
Screenshots go to test-output/web/ (RECSYS_TEST_OUTPUT overrides the folder)."""

from __future__ import annotations

import os
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

REPO = Path(__file__).resolve().parents[3]
OUTPUT = Path(os.environ.get("RECSYS_TEST_OUTPUT", REPO / "test-output")) / "web"
WAIT_S = 60  # generous: the machine may be busy


def _cards(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#recommendations .card")


def _card_ids(driver) -> list[str]:
    """Read in one script: the list may be re-rendered between two WebDriver calls."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#recommendations .card')].map(c => c.dataset.itemId)")


def _card_meta(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#recommendations .card .meta')].map(m => m.textContent)")


def _fill(driver, field: str, value: str) -> None:
    element = driver.find_element(By.ID, field)
    element.clear()
    element.send_keys(value)


def test_a_shopper_queries_filters_and_purchases(served, browser):
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(served.http + "/")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 1)  # models from /models
    Select(browser.find_element(By.ID, "model")).select_by_index(1)  # the served version, asked for by name
    _fill(browser, "user", "U0000003")
    browser.find_element(By.ID, "user").send_keys(Keys.ENTER)  # the keyboard submits the form
    wait.until(lambda d: len(_cards(d)) == 8)
    status = browser.find_element(By.ID, "status").text
    assert "model http-v1" in status and "full" in status

    # a category filter: every card is in that category afterwards
    category = _card_meta(browser)[0].split(" › ")[0]
    _fill(browser, "category", category)
    unfiltered = _card_ids(browser)
    browser.find_element(By.ID, "recommend").click()
    wait.until(lambda d: _card_ids(d) and _card_ids(d) != unfiltered)
    assert all(meta.startswith(category) for meta in _card_meta(browser))
    browser.save_screenshot(str(OUTPUT / "desktop-filtered.png"))

    # purchase the first card: the event goes through the pipeline and the list changes
    bought = _card_ids(browser)[0]
    _cards(browser)[0].find_element(By.CSS_SELECTOR, "button[data-action=purchase]").click()
    wait.until(lambda d: "updated" in d.find_element(By.ID, "status").text)
    assert bought not in _card_ids(browser)
    assert " ms after the purchase" in browser.find_element(By.ID, "status").text
    wait.until(lambda d: bought in d.find_element(By.ID, "history").text)
    browser.save_screenshot(str(OUTPUT / "desktop-after-purchase.png"))


def test_product_details_open_in_a_dialog(served, browser):
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(served.http + "/")
    _fill(browser, "user", "U0000004")
    browser.find_element(By.ID, "recommend").click()
    wait.until(lambda d: _cards(d))
    first = _card_ids(browser)[0]
    _cards(browser)[0].find_element(By.CSS_SELECTOR, "button.title").click()
    wait.until(lambda d: d.find_element(By.ID, "product").get_attribute("open") is not None)
    assert first in browser.find_element(By.ID, "product-details").text


def test_errors_read_in_plain_words(served, browser):
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(served.http + "/")
    _fill(browser, "user", "x" * 200)
    browser.find_element(By.ID, "recommend").click()
    wait.until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "user_id" in browser.find_element(By.ID, "error").text and "128" in browser.find_element(By.ID, "error").text


def test_it_fits_a_phone(served, browser):
    wait = WebDriverWait(browser, WAIT_S)
    browser.set_window_size(390, 844)
    try:
        browser.get(served.http + "/")
        _fill(browser, "user", "U0000005")
        browser.find_element(By.ID, "recommend").click()
        wait.until(lambda d: len(_cards(d)) == 8)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        widths = {card.rect["width"] for card in _cards(browser)}
        assert len(widths) == 1 and widths.pop() > 300  # one card per row, the width of the screen
        browser.save_screenshot(str(OUTPUT / "phone.png"))
    finally:
        browser.set_window_size(1280, 1000)
