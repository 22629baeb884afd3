"""Run moto's S3 (and friends) as a real HTTP server on loopback for tests.

Tests talk to it over HTTP with ordinary boto3 clients and urllib; nothing is
patched. Usage::

    server, endpoint_url = start_moto_server()
    try:
        ...  # S3Storage(bucket, endpoint_url=endpoint_url, access_key_id=..., ...)
    finally:
        server.stop()
"""
from __future__ import annotations

import os
import urllib.request
from collections.abc import MutableMapping

from moto.server import ThreadedMotoServer

#: Dummy credentials moto accepts; never real ones.
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"
DUMMY_REGION = "us-east-1"


def set_dummy_aws_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Point the AWS SDK at dummy credentials and keep loopback traffic off any proxy.

    Also points the shared config/credentials files at nothing, so a developer's
    real ``~/.aws`` profile can never be picked up by a test.
    """
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    env["AWS_ACCESS_KEY_ID"] = DUMMY_ACCESS_KEY_ID
    env["AWS_SECRET_ACCESS_KEY"] = DUMMY_SECRET_ACCESS_KEY
    env["AWS_DEFAULT_REGION"] = DUMMY_REGION
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_SECURITY_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    no_proxy = [p for p in env.get("NO_PROXY", "").split(",") if p]
    for host in ("127.0.0.1", "localhost"):
        if host not in no_proxy:
            no_proxy.append(host)
    env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy)


def start_moto_server(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start a moto server on ``host`` and ``port`` (0: a free one); return it and its endpoint URL.

    The caller must ``server.stop()`` it. Also sets dummy AWS credentials in
    ``os.environ`` (see ``set_dummy_aws_environment``). Buckets and objects live
    in this process, so a server stopped and started again on the same port
    serves what it held.
    """
    set_dummy_aws_environment()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, port = server.get_host_and_port()
    return server, f"http://{bound_host}:{port}"


def reset_moto_server(endpoint_url: str) -> None:
    """Wipe all state of the moto server at ``endpoint_url`` (buckets, uploads, ...)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    with opener.open(request, timeout=10) as response:
        response.read()
