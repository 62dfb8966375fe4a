"""What the dashboard's pages share, one concern a module (web.py holds what every route shares:
JSON errors, client addresses, origins, CORS, body limits, the page headers).

- headers.py   the /cp mount's middleware: security headers, caching, error pages
- cookies.py   cookie names (__Host- over HTTPS) and their attributes
- forms.py     reading a POSTed form, the same-origin check, where a form may send you back to
- sessions.py  the signed-in owner: owner_required, CSRF checks of POSTs, login redirects
- render.py    rendering a page (the base context), 403 and 404 pages, owner-facing sentences
- filters.py   the list and insights filters from the query string (search, date range, spam)

Route modules under routes/dashboard/ import these, never each other.
"""
