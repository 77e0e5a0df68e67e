import pytest
from django.db import IntegrityError, connection, transaction

from selfcare.ledger import services
from selfcare.ledger.models import Posting


@pytest.mark.django_db(transaction=True)
def test_posting_then_flush_works_for_transactional_tests():
    a = services.open_account("customer:a", kind="customer", currency="RUB")
    b = services.open_account("revenue:x", kind="system", currency="RUB")
    services.post_transaction(
        "topup", legs=[services.Leg(a.pk, 100), services.Leg(b.pk, -100)], idempotency_key="k1", actor="test"
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_posting SET amount_minor = 5")
    assert Posting.objects.count() == 2
