"""A real headless Chromium for the web view's tests and bench: Debian's `chromium` and
`chromium-driver` (tools/setup.sh) driven by Selenium; nothing is downloaded."""
import os
import shutil

# Selenium would otherwise look for browsers and drivers online (Selenium Manager).
os.environ.setdefault('SE_OFFLINE', 'true')

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

BROWSER, DRIVER = 'chromium', 'chromedriver'
PHONE = {'width': 390, 'height': 844, 'deviceScaleFactor': 3, 'mobile': True}
DESKTOP = {'width': 1280, 'height': 800, 'deviceScaleFactor': 1, 'mobile': False}


def missing():
    """What is missing to start the browser ('' when nothing is)."""
    return ' and '.join(f'{name} (apt-get install {package})' for name, package in
                        ((BROWSER, 'chromium'), (DRIVER, 'chromium-driver'))
                        if not shutil.which(name))


def chromium():
    """A headless Chromium (Selenium WebDriver) keeping the page's console messages."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(BROWSER)
    # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                     '--disable-gpu', '--no-first-run', '--window-size=1280,800'):
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(options=options, service=Service(shutil.which(DRIVER)))


def viewport(driver, metrics):
    """Show the page at `metrics` (PHONE, DESKTOP): CSS pixels, pixel ratio, mobile."""
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', metrics)


def console_errors(driver):
    """The page's console errors since the last call."""
    return [entry['message'] for entry in driver.get_log('browser')
            if entry['level'] == 'SEVERE']
