"""A TCP relay that adds a fixed delay each way, for a slow link where the kernel has no netem.

    python3 delay_relay.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS_EACH_WAY

`tc qdisc add dev eth0 root netem delay 20ms` is the usual way to slow a link; kernels built
without sch_netem answer "Specified qdisc kind is unknown". This relay runs on the worker host
and the worker connects to it on 127.0.0.1 instead of to the broker: every byte still crosses
the host's cable, DELAY_MS later in each direction, in order. Unlike netem it delays whole
reads rather than packets, and it costs a little CPU on the host.
"""

import asyncio
import sys
import time


async def pipe(reader, writer, delay):
    # Reads are stamped as they arrive and written once their time has come; one queue per
    # direction keeps them in order, and reading never waits for writing.
    queue = asyncio.Queue()

    async def send():
        while (item := await queue.get()) is not None:
            due, data = item
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(1 << 16):
            queue.put_nowait((time.monotonic() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait(None)
    try:
        await sender
    except ConnectionError:
        pass


async def main(port, host, target_port, delay):
    async def serve(reader, writer):
        try:
            up_r, up_w = await asyncio.open_connection(host, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_w, delay), pipe(up_r, writer, delay))

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    # The harness starts the worker only once it reads this line.
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: delay_relay.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS_EACH_WAY")
    listen, target, target_port, ms = sys.argv[1:]
    try:
        asyncio.run(main(int(listen), target, int(target_port), int(ms) / 1000))
    except KeyboardInterrupt:
        pass
