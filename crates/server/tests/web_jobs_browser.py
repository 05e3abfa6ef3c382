"""A person manages jobs in headless Chromium (issue 15), started by tests/web_jobs.rs.

    web_jobs_browser.py BASE_URL PSQL_URL PROFILE_DIR

BASE_URL is the service (http://127.0.0.1:PORT/tap), PSQL_URL the libpq string of its
embedded cluster (to hold a lock on bench.objects, so that a job stays EXECUTING while the page
watches it), PROFILE_DIR a fresh directory for Chromium's profile. TAPIR_WEB_USER is
`user:password` of an account; TAPIR_SCREENSHOT_DIR, when set, receives PNG screenshots.

Every step asserts what the page shows (elements, text, values), prints one line, and the
script ends with "ALL STEPS PASSED"; any failure raises and exits non-zero. Selenium drives the
system's /usr/bin/chromium through /usr/bin/chromedriver and downloads nothing.
"""

import base64
import datetime
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

BASE, PSQL_URL, PROFILE = sys.argv[1], sys.argv[2], sys.argv[3]
USER, PASSWORD = os.environ["TAPIR_WEB_USER"].split(":", 1)
SHOTS = os.environ.get("TAPIR_SCREENSHOT_DIR")
BASE_PATH = urllib.parse.urlsplit(BASE).path


def step(text):
    print(f"ok: {text}", flush=True)


# ----- HTTP without the browser (creating jobs as a script would) ------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(method, path, params=None, auth=None):
    data = urllib.parse.urlencode(params).encode() if params is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with OPENER.open(req, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def create_job(query, auth=None, **extra):
    status, headers, body = http("POST", "/async", {"LANG": "ADQL", "QUERY": query, **extra}, auth)
    assert status == 303, (status, body)
    return headers.get("Location").rsplit("/", 1)[1]


# ----- the lock that keeps a job EXECUTING -------------------------------------------------


class Lock:
    """bench.objects locked by a psql session until released: a query on it waits."""

    def __init__(self):
        self.psql = subprocess.Popen(
            ["psql", "-XAtq", f"{PSQL_URL} application_name=web-jobs-lock"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.psql.stdin.write("BEGIN;\nLOCK TABLE bench.objects IN ACCESS EXCLUSIVE MODE;\n")
        self.psql.stdin.flush()
        held = (
            "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
            "WHERE application_name = 'web-jobs-lock' AND granted AND mode = 'AccessExclusiveLock'"
        )
        for _ in range(200):
            out = subprocess.run(["psql", "-XAtq", PSQL_URL, "-c", held], capture_output=True, text=True)
            if out.stdout.strip() == "1":
                return
            time.sleep(0.05)
        raise AssertionError("psql did not get the lock")

    def release(self):
        self.psql.stdin.close()
        self.psql.wait(timeout=30)


# ----- the browser -------------------------------------------------------------------------


def browser(javascript=True, profile=PROFILE):
    options = webdriver.ChromeOptions()
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.binary_location = "/usr/bin/chromium"
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1100,800",
    ]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


D = browser()
WAIT = WebDriverWait(D, 30)


def shot(name):
    if SHOTS:
        D.save_screenshot(os.path.join(SHOTS, name))
        step(f"screenshot {name}")


def el(css):
    return D.find_element(By.CSS_SELECTOR, css)


def els(css):
    return D.find_elements(By.CSS_SELECTOR, css)


def phase():
    return el("#phase").text.strip()


def summary(label):
    for row in els("table.summary tr"):
        if row.find_element(By.TAG_NAME, "th").text.strip() == label:
            return row.find_element(By.TAG_NAME, "td").text.strip()
    raise AssertionError(f"no summary row {label}")


def param(name):
    for row in els("#parameters tr"):
        if row.find_element(By.TAG_NAME, "th").text.strip() == name:
            return row.find_element(By.TAG_NAME, "td").text.strip()
    raise AssertionError(f"no parameter {name}")


def on_job_page(job):
    WAIT.until(lambda d: urllib.parse.urlsplit(d.current_url).path == f"{BASE_PATH}/async/{job}")
    assert D.title.startswith(f"Job {job}"), D.title


def manage(action, job, value=None):
    """Fill and submit one form of /manage, as a person does."""
    D.get(BASE + "/manage")
    form = el(f"#form-{action}")
    field = form.find_element(By.NAME, "job")
    field.send_keys(job)
    if value is not None:
        form.find_element(By.NAME, "value").send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def wait_phase(wanted, timeout=30):
    """Wait until the page shows one of these phases (across job.js's reload)."""

    def shows(_):
        try:
            return phase() in wanted
        except (StaleElementReferenceException, NoSuchElementException):
            return False

    WebDriverWait(D, timeout).until(shows)
    return phase()


try:
    # ----- /manage: the seed's forms ---------------------------------------------------
    D.get(BASE + "/manage")
    assert el("h1").text == "Manage your asynchronous queries", el("h1").text
    forms = [f.get_attribute("id") for f in els("form.manage")]
    assert forms == [
        "form-run", "form-status", "form-duration", "form-maxrec", "form-query",
        "form-destruction", "form-results", "form-abort", "form-delete",
    ], forms
    for f in els("form.manage input[name=job]"):
        label = el(f"label[for={f.get_attribute('id')}]").text
        assert label.startswith("Enter job number to"), label
    assert el("#service-url").text == BASE
    assert f"wget -O - '{BASE}/async/" in el("#examples").text
    step("/manage has the nine forms of the seed, labelled, and this service's URL")
    shot("manage.png")

    job = create_job("SELECT TOP 3 id FROM bench.objects")
    manage("duration", job, "120")
    on_job_page(job)
    assert phase() == "PENDING"
    assert summary("Execution duration (limit)").startswith("120 seconds"), summary("Execution duration (limit)")
    step("change execution duration: 120 s on the job page")

    manage("maxrec", job, "2")
    on_job_page(job)
    assert param("MAXREC") == "2", param("MAXREC")
    step("change MAXREC: 2")

    manage("query", job, "SELECT TOP 5 id FROM bench.objects")
    on_job_page(job)
    assert el("#query").text == "SELECT TOP 5 id FROM bench.objects", el("#query").text
    assert el("#f-query").get_attribute("value") == "SELECT TOP 5 id FROM bench.objects"
    step("edit the query: the new query in the page and its form")

    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=3)).replace(microsecond=0)
    wanted = later.strftime("%Y-%m-%dT%H:%M:%S")
    manage("destruction", job, wanted)
    on_job_page(job)
    assert summary("Destruction (removed at)").startswith(wanted), summary("Destruction (removed at)")
    step(f"delay destruction: {wanted}")

    manage("run", job)
    on_job_page(job)
    first = phase()
    assert first in ("QUEUED", "EXECUTING", "COMPLETED"), first
    wait_phase(["COMPLETED"])
    step(f"run: {first}, then COMPLETED (job.js reloaded the page)")

    manage("status", job)
    on_job_page(job)
    assert phase() == "COMPLETED"
    assert summary("Ended") != "—"
    step("check status: COMPLETED, with its end time")

    manage("results", job)
    on_job_page(job)
    assert D.current_url.endswith("#results"), D.current_url
    link = el("#result-list a")
    assert link.get_attribute("href") == f"{BASE}/async/{job}/results/result", link.get_attribute("href")
    cells = [td.text for td in els("#result-list tr td")]
    assert cells[2].startswith("2 (cut at MAXREC"), cells
    assert "bytes" in cells[3], cells
    status, _, body = http("GET", f"/async/{job}/results/result")
    assert status == 200 and "<VOTABLE" in body, status
    step(f"view results: {cells}")

    other = create_job("SELECT TOP 3 id FROM bench.objects")
    manage("abort", other)
    on_job_page(other)
    assert phase() == "ABORTED", phase()
    assert not els("form.when-pending"), "no PENDING forms for an ABORTED job"
    step("abort: ABORTED, only the delete form left")

    manage("delete", other)
    WAIT.until(lambda d: "deleted=" in d.current_url)
    assert el("#done").text == f"Job {other} has been deleted.", el("#done").text
    D.get(f"{BASE}/async/{other}")
    assert el("h1").text == "Not found", el("h1").text
    assert f"there is no job '{other}'" in el("#message").text
    step("delete: the job is gone, its page says so")

    # The job page's own forms: delete the first job with its button.
    D.get(f"{BASE}/async/{job}")
    el("form.always button").click()
    WAIT.until(lambda d: urllib.parse.urlsplit(d.current_url).path == f"{BASE_PATH}/manage")
    assert http("GET", f"/async/{job}")[0] == 404
    step("the job page's delete button: UWS's 303, then the forms page")

    # ----- hostile parameters are text --------------------------------------------------
    hostile = create_job(
        'SELECT 1 -- <script>alert(1)</script>"><img src=x onerror=alert(2)>',
        RUNID='"><img src=x onerror=alert(3)><script>alert(4)</script>',
    )
    D.get(f"{BASE}/async/{hostile}")
    assert "<script>alert(1)</script>" in el("#query").text, el("#query").text
    assert '"><img src=x onerror=alert(3)>' in summary("Name (RUNID)")
    assert not els("img"), [i.get_attribute("outerHTML") for i in els("img")]
    scripts = [s.get_attribute("src") or "(inline)" for s in els("script")]
    assert all("/static/job.js" in s for s in scripts), scripts
    try:
        D.switch_to.alert
        raise AssertionError("an alert opened")
    except NoAlertPresentException:
        pass
    step("hostile QUERY and RUNID shown as text: no img, no inline script, no alert")

    # ----- the phase, live --------------------------------------------------------------
    lock = Lock()
    live = create_job("SELECT id FROM bench.objects")
    D.get(f"{BASE}/async/{live}")
    assert phase() == "PENDING"
    WAIT.until(lambda d: el("#live").get_attribute("data-watching") == "yes")
    D.execute_script("window.tapirNotReloaded = true;")
    assert http("POST", f"/async/{live}/phase", {"PHASE": "RUN"})[0] == 303
    seen = wait_phase(["QUEUED", "EXECUTING"])
    wait_phase(["EXECUTING"])
    assert D.execute_script("return window.tapirNotReloaded === true;"), "the page reloaded"
    assert all(not f.is_displayed() for f in els("form.when-pending")), "PENDING forms hidden"
    assert "rows written so far" in el("#progress").text, el("#progress").text
    assert el("#phase-help").text == "The query is running."
    WebDriverWait(D, 10).until(lambda d: el("#s-started").text != "—")
    step(f"live: PENDING -> {seen} -> EXECUTING in place (start time too), without a reload")
    lock.release()
    wait_phase(["COMPLETED"], timeout=60)
    assert not D.execute_script("return window.tapirNotReloaded === true;"), "reloaded at the end"
    assert el("#result-list a").text == "result"
    step("live: COMPLETED, the page reloaded with the result")
    shot("job.png")

    # ----- my jobs ----------------------------------------------------------------------
    mine = {
        name: create_job("SELECT TOP 1 id FROM bench.objects", auth=(USER, PASSWORD), RUNID=name)
        for name in ["survey-a", "survey-b", "other-c"]
    }
    D.get(BASE + "/myjobs")
    assert els("form#login"), "anonymous: the login form"
    assert not els("#jobs")
    el("#username").send_keys(USER)
    el("#password").send_keys("wrong")
    el("form#login button").click()
    WAIT.until(lambda d: "login=failed" in d.current_url)
    assert "Wrong user name or password" in el("#notice").text
    el("#username").send_keys(USER)
    el("#password").send_keys(PASSWORD)
    el("form#login button").click()
    WAIT.until(lambda d: els("#user"))
    assert urllib.parse.urlsplit(D.current_url).path == f"{BASE_PATH}/myjobs", D.current_url
    assert el("#user").text == USER
    assert f"Signed in as {USER}" in el("header.top").text
    rows = els("#jobs tbody tr")
    assert len(rows) == 3, [r.text for r in rows]
    assert "My tables" in el("#my-tables").text and "later" in el(".placeholder").text
    step("login through the form: back on My jobs with the three jobs")
    shot("myjobs.png")

    el("#f-name").send_keys("survey")
    el("form#filters button").click()
    WAIT.until(lambda d: "name=survey" in d.current_url)
    shown = sorted(r.find_elements(By.TAG_NAME, "td")[2].text for r in els("#jobs tbody tr"))
    assert shown == ["survey-a", "survey-b"], shown
    step("filter by name: survey-a, survey-b")

    for name in ["survey-a", "survey-b"]:
        el(f"#sel-{mine[name]}").click()
    el("#delete-selected").click()
    WAIT.until(lambda d: "deleted=" in d.current_url)
    assert el("#notice").text == "2 jobs deleted.", el("#notice").text
    D.get(BASE + "/myjobs")
    left = [r.find_elements(By.TAG_NAME, "td")[2].text for r in els("#jobs tbody tr")]
    assert left == ["other-c"], left
    for name in ["survey-a", "survey-b"]:
        assert http("GET", f"/async/{mine[name]}", auth=(USER, PASSWORD))[0] == 404
    step("bulk delete: two selected jobs gone, other-c left")

    el("form#logout button").click()
    WAIT.until(lambda d: els("form#login"))
    assert "You have logged out." in el("#notice").text
    step("logout: the login form again")

finally:
    D.quit()

# ----- the same forms with JavaScript off ------------------------------------------------
D = browser(javascript=False, profile=PROFILE + "-nojs")
WAIT = WebDriverWait(D, 30)
try:
    job = create_job("SELECT TOP 4 id FROM bench.objects")
    manage("maxrec", job, "3")
    on_job_page(job)
    assert param("MAXREC") == "3"
    assert el("#live").get_attribute("data-phase") == "PENDING"
    time.sleep(1)
    assert el("#live").get_attribute("data-watching") is None, "job.js did not run"
    before = el("#phase")
    D.find_element(By.XPATH, "//button[text()='Run the query']").click()
    # The answer is the same URL: wait for the page that was there to go, or the phase is read
    # from it while it is being replaced (StaleElementReferenceException).
    WAIT.until(staleness_of(before))
    on_job_page(job)
    for _ in range(100):
        if phase() == "COMPLETED":
            break
        time.sleep(0.2)
        D.refresh()
    assert phase() == "COMPLETED", phase()
    cells = [td.text for td in els("#result-list tr td")]
    assert cells[2].startswith("3 (cut at MAXREC"), cells
    el("form.always button").click()
    WAIT.until(lambda d: urllib.parse.urlsplit(d.current_url).path == f"{BASE_PATH}/manage")
    assert http("GET", f"/async/{job}")[0] == 404
    step("JavaScript off: MAXREC by the forms page, run and delete by the job page's buttons")
finally:
    D.quit()

print("ALL STEPS PASSED", flush=True)
