"""The buyer side, read-only: search and facets, product pages with previews, DCAT-AP and CKAN views.

Only listed products appear anywhere here, each through its approved listed version (``listings.buyer_visible``).
"""
