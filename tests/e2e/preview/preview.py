#!/usr/bin/python3
"""Preview the UI without Tauri: serve ui/ on loopback with a mocked window.__TAURI__, drive
headless Chromium through every page and the wizard, save screenshots, and fail on any console
error or on data that rendered as markup.

Needs Debian's chromium, chromium-driver and python3-selenium. Usage:
    python3 tests/e2e/preview/preview.py [OUT_DIR]      (default artifacts/ui-preview)
"""
import functools
import http.server
import pathlib
import sys
import threading

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
UI = ROOT / "ui"
OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "artifacts" / "ui-preview"


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves ui/, with the mock injected into index.html and served at /__mock.js."""

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/__mock.js":
            return self._send((HERE / "mock-tauri.js").read_bytes(), "text/javascript")
        if path in ("/", "/index.html"):
            html = (UI / "index.html").read_text()
            html = html.replace("<script type=\"module\"", "<script src=\"/__mock.js\"></script>\n  <script type=\"module\"", 1)
            return self._send(html.encode(), "text/html")
        return super().do_GET()

    def _send(self, body, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(UI)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--window-size=1280,860", "--disable-dev-shm-usage"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(20)
    wait = WebDriverWait(driver, 10)
    problems = []

    def shot(name):
        driver.save_screenshot(str(OUT / f"{name}.png"))
        for entry in driver.get_log("browser"):
            if entry["level"] in ("SEVERE", "WARNING") and "favicon" not in entry["message"]:
                problems.append(f"{name}: console {entry['level']}: {entry['message']}")

    def open_page(route, scenario="connected", dark=False):
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        driver.get(f"{base}/?scenario={scenario}#{route}")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main h1")))

    def click(testid):
        el = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"[data-testid='{testid}']")))
        el.click()
        return el

    def visible(testid):
        return wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, f"[data-testid='{testid}']")))

    try:
        # Home and the Welcome back menu.
        open_page("/")
        shot("01-home")
        click("welcome-menu")
        shot("02-welcome-menu")
        click("menu-administration")
        wait.until(EC.url_contains("#/admin"))
        shot("03-administration")

        # The wizard, step by step.
        open_page("/admin/connections", "empty")
        shot("04-connections-empty")
        click("create-connection")
        click("provider-xpm")
        visible("install-now")
        shot("05-wizard-before-getting-started")
        click("install-now")
        visible("install-confirm")
        shot("06-wizard-confirm")
        click("install-confirm-confirm")
        visible("login-waiting")
        shot("07-wizard-waiting-for-browser")
        driver.execute_script("window.__mockDeliverCallback()")
        visible("choose-tenant")
        shot("08-wizard-tenant-picker")
        click("choose-tenant")
        visible("connected-tenant")
        shot("09-wizard-connected-syncing")
        visible("initial-sync-result")
        shot("10-wizard-initial-sync-done")

        # No privilege.
        open_page("/admin/connections/new", "notenant")
        click("provider-xpm")
        click("install-now")
        click("install-confirm-confirm")
        visible("login-waiting")
        driver.execute_script("window.__mockDeliverCallback()")
        visible("no-tenant")
        shot("11-wizard-no-tenant-guidance")

        # The connection card, its Refresh menu and the full-resync estimate.
        open_page("/admin/connections")
        visible("connection-card")
        shot("12-connection-card")
        click("refresh-menu")
        visible("refresh-full")
        shot("13-refresh-menu")
        # Keyboard: arrows move between the two choices, Escape closes and returns focus.
        active = driver.switch_to.active_element
        if active.get_attribute("data-testid") != "refresh-changes":
            problems.append("refresh menu: focus did not move to the first choice")
        active.send_keys(Keys.ARROW_DOWN)
        if driver.switch_to.active_element.get_attribute("data-testid") != "refresh-full":
            problems.append("refresh menu: ArrowDown did not move to the second choice")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        visible("full-sync-estimate")
        shot("14-full-resync-estimate")
        click("full-sync-dialog-confirm")
        visible("sync-progress")
        shot("15-connection-syncing")

        open_page("/admin/connections", "reauth")
        visible("reauthorise")
        shot("16-connection-needs-reauth")
        open_page("/admin/connections", "failed")
        shot("17-connection-failed")
        click("disconnect")
        visible("disconnect-dialog")
        shot("18-disconnect-dialog")

        # History, clients, settings.
        open_page("/admin/history")
        visible("history-chart")
        shot("19-sync-history")
        open_page("/admin/clients")
        visible("clients-table")
        names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid='client-name']")]
        for expected in ("Smith & Sons <Holdings> Ltd", "Āroha Ngata 🎉", "<script>alert(1)</script> Pty"):
            if expected not in names:
                problems.append(f"clients: {expected!r} not shown as text (got {names})")
        if driver.execute_script("return document.querySelectorAll('main script, main holdings').length"):
            problems.append("clients: data became markup")
        driver.find_elements(By.CSS_SELECTOR, "[data-testid='client-name']")[0].click()
        visible("contacts-panel")
        shot("20-clients-contacts")
        search = driver.find_element(By.CSS_SELECTOR, "[data-testid='client-search']")
        search.send_keys("trust")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-testid='client-row']")) == 2)
        click("export-csv")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".export-note .banner")))
        shot("21-clients-search-export")
        open_page("/admin/settings")
        shot("22-settings")

        # Dark theme.
        open_page("/admin/connections", "multi", dark=True)
        visible("connection-card")
        shot("23-dark-connections")
        open_page("/admin/history", dark=True)
        visible("history-chart")
        shot("24-dark-history")
    finally:
        driver.quit()
        server.shutdown()

    print(f"screenshots in {OUT}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
