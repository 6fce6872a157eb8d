#!/usr/bin/python3
# A real SMTP server on loopback for the alert mail tests (Debian's
# python3-aiosmtpd): every message received is written to DIR/NNN.eml,
# preceded by "X-Envelope-From:" and "X-Envelope-To:" lines with the SMTP
# envelope. Prints "listening on 127.0.0.1:PORT" once it accepts mail.
#
#   /usr/bin/python3 smtp_sink.py DIR
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.directory, "%03d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Envelope-From: %s\r\n" % envelope.mail_from).encode())
            f.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.content)
        os.rename(path + ".tmp", path)  # readers never see half a message
        return "250 Message accepted for delivery"


def main():
    directory = sys.argv[1]
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("listening on 127.0.0.1:%d" % port, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
