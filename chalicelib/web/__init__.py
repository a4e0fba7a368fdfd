"""The resident pages: server-rendered HTML from the same Chalice app, calling the same
services as the JSON API (``pages`` is what every page shares, ``assets`` the static files,
one blueprint module per area of the site)."""
