"""The public pages (landing, business), the language switch, the CSP, and the health/metrics endpoints."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY

from selfcare.web.middleware import CONTENT_SECURITY_POLICY

PAGES = ["/", "/business/"]

# One sentence from each page per language, as the translators wrote it in the catalogs.
HEADINGS = {
    "/": {
        "en": "Your line, in your pocket",
        "ru": "Ваш номер — у вас в кармане",  # noqa: RUF001
        "fa": "خط شما، در جیب شما",
    },
    "/business/": {
        "en": "Mobile lines for your company",
        "ru": "Мобильная связь для вашей компании",
        "fa": "خطوط همراه برای شرکت شما",
    },
}


class PageAudit(HTMLParser):
    """Collects what the strict CSP cares about, plus the attributes of <html> and the links."""

    def __init__(self) -> None:
        super().__init__()
        self.html_attrs: dict[str, str | None] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script_text: list[str] = []
        self.style_elements = 0
        self.style_attributes: list[str] = []
        self.event_handler_attributes: list[str] = []
        self.links: dict[str, str] = {}
        self.bdi_texts: list[str] = []
        self._in_script = False
        self._in_bdi = False
        self._in_link: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_attrs = attributes
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        if tag == "style":
            self.style_elements += 1
        if tag == "bdi":
            self._in_bdi = True
        if tag == "a" and attributes.get("href"):
            self._in_link = attributes["href"]
        for name, _value in attrs:
            if name == "style":
                self.style_attributes.append(tag)
            if name.startswith("on") or name.startswith("hx-on"):
                self.event_handler_attributes.append(f"{tag}[{name}]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "bdi":
            self._in_bdi = False
        if tag == "a":
            self._in_link = None

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script_text.append(data.strip())
        if self._in_bdi:
            self.bdi_texts.append(data)
        if self._in_link is not None and data.strip():
            self.links[" ".join(data.split())] = self._in_link


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    ("accept_language", "lang", "direction"),
    [("en", "en", "ltr"), ("ru-RU,ru;q=0.9", "ru", "ltr"), ("fa-IR,fa;q=0.9", "fa", "rtl")],
)
def test_page_speaks_the_browsers_language(
    client: Client, path: str, accept_language: str, lang: str, direction: str
) -> None:
    # given a first visit with only the browser's Accept-Language
    # when the page is requested
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=accept_language)

    # then it is rendered in that language and direction
    assert response.status_code == 200
    assert response["Content-Language"] == lang
    page = audit(response.content.decode())
    assert page.html_attrs["lang"] == lang
    assert page.html_attrs["dir"] == direction
    assert HEADINGS[path][lang] in response.content.decode()


def test_unsupported_language_falls_back_to_english(client: Client) -> None:
    # given a browser asking for German only
    # when the landing page is requested
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")

    # then the page is in English, left to right
    page = audit(response.content.decode())
    assert (page.html_attrs["lang"], page.html_attrs["dir"]) == ("en", "ltr")
    assert HEADINGS["/"]["en"] in response.content.decode()


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("ru", ["Войти", "Я новый пользователь", "Что можно сделать в личном кабинете"]),
        ("fa", ["ورود", "کاربر جدید هستم", "در پنل کاربری چه کارهایی می‌توانید انجام دهید"]),
    ],
)
def test_switching_language_with_the_form_on_the_page(language: str, texts: list[str]) -> None:
    # given a visitor on the English landing page, with CSRF checks as in production
    browser = Client(enforce_csrf_checks=True)
    landing = browser.get("/", HTTP_ACCEPT_LANGUAGE="en")
    token = landing.context["csrf_token"]
    assert f'name="csrfmiddlewaretoken" value="{token}"' in landing.content.decode()
    assert 'action="/i18n/setlang/" method="post"' in landing.content.decode()

    # when they submit the language switcher
    switched = browser.post(
        "/i18n/setlang/", {"language": language, "next": "/", "csrfmiddlewaretoken": token}
    )

    # then they are sent back to the page, and it (and the next page) now speaks their language
    assert switched.status_code == 302
    assert switched["Location"] == "/"
    assert switched.cookies["django_language"].value == language
    html = browser.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert audit(html).html_attrs["lang"] == language
    for text in texts:
        assert text in html
    business = browser.get("/business/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert HEADINGS["/business/"][language] in business


def test_language_switch_keeps_the_page_the_visitor_was_on(client: Client) -> None:
    # given a visitor on the business page
    # when they switch to Persian there
    response = client.post("/i18n/setlang/", {"language": "fa", "next": "/business/"}, follow=True)

    # then they land on the Persian business page, right to left
    assert response.redirect_chain == [("/business/", 302)]
    page = audit(response.content.decode())
    assert (page.html_attrs["lang"], page.html_attrs["dir"]) == ("fa", "rtl")
    assert "ثبت درخواست" in response.content.decode()


def test_switcher_offers_each_language_in_its_own_name(client: Client) -> None:
    # when the landing page is rendered in Russian
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    # then the switcher lists every language by its own name, the current one selected
    assert '<option value="en" lang="en">English</option>' in html
    assert '<option value="ru" lang="ru" selected>Русский</option>' in html
    assert '<option value="fa" lang="fa">فارسی</option>' in html
    assert '<label for="language-select">Язык</label>' in html


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["en", "ru", "fa"])
def test_pages_obey_the_strict_content_security_policy(client: Client, path: str, lang: str) -> None:
    # when a page is served
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=lang)

    # then the CSP header is set and the HTML needs nothing it forbids
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    page = audit(response.content.decode())
    assert page.inline_script_text == []
    assert page.scripts == [{"src": "/static/vendor/htmx/htmx.min.js", "defer": None}]
    assert page.style_elements == 0
    assert page.style_attributes == []
    assert page.event_handler_attributes == []
    assert "https://" not in response.content.decode()
    htmx_config = '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>'
    assert htmx_config in response.content.decode()


def test_landing_page_links_and_help_number(client: Client) -> None:
    # when the English landing page is rendered
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then its calls to action lead to login and registration, and the help number is isolated
    page = audit(html)
    assert page.links["Log in"] == "/login/"
    assert page.links["I'm a new user"] == "/register/"
    assert page.links["Skip to main content"] == "#main"
    assert page.links["Offers for business"] == "/business/"
    assert page.bdi_texts == ["636"]
    assert '<main id="main"' in html


def test_business_page_links_to_the_application(client: Client) -> None:
    # when the English business page is rendered
    html = client.get("/business/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then the application is one click away, and the current page is marked in the navigation
    page = audit(html)
    assert page.links["Submit an application"] == "/business/apply/"
    assert '<a href="/business/" aria-current="page">For business</a>' in html
    assert page.bdi_texts == ["636"]


def test_vendored_assets_are_served_from_our_origin(client: Client) -> None:
    # when the pages' assets are fetched from the static files
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="fa").content.decode()

    # then every one of them is referenced locally and exists
    for asset in [
        "/static/vendor/pico/pico.min.css",
        "/static/selfcare/app.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/selfcare/favicon.svg",
    ]:
        assert f'"{asset}"' in html
    for relative in [
        "vendor/pico/pico.min.css",
        "vendor/htmx/htmx.min.js",
        "vendor/vazirmatn/Vazirmatn-Regular.woff2",
        "vendor/vazirmatn/Vazirmatn-Bold.woff2",
        "selfcare/app.css",
        "selfcare/favicon.svg",
    ]:
        assert finders.find(relative), relative


def test_healthz_answers_without_the_database(client: Client) -> None:
    # when the liveness probe asks
    response = client.get("/healthz")

    # then it says ok in JSON, never cached
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_the_database(client: Client) -> None:
    # when the readiness probe asks, with the database up
    response = client.get("/readyz")

    # then it says ok and names the database it reached
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok", "database": connection.vendor}


def test_metrics_count_requests_by_route(client: Client) -> None:
    # given the request counter for the business page
    labels = {"method": "GET", "route": "business/", "status": "200"}
    before = REGISTRY.get_sample_value("selfcare_http_requests_total", labels) or 0.0

    # when the business page is served once and /metrics is scraped
    client.get("/business/")
    response = client.get("/metrics")

    # then the scrape is Prometheus text and counts exactly that one request
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    assert "# TYPE selfcare_http_requests_total counter" in body
    assert 'selfcare_http_requests_total{method="GET",route="business/",status="200"}' in body
    assert REGISTRY.get_sample_value("selfcare_http_requests_total", labels) == before + 1
