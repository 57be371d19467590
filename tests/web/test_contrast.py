"""Text contrast (WCAG 2.x, level AA) of every page a person sees, measured in real
Chromium at a desktop and a phone viewport.

For every visible element with its own text (parents of text nodes, buttons, links,
labels, inputs showing a value or placeholder) the page reports the computed `color` and
the background colours of the element and its ancestors up to the first opaque one; the
test blends them (the page counts as white beneath everything) and asserts at least
4.5:1, or 3:1 for large text (>= 24px, or >= 18.66px bold). A per-page summary lands in
test-output/contrast-<viewport>.txt."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from web_helpers import VIEWPORTS, create_spend_request, force_expiry, signin_link

pytestmark = pytest.mark.browser

RGBA = tuple[float, float, float, float]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: Any) -> str:
    """Browser tests run on SQLite only; the HTTP tests cover both databases."""
    return f"sqlite:///{tmp_path_factory.mktemp('contrast-db') / 'wallet.db'}"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# Runs in the page: one record per visible element that shows text of its own.
_COLLECT = r"""() => {
  const seen = new Set();
  const out = [];
  const skipTags = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TITLE", "OPTION"]);
  const visible = (el) => {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    // 1px boxes are the visually-hidden pattern; off-page boxes are the unfocused skip link.
    return r.width > 1 && r.height > 1 && r.right + window.scrollX > 0
      && r.bottom + window.scrollY > 0;
  };
  const selector = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) part += "#" + e.id;
      for (const c of e.classList) part += "." + c;
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  const backgrounds = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== "none") layers.push("image:" + s.backgroundImage);
      layers.push(s.backgroundColor);
      if (/^rgb\(/.test(s.backgroundColor)) break;  // opaque: nothing beneath shows
    }
    return layers;
  };
  const add = (el, text, color) => {
    if (seen.has(el) || el.disabled || !visible(el)) return;
    seen.add(el);
    const s = getComputedStyle(el);
    out.push({selector: selector(el), tag: el.tagName.toLowerCase(),
              text: text.replace(/\s+/g, " ").trim().slice(0, 50),
              color: color || s.color, backgrounds: backgrounds(el),
              fontSize: parseFloat(s.fontSize), fontWeight: parseInt(s.fontWeight, 10)});
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent && node.textContent.trim() && !skipTags.has(parent.tagName)) {
      add(parent, node.textContent);
    }
  }
  for (const el of document.querySelectorAll("button, a, label, select, textarea")) {
    add(el, el.innerText || el.getAttribute("aria-label") || "");
  }
  const textless = new Set(["hidden", "checkbox", "radio", "range", "color", "file", "image"]);
  for (const el of document.querySelectorAll("input")) {
    if (textless.has(el.type)) continue;
    if (el.value) add(el, el.value);
    else if (el.placeholder) {
      add(el, "placeholder: " + el.placeholder, getComputedStyle(el, "::placeholder").color);
    }
  }
  return out;
}"""


def parse_color(css: str) -> RGBA:
    """`rgb(r, g, b)` / `rgba(r, g, b, a)` as Chromium computes them (also the
    space-separated form), channels 0-255 and alpha 0-1."""
    match = re.fullmatch(
        r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)"
        r"(?:\s*[,/]\s*([\d.]+%?))?\s*\)",
        css.strip(),
    )
    if not match:
        raise ValueError(f"cannot read colour {css!r}")
    r, g, b, a = match.groups()
    alpha = 1.0 if a is None else (float(a[:-1]) / 100 if a.endswith("%") else float(a))
    return float(r), float(g), float(b), alpha


def over(top: RGBA, beneath: RGBA) -> RGBA:
    """`top` composited onto an opaque `beneath` (source-over)."""
    a = top[3]
    return (
        top[0] * a + beneath[0] * (1 - a),
        top[1] * a + beneath[1] * (1 - a),
        top[2] * a + beneath[2] * (1 - a),
        1.0,
    )


def luminance(color: RGBA) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: RGBA, second: RGBA) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def effective_background(layers: list[str]) -> RGBA:
    """Blend the element's and its ancestors' backgrounds, innermost first, onto white."""
    color: RGBA = (255.0, 255.0, 255.0, 1.0)
    for layer in reversed(layers):
        color = over(parse_color(layer), color)
    return color


def fmt(color: RGBA) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(c) for c in color[:3]))


def test_color_math_matches_wcag() -> None:
    black, white = (0.0, 0.0, 0.0, 1.0), (255.0, 255.0, 255.0, 1.0)
    assert contrast(black, white) == pytest.approx(21.0)
    assert contrast(parse_color("rgb(118, 118, 118)"), white) == pytest.approx(4.54, abs=0.01)
    assert effective_background(["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0.5)"]) == pytest.approx(
        (127.5, 127.5, 127.5, 1.0)
    )
    assert effective_background(["rgba(0, 0, 0, 0)"]) == white
    assert parse_color("rgb(10 20 30 / 50%)") == (10.0, 20.0, 30.0, 0.5)


_SAMPLE = """<!doctype html><html><body style="background:#fff;font:16px sans-serif">
<p id="grey" style="color:#999">grey on white</p>
<p id="big" style="color:#949494;font-size:24px">large grey</p>
<p id="bold" style="color:#949494;font-size:19px;font-weight:700">large bold grey</p>
<div style="background:rgba(0,0,0,0.5)"><span id="veiled" style="color:#333">veiled</span></div>
<button id="ghost" style="color:rgba(255,255,255,0.4);background:#1f3a5f">faint</button>
<span id="hidden" style="position:absolute;width:1px;height:1px;overflow:hidden;color:#eee">
  visually hidden</span>
<p id="gone" style="display:none;color:#eee">not rendered</p>
<input id="field" placeholder="type here" style="color:#111">
</body></html>"""


def test_collector_measures_what_a_reader_sees(browser: Any) -> None:
    """The in-page collector on a sample with known answers: misses nothing visible,
    skips what nobody sees, and the verdicts hold."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(_SAMPLE)
        records = {r["selector"].split("#")[-1]: r for r in page.evaluate(_COLLECT)}
    finally:
        context.close()
    assert set(records) == {"grey", "big", "bold", "veiled", "ghost", "field"}
    verdicts = {name: check(record)[:2] for name, record in records.items()}
    assert verdicts["grey"][0] == pytest.approx(2.85, abs=0.01) and verdicts["grey"][1] == 4.5
    assert verdicts["big"][0] >= verdicts["big"][1] == 3.0
    assert verdicts["bold"][1] == 3.0
    # #333 text over half-black on white: the blended #808080 background, 2.8:1.
    assert verdicts["veiled"][0] == pytest.approx(
        contrast(parse_color("rgb(51, 51, 51)"), parse_color("rgb(127.5, 127.5, 127.5)"))
    )
    assert verdicts["ghost"][0] < 4.5
    assert records["field"]["text"] == "placeholder: type here"


def check(record: dict[str, Any]) -> tuple[float, float, str]:
    """(ratio, required, description) for one element the page reported."""
    images = [layer for layer in record["backgrounds"] if layer.startswith("image:")]
    large = record["fontSize"] >= 24 or (
        record["fontSize"] >= 18.66 and record["fontWeight"] >= 700
    )
    required = 3.0 if large else 4.5
    if images:
        return 0.0, required, f"{record['selector']} {record['text']!r}: text over {images[0]}"
    background = effective_background(record["backgrounds"])
    foreground = over(parse_color(record["color"]), background)
    ratio = contrast(foreground, background)
    return (
        ratio,
        required,
        (
            f"{record['selector']} {record['text']!r}: {fmt(foreground)} on {fmt(background)} "
            f"= {ratio:.2f}:1 (needs {required}:1, {record['fontSize']:g}px "
            f"weight {record['fontWeight']})"
        ),
    )


def _charge(wallet: Any, token: str, spend_id: str, api_key: str, amount: int) -> int:
    with wallet.http(token) as agent:
        card = agent.get(f"/spend_requests/{spend_id}", params={"include": "card"}).json()["card"]
    with wallet.http(headers={"Authorization": f"Bearer {api_key}"}) as merchant:
        return merchant.post(
            "/v1/test_network/card_charges",
            json={
                "number": card["number"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "cvc": card["cvc"],
                "amount": amount,
                "currency": "usd",
            },
        ).status_code


def _pages(wallet: Any, person: str, token: str) -> list[str]:
    """Data for every state the pages can show; returns the signed-in paths to visit."""
    pending = create_spend_request(wallet, token)
    mismatched = create_spend_request(  # the "figures do not add up" warning box
        wallet, token, amount=45000, totals=[{"type": "total", "amount": 45000}]
    )
    expired = create_spend_request(wallet, token)
    force_expiry(wallet, expired)
    wallet.deny(create_spend_request(wallet, token), person)
    _merchant, api_key, _network = wallet.create_merchant(
        f"Volt Supply {secrets.token_hex(3)}", url="https://volt-supply.example"
    )
    paid, declined = create_spend_request(wallet, token), create_spend_request(wallet, token)
    for spend_id, amount, status in ((paid, 2599, 200), (declined, 9999, 402)):
        wallet.approve(spend_id, person)
        assert _charge(wallet, token, spend_id, api_key, amount) == status
    with wallet.http() as agent:
        started = agent.post(
            "/device/code",
            data={
                "client_id": "link-cli",
                "connection_label": "Claude Code on test-laptop",
                "scope": "userinfo:read payment_methods.agentic spend_requests:approve",
            },
        )
    assert started.status_code == 200, started.text
    code = started.json()["user_code"]
    return [
        "/",
        f"/approve/{pending}",
        f"/approve/{mismatched}",
        f"/approve/{expired}",
        f"/approve/{paid}",
        "/device",
        f"/device?code={code}",
        "/activity",
        "/limits",
        "/payment-methods",
        "/agents",
        "/notifications",
        "/security",
        "/addresses",
        "/profile",
        f"/receipts/{paid}",
        "/no-such-page",
    ]


def test_text_contrast_meets_wcag_aa(
    browser: Any, wallet: Any, person: str, agent_token: Any, viewport: str, output_dir: Any
) -> None:
    paths = _pages(wallet, person, agent_token.access_token)
    base = wallet.base_url.replace("127.0.0.1", "localhost", 1)
    context = browser.new_context(**VIEWPORTS[viewport])
    offenders: list[str] = []
    summary: list[str] = []
    lowest = (99.0, "")

    def measure(label: str) -> list[dict[str, Any]]:
        nonlocal lowest
        records: list[dict[str, Any]] = page.evaluate(_COLLECT)
        assert any(r["tag"] == "h1" for r in records), f"{label}: no visible heading measured"
        results = [check(r) for r in records]
        offenders.extend(f"{label}: {d}" for ratio, need, d in results if ratio < need)
        ratio, _need, description = min(results)
        lowest = min(lowest, (ratio, f"{label}: {description}"))
        summary.append(f"{label}: {len(records)} elements, lowest {description}")
        return records

    try:
        page = context.new_page()
        page.goto(base + "/signin")
        page.keyboard.press("Tab")  # the skip link shows itself once focused
        assert page.evaluate("document.activeElement.classList.contains('skip')")
        assert any("a.skip" in r["selector"] for r in measure("/signin"))
        page.goto(signin_link(wallet, person).replace("127.0.0.1", "localhost", 1))
        measure("/signin/link")
        page.get_by_role("button", name=re.compile(r"^Sign in as ")).click()
        page.wait_for_url(re.compile(r"/$"))
        for path in paths:
            page.goto(base + path)
            measure(path)
    finally:
        context.close()
    summary.append(f"LOWEST {lowest[1]}")
    (output_dir / f"contrast-{viewport}.txt").write_text("\n".join(summary) + "\n")
    assert not offenders, f"{len(offenders)} text elements below WCAG AA contrast:\n" + "\n".join(
        offenders
    )
