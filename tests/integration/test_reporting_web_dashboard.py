"""The dashboard and report pages in headless Chromium (Debian's package, driven over the DevTools
protocol by a small client below): a person signs in with a key, the dashboard loads, it shows the
external-share chart with the target line and its data table, the console stays free of errors and
failed loads, and axe-core (from npm) finds no serious or critical WCAG 2.2 A/AA violations."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from reporting.web.assets import REPO_ROOT

from .reporting_web_harness import KEYS, running_server, seed_reporting_db, web_settings

AXE = REPO_ROOT / ".local" / "node" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--remote-debugging-port=0", "--window-size=1280,1000"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


class Page:
    """One browser tab over CDP: commands by id, events collected as they come."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.ids, self.waiting = ws, itertools.count(1), {}
        self.events: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = orjson.loads(message.data)
            if "id" in data and data["id"] in self.waiting:
                self.waiting.pop(data["id"]).set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.waiting[ident] = asyncio.get_running_loop().create_future()
        await self.ws.send_str(orjson.dumps({"id": ident, "method": method, "params": params}).decode())
        reply = await asyncio.wait_for(self.waiting[ident], 30)
        assert "error" not in reply, (method, reply["error"])
        return reply["result"]

    async def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=await_promise)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.load(self.send("Page.navigate", url=url))

    async def load(self, action) -> None:
        """Run `action` (a coroutine that starts a navigation) and wait for the new page's load event."""
        before = len([e for e in self.events if e["method"] == "Page.loadEventFired"])
        await action
        for _ in range(300):
            if len([e for e in self.events if e["method"] == "Page.loadEventFired"]) > before:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the page did not finish loading")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, failed loads and HTTP errors the page met so far."""
        found = []
        for e in self.events:
            method, p = e["method"], e["params"]
            if method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                found.append(f"console.{p['type']}: {p['args']}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                found.append(f"log: {p['entry']['text']} {p['entry'].get('url', '')}")
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                found.append(f"load failed: {p['errorText']}")
            elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
                found.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
        return found


@contextlib.asynccontextmanager
async def chromium_page():
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "Chromium is missing: run `make chromium` (deploy/local/install-chromium.sh)"
    with tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True) as profile:
        proc = await asyncio.create_subprocess_exec(binary, *FLAGS, f"--user-data-dir={profile}", "about:blank",
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            for _ in range(200):
                if port_file.exists() and port_file.read_text().strip():
                    break
                await asyncio.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            async with aiohttp.ClientSession() as http:
                async with http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as r:
                    target = await r.json()
                async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    page = Page(ws)
                    for domain in ("Page", "Runtime", "Log", "Network"):
                        await page.send(f"{domain}.enable")
                    yield page
                    page.reader.cancel()
        finally:
            proc.terminate()
            await proc.wait()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.0-2.2 A/AA (and its best practices) on the page as it is now."""
    await page.evaluate(AXE.read_text())
    return await page.evaluate(
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {orjson.dumps(AXE_TAGS).decode()}}}}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length})))",
        await_promise=True)


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    found = await axe_violations(page)
    assert isinstance(found, list)  # axe ran
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
async def site(fresh_db, tmp_path):
    assert AXE.is_file(), "axe-core is missing: run `make node-deps`"
    dsn = await fresh_db("reporting")
    await seed_reporting_db(dsn)
    async with running_server(web_settings(dsn, tmp_path / "packs")) as base:
        yield base


async def test_dashboard_in_headless_chromium(site, tmp_path):
    async with chromium_page() as page:
        await page.goto(f"{site}/sign-in")
        assert await serious_violations(page) == []
        await page.evaluate(f"document.getElementById('key').value = {orjson.dumps(KEYS[('C001', 'auditor')]).decode()}")
        await page.load(page.evaluate("document.querySelector('form button').click()"))
        await page.load(page.evaluate("document.getElementById('as_of').value = '2026-06-30'; "
                                      "document.querySelector('form[method=get] button').click()"))

        assert await page.evaluate("location.pathname") == "/councils/C001/dashboard"
        assert await page.evaluate("document.querySelector('h1').textContent") == "Dashboard"
        # GOV.UK Frontend's script loaded from the package and started its components
        assert await page.evaluate("document.querySelector('.govuk-skip-link').hasAttribute('data-govuk-skip-link-init')")
        chart = await page.evaluate("""(() => {
            const svg = document.getElementById('chart-external-share');
            if (!svg) return null;
            const ids = (svg.getAttribute('aria-labelledby') || '').split(' ');
            return {role: svg.getAttribute('role'), labelled: ids.every(id => document.getElementById(id)),
                    title: svg.querySelector('title').textContent, desc: svg.querySelector('desc').textContent,
                    bars: svg.querySelectorAll('rect').length, width: svg.getBoundingClientRect().width,
                    target: !!svg.querySelector('.app-chart__target'),
                    table: !!document.querySelector('#provider-type-spend table.govuk-table')};
        })()""")
        assert chart is not None, "no external-share chart on the dashboard"
        assert chart["role"] == "img" and chart["labelled"] and chart["target"] and chart["table"]
        assert chart["bars"] == 2 and chart["width"] > 300  # April and May, drawn at a readable size
        assert "60.0%" in chart["desc"] and "90.0%" in chart["desc"] and "target of 80%" in chart["desc"]
        font = await page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
        assert font.startswith("arial"), font  # not GOV.UK's own typeface: a council is not GOV.UK

        assert await serious_violations(page) == []
        shot = await page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        (tmp_path / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))

        await page.goto(f"{site}/councils/C001/reports/trial_balance?as_of=2026-06-30&format=html")
        assert await page.evaluate("document.querySelector('h1').textContent") == "Trial balance"
        assert await serious_violations(page) == []
        assert page.problems() == []
