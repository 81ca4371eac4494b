"""The web container's healthcheck: exit 0 when /healthz answers 200.

Python because the slim image has no curl. It asks gunicorn directly on the
bound port, naming a host from ALLOWED_HOSTS: Django refuses any other Host
header, and production's list need not include localhost.
"""

import http.client
import os
import sys


def host_header():
    for host in os.environ.get("ALLOWED_HOSTS", "localhost").split(","):
        host = host.strip().lstrip(".")  # ".example.org" allows example.org itself too
        if host and host != "*":
            return host
    return "localhost"


def main():
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rpartition(":")[2]
    connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": host_header()})
        status = connection.getresponse().status
    except OSError as error:
        print(f"healthcheck: {error}", file=sys.stderr)
        return 1
    print(f"healthcheck: /healthz answered {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
