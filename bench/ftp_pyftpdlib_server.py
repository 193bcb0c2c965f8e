"""pyftpdlib anchor for bench/ftp.sh: one user, one served directory, one port.

    /usr/bin/python3 bench/ftp_pyftpdlib_server.py --port 2121 --root DIR --user muxbench \
        --hash '$6$...' --passive-ports 40000-40499 --max-cons 2000

The server is pyftpdlib's FTPServer as shipped: one process, one thread, its own epoll loop
(sendfile(2) for RETR). The only change from the stock setup is the authorizer: the password is
checked against a crypt(3) hash (here the same $6$ sha512-crypt hash the other servers get)
instead of DummyAuthorizer's plain-text comparison, so every server pays the same per login.
Logging is at WARNING, like the other servers (no per-command log lines).
"""
import argparse
import ctypes
import ctypes.util
import hmac
import logging
import sys

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.log import config_logging
from pyftpdlib.servers import FTPServer


def make_crypt():
    """crypt(3) from libcrypt (the crypt module is gone from Python 3.13)."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    fn = lib.crypt
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    fn.restype = ctypes.c_char_p

    def crypt(password, salt):
        out = fn(password.encode("utf-8", "surrogateescape"), salt.encode())
        return out.decode() if out else "*"

    return crypt


class CryptAuthorizer(DummyAuthorizer):
    """DummyAuthorizer whose 'pwd' field is a crypt(3) hash."""

    crypt = staticmethod(make_crypt())

    def validate_authentication(self, username, password, handler):
        if not self.has_user(username):
            raise AuthenticationFailed("Authentication failed.")
        stored = self.user_table[username]["pwd"]
        if not hmac.compare_digest(self.crypt(password, stored), stored):
            raise AuthenticationFailed("Authentication failed.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--hash", required=True, help="crypt(3) hash of the password")
    ap.add_argument("--passive-ports", required=True, help="LOW-HIGH")
    ap.add_argument("--max-cons", type=int, default=2000)
    args = ap.parse_args()

    config_logging(level=logging.WARNING)
    authorizer = CryptAuthorizer()
    authorizer.add_user(args.user, args.hash, args.root, perm="elradfmwMT")
    low, high = (int(p) for p in args.passive_ports.split("-"))

    class Handler(FTPHandler):
        pass

    Handler.authorizer = authorizer
    Handler.passive_ports = range(low, high + 1)
    Handler.banner = "pyftpdlib ready"
    server = FTPServer((args.host, args.port), Handler)
    server.max_cons = args.max_cons
    server.max_cons_per_ip = 0  # unlimited
    print(f"pyftpdlib: listening on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(handle_exit=True)
    finally:
        server.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
