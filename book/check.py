#!/usr/bin/env python3
"""Opens every page of the built book in headless Chromium, as a reader would, and fails when a
page shows an unresolved include, an image or chart that did not load, a link to a page or an
anchor that does not exist, Rust code the page's scripts did not highlight, or a lesson chapter
without its Python block, its step code and its example. Saves a screenshot of every page under
<book>/shots/ for a person to look at.

    python3 book/check.py [target/book]

Needs Debian's `chromium` and `chromium-driver`, and `selenium` (pip). Exit status 1 lists every
problem, one a line; 2 when the book or the browser is missing."""

import os
import re
import shutil
import sys
import time
from urllib.parse import unquote, urldefrag, urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSONS = ["threads-basic", "race-lock", "cpu-processes", "queue-ipc", "pool-batch",
           "executor-completed", "async-mixed", "task-queue"]
INCLUDE = re.compile(r"\{\{#(rustdoc_)?include")
# The height a screenshot may grow to: a long chapter is cut there rather than making a huge file.
MAX_SHOT_HEIGHT = 20000


def fail_usage(message):
    print(f"book-check: {message}", file=sys.stderr)
    sys.exit(2)


def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        fail_usage("selenium is not installed (pip install selenium)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        fail_usage("chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1600", "--allow-file-access-from-files"]:
        options.add_argument(arg)
    # The driver is the system's: selenium must not go looking for one to download.
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def pages(book):
    """The book's pages, from SUMMARY.md: each chapter's source name and its built HTML path."""
    summary = open(os.path.join(ROOT, "book", "src", "SUMMARY.md"), encoding="utf-8").read()
    names = re.findall(r"\]\(([\w./-]+)\.md\)", summary)
    return [(name, os.path.join(book, name + ".html")) for name in names]


def first_code_line(path, anchor=None):
    """The first non-blank line of a file (or of an anchor's region), as a page shows it."""
    lines = open(path, encoding="utf-8").read().splitlines()
    if anchor:
        start = next(i for i, l in enumerate(lines) if f"ANCHOR: {anchor}" in l)
        lines = lines[start + 1:]
    return next(l.strip() for l in lines if l.strip() and "ANCHOR" not in l)


def visit(driver, url):
    driver.get(url)
    # The page's own scripts highlight code once it has loaded; give them up to 5 s, as a
    # reader's browser would.
    for _ in range(50):
        if driver.execute_script(
                "return document.readyState === 'complete' && "
                "(!document.querySelector('pre code') || !!document.querySelector('code.hljs'))"):
            break
        time.sleep(0.1)
    return driver.execute_script("""
        const imgs = [...document.querySelectorAll('main img')].map(i => ({
            src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}));
        const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
        const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
        const code = [...document.querySelectorAll('main pre code')].map(c => ({
            cls: c.className, text: c.innerText}));
        return {text: document.querySelector('main') ? document.querySelector('main').innerText : '',
                imgs, links, ids, code, height: document.documentElement.scrollHeight};
    """)


def check_lesson(name, seen, problems):
    snake = name.replace("-", "_")
    texts = "\n".join(c["text"] for c in seen["code"])
    if not any("language-python" in c["cls"] for c in seen["code"]):
        problems.append(f"{name}: no Python block")
    steps_dir = os.path.join(ROOT, "crates", name, "src", "steps")
    step_lines = [first_code_line(os.path.join(steps_dir, f), "pattern")
                  for f in sorted(os.listdir(steps_dir))
                  if f.endswith(".rs") and "ANCHOR: pattern" in open(os.path.join(steps_dir, f)).read()]
    if not step_lines or not any(line in texts for line in step_lines):
        problems.append(f"{name}: shows no step's code")
    # Each step has its own section, its id the file's name: a section swallowed by a code block
    # left open above it has none.
    for step in sorted(os.listdir(steps_dir)):
        if re.match(r"s\d+_\w+\.rs$", step) and step[:-3].replace("_", "-") not in seen["ids"]:
            problems.append(f"{name}: no section #{step[:-3].replace('_', '-')} for {step}")
    example = os.path.join(ROOT, "examples", f"{snake}.rs")
    if first_code_line(example) not in texts:
        problems.append(f"{name}: does not show examples/{snake}.rs")
    if not any("language-rust" in c["cls"] and "hljs" in c["cls"] for c in seen["code"]):
        problems.append(f"{name}: its Rust code was not highlighted (the page's scripts did not run)")


def main():
    book = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "book"))
    if not os.path.isfile(os.path.join(book, "index.html")):
        fail_usage(f"no book at {book}: run `just book` first")
    shots = os.path.join(book, "shots")
    os.makedirs(shots, exist_ok=True)
    driver = browser()
    problems, seen = [], {}
    try:
        for name, path in pages(book):
            if not os.path.isfile(path):
                problems.append(f"{name}: {os.path.relpath(path, book)} was not built")
                continue
            page = visit(driver, "file://" + path)
            seen[path] = page
            if INCLUDE.search(page["text"]):
                problems.append(f"{name}: shows an unresolved include")
            for img in page["imgs"]:
                if not img["ok"]:
                    problems.append(f"{name}: image {img['src']} did not load")
            if name in LESSONS:
                check_lesson(name, page, problems)
            driver.set_window_size(1280, min(max(page["height"], 800), MAX_SHOT_HEIGHT))
            driver.save_screenshot(os.path.join(shots, name.replace("/", "_") + ".png"))
            driver.set_window_size(1280, 1600)
        for path, page in seen.items():
            name = os.path.relpath(path, book)
            for href in page["links"]:
                parsed = urlparse(href)
                if parsed.scheme in ("http", "https", "mailto", "javascript"):
                    continue
                target, fragment = urldefrag(href)
                target = os.path.normpath(os.path.join(os.path.dirname(path), unquote(target))) if target else path
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                if not os.path.exists(target):
                    problems.append(f"{name}: link {href} leads to no page")
                elif fragment and target.endswith(".html"):
                    ids = seen[target]["ids"] if target in seen else visit(driver, "file://" + target)["ids"]
                    if fragment not in ids:
                        problems.append(f"{name}: link {href} leads to no anchor #{fragment}")
    finally:
        driver.quit()
    for problem in sorted(set(problems)):
        print(f"book-check: {problem}")
    print(f"book-check: {len(seen)} pages opened, screenshots in {shots}, "
          f"{len(set(problems))} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
