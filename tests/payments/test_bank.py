"""The bank test (issue 5's acceptance): nothing is lost or counted twice when everything happens at once.

16 workers for 60 s on 100 accounts: card top-ups whose signed notifications arrive 1-5 times each,
in random order, sometimes with an older state after the newer one and sometimes never (then the
reconciliation job credits them); usage rated through `usage.services.rate_batch`, with records
sent again; the recurring-fee job, debt settlement and the bucket job; promised payments (granted,
repaid by top-ups, collected at the term end, written off), autopay fired by charges. Then
`selfcare ledger verify` must be clean — `verify_ledger()`, the management command in-process, and
the real `selfcare` console script against the same database — and every acknowledged operation must
appear exactly once.

Workers are threads, not processes: the guarantees under test live in the database (row locks and
unique indexes on PostgreSQL, the IMMEDIATE write lock on SQLite), and 16 threads with their own
connections contend for them exactly as 16 processes would, since a thread waiting on the database
releases the GIL. Threads also share the one frozen clock that the test moves forward (two hours of
the operator's time per second, so the 60 s cover five days: daily fees, promised-payment terms and
write-offs, reconciliation after "10 minutes"), the in-process fake acquirer and huey's immediate
mode (the autopay and debt-settlement jobs queued after commit run in the worker that committed).

The run lasts 60 s; SELFCARE_BANK_TEST_SECONDS shortens it on a developer machine (never in CI).
The figures (operations done per kind) are printed; run with `-s` to see them.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum

from selfcare.billing import services as billing
from selfcare.billing.models import FeeCharge, FeeStatus
from selfcare.catalog.models import Allowance, FeePeriod, Tariff
from selfcare.identity.models import User
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.ledger.models import Posting, Transaction
from selfcare.ledger.queries import get_account_by_code, verify_ledger
from selfcare.lines import services as lines
from selfcare.lines.models import Line
from selfcare.payments import services as payments
from selfcare.payments.models import (
    DEFAULT_PROMISED_TIERS,
    FakeAcquirerWebhook,
    Payment,
    PaymentKind,
    PaymentStatus,
    PromisedPayment,
    PromisedPaymentRule,
    SavedCard,
)
from selfcare.payments.providers.fake import acquirer
from selfcare.usage import services as usage_services
from selfcare.usage.models import UsageRecord
from tests.concurrency import run_in_threads
from tests.conftest import IN_CI
from tests.factories import fund, make_line, make_service, make_system_account
from tests.usage.factories import MB, make_bundle_tariff, make_numbering, make_payg_tariff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.bank]

ACCOUNTS = 100
WORKERS = 16
AUTOPAY_ACCOUNTS = 10
SEED = 20260310
MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 3, 10, 0, 30, tzinfo=MSK)
# The operator's clock runs 7,200 times faster than the wall clock: 2 hours a second.
SIMULATED_PER_REAL_S = 7_200
TICK_S = 0.05
SOURCE = "bank"
OFF_NET = "+79161234567"
REPO = Path(__file__).resolve().parents[2]


def bank_seconds() -> float:
    """60 s; a developer may shorten it with SELFCARE_BANK_TEST_SECONDS, CI never does."""
    if IN_CI:
        return 60.0
    return float(os.environ.get("SELFCARE_BANK_TEST_SECONDS", "60"))


# --- The world ---------------------------------------------------------------------------------------


class Subscriber:
    def __init__(self, user: User, line: Line) -> None:
        self.user = user
        self.line = line
        self.msisdn = line.msisdn


class WebhookNetwork:
    """The notifications on their way to us: each copy handed out once, in random order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: list[str] = []

    def send(self, body: str, copies: int) -> None:
        with self._lock:
            self._bodies.extend([body] * copies)

    def take(self, rng: random.Random) -> str | None:
        with self._lock:
            if not self._bodies:
                return None
            index = rng.randrange(len(self._bodies))
            self._bodies[index], self._bodies[-1] = self._bodies[-1], self._bodies[index]
            return self._bodies.pop()


class Ledgerbook:
    """What the workers were told (acknowledged), to hold the database to it afterwards."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.usage_accepted: dict[tuple[str, str], int] = {}  # record -> price acknowledged
        self.usage_accept_count: Counter[tuple[str, str]] = Counter()
        self.sent_records: list[dict[str, Any]] = []
        self.promised: set[int] = set()


def _setup(rng: random.Random) -> list[Subscriber]:
    """100 prepaid subscribers with 90 days of tenure: half on a daily bundle (5.00 a day, 5 minutes),
    half on pay-as-you-go with a 1.00 daily fee, a fifth with a monthly 100 MB option (30.00); a
    promised-payment rule with a one-day term and write-off after two days; ten with autopay."""
    zones = make_numbering()
    bundle = make_bundle_tariff(zones, voice_s=300, sms=0, data_bytes=0, fee_period=FeePeriod.DAILY)
    payg = make_payg_tariff(zones)
    Tariff.objects.filter(pk=bundle.pk).update(fee_minor=500)
    Tariff.objects.filter(pk=payg.pk).update(fee_minor=100, fee_period=FeePeriod.DAILY)
    option = make_service(fee_minor=3_000, fee_period=FeePeriod.MONTHLY)
    Allowance.objects.create(service=option, usage_kind="data", amount=100 * MB)
    PromisedPaymentRule.objects.create(
        term_days=1, write_off_after_days=2, tiers=list(DEFAULT_PROMISED_TIERS), updated_at=clock.now()
    )
    opening = make_system_account("opening:bank")
    subscribers = []
    with clock.frozen(START - timedelta(days=90)):
        for n in range(ACCOUNTS):
            line = make_line(tariff=bundle if n % 2 else payg)
            if n % 5 == 0:
                lines.connect_service(line, service=option, actor="test")
            user = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn, language="en")
            if balance := rng.randrange(0, 20_000):
                fund(line.account.ledger_account, balance, source=opening)
            subscribers.append(Subscriber(user, line))
    for subscriber in subscribers[:AUTOPAY_ACCOUNTS]:
        _save_card_and_autopay(subscriber)
    return subscribers


def _save_card_and_autopay(subscriber: Subscriber) -> None:
    payment = payments.start_topup(
        subscriber.user,
        msisdn=subscriber.msisdn,
        amount_minor=5_000,
        idempotency_key=f"card-{subscriber.user.pk}",
        actor="test",
        save_card=True,
    )
    acquirer.submit_card(
        payment.provider_payment_id or "",
        number=acquirer.SUCCESS_CARD,
        exp_month=12,
        exp_year=2030,
        cvc="123",
    )
    for body in FakeAcquirerWebhook.objects.filter(payment_id=payment.provider_payment_id).values_list(
        "body", flat=True
    ):
        raw = body.encode()
        payments.receive_webhook("fake", body=raw, headers=acquirer.signed_headers(raw))
    card = SavedCard.objects.get(owner=subscriber.user, removed_at__isnull=True)
    payments.set_autopay(
        subscriber.user,
        card_id=card.pk,
        threshold_minor=5_000,
        amount_minor=20_000,
        max_per_month=3,
        enabled=True,
        actor="test",
    )


# --- What the workers do -------------------------------------------------------------------------------


class Worker:
    def __init__(
        self, index: int, subscribers: list[Subscriber], network: WebhookNetwork, book: Ledgerbook
    ) -> None:
        self.index = index
        self.rng = random.Random(SEED + index)
        self.subscribers = subscribers
        self.network = network
        self.book = book
        self.done: Counter[str] = Counter()
        self.records = 0

    # Top-ups: the buyer pays on the hosted page; the acquirer's notifications go on the network.
    def top_up(self) -> None:
        rng = self.rng
        who = rng.randrange(len(self.subscribers))
        subscriber = self.subscribers[who]
        amount = rng.randrange(1_000, 50_000)
        key = uuid.uuid4().hex
        payment = payments.start_topup(
            subscriber.user, msisdn=subscriber.msisdn, amount_minor=amount, idempotency_key=key, actor="bank"
        )
        if rng.random() < 0.1:  # the form posted twice: the same payment
            again = payments.start_topup(
                subscriber.user,
                msisdn=subscriber.msisdn,
                amount_minor=amount,
                idempotency_key=key,
                actor="bank",
            )
            assert again.pk == payment.pk
            self.done["topup.form_replayed"] += 1
        provider_id = payment.provider_payment_id or ""
        card = rng.choices(
            [acquirer.SUCCESS_CARD, acquirer.DECLINE_CARD, acquirer.THREE_DS_CARD], weights=[85, 10, 5]
        )[0]
        acquirer.submit_card(provider_id, number=card, exp_month=12, exp_year=2030, cvc="123")
        if card == acquirer.THREE_DS_CARD:
            acquirer.complete_challenge(provider_id, passed=rng.random() < 0.8)
        if rng.random() < 0.1:
            acquirer.send_stale_event(provider_id)  # an older state sent after the newer one
            self.done["topup.stale_event"] += 1
        self.done["topup.started"] += 1
        if rng.random() < 0.05:
            self.done["topup.notifications_lost"] += 1  # the reconciliation job must credit it
            return
        for body in FakeAcquirerWebhook.objects.filter(payment_id=provider_id).values_list("body", flat=True):
            self.network.send(body, copies=rng.randint(1, 5))

    def deliver(self) -> None:
        body = self.network.take(self.rng)
        if body is None:
            self.done["webhook.none_waiting"] += 1
            return
        raw = body.encode()
        outcome = payments.receive_webhook("fake", body=raw, headers=acquirer.signed_headers(raw))
        self.done[f"webhook.{outcome}"] += 1

    # Usage: new records of a few lines, sometimes with records already sent (by anyone) again.
    def use(self) -> None:
        rng = self.rng
        records: list[dict[str, Any]] = []
        for subscriber in rng.sample(self.subscribers, k=rng.randint(1, 4)):
            for _ in range(rng.randint(1, 5)):
                self.records += 1
                kind = rng.choice(["voice_out", "voice_out", "data", "sms_out"])
                record: dict[str, Any] = {
                    "source": SOURCE,
                    "record_id": f"w{self.index}-{self.records}",
                    "kind": kind,
                    "msisdn": subscriber.msisdn,
                    "started_at": clock.now() - timedelta(minutes=rng.randint(1, 180)),
                }
                if kind == "data":
                    record["volume_bytes"] = rng.randint(1, 5 * MB)
                else:
                    record["counterparty"] = (
                        OFF_NET if rng.random() < 0.7 else rng.choice(self.subscribers).msisdn
                    )
                    if kind == "voice_out":
                        record["duration_s"] = rng.randint(1, 600)
                records.append(record)
        with self.book.lock:
            resent = rng.sample(self.book.sent_records, k=min(len(self.book.sent_records), rng.randint(0, 3)))
        batch = records + resent
        rng.shuffle(batch)
        result = usage_services.rate_batch(batch, actor="network")
        with self.book.lock:
            self.book.sent_records.extend(records)
            for record, outcome in zip(batch, result.results, strict=True):
                if outcome.status == usage_services.RESULT_ACCEPTED:
                    key = (record["source"], record["record_id"])
                    self.book.usage_accept_count[key] += 1
                    self.book.usage_accepted[key] = outcome.price_minor
        self.done["usage.batches"] += 1
        for outcome in result.results:
            self.done[f"usage.{outcome.status}"] += 1

    def promise(self) -> None:
        subscriber = self.rng.choice(self.subscribers)
        amount = self.rng.choice([tier["amount_minor"] for tier in DEFAULT_PROMISED_TIERS])
        key = uuid.uuid4().hex
        promised = payments.request_promised(
            subscriber.user, amount_minor=amount, idempotency_key=key, actor="bank"
        )
        with self.book.lock:
            self.book.promised.add(promised.pk)
        self.done["promised.granted"] += 1
        if self.rng.random() < 0.2:  # the app retried the request: the same promise
            again = payments.request_promised(
                subscriber.user, amount_minor=amount, idempotency_key=key, actor="bank"
            )
            assert again.pk == promised.pk
            self.done["promised.replayed"] += 1

    # The periodic jobs, run by whichever worker draws them (often several at once).
    def charge_fees(self) -> None:
        result = billing.charge_fees()
        self.done["job.charge_fees"] += 1
        self.done["fees.charged"] += result.charged
        self.done["fees.unpaid"] += result.unpaid
        self.done["lines.blocked"] += len(result.blocked)
        self.done["lines.unblocked"] += len(result.unblocked)

    def settle_debts(self) -> None:
        result = billing.settle_all_debts()
        self.done["job.settle_debts"] += 1
        self.done["fees.charged"] += result.charged
        self.done["lines.unblocked"] += len(result.unblocked)

    def reset_buckets(self) -> None:
        self.done["job.reset_buckets"] += 1
        self.done["buckets.opened"] += usage_services.reset_buckets()

    def reconcile(self) -> None:
        self.done["job.reconcile"] += 1
        for outcome, count in payments.reconcile_pending().items():
            self.done[f"reconcile.{outcome}"] += count

    def settle_promised(self) -> None:
        self.done["job.settle_promised"] += 1
        for outcome, count in payments.settle_due_promised().items():
            self.done[f"promised.{outcome}"] += count

    def sweep_autopay(self) -> None:
        self.done["job.sweep_autopay"] += 1
        self.done["autopay.started_by_sweep"] += payments.sweep_autopay()

    def run(self, deadline: float, stop: threading.Event) -> Counter[str]:
        operations: list[tuple[Callable[[], None], int]] = [
            (self.top_up, 20),
            (self.deliver, 30),
            (self.use, 25),
            (self.promise, 6),
            (self.charge_fees, 4),
            (self.settle_debts, 2),
            (self.reset_buckets, 1),
            (self.reconcile, 3),
            (self.settle_promised, 3),
            (self.sweep_autopay, 1),
        ]
        actions = [action for action, _ in operations]
        weights = [weight for _, weight in operations]
        try:
            while time.monotonic() < deadline and not stop.is_set():
                action = self.rng.choices(actions, weights=weights)[0]
                try:
                    action()
                except BusinessError as refused:  # a refusal the subscriber would see: counted, fine
                    self.done[f"refused.{refused.code}"] += 1
        except BaseException:
            stop.set()  # one worker failing stops the others: the test fails with its error
            raise
        return self.done


class ClockTicker:
    """Moves the frozen clock forward while the workers run."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)

    def _tick(self) -> None:
        while not self.stop.wait(TICK_S):
            clock.advance(timedelta(seconds=SIMULATED_PER_REAL_S * TICK_S))

    def __enter__(self) -> ClockTicker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


@pytest.fixture
def bank_settings(settings: Any) -> Iterator[None]:
    settings.SELFCARE_PAYMENT_BACKEND = "fake"
    settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER = False
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    # Notifications are signed when delivered; on a clock running 7,200 times fast a thread paused for
    # a moment would see them "minutes" old. Stale signatures are tested in test_services.
    settings.SELFCARE_WEBHOOK_TOLERANCE_S = 7 * 24 * 3600
    payments_providers_reset()
    yield
    payments_providers_reset()


def payments_providers_reset() -> None:
    from selfcare.payments.providers import reset_provider_cache

    reset_provider_cache()


# --- The test ------------------------------------------------------------------------------------------


def test_sixteen_workers_for_a_minute_lose_nothing_and_count_nothing_twice(bank_settings: None) -> None:
    rng = random.Random(SEED)
    with clock.frozen(START):
        # Given 100 accounts (set-up is not part of the run)
        subscribers = _setup(rng)
        before = _snapshot()
        network = WebhookNetwork()
        book = Ledgerbook()
        workers = [Worker(i, subscribers, network, book) for i in range(WORKERS)]
        stop = threading.Event()
        seconds = bank_seconds()
        connection.close()  # the workers take SQLite's write lock; keep no idle connection in the way

        # When 16 workers do everything at once for a minute while the clock runs
        started = time.monotonic()
        with ClockTicker():
            deadline = time.monotonic() + seconds
            results = run_in_threads(WORKERS, lambda i: workers[i].run(deadline, stop))
        elapsed = time.monotonic() - started
        ended_at = clock.now()

        totals: Counter[str] = sum(results, Counter())
        figures = _figures(totals, before)
        print(f"\nbank test on {connection.vendor}: {elapsed:.1f} s, operator clock {START:%d %b %H:%M} -> "
              f"{ended_at.astimezone(MSK):%d %b %H:%M}")  # fmt: skip
        for name, value in sorted(figures.items()):
            print(f"  {name:32} {value}")
        print(json.dumps({"bank_test": connection.vendor, "seconds": round(elapsed, 1), **figures}))

        # Then the ledger is clean, by the service, the management command and the console script
        report = verify_ledger()
        assert report.ok, report.summary()
        out = StringIO()
        call_command("ledger", "verify", stdout=out)
        assert out.getvalue().startswith("ledger verify: OK"), out.getvalue()
        connection.close()  # SQLite: no idle connection of ours in the other process's way
        # (system checks skipped: they import every page and API and would double the start-up)
        script = _run_selfcare("ledger", "--skip-checks", "verify")
        assert script.returncode == 0, script.stderr
        assert script.stdout.startswith("ledger verify: OK"), script.stdout

        # and the only refusals were the ones a subscriber may meet (no promise on offer)
        refused = {name.removeprefix("refused.") for name in totals if name.startswith("refused.")}
        assert refused <= {"promised_not_available", "promised_amount_not_allowed"}

        # and every acknowledged operation is there exactly once
        _each_credited_payment_once(totals, before)
        _each_accepted_record_once(book)
        _each_fee_once()
        _each_promised_payment_once(book)
        for kind in ("topups.credited", "usage.accepted", "fees.charged", "promised.granted"):
            assert figures[kind] > 0, kind


def _snapshot() -> dict[str, int]:
    return {
        "succeeded": Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count(),
        "last_payment": Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


def _figures(totals: Counter[str], before: dict[str, int]) -> dict[str, int]:
    run = Payment.objects.filter(pk__gt=before["last_payment"])
    kinds = Counter(Transaction.objects.values_list("kind", flat=True))
    return {
        "topups.started": totals["topup.started"],
        "topups.credited": run.filter(kind=PaymentKind.TOPUP, status=PaymentStatus.SUCCEEDED).count(),
        "topups.failed": run.filter(status=PaymentStatus.FAILED).count(),
        "topups.credited_by_reconciliation": totals["reconcile.credited"],
        "webhooks.delivered": sum(
            v for k, v in totals.items() if k.startswith("webhook.") and k != "webhook.none_waiting"
        ),
        "webhooks.duplicate_or_final": totals["webhook.duplicate"] + totals["webhook.already_final"],
        "autopay.credited": run.filter(kind=PaymentKind.AUTOPAY, status=PaymentStatus.SUCCEEDED).count(),
        "usage.batches": totals["usage.batches"],
        "usage.accepted": totals["usage.accepted"],
        "usage.duplicates": totals["usage.duplicate"],
        "usage.rejected": totals["usage.rejected"],
        "usage.transactions": kinds["usage"],
        "fees.job_runs": totals["job.charge_fees"] + totals["job.settle_debts"],
        "fees.charged": FeeCharge.objects.filter(status=FeeStatus.CHARGED).count(),
        "fees.unpaid_or_lapsed": FeeCharge.objects.exclude(status=FeeStatus.CHARGED).count(),
        "lines.blocked": totals["lines.blocked"],
        "lines.unblocked": totals["lines.unblocked"],
        "promised.granted": PromisedPayment.objects.count(),
        "promised.repayments": kinds["promised_repay"],
        "promised.collections": kinds["promised_collect"],
        "promised.write_offs": kinds["promised_write_off"],
        "refused": sum(v for k, v in totals.items() if k.startswith("refused.")),
        "ledger.transactions": sum(kinds.values()),
    }  # fmt: skip


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


def _run_selfcare(*args: str) -> subprocess.CompletedProcess[str]:
    """The `selfcare` console script in its own process, on the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "selfcare.settings",
        "SELFCARE_DATABASE_URL": _database_url(),
    }
    return subprocess.run(
        [sys.executable, "-m", "selfcare.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _customer_legs(kinds: list[str]) -> dict[int, int]:
    """Transaction id -> the sum of its legs on customer accounts (those with a floor)."""
    legs: dict[int, int] = defaultdict(int)
    for txn_id, amount in Posting.objects.filter(
        transaction__kind__in=kinds, account__floor_minor__isnull=False
    ).values_list("transaction_id", "amount_minor"):
        legs[txn_id] += amount
    return legs


def _each_credited_payment_once(totals: Counter[str], before: dict[str, int]) -> None:
    # Every succeeded payment has exactly one top-up transaction of its amount, and no other payment
    # has any; every acknowledgement of a credit ("credited") is one of them.
    succeeded = dict(Payment.objects.filter(status=PaymentStatus.SUCCEEDED).values_list("pk", "amount_minor"))
    topups = list(
        Transaction.objects.filter(kind="topup", cause_type="payment").values_list("pk", "cause_id")
    )
    per_payment = Counter(int(cause) for _pk, cause in topups)
    assert set(per_payment) == set(succeeded)
    assert [pk for pk, n in per_payment.items() if n != 1] == []
    legs = _customer_legs(["topup"])
    assert {int(cause): legs[pk] for pk, cause in topups} == succeeded
    linked = Payment.objects.filter(status=PaymentStatus.SUCCEEDED).values_list(
        "ledger_transaction_id", flat=True
    )
    assert set(linked) == {pk for pk, _cause in topups}
    credited_in_run = Payment.objects.filter(pk__gt=before["last_payment"], status=PaymentStatus.SUCCEEDED)
    autopays = credited_in_run.filter(kind=PaymentKind.AUTOPAY).count()
    acknowledged = totals["webhook.credited"] + totals["reconcile.credited"] + autopays
    assert acknowledged == credited_in_run.count()


def _each_accepted_record_once(book: Ledgerbook) -> None:
    # A record acknowledged as accepted was accepted once (a resend is a duplicate), is stored once
    # with the price it was acknowledged with, and its charge is in exactly one usage transaction,
    # whose customer leg is the sum of its records' prices.
    assert [key for key, n in book.usage_accept_count.items() if n != 1] == []
    stored = {
        (source, record_id): (status, price, txn)
        for source, record_id, status, price, txn in UsageRecord.objects.filter(source=SOURCE).values_list(
            "source", "source_record_id", "status", "price_minor", "transaction_id"
        )
    }
    accepted = {key for key, (status, _price, _txn) in stored.items() if status == "accepted"}
    assert accepted == set(book.usage_accepted)
    assert {key: stored[key][1] for key in accepted} == book.usage_accepted
    charged: dict[int, int] = defaultdict(int)
    for key in accepted:
        _status, price, txn = stored[key]
        if price:
            assert txn is not None, key
            charged[txn] += price
    assert {txn: -amount for txn, amount in _customer_legs(["usage"]).items()} == dict(charged)
    revenue = get_account_by_code(usage_services.REVENUE_ACCOUNT).balance_minor
    assert revenue == sum(book.usage_accepted.values())


def _each_fee_once() -> None:
    # One fee per line, product and period; each charged fee has exactly one ledger transaction (its
    # key), and there is no fee transaction without a charged fee.
    assert (
        FeeCharge.objects.values("line", "product_kind", "product_id", "period_start")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
        == 0
    )
    charged = dict(
        FeeCharge.objects.filter(status=FeeStatus.CHARGED).values_list(
            "idempotency_key", "ledger_transaction_id"
        )
    )
    fee_txns = list(
        Transaction.objects.filter(kind__in=["tariff_fee", "service_fee"]).values_list(
            "idempotency_key", "pk"
        )
    )
    assert Counter(key for key, _pk in fee_txns) == Counter(charged.keys())
    assert dict(fee_txns) == charged
    assert (
        not FeeCharge.objects.exclude(status=FeeStatus.CHARGED)
        .filter(ledger_transaction_id__isnull=False)
        .exists()
    )
    total = FeeCharge.objects.filter(status=FeeStatus.CHARGED).aggregate(t=Sum("amount_minor"))["t"] or 0
    assert get_account_by_code(billing.REVENUE_ACCOUNT).balance_minor == total


def _each_promised_payment_once(book: Ledgerbook) -> None:
    # Every granted promise was acknowledged once and has exactly one grant; what left its debt
    # (repayments from top-ups, collections at the term end, a write-off) adds up to what it owed.
    promises = {p.pk: p for p in PromisedPayment.objects.all()}
    assert set(promises) == book.promised
    grants = Counter(
        int(cause)
        for cause in Transaction.objects.filter(kind="promised_grant").values_list("cause_id", flat=True)
    )
    assert grants == Counter(dict.fromkeys(promises, 1))
    credit = get_account_by_code(payments.PROMISED_CREDIT_ACCOUNT)
    paid_back: dict[int, int] = defaultdict(int)
    for cause, amount in Posting.objects.filter(
        account=credit, transaction__kind__in=["promised_repay", "promised_collect", "promised_write_off"]
    ).values_list("transaction__cause_id", "amount_minor"):
        paid_back[int(cause)] += amount
    for pk, promise in promises.items():
        assert paid_back[pk] == promise.amount_minor - promise.outstanding_minor, pk
    assert credit.balance_minor == -sum(p.outstanding_minor for p in promises.values())
