"""The interactive demo with the person approving in the wallet's approval page in real
Chromium (not at the prompt): the demo notices within its watch loop and completes."""

import re

import pytest
from demo_helpers import CARD_NUMBER_RUN, LINK_CLI, Tmux, clean_env

pytestmark = [
    pytest.mark.browser,
    pytest.mark.tmux,
]


def test_person_approves_in_the_browser_while_the_demo_waits(tmp_path, browser):
    env = clean_env(tmp_path)
    env["TERM"] = "xterm-256color"
    script = tmp_path / "run.sh"
    script.write_text(f'#!/bin/sh\n"{LINK_CLI}" demo --only-card\necho "DEMO EXIT $?"\nsleep 120\n')
    script.chmod(0o755)
    tmux = Tmux([str(script)], env, width=200)
    page = browser.new_page()
    try:
        screen = tmux.wait_for("approve as the test person? [y/n]")
        assert "the link signs you in as the test person" in screen, screen
        link = re.search(r"http://127\.0\.0\.1:\d+/signin/\S+\?next=/approve/lsrq_\w+", screen)
        assert link, screen

        page.goto(link.group(0))
        page.get_by_role("button", name="Sign in as test.person@linkpay.test").click()
        page.wait_for_url(re.compile(r".*/approve/lsrq_\w+.*"))
        assert "Linkpay Demo Shop" in page.content()
        page.get_by_role("button", name=re.compile(r"^Approve")).click()
        page.get_by_text("Approved.").first.wait_for()

        screen = tmux.wait_for("DEMO EXIT")
        assert "DEMO EXIT 0" in screen, screen
        assert re.search(r"The person approved lsrq_\w+\.", screen), screen
        assert "Checkout page: Thank you, your order is confirmed." in screen, screen
        assert not CARD_NUMBER_RUN.search(screen), screen
    finally:
        page.close()
        tmux.close()
