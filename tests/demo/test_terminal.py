"""The demo's narrators: menu, prompts, approval question, QR, sanitizing."""

import io

from linkpay.demo.terminal import QuietNarrator, TerminalNarrator, clean, mask_card

OPTIONS = [("card", "Card flow"), ("spt", "SPT flow")]


def _narrator(typed: str) -> tuple[TerminalNarrator, io.StringIO]:
    out = io.StringIO()
    return TerminalNarrator(out=out, inp=io.StringIO(typed)), out


def test_menu_picks_one_flow_both_by_default_and_reasks_on_nonsense():
    narrator, out = _narrator("7\n2\n")
    assert narrator.choose_flows(OPTIONS) == ["spt"]
    assert "Please type a number from 1 to 3." in out.getvalue()
    assert "Choose 1-3 [3]:" in out.getvalue()
    narrator, _ = _narrator("\n")
    assert narrator.choose_flows(OPTIONS) == ["card", "spt"]


def test_approval_question_shows_the_choices_and_reads_the_answer():
    narrator, out = _narrator("maybe\nn\n")
    assert narrator.wait_for_approval("Approve as the test person?", lambda: False) is False
    assert "Approve as the test person? [y/n]" in out.getvalue()
    assert "Please answer y or n" in out.getvalue()
    narrator, _ = _narrator("y\n")
    assert narrator.wait_for_approval("Approve?", lambda: False) is True


def test_approval_settled_elsewhere_stops_asking():
    narrator, _ = _narrator("")
    assert narrator.wait_for_approval("Approve?", lambda: True) is None


def test_confirm_default_and_link_with_qr():
    narrator, out = _narrator("\nno\n")
    assert narrator.confirm("Run it?") is True
    assert narrator.confirm("Run it?") is False
    assert "Run it? [Y/n]" in out.getvalue()
    narrator.show_link("Approval page", "http://127.0.0.1:1/approve/lsrq_x")
    text = out.getvalue()
    assert "http://127.0.0.1:1/approve/lsrq_x" in text and "█" in text


def test_quiet_narrator_never_asks_and_strips_control_characters():
    out = io.StringIO()
    quiet = QuietNarrator(out=out)
    assert quiet.choose_flows(OPTIONS) == ["card", "spt"]
    assert quiet.wait_for_approval("?", lambda: False) is True
    quiet.ok("merchant says \x1b[31mred\x1b[0m\x07")
    assert out.getvalue() == "    ok: merchant says red\n"


def test_masking_and_cleaning():
    assert mask_card("visa", "4242", 2, 2031) == "Visa •••• 4242  exp 02/31"
    assert clean("a\x1b]0;title\x07b\tc\n\u202e") == "ab\tc\n"


def test_auto_terminal_narrator_explains_but_never_asks_or_draws_qr():
    out = io.StringIO()
    auto = TerminalNarrator(out=out, inp=io.StringIO(""), auto=True)
    assert auto.interactive is False and auto.draws_on_terminal is True
    assert auto.choose_flows(OPTIONS) == ["card", "spt"]
    assert auto.confirm("Run?", default=True) is True
    assert auto.wait_for_approval("Approve?", lambda: False) is True
    auto.step(1, 5, "The agent asks", "Because.")
    auto.show_link("Approval page", "http://127.0.0.1:1/approve/lsrq_x")
    text = out.getvalue()
    assert "Step 1/5: The agent asks" in text and "Because." in text
    assert "http://127.0.0.1:1/approve/lsrq_x" in text and "█" not in text
    assert "Choose" not in text and "[Y/n]" not in text
