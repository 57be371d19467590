"""`link-cli onboard` under tmux against a real wallet: device login approved by the
person, payment methods listed, wallet app link with QR, the demo offered."""

import re
import subprocess

import pytest
from demo_helpers import LINK_CLI, Tmux, clean_env


def test_onboard_needs_a_terminal(tmp_path):
    done = subprocess.run(
        [LINK_CLI, "onboard", "--format", "json"],
        env=clean_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and '"REQUIRES_TTY"' in done.stdout


@pytest.mark.tmux
def test_onboard_logs_in_lists_cards_and_offers_the_demo(tmp_path, wallet, person):
    env = clean_env(tmp_path)
    env.update(
        TERM="xterm-256color", LINK_API_BASE_URL=wallet.base_url, LINK_AUTH_BASE_URL=wallet.base_url
    )
    script = tmp_path / "run.sh"
    script.write_text(
        f'#!/bin/sh\n"{LINK_CLI}" onboard --client-name "onboard test"\n'
        'echo "ONBOARD EXIT $?"\nsleep 120\n'
    )
    script.chmod(0o755)
    tmux = Tmux([str(script)], env)
    try:
        screen = tmux.wait_for("Waiting for your approval")
        assert f"{wallet.base_url}/device?code=" in screen
        phrase = re.search(r"The phrase to check: ([a-z -]+)", screen).group(1).strip()
        wallet.approve_device(phrase, person)

        screen = tmux.wait_for("Run the demo now? [Y/n]")
        assert "✓ Connected." in screen
        assert re.search(r"Visa •••• 4242  exp \d\d/\d\d  \(default\)", screen)
        assert f"{wallet.base_url}/" in screen.split("Keep the wallet app at hand")[1]
        tmux.send("n", "Enter")
        screen = tmux.wait_for("ONBOARD EXIT")
        assert "ONBOARD EXIT 0" in screen
        assert (tmp_path / "config" / "link-cli" / "auth.json").exists()
    finally:
        tmux.close()
