"""moto, served with HTTP/1.1 keep-alive, for `make bench`.

`moto_server` serves moto's application with werkzeug's development server, which answers every
request with `Connection: close` ("Always close the connection. This disables HTTP/1.1
keep-alive connections", werkzeug/serving.py). AWS's endpoints keep connections alive, and every
function the bench compares keeps a pool of them (hyper's in the Rust binaries, urllib3's under
boto3): against werkzeug each AWS call paid a TCP connect and a server thread of its own, and
connection reuse could not be measured at all. This serves moto's own application, the
`DomainDispatcherApplication` that `moto_server` serves (without its debug mode), with waitress
(pure Python, HTTP/1.1 keep-alive, a fixed pool of threads).

Usage: python benches/moto_keepalive.py PORT   (on 127.0.0.1; stops on SIGTERM or SIGINT)
"""

import signal
import sys

import waitress
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

# As many threads as a function has calls in flight at once (the full workflow's four after a
# reset), plus the driver's own.
THREADS = 8


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit(__doc__.strip().splitlines()[-1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    application = DomainDispatcherApplication(create_backend_app)
    waitress.serve(application, host="127.0.0.1", port=int(sys.argv[1]), threads=THREADS,
                   ident="moto")


if __name__ == "__main__":
    main()
