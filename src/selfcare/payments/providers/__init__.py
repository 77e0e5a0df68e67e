"""Payment providers: the outside systems that take card money (DESIGN.md §5.4).

`get_provider()` returns the one chosen by SELFCARE_PAYMENT_BACKEND ("fake", "stripe", "yookassa", or
a dotted path to a class). Provider SDKs are imported only in this package (import-linter contract).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from selfcare.payments.providers.base import PaymentProvider

BACKENDS = {
    "fake": "selfcare.payments.providers.fake.FakeProvider",
    "stripe": "selfcare.payments.providers.stripe_provider.StripeProvider",
    "yookassa": "selfcare.payments.providers.yookassa_provider.YooKassaProvider",
}


@cache
def _load(path: str) -> PaymentProvider:
    provider: PaymentProvider = import_string(BACKENDS.get(path, path))()
    return provider


def get_provider(name: str | None = None) -> PaymentProvider:
    """The configured provider, or the one named (a webhook names its provider in its URL)."""
    configured = settings.SELFCARE_PAYMENT_BACKEND
    return _load(configured if name is None else BACKENDS.get(name, name))


def reset_provider_cache() -> None:
    """Forget built providers (tests change the backend's settings between cases)."""
    _load.cache_clear()
