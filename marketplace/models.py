"""Import every domain's models so the metadata (and Alembic) sees all tables."""
from marketplace.accounts.models import (  # noqa: F401
    AccountToken,
    ApiToken,
    Invitation,
    Membership,
    Organization,
    User,
)
from marketplace.assessments.models import Assessment, ServiceProvider  # noqa: F401
from marketplace.audit.models import AuditCheckpoint, AuditEvent  # noqa: F401
from marketplace.catalog.models import CatalogEntry, CatalogText  # noqa: F401
from marketplace.crossborder.models import CrossBoundaryPosition  # noqa: F401
from marketplace.events.models import OrganizationEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
from marketplace.jobs.models import FailedJob, OutboxMessage  # noqa: F401
from marketplace.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction  # noqa: F401
from marketplace.listings.models import (  # noqa: F401
    Asset,
    DataProduct,
    DictionaryField,
    OpenDataSource,
    PricingPlan,
    ProductVersion,
)
from marketplace.notifications.models import Notification  # noqa: F401
from marketplace.orders.models import Order, PaymentEvent  # noqa: F401
from marketplace.payouts.models import Payout, PayoutAccount  # noqa: F401
from marketplace.review.models import ChecklistAnswer, ListingCheck, ReviewCase, ReviewRound  # noqa: F401
from marketplace.review.notice_models import Objection, PublicNotice, RegistrationCertificate  # noqa: F401
from marketplace.signing.models import SigningKey  # noqa: F401
