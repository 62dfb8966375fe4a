"""/demo/: a small business site (a wedding and portrait photographer) that uses the tracker the
way a real site would: one script tag, a Google tag already in place, a single-page-app style
package switcher, outbound links, a price list to download, and a booking form marked
data-leadtrail-promote. Mounted only with `leadtrail serve --demo`.

The enquiry itself is not kept (this is a demo): the form is validated lightly and answered with a
303 to the thank-you page; the journey reaches leadtrail through the tracker's promote call.
"""

from __future__ import annotations

import re
from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..templating import STATIC_DIR, templates

PACKAGES = [
    {
        "slug": "weddings",
        "name": "Weddings",
        "title": "Wedding photography",
        "price": "from £1,650",
        "image": "barn.svg",
        "summary": "Calm, unposed coverage of your whole day, from the last button of the dress to the "
        "first dance under the festoon lights.",
        "includes": [
            "Half day (5 hours) or full day (10 hours)",
            "A second photographer for full days",
            "An engagement shoot with every full day",
            "500+ edited images in an online gallery",
            "A hand-bound linen album (optional)",
        ],
    },
    {
        "slug": "elopements",
        "name": "Elopements",
        "title": "Elopement photography",
        "price": "from £950",
        "image": "golden-hour.svg",
        "summary": "Just the two of you, or a handful of people you love, somewhere wild. I will help you "
        "find the spot, the light and the hour.",
        "includes": [
            "Up to 3 hours, anywhere in the Cotswolds",
            "Help with locations and permits",
            "A golden-hour portrait walk",
            "200+ edited images within three weeks",
        ],
    },
    {
        "slug": "portraits",
        "name": "Portraits",
        "title": "Portrait sessions",
        "price": "£320",
        "image": "portrait.svg",
        "summary": "Families, couples, new babies and business headshots, in soft window light at my "
        "Cirencester studio or at home.",
        "includes": [
            "A 90-minute session, studio or on location",
            "40 edited images",
            "Help choosing what to wear",
            "Prints and frames at cost",
        ],
    },
]
BY_SLUG = {p["slug"]: p for p in PACKAGES}

POSTS = [
    {
        "slug": "choosing-your-wedding-photographer",
        "title": "Seven questions to ask before you book a wedding photographer",
        "date": date(2026, 9, 14),
        "minutes": 6,
        "image": "flowers.svg",
        "teaser": "Beyond the portfolio: what to ask about timings, backups, albums and the family photos "
        "that everyone forgets until the day.",
    },
    {
        "slug": "autumn-barn-weddings",
        "title": "Why autumn is the loveliest season for a barn wedding",
        "date": date(2026, 8, 2),
        "minutes": 3,
        "image": "barn.svg",
        "teaser": "Low sun, warm stone, and the festoon lights on by half past six.",
    },
]
BY_POST = {p["slug"]: p for p in POSTS}

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> Response:
    context = {"packages": PACKAGES, "posts": POSTS, "today": date.today(), **(context or {})}
    return templates.TemplateResponse(request, f"demo/{name}", context, status_code=status_code)


async def home(request: Request) -> Response:
    return render(request, "home.html", {"section": "home"})


async def services(request: Request) -> Response:
    slug = request.path_params.get("package", PACKAGES[0]["slug"])
    if slug not in BY_SLUG:
        return render(request, "not_found.html", {"section": ""}, status_code=404)
    return render(request, "services.html", {"section": "services", "current": BY_SLUG[slug]})


async def about(request: Request) -> Response:
    return render(request, "about.html", {"section": "about"})


async def journal(request: Request) -> Response:
    return render(request, "journal.html", {"section": "journal"})


async def post(request: Request) -> Response:
    entry = BY_POST.get(request.path_params["slug"])
    if entry is None:
        return render(request, "not_found.html", {"section": ""}, status_code=404)
    return render(request, f"post-{entry['slug']}.html", {"section": "journal", "post": entry})


def check_booking(form: dict) -> list[str]:
    errors = []
    if not form["name"]:
        errors.append("Please tell me your name.")
    if not EMAIL.match(form["email"]):
        errors.append("Please give an e-mail address I can reply to.")
    if form["date"]:
        try:
            if date.fromisoformat(form["date"]) < date.today():
                errors.append("That date has passed: please pick a date from today on.")
        except ValueError:
            errors.append("Please give the date as YYYY-MM-DD.")
    if len(form["message"]) > 5000:
        errors.append("Please keep the message under 5,000 characters.")
    return errors


async def book(request: Request) -> Response:
    chosen = request.query_params.get("package", "")
    form = {
        "name": "",
        "email": "",
        "date": "",
        "package": chosen if chosen in BY_SLUG else "",
        "message": "",
        "consent": False,
    }
    if request.method == "POST":
        data = await request.form()
        form = {key: str(data.get(key, "")).strip() for key in ("name", "email", "date", "package", "message")}
        form["consent"] = data.get("consent") == "yes"
        errors = check_booking(form)
        if not errors:
            # A real site would e-mail the owner here. 303: the browser follows with a GET.
            return RedirectResponse("/demo/thanks", status_code=303)
        return render(request, "book.html", {"section": "book", "form": form, "errors": errors}, status_code=400)
    return render(request, "book.html", {"section": "book", "form": form, "errors": []})


async def thanks(request: Request) -> Response:
    return render(request, "thanks.html", {"section": ""})


def routes(settings) -> list[BaseRoute]:
    return [
        Route("/demo", lambda request: RedirectResponse("/demo/", status_code=308)),
        Route("/demo/", home),
        Route("/demo/services", services),
        Route("/demo/services/{package}", services),
        Route("/demo/about", about),
        Route("/demo/journal", journal),
        Route("/demo/journal/{slug}", post),
        Route("/demo/book", book, methods=["GET", "POST"]),
        Route("/demo/thanks", thanks),
        Mount("/demo/static", StaticFiles(directory=str(STATIC_DIR / "demo")), name="demo-static"),
    ]
