"""The payouts' tests use the licensing fixtures: a buyer organization and a listed product with plans."""
from tests.licensing.conftest import buyer, buyer_org, offer, plans

__all__ = ["buyer", "buyer_org", "offer", "plans"]
