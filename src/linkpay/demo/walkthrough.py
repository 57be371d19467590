"""Run the demo: get an environment, pick the flows, run them, summarise.

`run_demo(...)` is what `link-cli demo` and `link-cli onboard` call. The summary is the
command's result (rendered by the CLI in the chosen `--format`):

    {"succeeded": true, "mode": "embedded", "wallet_url": …, "merchant_url": …,
     "flows": {"card": {"succeeded": true, "spend_request_id": …, "status": "succeeded",
                        "card": {brand, last4, exp_month, exp_year}, "checkout": {…}},
               "spt": {"succeeded": true, "spend_request_id": …, "status": "succeeded",
                       "http_status": 200, "receipt": {…}, "response": {…}}}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linkpay import startup_gc
from linkpay.demo.environment import DemoEnvironment, open_environment, quiet_server_logs
from linkpay.demo.flows import FlowFailed, run_card_flow, run_spt_flow
from linkpay.demo.terminal import clean

FLOW_LABELS: dict[str, str] = {
    "card": "Card: pay at a checkout page with a one-time virtual card",
    "spt": "Machine payment: pay an HTTP 402 API with a shared payment token (MPP)",
}
_RUNNERS: dict[str, Callable[[DemoEnvironment, Any, dict[str, Any]], None]] = {
    "card": run_card_flow,
    "spt": run_spt_flow,
}


def run_flow(name: str, env: DemoEnvironment, narrator: Any) -> dict[str, Any]:
    """Run one flow; any failure becomes `error: {code, message}` in its summary."""
    from linkpay.client.errors import LinkError

    result: dict[str, Any] = {"succeeded": False}
    narrator.title(FLOW_LABELS[name])
    try:
        _RUNNERS[name](env, narrator, result)
    except FlowFailed as exc:
        result["error"] = {"code": exc.code, "message": clean(exc.message)}
    except LinkError as exc:
        result["error"] = {"code": exc.code, "message": clean(exc.message)}
    except Exception as exc:  # a demo step broke: report it, never a traceback
        result["error"] = {
            "code": "DEMO_STEP_FAILED",
            "message": clean(f"{type(exc).__name__}: {exc}"),
        }
    if result.get("error"):
        narrator.fail(f"{result['error']['code']}: {result['error']['message']}")
    return result


def run_demo(
    narrator: Any,
    *,
    only: str | None = None,
    verbose: Any = False,
) -> dict[str, Any]:
    """Run the chosen flows (both unless `only`, or the person picks from the menu)."""
    narrator.title("linkpay demo — test mode: no real money moves")
    quiet = narrator.draws_on_terminal and not verbose
    # Quieted after the servers start: uvicorn (re)configures its loggers at startup.
    with open_environment(say=narrator.info, verbose=verbose) as env, quiet_server_logs(quiet):
        startup_gc.ready()  # servers up: what follows makes garbage worth collecting
        if env.mode == "embedded":
            narrator.info(f"Embedded test wallet: {env.wallet_url} (stopped when the demo ends)")
        else:
            narrator.info(f"Your wallet: {env.wallet_url}")
        narrator.info(f"Demo merchant: {env.shop_url} and {env.paid_api_url}")
        possible = [name for name in FLOW_LABELS if name != "spt" or env.network_id]
        if "spt" not in possible:
            narrator.info(
                "The machine-payment flow needs the merchant's network id "
                "(LINKPAY_MERCHANT_NETWORK_ID); only the card flow can run."
            )
        if only:
            chosen = [only]
        elif len(possible) == 1:
            chosen = possible
        else:
            chosen = narrator.choose_flows([(name, FLOW_LABELS[name]) for name in possible])
        flows = {}
        for name in chosen:
            if name in possible:
                flows[name] = run_flow(name, env, narrator)
            else:
                message = "The merchant has no network id for shared payment tokens."
                narrator.fail(message)
                flows[name] = {
                    "succeeded": False,
                    "error": {"code": "FLOW_UNAVAILABLE", "message": message},
                }
        summary: dict[str, Any] = {
            "succeeded": all(flow["succeeded"] for flow in flows.values()),
            **env.summary(),
            "flows": flows,
        }
    narrator.title("Done: every step succeeded." if summary["succeeded"] else "Some steps failed.")
    return summary
