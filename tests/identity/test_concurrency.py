"""A one-time code under concurrency: real threads, each with its own database connection, against
committed data (transaction=True), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest

from selfcare.identity import services
from selfcare.identity.errors import InvalidCode
from selfcare.identity.models import AuditEvent, CodePurpose, OneTimeCode, User
from tests.concurrency import run_in_threads
from tests.factories import make_line
from tests.identity.conftest import CLIENT, PASSWORD, last_code

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def test_20_simultaneous_submissions_of_the_right_code_give_exactly_one_success(settings):
    # Given a registration code (and check limits high enough to let all 20 through to the code)
    settings.SELFCARE_OTP_CHECKS_PER_NUMBER_10MIN = 100
    settings.SELFCARE_OTP_CHECKS_PER_IP_10MIN = 100
    line = make_line()
    services.request_code(line.msisdn, purpose=CodePurpose.REGISTRATION, client=CLIENT)
    code = last_code(line.msisdn)

    # When 20 threads complete the registration with it at the same moment
    def work(index: int) -> str:
        try:
            services.complete_registration(line.msisdn, code=code, password=PASSWORD, client=CLIENT)
        except InvalidCode:
            return "refused"
        return "registered"

    outcomes = Counter(run_in_threads(THREADS, work, exceptions_as_results=True))

    # Then exactly one registered, 19 were refused, and one account exists
    assert outcomes == Counter({"registered": 1, "refused": 19})
    assert User.objects.filter(msisdn=line.msisdn).count() == 1
    assert OneTimeCode.objects.get().used_at is not None
    assert AuditEvent.objects.filter(action="otp.check", outcome="ok").count() == 1
    assert AuditEvent.objects.filter(action="registration").count() == 1
