"""Stripe's wire format for the stub (tests/support/stripe_stub.py): its error body, and form-encoded parameters with
nested keys (``line_items[0][price_data][unit_amount]``) decoded the way Stripe reads them, and the checks of one
parameter's value (an integer, a boolean, a URL, a currency) with Stripe's error for a bad one."""
from __future__ import annotations

import re
from typing import Any


class StripeStubError(Exception):
    """An error answered the way Stripe answers it: a 4xx/5xx with ``{"error": {type, message, code, param}}``."""

    def __init__(self, status: int, type_: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.type, self.message, self.code, self.param = status, type_, message, code, param

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid", status: int = 400):
    return StripeStubError(status, "invalid_request_error", message, code, param)


# ---------------------------------------------------------------- form decoding (Stripe's nested keys)

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """``a[b][0][c]=1`` pairs into nested dicts; a dict whose keys are 0..n-1 becomes a list, as Stripe reads it."""
    root: dict = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}", key)
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise invalid(f"Invalid parameter name: {key}", key)
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node) and sorted(int(k) for k in node) == list(range(len(node))):
        return [node[str(i)] for i in range(len(node))]
    return node


def int_param(value: Any, param: str, minimum: int = 0) -> int:
    # Stripe accepts integers only in amount fields: "5000.00" is an error, not five thousand.
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise invalid(f"Invalid integer: {value}", param)
    number = int(value)
    if number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param)
    return number


def bool_param(params: dict, name: str) -> bool:
    """An optional boolean as the SDK sends it ("true"/"false"); absent is false."""
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", name)
    return value == "true"


def url_param(params: dict, name: str) -> None:
    """A required http(s) URL."""
    if not params.get(name):
        raise invalid(f"Missing required param: {name}.", name, "parameter_missing")
    if not re.fullmatch(r"https?://[^\s/]+\S*", str(params[name])):
        raise invalid("Not a valid URL", name, "url_invalid")


def currency_param(params: dict) -> str:
    """A required three-letter lower-case ISO currency code."""
    currency = params.get("currency")
    if not currency:
        raise invalid("Missing required param: currency.", "currency", "parameter_missing")
    if not re.fullmatch(r"[a-z]{3}", str(currency)):
        raise invalid(f"Invalid currency: {currency}.", "currency")
    return currency
