"""A real headless Chromium driven by Selenium against pytest-django's live server.

Skipped, with the reason, where Chromium or chromedriver is not installed (CI installs both: .ci/run).
Screenshots go to ``ROPA_ARTEFACTS_DIR`` (default ``var/artefacts/``).
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = next(
    (path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None
)
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="session")
def artefacts_dir() -> Path:
    path = Path(os.environ.get("ROPA_ARTEFACTS_DIR") or settings.BASE_DIR / "var" / "artefacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser():
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("Chromium and chromedriver are needed for the browser tests (apt install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-GB,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, CSP refusals included
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, path: Path) -> Path:
    """The whole page, not only the window: grow the window to the page's height first."""
    width = driver.execute_script("return Math.max(document.documentElement.scrollWidth, 1400)")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height + 120, 800), 6000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path
