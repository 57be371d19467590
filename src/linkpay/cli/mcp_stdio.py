"""`link-cli --mcp`: the MCP server over stdio (newline-delimited JSON-RPC 2.0), written
against the protocol instead of the mcp SDK, whose import alone costs ~0.6 s of CPU
before the first answer. It answers `initialize` at once and loads the command registry
in the background meanwhile; the tools and their answers are `cli/mcp_tools.py`'s, the
same as the SDK-based HTTP server's (`link-cli serve`).

What it answers, as the SDK's stdio server does (`tests/cli/test_mcp_stdio.py` sends one
scripted session to both and compares every answer):

- `initialize`: the client's protocol version when it is a handshake version we know,
  else the newest; tools, resources and prompts capabilities (the last two empty);
  instructions; server info. Malformed params: -32602.
- `ping` any time; other requests before `initialize`: -32602 (as the SDK).
- `tools/list`, `tools/call` (each call in its own thread: a long poll does not hold up
  pings or other calls), `resources/list`, `resources/templates/list`, `prompts/list`
  (empty), `prompts/get` and `resources/read` (unknown, in the SDK's words).
- Any other method: -32601, `server/discover` included (the per-request protocol of
  2026-07-28 is not offered over stdio by the SDK either).
- `notifications/cancelled` drops the answer of the call it names; other notifications,
  answers and anything that is not a JSON-RPC message (bad JSON, batches) are ignored.

While serving, fd 0 reads /dev/null and fd 1 writes to stderr (the protocol keeps
private duplicates), so nothing a handler or a library prints can corrupt the stream.
"""

import json
import os
import sys
import threading
from collections.abc import Iterable
from typing import Any, BinaryIO

from linkpay.cli.mcp_tools import INSTRUCTIONS, ToolRunner, result_text

HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
CAPABILITIES = {
    "prompts": {"listChanged": False},
    "resources": {"listChanged": False, "subscribe": False},
    "tools": {"listChanged": False},
}
EMPTY_LISTS = {
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
    "prompts/list": "prompts",
}
KNOWN_METHODS = frozenset(
    ("initialize", "ping", "tools/list", "tools/call", "prompts/get", "resources/read")
) | frozenset(EMPTY_LISTS)
INVALID_PARAMS = {"code": -32602, "message": "Invalid request parameters", "data": ""}


class StdioServer:
    def __init__(self, out: BinaryIO, *, auth_file: str | None, verbose: bool) -> None:
        self._out = out
        self._write_lock = threading.Lock()
        self._runner = ToolRunner(auth_file=auth_file, verbose=verbose)
        self._initialized = False
        self._tools: dict[str, Any] | None = None
        self._listing: list[dict[str, Any]] = []
        self._tools_lock = threading.Lock()
        self._cancelled: set[Any] = set()
        self._in_flight: set[Any] = set()
        self._calls_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # -- the loop -------------------------------------------------------------------

    def serve(self, lines: Iterable[bytes]) -> None:
        """Until stdin ends; calls still running then are answered before returning
        (`printf '…' | link-cli --mcp` gets every answer)."""
        try:
            for line in lines:
                self.handle(line)
            for thread in list(self._threads):
                thread.join()
        finally:
            self._runner.close()

    def handle(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return
        method = message.get("method")
        if not isinstance(method, str):
            return  # an answer to a request we never send, or junk
        params = message.get("params")
        params = {} if params is None else params
        if not isinstance(params, dict):
            return
        if "id" not in message:
            self._notification(method, params)
            return
        ident = message["id"]
        if isinstance(ident, bool) or not isinstance(ident, (str, int)):
            return
        self._request(ident, method, params)

    def _notification(self, method: str, params: dict[str, Any]) -> None:
        if method == "notifications/cancelled":
            with self._calls_lock:
                if params.get("requestId") in self._in_flight:
                    self._cancelled.add(params["requestId"])

    def _request(self, ident: Any, method: str, params: dict[str, Any]) -> None:
        meta = params.get("_meta")
        if method not in KNOWN_METHODS:
            error = {"code": -32601, "message": "Method not found", "data": method}
            self._answer(ident, error=error)
        elif meta is not None and not isinstance(meta, dict):
            self._answer(ident, error=INVALID_PARAMS)
        elif method == "initialize":
            self._initialize(ident, params)
        elif method == "ping":
            self._answer(ident, result={})
        elif not self._initialized:
            self._answer(ident, error=INVALID_PARAMS)
        elif method == "tools/call":
            self._call(ident, params)
        elif method in ("prompts/get", "resources/read"):
            self._nothing_to_get(ident, method, params)
        elif method == "tools/list" or method in EMPTY_LISTS:
            cursor = params.get("cursor")
            if cursor is not None and not isinstance(cursor, str):
                self._answer(ident, error=INVALID_PARAMS)
            elif method == "tools/list":
                self._answer(ident, result={"tools": self._load_tools()[1]})
            else:
                self._answer(ident, result={EMPTY_LISTS[method]: []})

    # -- methods --------------------------------------------------------------------

    def _initialize(self, ident: Any, params: dict[str, Any]) -> None:
        client = params.get("clientInfo")
        if not (
            isinstance(params.get("protocolVersion"), str)
            and isinstance(params.get("capabilities"), dict)
            and isinstance(client, dict)
            and isinstance(client.get("name"), str)
            and isinstance(client.get("version"), str)
        ):
            self._answer(ident, error=INVALID_PARAMS)
            return
        from linkpay import __version__

        asked = params["protocolVersion"]
        version = asked if asked in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[-1]
        self._answer(
            ident,
            result={
                "capabilities": CAPABILITIES,
                "instructions": INSTRUCTIONS,
                "protocolVersion": version,
                "serverInfo": {"name": "link-cli", "version": __version__},
            },
        )
        self._initialized = True
        # The client reads the answer and asks for the tools next: load them meanwhile.
        threading.Thread(target=self._load_tools, name="mcp-load-tools", daemon=True).start()

    def _nothing_to_get(self, ident: Any, method: str, params: dict[str, Any]) -> None:
        """There are no prompts or resources; the SDK's words (and codes) for that."""
        key = "name" if method == "prompts/get" else "uri"
        value = params.get(key)
        if not isinstance(value, str):
            self._answer(ident, error=INVALID_PARAMS)
        elif method == "prompts/get":
            self._answer(ident, error={"code": 0, "message": f"Unknown prompt: {value}"})
        else:
            message = f"Unknown resource: {value}"
            self._answer(ident, error={"code": -32602, "message": message, "data": {"uri": value}})

    def _load_tools(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with self._tools_lock:
            if self._tools is None:
                from linkpay.cli.mcp_tools import tool_commands, tool_listing

                commands = tool_commands()
                self._listing = [tool_listing(cmd) for cmd in commands]
                self._tools = {cmd.tool_name: cmd for cmd in commands}
            return self._tools, self._listing

    def _call(self, ident: Any, params: dict[str, Any]) -> None:
        name, arguments = params.get("name"), params.get("arguments")
        if not isinstance(name, str) or not isinstance(arguments, (dict, type(None))):
            self._answer(ident, error=INVALID_PARAMS)
            return
        with self._calls_lock:
            self._in_flight.add(ident)
        values = {k: v for k, v in (arguments or {}).items() if v is not None}
        thread = threading.Thread(
            target=self._run_call, args=(ident, name, values), name="mcp-call", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _run_call(self, ident: Any, name: str, values: dict[str, Any]) -> None:
        try:
            result = self._tool_result(name, values)
        finally:
            with self._calls_lock:
                self._in_flight.discard(ident)
                cancelled = ident in self._cancelled
                self._cancelled.discard(ident)
        if not cancelled:
            self._answer(ident, result=result)

    def _tool_result(self, name: str, values: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = self._load_tools()[0].get(name)
        except Exception as exc:  # noqa: BLE001 - an answer, never a traceback
            name_of = type(exc).__name__
            data = {"code": "INTERNAL_ERROR", "message": f"Tools unavailable ({name_of})"}
            return {"content": [{"text": result_text(data), "type": "text"}], "isError": True}
        if cmd is None:
            return {"content": [{"text": f"Unknown tool: {name}", "type": "text"}], "isError": True}
        data, is_error = self._runner.run(cmd, values)  # never raises
        return {
            "content": [{"text": result_text(data), "type": "text"}],
            "isError": is_error,
            "structuredContent": data,
        }

    def _answer(
        self, ident: Any, *, result: Any = None, error: dict[str, Any] | None = None
    ) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        with self._write_lock:
            try:
                self._out.write(data)
                self._out.flush()
            except (OSError, ValueError):  # the client is gone (closed pipe or stream)
                pass


def _claim_stdio() -> tuple[BinaryIO, BinaryIO]:
    """Private duplicates of fds 0 and 1 for the protocol; fd 0 then reads /dev/null
    and fd 1 writes to stderr, for whatever else runs in this process."""
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return os.fdopen(wire_in, "rb", buffering=0), os.fdopen(wire_out, "wb")


def serve_stdio(*, auth_file: str | None = None, verbose: bool = False) -> None:
    sys.stdout.flush()
    wire_in, wire_out = _claim_stdio()
    with wire_in, wire_out:
        StdioServer(wire_out, auth_file=auth_file, verbose=verbose).serve(iter(_lines(wire_in)))


def _lines(stream: BinaryIO) -> Iterable[bytes]:
    """Lines as they arrive (an unbuffered read: no waiting for a full buffer)."""
    pending = b""
    while True:
        chunk = stream.read(65536)
        if not chunk:
            if pending.strip():
                yield pending
            return
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line.strip())
