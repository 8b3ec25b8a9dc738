"""The web console in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

Usage: console_check.py URL READ_TOKEN EXPORT_TOKEN INGEST_TOKEN VERIFIER_KEY HOSTILE_SEQ SCREENSHOT_DIR
Exits 0 when every check passes; prints one line per check, and what failed.
"""
import os
import sys

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

url, read_token, export_token, ingest_token, vkey, hostile_seq, shots = sys.argv[1:8]
failures = []
axe = Axe()


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def accessible(page, name):
    """axe-core on the page: no serious or critical violation (WCAG 2.1 A and AA rules)."""
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    check(not bad, f"{name}: axe finds no serious or critical violation {[v['id'] for v in bad]}")
    page.screenshot(path=f"{shots}/{name}.png", full_page=True)


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    # Behind nginx with the test's self-signed certificate (PROBITY_TEST_TLS=1), the browser is told to trust it.
    context = browser.new_context(locale="fr-FR", ignore_https_errors=os.environ.get("PROBITY_TEST_TLS") == "1")
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    console_errors = []
    # Script errors and CSP violations; not the 401/404 answers this test asks for on purpose.
    page.on("console", lambda message: message.type == "error" and not message.text.startswith(
        "Failed to load resource") and console_errors.append(message.text))

    # Signed out: every page leads to the sign-in form, in French by default.
    page.goto(url + "/ui/procedures")
    check(page.url.startswith(url + "/ui/sign-in"), "a page asked for without a session leads to the sign-in form")
    check(page.locator("html").get_attribute("lang") == "fr", "the console speaks French first")
    accessible(page, "sign-in")

    # Keyboard: the first Tab reaches the skip link; the token field has its label.
    page.keyboard.press("Tab")
    check(page.evaluate("document.activeElement.className") == "skip", "the first Tab focuses the skip link")
    check(page.get_by_label("Jeton d'accès").count() == 1, "the token field is labelled")

    # A wrong token and an ingest token are refused, with a message.
    page.fill("#token", "prb_000000000000_" + "0" * 64)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page.locator("[role=alert]").count() == 1 and "inconnu" in page.locator("[role=alert]").inner_text(),
          "a wrong token is refused with a message")
    page.fill("#token", ingest_token)
    page.click("button[type=submit]")
    check("rôle" in page.locator("[role=alert]").inner_text(), "an ingest token is refused (it may not read the log)")

    # A sign-in posted without the form's CSRF value is refused.
    refused = context.request.post(url + "/ui/sign-in", form={"token": read_token})
    check(refused.status == 403, f"a sign-in without the CSRF value is refused (got {refused.status})")

    # Signed in: the dashboard, with the checkpoint and the key history. (The refused request above set a
    # new sign-in cookie, as any sign-in form does: the form is loaded again.)
    page.goto(url + "/ui/sign-in")
    page.fill("#token", read_token)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/ui/**")
    check(page.locator("h1").inner_text() == "Tableau de bord", "signing in opens the dashboard")
    cookie = [c for c in context.cookies() if c["name"] == "probity_session"]
    check(cookie and cookie[0]["httpOnly"] and cookie[0]["secure"] and cookie[0]["sameSite"] == "Strict",
          "the session cookie is HttpOnly, Secure and SameSite=Strict")
    check(page.evaluate("document.cookie") == "", "scripts cannot read the session cookie")
    check("création du journal" in page.content(), "the dashboard shows the key history")
    check("✔ intact le" in page.content(), "the dashboard shows the last verification and its result")
    accessible(page, "dashboard")

    # Procedures: search and filters.
    page.click("nav >> text=Procédures")
    check(page.locator("tbody tr").count() == 2, "the procedures page lists both procedures")
    accessible(page, "procedures")
    page.select_option("#kind", "open_tender")
    page.click("form.filters button")
    check(page.locator("tbody tr").count() == 1, "filtering by kind keeps the open tender only")
    page.goto(url + "/ui/procedures?q=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    check(page.locator("#q").input_value() == "<script>alert(1)</script>" and not dialogs,
          "a hostile search is shown as text and runs nothing")

    # The procedure: findings with their legal basis, public and private told apart in words.
    page.goto(url + "/ui/procedures/2026-057")
    check(page.locator("article.finding").count() == 7, "the procedure page shows its 7 findings")
    check("Fondement : CCP R2132-6" in page.content(), "findings carry their legal references")
    check(page.locator("text=◉ Public").count() > 0 and page.locator("text=○ Privé").count() > 0,
          "public and private exchanges are told apart by words and symbols, not colour alone")
    accessible(page, "procedure")
    with page.expect_navigation():
        page.click("text=English")
    check(page.locator("h1").inner_text() == "Procedure 2026-057", "the language link keeps the page")
    accessible(page, "procedure-en")
    missing = page.goto(url + "/ui/procedures/9999-999")
    check(missing.status == 404, "an unknown procedure is a 404 page")

    # A party: who it is, its candidacies, its chronology.
    page.goto(url + "/ui/procedures/2026-057")
    with page.expect_navigation():
        page.click("section[aria-labelledby=cand-h] >> text=sup-eclairage-ouest")
    check(page.locator("h1").inner_text() == "Partie sup-eclairage-ouest", "a candidate's party page opens")
    check("2026-057" in page.locator("dl.facts").inner_text() and page.locator("table.chronology tbody tr").count() > 0,
          "the party page shows its candidacy and its chronology")
    accessible(page, "party")

    # An entry, verified in the browser with the verifier key alone; a tampered proof or a wrong key fails.
    page.goto(url + "/ui/procedures/2026-057")
    with page.expect_navigation():
        page.click("table.chronology >> text=27")
    check(page.locator("h1").inner_text().endswith(" 27"), "an entry opens from the chronology")
    check("rôle read" in page.content() or "role read" in page.content(), "a read token sees no payload, and is told why")
    refused_export = page.goto(url + "/ui/export/bundle?procedure=2026-057")
    check(refused_export.status == 403, "a read token may not download exports")
    page.goto(url + "/ui/entries/27")
    page.fill("#vkey", vkey)
    page.check("#keep-key")
    page.click("#verify")
    page.wait_for_function("document.getElementById('verify-result').textContent.length > 0")
    verdict = page.locator("#verify-result").inner_text()
    check(verdict.startswith("✔") and "27" not in verdict.split(":")[0], f"the browser verifies the entry's proof and the checkpoint signature: {verdict}")
    accessible(page, "entry")
    page.evaluate("""() => { const d = document.getElementById('proof-data');
        const hashes = d.dataset.hashes.split(' '); hashes[0] = btoa(String.fromCharCode(...new Uint8Array(32)));
        d.dataset.hashes = hashes.join(' '); document.getElementById('verify-result').textContent = ''; }""")
    page.click("#verify")
    page.wait_for_function("document.getElementById('verify-result').textContent.length > 0")
    check(page.locator("#verify-result").inner_text().startswith("✖"), "a tampered proof fails in the browser")
    page.reload()
    check(page.locator("#vkey").input_value() == vkey, "the key kept in the browser is offered again")
    page.fill("#vkey", vkey.replace("+", "x+", 1))
    page.click("#verify")
    page.wait_for_function("document.getElementById('verify-result').textContent.length > 0")
    check(page.locator("#verify-result").inner_text().startswith("✖"), "a key that is not the log's fails")

    # Sign-out needs the session's CSRF token; the form carries it.
    forged = context.request.post(url + "/ui/sign-out", form={"csrf": "forged"})
    check(forged.status == 403, f"a sign-out without the session's CSRF token is refused (got {forged.status})")
    page.goto(url + "/ui/")
    page.click("form.signout button")
    page.wait_for_url(url + "/ui/sign-in**")
    page.goto(url + "/ui/")
    check(page.url.startswith(url + "/ui/sign-in"), "after signing out, pages ask for a token again")

    # An export token sees payloads; a hostile one (script, javascript: link, bidi override) stays inert text.
    page.goto(url + "/ui/sign-in")
    page.fill("#token", export_token)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/ui/**")
    page.goto(url + "/ui/procedures/2026-057")
    with page.expect_download() as download_info:
        page.click("text=Dossier de preuve")
    download = download_info.value
    download.save_as(f"{shots}/2026-057.zip")
    check(download.suggested_filename == "bundle.zip", "the evidence bundle downloads from the procedure page")
    page.wait_for_function("document.getElementById('download-status').textContent.startsWith('Téléchargé')")
    check("Mo" in page.locator("#download-status").inner_text(), "the download's progress is shown, then its size")
    with page.expect_download() as csv_info:
        page.click("text=Chronologie (CSV)")
    check(csv_info.value.suggested_filename == "timeline.csv", "the timeline downloads as CSV")
    page.goto(url + "/ui/")
    page.fill("#from", "2026-01-01T00:00")
    page.fill("#to", "2026-12-31T23:59")
    page.select_option("#what", "csv")
    with page.expect_download() as period_info:
        page.click("section[aria-labelledby=period-h] button")
    check(period_info.value.suggested_filename == "timeline.csv", "a period's timeline downloads from the dashboard")
    page.goto(url + "/ui/entries/" + hostile_seq)
    content = page.locator("section[aria-labelledby=payload-h] pre").inner_text()
    check("<script>alert('xss')</script>" in content and "javascript:alert(2)" in content,
          "a hostile payload is shown as text")
    check("⟨U+202E⟩txt.exe" in content, "a bidi override in a payload is shown, not obeyed")
    check(page.locator("section[aria-labelledby=payload-h] a").count() == 0 and not dialogs,
          "nothing in a payload becomes a link or runs")
    accessible(page, "entry-hostile")

    headers = page.goto(url + "/ui/sign-in").headers
    csp = headers.get("content-security-policy", "")
    check("default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp,
          "a strict Content-Security-Policy is sent")
    check(not console_errors, f"no error in the browser console {console_errors}")
    browser.close()

print(f"{len(failures)} check(s) failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
