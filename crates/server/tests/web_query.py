"""The query page in a real browser (issue 15), started by tests/web_query.rs.

    web_query.py BASE_URL CONE_QUERY CONE_COUNT [SCREENSHOT_DIR]

Headless Chromium from Debian (/usr/bin/chromium, /usr/bin/chromedriver) driven by Selenium,
which never downloads a browser or a driver here. Checks, in the page: completion of a table
and a column name, a sync run with the result table (rows, units, paging), an ADQL error marked
at its line and column, an example put into the editor, the sky plot of a cone query, and an
async submit landing on the job's URL. Prints one line per check; exits non-zero on the first
failure. With SCREENSHOT_DIR, saves PNGs of the page with a result, with the sky plot and with
an error.
"""

import re
import sys
import tempfile
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE, CONE, CONE_COUNT = sys.argv[1], sys.argv[2], int(sys.argv[3])
SHOTS = sys.argv[4] if len(sys.argv) > 4 else None


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1100,800",
        f"--user-data-dir={tempfile.mkdtemp(prefix='tapir-chromium-')}",
    ]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def ok(what):
    print(f"ok: {what}", flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    ok(what)


def set_query(d, text):
    """The editor's text, as a paste would set it (no completion popping up on the way)."""
    d.execute_script(
        "const t = document.getElementById('adql'); t.value = arguments[0];"
        "t.dispatchEvent(new Event('input')); t.blur();", text)


def shot(d, name):
    if SHOTS:
        d.execute_script("const t = document.getElementById('adql'); t.scrollLeft = 0;"
                         "t.dispatchEvent(new Event('scroll'))")
        d.save_screenshot(f"{SHOTS}/{name}.png")
        ok(f"screenshot {name}.png")


def main():
    d = browser()
    wait = WebDriverWait(d, 60)
    try:
        d.get(BASE + "/")
        check("<form" in d.page_source and d.find_element(By.ID, "adql"), "the query page and its editor")
        check(d.find_element(By.CSS_SELECTOR, "#editor pre.hl"), "the highlighting layer is there")
        ta = d.find_element(By.ID, "adql")

        # Completion: a table name, then a column of that table.
        ta.click()
        ta.send_keys(Keys.CONTROL, "a")
        ta.send_keys(Keys.DELETE)
        ta.send_keys("SELECT TOP 120 source_id, ra, dec FROM gaiadr1.gaia_s")
        wait.until(lambda _: d.find_element(By.ID, "adql-complete").is_displayed())
        options = [li.text for li in d.find_elements(By.CSS_SELECTOR, "#adql-complete li")]
        check(any("gaiadr1.gaia_source" in o for o in options), f"the table is suggested: {options}")
        ta.send_keys(Keys.TAB)
        value = ta.get_attribute("value")
        check(value.endswith("FROM gaiadr1.gaia_source"), f"Tab accepted the table: {value!r}")
        ta.send_keys(" WHERE phot_g_mean_m")
        wait.until(lambda _: d.find_element(By.ID, "adql-complete").is_displayed()
                   and "phot_g_mean_mag" in d.find_element(By.ID, "adql-complete").text)
        ta.send_keys(Keys.ENTER)
        value = ta.get_attribute("value")
        check(value.endswith("WHERE phot_g_mean_mag"), f"Enter accepted the column: {value!r}")
        # The keyboard: arrows move through the suggestions, Esc closes them.
        ta.send_keys(" > 0 AND phot_")
        wait.until(lambda _: len(d.find_elements(By.CSS_SELECTOR, "#adql-complete li")) >= 2
                   and d.find_element(By.ID, "adql-complete").is_displayed())
        ta.send_keys(Keys.ARROW_DOWN)
        check(ta.get_attribute("aria-activedescendant") == "adql-opt-1", "ArrowDown moves to the second suggestion")
        selected = d.find_elements(By.CSS_SELECTOR, "#adql-complete li[aria-selected=true]")
        check(len(selected) == 1 and selected[0].get_attribute("id") == "adql-opt-1", "and marks it selected")
        ta.send_keys(Keys.ARROW_UP)
        check(ta.get_attribute("aria-activedescendant") == "adql-opt-0", "ArrowUp moves back")
        ta.send_keys(Keys.ESCAPE)
        check(not d.find_element(By.ID, "adql-complete").is_displayed(), "Esc closes the suggestions")
        check(ta.get_attribute("value").endswith("AND phot_"), "Esc leaves the text as typed")
        ta.send_keys("g_mean_mag < 40 ORDER BY source_id")
        ta.send_keys(Keys.ESCAPE)
        check(d.find_elements(By.CSS_SELECTOR, "#editor .tk"), "keywords are highlighted")

        # A sync run: the table, the units, paging without running again, the downloads.
        d.find_element(By.ID, "run").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.result tbody tr")))
        rows = d.find_elements(By.CSS_SELECTOR, "table.result tbody tr")
        check(len(rows) == 50, f"the first page has 50 rows ({len(rows)})")
        names = [th.text for th in d.find_elements(By.CSS_SELECTOR, "table.result thead tr:first-child th")]
        units = [th.text for th in d.find_elements(By.CSS_SELECTOR, "table.result tr.units th")]
        check(names == ["source_id", "ra", "dec"], f"column names {names}")
        check(units[1] == "deg" and units[2] == "deg", f"units {units}")
        title = d.find_element(By.CSS_SELECTOR, "table.result thead th:nth-child(2)").get_attribute("title")
        check("pos.eq.ra" in title, f"the header's description and UCD: {title!r}")
        pager = d.find_element(By.CSS_SELECTOR, "p.pager")
        check("rows 1–50 of 120" in pager.text, pager.text)
        first = rows[0].text
        pager.find_elements(By.TAG_NAME, "button")[1].click()
        check("rows 51–100 of 120" in d.find_element(By.CSS_SELECTOR, "p.pager").text, "the next page")
        check(d.find_elements(By.CSS_SELECTOR, "table.result tbody tr")[0].text != first, "other rows")
        links = [a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "p.downloads a")]
        check(len(links) >= 10 and all("/sync?" in h and "QUERY=" in h for h in links), f"{len(links)} download links")
        check(any("FORMAT=csv" in h for h in links) and any("FORMAT=fits" in h for h in links), "CSV and FITS among them")
        csv = urllib.request.urlopen(next(h for h in links if "FORMAT=csv" in h)).read().decode()
        check(len(csv.strip().splitlines()) == 121, "the CSV link gives the same 120 rows")
        check(d.find_elements(By.CSS_SELECTOR, "figure.skyplot img"), "ra/dec columns: a sky plot is shown")
        d.find_elements(By.CSS_SELECTOR, "p.pager button")[0].click()
        d.execute_script("window.scrollTo(0, document.getElementById('adql').getBoundingClientRect().top + window.scrollY - 40)")
        shot(d, "query-result")

        # An ADQL error, marked where it is.
        set_query(d, "SELECT source_id,\n  rra\nFROM gaiadr1.gaia_source")
        d.find_element(By.ID, "run").click()
        box = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#query-error p")))
        check("line 2, column 3" in box.text and "rra" in box.text, f"the error says where: {box.text!r}")
        hint = d.find_element(By.ID, "query-error").text
        check("did you mean 'ra'" in hint, f"the hint: {hint!r}")
        mark = d.find_element(By.CSS_SELECTOR, "#editor mark.err")
        check(mark.text == "rra", f"the editor marks the word: {mark.text!r}")
        caret = d.execute_script("return document.getElementById('adql').selectionStart")
        check(caret == len("SELECT source_id,\n  "), f"the caret is at the error ({caret})")
        shot(d, "query-error")

        # An example, one click into the editor.
        button = d.find_element(By.CSS_SELECTOR, "button.use-example")
        wanted = button.get_attribute("data-query")
        d.execute_script("arguments[0].scrollIntoView()", button)
        button.click()
        check(d.find_element(By.ID, "adql").get_attribute("value") == wanted, "the example is in the editor")
        check(not d.find_elements(By.CSS_SELECTOR, "#editor mark.err"), "the error mark is gone")

        # The table browser: a table's columns open under it; a click puts a name in the query.
        set_query(d, "SELECT ")
        det = d.find_element(By.CSS_SELECTOR, "details.columns[data-table='gaiadr1.gaia_source']")
        d.execute_script("arguments[0].scrollIntoView()", det)
        det.find_element(By.TAG_NAME, "summary").click()
        wait.until(lambda _: det.find_elements(By.CSS_SELECTOR, "table.cols tr td"))
        cells = [td.text for td in det.find_elements(By.CSS_SELECTOR, "table.cols tr td")]
        check("ra" in cells and "pos.eq.ra;meta.main" in cells, "the columns with their UCDs")
        det.find_element(By.XPATH, ".//button[text()='ra']").click()
        value = d.find_element(By.ID, "adql").get_attribute("value")
        check(value == "SELECT ra", f"a click inserts the column: {value!r}")

        # The sky plot of a cone.
        set_query(d, CONE)
        d.find_element(By.ID, "run").click()
        img = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "figure.skyplot img")))
        wait.until(lambda _: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img))
        check(d.execute_script("return arguments[0].naturalWidth", img) == 640, "the plot is drawn")
        svg = urllib.request.urlopen(img.get_attribute("src")).read().decode()
        points = svg.count('class="pt"')
        check(points == CONE_COUNT, f"{points} points for {CONE_COUNT} rows")
        check("Right ascension" in svg and "Declination" in svg, "labelled axes")
        d.execute_script("window.scrollTo(0, document.querySelector('#result h2').getBoundingClientRect().top + window.scrollY - 10)")
        d.execute_script("document.querySelector('figure.skyplot').scrollIntoView()")
        shot(d, "query-skyplot")

        # A wrong query is not submitted as a job: its error is marked at once.
        set_query(d, "SELECT TOP 3 source_id FROM gaiadr1.gaia_sourcee")
        before = d.current_url
        d.find_element(By.ID, "submit-job").click()
        box = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#query-error p")))
        check("line 1, column 29" in box.text and d.current_url == before, f"no job for a wrong query: {box.text!r}")

        # Submitted as a job: the browser lands on the job.
        set_query(d, "SELECT TOP 3 source_id FROM gaiadr1.gaia_source")
        d.find_element(By.ID, "submit-job").click()
        wait.until(lambda _: re.search(r"/async/[A-Za-z0-9]+$", d.current_url))
        job = d.current_url.rsplit("/", 1)[1]
        check(job in d.page_source, f"on the job's page: {d.current_url}")
    finally:
        d.quit()
    print("all browser checks passed")


if __name__ == "__main__":
    main()
