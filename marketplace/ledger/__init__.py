"""The settlement ledger: double-entry, in integer minor units, one currency per account.

The platform is the settlement party of every trade: the buyer's money arrives at the payment provider, the
platform keeps its fee, and what remains is owed to the seller. Every movement of that money is one
``LedgerTransaction`` whose ``LedgerPosting`` amounts sum to zero per currency; ``services.post`` is the only
writer of postings and refuses anything else. A posting's amount is signed: debit positive, credit negative.

Chart of accounts (an account is its owner, its kind and its currency):

- the platform's ``provider_cash`` (debit-normal): money held for the platform at the payment provider;
- the platform's ``platform_fee`` (credit-normal): the platform's fee revenue;
- a seller organization's ``seller_pending`` (credit-normal): owed to the seller, not yet available (a sale
  waits ``SETTLEMENT_DELAY_DAYS`` from its payment, the time a refund or a dispute is most likely);
- ``seller_available`` (credit-normal): owed to the seller and free to be paid out;
- ``seller_held`` (credit-normal): owed to the seller but held while the buyer's bank disputes the payment;
- ``seller_in_payout`` (credit-normal): paid out to the seller and on its way. A payout is two balanced
  transactions: available -> in payout when it is started, in payout -> provider cash when the provider says the
  money left.

What each event writes (``sales``): a sale debits provider cash with the gross, credits the fee and the seller's
pending payable; a refund (whole or partial) reverses gross, fee and payable in proportion; a dispute moves the
order's payable to held, and a won dispute moves it back to pending (released again by the delay), a lost one
reverses the sale like a refund. Release (``flask ledger release``, a periodic job) moves due pending payables
to available. Free orders write nothing: no money moved, and a transaction of zeros would only say so again.
"""
