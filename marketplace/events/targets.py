"""Which URLs a webhook endpoint may have: http(s) only, and never an address inside the server's own networks
(loopback, private, link-local such as the cloud metadata service 169.254.169.254, multicast, reserved), checked
when the endpoint is registered and again after DNS resolution at every delivery (the name may resolve elsewhere
by then). ``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` lifts the address rule for tests and local development."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask_babel import gettext as _

from marketplace.events.models import MAX_URL


class RefusedTarget(ValueError):
    """A URL or address a webhook may not be sent to; the message says why, for the person who gave it."""


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried inside an IPv6 one (mapped ::ffff:a.b.c.d, 6to4 2002::/16, Teredo's client) is
        # judged as itself: 2002:7f00:1:: leads to 127.0.0.1 through a 6to4 relay.
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            return _forbidden(embedded)
    return (address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified or not address.is_global)


def parse_url(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of a webhook URL; refuses (RefusedTarget) one too long, not http(s), without a
    host, or with credentials in it."""
    if len(url) > MAX_URL:
        raise RefusedTarget(_("The URL is too long (at most %(max)d characters).", max=MAX_URL))
    if not url.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise RefusedTarget(_("The URL may hold no spaces, control characters or letters outside ASCII: "
                              "percent-encode them (a space as %20), and write an international host name "
                              "in its xn-- form."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedTarget(_("This is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget(_("The URL must start with https:// or http://."))
    if not parts.hostname:
        raise RefusedTarget(_("The URL must name a host."))
    if parts.username or parts.password:
        raise RefusedTarget(_("The URL must not carry a user name or password."))
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses ``host`` resolves to, every one of them allowed; refuses (RefusedTarget) a name that does not
    resolve and one with any address inside the server's networks (unless ``allow_private``)."""
    try:
        addresses = [str(ipaddress.ip_address(host))]  # an address in the URL needs no DNS
    except ValueError:
        addresses = _looked_up(host, port)
    if not allow_private:
        for address in addresses:
            if _forbidden(ipaddress.ip_address(address.split("%", 1)[0])):
                raise RefusedTarget(_("The URL leads to a private or reserved address (%(address)s); webhooks "
                                      "are sent to public addresses only.", address=address))
    return addresses


def _looked_up(host: str, port: int) -> list[str]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise RefusedTarget(_("The host name %(host)s does not resolve.", host=host)) from None
    addresses = list(dict.fromkeys(answer[4][0] for answer in answers))
    if not addresses:
        raise RefusedTarget(_("The host name %(host)s does not resolve.", host=host))
    return addresses


def check_url(url: str, *, allow_private: bool) -> str:
    """``url`` if a webhook may be sent to it now (``parse_url`` and ``resolve``), else RefusedTarget."""
    _scheme, host, port = parse_url(url)
    resolve(host, port, allow_private=allow_private)
    return url
