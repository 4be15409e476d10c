#!/usr/bin/python3
"""delayproxy.py - a TCP proxy on 127.0.0.1 that adds a round-trip delay.

usage: delayproxy.py [-p port] [-f port-file] rtt-ms target-host target-port

Every chunk of bytes is forwarded rtt/2 milliseconds after it arrived, in
each direction, in order, so a request-response exchange takes rtt longer
while bulk transfers keep their throughput (a latency, not a bandwidth
limit: what a distant object store looks like).  Listens on -p port (0, the
default, picks a free one) and writes the port it got to the -f file once
it listens.  Standard library only; stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import signal
import socket
import sys
import time

CHUNK = 256 * 1024


async def pump(reader, writer, delay):
    """Copy reader to writer, each chunk delay seconds after it arrived."""
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(CHUNK)
                queue.put_nowait((time.monotonic() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((time.monotonic() + delay, b""))

    async def write_side():
        try:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    await asyncio.gather(read_side(), write_side())


async def handle(creader, cwriter, args):
    delay = args.rtt / 2000.0
    try:
        sreader, swriter = await asyncio.open_connection(args.host, args.port)
    except OSError:
        cwriter.close()
        return
    for w in (cwriter, swriter):
        sock = w.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        await asyncio.gather(pump(creader, swriter, delay),
                             pump(sreader, cwriter, delay))
    finally:
        for w in (cwriter, swriter):
            try:
                w.close()
            except OSError:
                pass


async def main():
    ap = argparse.ArgumentParser(description="TCP proxy adding a delay")
    ap.add_argument("-p", dest="listen", type=int, default=0)
    ap.add_argument("-f", dest="portfile")
    ap.add_argument("rtt", type=float, help="added round-trip time, ms")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    args = ap.parse_args()

    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args), "127.0.0.1", args.listen,
        backlog=256)
    port = server.sockets[0].getsockname()[1]
    if args.portfile:
        with open(args.portfile + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(args.portfile + ".tmp", args.portfile)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
