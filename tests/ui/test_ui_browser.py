#!/usr/bin/env python3
"""The web UI in a real browser: headless Chromium driven by Selenium
(Debian's chromium, chromium-driver and python3-selenium) loads the page
of a running job fed by `ncat -lk`, waits until the charts show at least
three batches, runs a query through the query box and reads its result
table, checks the page's figures against /api/status, and saves a
screenshot to ARTIFACTS/ui.png (argv[2])."""

import os
import shutil
import sys
import time

from uilib import (Env, Ncat, check, free_port, get_json, log, main,
                   start_ui_job, wait_until)

STREAMCTL = sys.argv[1]
ARTIFACTS = sys.argv[2] if len(sys.argv) > 2 else "test-artifacts"
SKIP = 77


def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        log("python3-selenium is not installed: skipping")
        sys.exit(SKIP)
    chromium = shutil.which("chromium")
    driver_exe = shutil.which("chromedriver")
    if not chromium or not driver_exe:
        log("chromium or chromedriver is not installed: skipping")
        sys.exit(SKIP)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,1800",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(driver_exe), options=opts), By


def page():
    driver, By = browser()
    nc_port, ui = free_port(), free_port()
    try:
        with Env(STREAMCTL) as env, Ncat(nc_port) as nc:
            start_ui_job(env, "browser", nc_port, str(ui), "words",
                         {"batch_interval": "500ms"})
            nc.wait_connections(1)
            driver.set_page_load_timeout(30)
            driver.get("http://127.0.0.1:%d/" % ui)
            text = lambda i: driver.find_element(By.ID, i).text  # noqa: E731

            # lines across several batches, so the charts have a shape
            for i in range(4):
                nc.send(("".join("line %d %d\n" % (i, j)
                                 for j in range(5 * (i + 1)))).encode())
                time.sleep(0.6)
            for chart in ("chart-input", "chart-processing",
                          "chart-scheduling", "chart-total"):
                wait_until(lambda: int(driver.find_element(
                    By.ID, chart).get_attribute("data-points") or 0) >= 3,
                    20, "%s to show 3 batches" % chart, step=0.2)
            wait_until(lambda: len(driver.find_elements(
                By.CSS_SELECTOR, "#batches-table tbody tr")) >= 3, 10,
                "3 rows in the batch table", step=0.2)
            check(text("state") == "running", "state %r" % text("state"))
            check(text("job-name") == "browser", "name %r" % text("job-name"))

            # the page's figures against /api/status (the page refreshes
            # every second: compare once no more input arrives)
            total = 5 + 10 + 15 + 20
            wait_until(lambda: text("input-rows-total") == str(total), 15,
                       "the page to count %d rows" % total, step=0.2)
            st = get_json(ui, "/api/status")
            check(st["input_rows_total"] == total, "status %r" % st)
            check(text("tables") == "words", "tables %r" % text("tables"))
            wait_until(lambda: text("batches") ==
                       "{:,}".format(get_json(ui, "/api/status")["batches"]),
                       10, "the page's batch count to match", step=0.3)
            rows = driver.find_elements(By.CSS_SELECTOR,
                                        "#sources-table tbody tr")
            check(len(rows) == 1 and rows[0].text.split()[:2] ==
                  ["lines", "{:,}".format(total)],
                  "sources %r" % [r.text for r in rows])

            # a query through the query box
            box = driver.find_element(By.ID, "sql")
            box.clear()
            box.send_keys("SELECT value FROM words WHERE value LIKE 'line 3 %'"
                          " ORDER BY value LIMIT 3")
            driver.find_element(By.ID, "run").click()
            wait_until(lambda: len(driver.find_elements(
                By.CSS_SELECTOR, "#query-result tbody tr")) == 3, 10,
                "the query's rows", step=0.2)
            cells = [r.text for r in driver.find_elements(
                By.CSS_SELECTOR, "#query-result tbody tr")]
            check(cells == ["line 3 0", "line 3 1", "line 3 10"],
                  "query rows %r" % cells)
            check(text("query-count") == "3 row(s)", text("query-count"))
            # a refused query shows its reason
            box.clear()
            box.send_keys("DROP TABLE words")
            driver.find_element(By.ID, "run").click()
            wait_until(lambda: "read-only" in text("query-error"), 10,
                       "the refusal on the page", step=0.2)

            os.makedirs(ARTIFACTS, exist_ok=True)
            box.clear()
            box.send_keys("SELECT value, length(value) AS len FROM words "
                          "ORDER BY value LIMIT 5")
            driver.find_element(By.ID, "run").click()
            wait_until(lambda: len(driver.find_elements(
                By.CSS_SELECTOR, "#query-result tbody tr")) == 5, 10,
                "the screenshot's query", step=0.2)
            driver.execute_script("window.scrollTo(0, 0)")
            shot = os.path.join(ARTIFACTS, "ui.png")
            check(driver.save_screenshot(shot) and
                  os.path.getsize(shot) > 10000, "screenshot %s" % shot)
            log("screenshot: %s" % os.path.abspath(shot))
            # the refused query's 400 is expected; nothing else may fail
            errors = [e for e in driver.get_log("browser")
                      if e.get("level") == "SEVERE" and not
                      ("/api/query" in e["message"] and "400" in e["message"])]
            check(not errors, "browser console errors: %r" % errors)
    finally:
        driver.quit()


main([("page", page)])
