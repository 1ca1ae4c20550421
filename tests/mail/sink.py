"""A real SMTP server for the tests (aiosmtpd from PyPI): every message it accepts is written to
the output folder as one JSON file (envelope, headers, both parts), which the tests read.

    python3 tests/mail/sink.py --port 2525 --out /tmp/mail

Recipients whose address starts with `refused` are refused with a permanent 550, as a real server
refuses an unknown mailbox. Prints `ready` once it listens; runs until killed.
"""

import argparse
import asyncio
import email
import json
import os
import uuid
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "message_id": str(msg["message-id"]),
            "list_unsubscribe": str(msg["list-unsubscribe"] or ""),
            "list_unsubscribe_post": str(msg["list-unsubscribe-post"] or ""),
            "content_type": msg.get_content_type(),
            "text": plain.get_content() if plain else None,
            "html": html.get_content() if html else None,
        }
        name = os.path.join(self.out, f"{uuid.uuid4()}.json")
        with open(name + ".part", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(name + ".part", name)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    controller = Controller(Sink(args.out), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
