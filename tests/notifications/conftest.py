"""The licensing fixtures (a listed product with plans, a buyer organization) for the notices buyers receive."""
from tests.licensing.conftest import buyer, buyer_org, offer, plans  # noqa: F401 - fixtures used here by name
