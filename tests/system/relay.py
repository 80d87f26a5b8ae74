"""A byte relay between a TCP port and a Unix socket, so the deployment's containers reach the
test's own servers on the host's 127.0.0.1 without any address outside the machine's loopback
and the containers' own network.

In the test: `host_side(folder, name, port)` serves `folder/<name>.sock` and passes each
connection on to 127.0.0.1:<port>. In a container with the folder mounted:
`python relay.py 12111=/relay/stripe.sock 2525=/relay/smtp.sock` listens on those TCP ports and
passes each connection on to the socket. Plain standard library: it runs in the shop's image.
"""

import asyncio
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

Opener = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def _relay_to(open_far_side: Opener) -> Callable[..., Awaitable[None]]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            far_reader, far_writer = await open_far_side()
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, far_writer), _pipe(far_reader, writer))

    return serve


class HostSide:
    """Unix sockets in one folder, each passed on to a TCP port on 127.0.0.1, in a thread."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def add(self, name: str, port: int) -> Path:
        path = self.folder / f"{name}.sock"

        async def start() -> None:
            opener = lambda: asyncio.open_connection("127.0.0.1", port)  # noqa: E731
            await asyncio.start_unix_server(_relay_to(opener), path=str(path))
            os.chmod(path, 0o666)  # noqa: S103 (the shop's image runs as an unprivileged user)

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
        return path

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


async def _container_side(routes: dict[int, str]) -> None:
    servers = []
    for port, path in routes.items():

        def opener(
            path: str = path,
        ) -> Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
            return asyncio.open_unix_connection(path)

        servers.append(await asyncio.start_server(_relay_to(opener), "0.0.0.0", port))  # noqa: S104
    print(f"relay: {routes}", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    pairs = (argument.split("=", 1) for argument in sys.argv[1:])
    asyncio.run(_container_side({int(port): path for port, path in pairs}))
