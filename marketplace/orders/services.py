"""The orders package's services in one place, for the pages, the API and the commands that call them.

Requests and decisions live in ``requests``, payment in ``checkout``, licences issued in ``fulfilment``, refunds in
``refunds`` and reading in ``queries``; what they share (the audited move, the capped plan's lock) in ``common``.
"""
from marketplace.orders.checkout import (  # noqa: F401
    already_processed,
    awaits_simulated_payment,
    close_checkout,
    confirm_payment,
    expire_unpaid,
    pay_with_test_card,
    reconcile_orders,
    record_payment_failure,
    start_checkout,
)
from marketplace.orders.common import (  # noqa: F401
    MAX_MESSAGE,
    buyer_organizations,
    is_buyer,
    licences_held,
    lock_plan,
)
from marketplace.orders.crossborder import (  # noqa: F401
    awaiting_evidence,
    decide_evidence,
    evidence_awaited,
    evidence_moves,
    evidence_queue,
    may_decide_evidence,
    order_actions,
    order_for_api,
    order_for_review,
    position_of,
    preview_position,
    refuse_if_evidence_overdue,
    submit_evidence,
)
from marketplace.orders.queries import (  # noqa: F401
    all_orders,
    buyer_orders,
    monthly_revenue,
    order_for,
    revenue_by_currency,
    seller_orders,
    seller_requests,
    waiting_request_count,
)
from marketplace.orders.refunds import refund_order, refundable  # noqa: F401
from marketplace.orders.requests import (  # noqa: F401
    LicenceRequest,
    approve_order,
    cancel_order,
    decide_order,
    decline_order,
    expire_orders,
    open_order,
    open_orders,
    order_by_key,
    place_order,
    preview_for_request,
    purchasable_plan,
    registration_warning,
    renew_licence,
    renewal_plan,
    request_licence,
)
