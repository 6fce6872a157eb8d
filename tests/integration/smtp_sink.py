#!/usr/bin/python3
# A real SMTP server on loopback for the alert mail tests (Debian's
# python3-aiosmtpd): every message received is written to DIR/NNN.eml,
# preceded by "X-Envelope-From:" and "X-Envelope-To:" lines with the SMTP
# envelope (and "X-Auth-Login:" with the SMTP AUTH login, if any). Prints
# "listening on 127.0.0.1:PORT" once it accepts mail. With USER:PASSWORD,
# SMTP AUTH (PLAIN, LOGIN; over plain text: loopback only) is required and
# only that login is accepted.
#
#   /usr/bin/python3 smtp_sink.py DIR [USER:PASSWORD]
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


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
            if session.authenticated:
                f.write(b"X-Auth-Login: " + session.auth_data + b"\r\n")
            f.write(envelope.content)
        os.rename(path + ".tmp", path)  # readers never see half a message
        return "250 Message accepted for delivery"


class BoundController(Controller):
    """Serves on `sock`, a socket already bound: the port it prints is the
    one it listens on (never a port probed, closed and bound again)."""

    def __init__(self, handler, sock, **kwargs):
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock,
                                       ssl=self.ssl_context)


class Authenticator:
    def __init__(self, login, password):
        self.login = login.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.login
              and auth_data.password == self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


def main():
    directory = sys.argv[1]
    params = {}
    if len(sys.argv) > 2:
        login, password = sys.argv[2].split(":", 1)
        params = dict(authenticator=Authenticator(login, password), auth_required=True,
                      auth_require_tls=False)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    controller = BoundController(Sink(directory), s, **params)
    controller.start()
    print("listening on 127.0.0.1:%d" % controller.port, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
