"""What organizations hear of the products they hold and of their own licences (a new version and its data
dictionary's changes, a suspension, reinstatement or delisting, a licence nearing its end): each event recorded once
per organization, told to its members in the app and by e-mail, and sent to the organization's webhook endpoints,
signed, with retries and a delivery log. Sits above the trading domains it reads; the worker runs its jobs."""
