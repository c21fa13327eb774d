"""A real SMTP server for the tests (aiosmtpd, Debian's python3-aiosmtpd).

Each accepted message is written to DIR as N.json: {"mail_from", "rcpt_tos", "data"}.
While the file REFUSE exists, MAIL FROM is answered 421 (service not available), as a server that
is down for a while. Recipients starting with "bounce" are refused with 550 (no such mailbox).
"""
import argparse, asyncio, itertools, json, os, signal, threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, refuse):
        self.directory, self.refuse, self.counter, self.lock = directory, refuse, itertools.count(1), threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if os.path.exists(self.refuse):
            return "421 4.3.2 Service not available, try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("bounce"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        path = os.path.join(self.directory, f"{n:06d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "data": envelope.original_content.decode("utf-8", "replace")}, f)
        os.replace(path + ".tmp", path)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--refuse", required=True)
    args = parser.parse_args()
    controller = Controller(Sink(args.dir, args.refuse), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
