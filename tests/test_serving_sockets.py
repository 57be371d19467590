"""`linkpay.serving.worker_socket`: the socket `link-wallet serve --workers N` shares
between its worker processes. Without TCP_NODELAY on the connections it accepts, every
keep-alive answer stalled ~40 ms (Nagle + delayed ACK)."""

from __future__ import annotations

import socket

import uvicorn

from linkpay.serving import free_loopback_port, worker_socket


def test_connections_accepted_on_the_worker_socket_have_tcp_nodelay() -> None:
    config = uvicorn.Config("linkpay.wallet.app:create_app", port=free_loopback_port(), workers=2)
    listener = worker_socket(config)
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        listener.listen()  # as each worker's asyncio server does
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _peer = listener.accept()
            with accepted:
                # What asyncio's transport would have set, had uvicorn bound the socket
                # with the TCP protocol number: the kernel copies it from the listener.
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


def test_uvicorns_own_worker_socket_lacks_it() -> None:
    """Why `worker_socket` exists: if uvicorn starts setting the option itself, the
    helper can go."""
    config = uvicorn.Config("linkpay.wallet.app:create_app", port=free_loopback_port(), workers=2)
    listener = config.bind_socket()
    try:
        assert listener.proto == 0  # asyncio's _set_nodelay skips sockets without IPPROTO_TCP
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        listener.close()
