"""QR codes lead where the person can go: the device login link the wallet hands out
is built from LINKPAY_PUBLIC_URL, the QR code printed beside it decodes (with a real
QR decoder, zxing-cpp) to exactly that URL, and a loopback URL is called out next to
its QR code."""

from __future__ import annotations

import io
from typing import Any

import httpx2
import zxingcpp

from linkpay.cli.output.tty import show_link
from linkpay.demo.terminal import TerminalNarrator
from linkpay.public_url import LOOPBACK_NOTE, is_loopback_url

# segno's compact terminal QR: one character per column and two rows of modules,
# (top, bottom) with 1 = dark module (drawn as the terminal's background).
_HALF_BLOCKS = {" ": (1, 1), "\u2580": (0, 1), "\u2584": (1, 0), "\u2588": (0, 0)}
_QUIET, _SCALE = 4, 4


def decode_terminal_qr(text: str) -> list[str]:
    """Every QR code drawn in `text`, decoded."""
    art = [
        line
        for line in text.splitlines()
        if line and set(line) <= set(_HALF_BLOCKS) and set(line) - {" "}
    ]
    assert art, f"no QR code in:\n{text}"
    rows: list[list[int]] = []
    for line in art:
        pairs = [_HALF_BLOCKS[ch] for ch in line]
        rows.append([top for top, _ in pairs])
        rows.append([bottom for _, bottom in pairs])
    if rows and all(rows[-1]):  # an odd height: segno pads the last half row (as dark)
        rows.pop()
    width = max(len(row) for row in rows) + 2 * _QUIET
    padded = [[0] * width for _ in range(_QUIET)]
    padded += [[0] * _QUIET + row + [0] * (width - _QUIET - len(row)) for row in rows]
    padded += [[0] * width for _ in range(_QUIET)]
    pixels = bytearray()
    for row in padded:
        line = bytes(0 if dark else 255 for dark in row for _ in range(_SCALE))
        pixels += line * _SCALE
    size = (width * _SCALE, len(padded) * _SCALE)
    buffer = bytes(pixels)  # ImageView does not keep its buffer alive: hold it here
    image = zxingcpp.ImageView(buffer, size[0], size[1], zxingcpp.ImageFormat.Lum)
    found = [result.text for result in zxingcpp.read_barcodes(image)]
    del buffer
    return found


def test_device_link_and_its_qr_use_the_public_url(wallet_factory: Any) -> None:
    public = "http://192.0.2.10:8765"
    served = wallet_factory(public_url=public)
    with httpx2.Client(base_url=served.listen_url, timeout=30) as client:
        started = client.post("/device/code", data={"client_id": "link-cli"}).json()
    url = started["verification_uri_complete"]
    assert url.startswith(f"{public}/device?")
    out = io.StringIO()
    show_link(url, "Open this to approve", out)
    printed = out.getvalue()
    assert decode_terminal_qr(printed) == [url]
    assert LOOPBACK_NOTE not in printed


def test_loopback_link_says_so_next_to_its_qr(wallet: Any) -> None:
    with wallet.http() as client:
        started = client.post("/device/code", data={"client_id": "link-cli"}).json()
    url = started["verification_uri_complete"]
    assert is_loopback_url(url)
    out = io.StringIO()
    show_link(url, "Open this to approve", out)
    printed = out.getvalue()
    assert decode_terminal_qr(printed) == [url]
    assert printed.rstrip().endswith(LOOPBACK_NOTE)


def test_demo_narrator_warns_under_a_loopback_qr() -> None:
    out = io.StringIO()
    narrator = TerminalNarrator(out=out, inp=io.StringIO())
    narrator.show_link("Wallet app", "http://127.0.0.1:8765/")
    assert decode_terminal_qr(out.getvalue()) == ["http://127.0.0.1:8765/"]
    assert "loopback address" in out.getvalue()


def test_loopback_detection() -> None:
    for url in (
        "http://127.0.0.1:8765/x",
        "http://localhost:1/",
        "http://[::1]:8765/",
        "http://127.8.0.1/",
        "http://app.localhost/",
    ):
        assert is_loopback_url(url), url
    for url in ("http://192.168.1.20:8765/", "https://wallet.example/", "not a url", ""):
        assert not is_loopback_url(url), url
