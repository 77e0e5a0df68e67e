"""Property: whatever sequence of postings, refusals and replays happens, the journal stays sound.

Hypothesis draws accounts (with and without floors and overdraft room) and a sequence of operations:
single transactions and batches with 2-3 legs, amounts large enough to break floors, the ordinary and
the usage-overdraft rule, and replays of earlier keys (same content, or different content). A plain
Python model predicts each outcome; afterwards every cached balance must equal both the model and the
sum of its postings, and `verify_ledger()` must be clean.

Each example runs inside a savepoint that is rolled back at its end, so examples do not see each
other's rows (the journal cannot be emptied with DELETE, but a rollback is not a DELETE).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from selfcare.ledger import services
from selfcare.ledger.errors import IdempotencyConflict, InsufficientFunds
from selfcare.ledger.models import LedgerAccount, Posting, Transaction
from selfcare.ledger.queries import verify_ledger
from selfcare.ledger.services import Entry, FloorRule, Leg

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class AccountSpec:
    floor_minor: int | None  # None: a system account
    overdraft_minor: int
    opening_minor: int


@dataclass(frozen=True)
class EntrySpec:
    legs: tuple[tuple[int, int], ...]  # (account index, amount)
    floor: FloorRule
    replay_of: int | None  # index into the keys used so far, or None for a fresh key
    tamper: bool  # when replaying: change the amounts, which must be a conflict


@dataclass
class Model:
    balances: list[int]
    specs: list[AccountSpec]
    # key -> (canonical legs, transaction pk) for every key that was actually posted
    posted: dict[str, tuple[tuple[tuple[int, int], ...], int]] = field(default_factory=dict)
    used_keys: list[str] = field(default_factory=list)

    def lowest(self, index: int, rule: FloorRule) -> int | None:
        spec = self.specs[index]
        if spec.floor_minor is None:
            return None
        room = spec.overdraft_minor if rule is FloorRule.USAGE_OVERDRAFT else 0
        return spec.floor_minor - room


amounts = st.integers(min_value=1, max_value=5_000)


@st.composite
def entry_specs(draw: st.DrawFn, account_count: int) -> EntrySpec:
    leg_count = draw(st.integers(min_value=2, max_value=min(3, account_count)))
    indexes = draw(
        st.lists(st.integers(0, account_count - 1), min_size=leg_count, max_size=leg_count, unique=True)
    )
    values = [draw(amounts) * draw(st.sampled_from([1, -1])) for _ in range(leg_count - 1)]
    last = -sum(values)
    if last == 0:
        # Nudge the first leg away from zero (+1 would turn a -1 into a zero leg, which is invalid).
        values[0] += -1 if values[0] == -1 else 1
        last = -sum(values)
    values.append(last)
    return EntrySpec(
        legs=tuple(zip(indexes, values, strict=True)),
        floor=draw(st.sampled_from(list(FloorRule))),
        replay_of=draw(st.none() | st.integers(min_value=0, max_value=1_000)),
        tamper=draw(st.booleans()),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[AccountSpec], list[list[EntrySpec]]]:
    accounts = draw(
        st.lists(
            st.builds(
                AccountSpec,
                floor_minor=st.none() | st.sampled_from([0, 0, -2_000]),
                overdraft_minor=st.sampled_from([0, 1_000]),
                opening_minor=st.integers(min_value=0, max_value=8_000),
            ),
            min_size=2,
            max_size=5,
        )
    )
    # Each operation is a batch; most batches hold one entry (a plain post_transaction).
    operations = draw(
        st.lists(
            st.lists(entry_specs(len(accounts)), min_size=1, max_size=3).filter(lambda b: b),
            min_size=1,
            max_size=12,
        )
    )
    return accounts, operations


def canonical(legs: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(legs))


def predict(model: Model, batch: list[tuple[str, EntrySpec, tuple[tuple[int, int], ...]]]) -> str | None:
    """The model's verdict for a batch: None (posted), "conflict" or "insufficient"; applies it if posted."""
    balances = list(model.balances)
    planned: dict[str, tuple[tuple[int, int], ...]] = {}
    # A key repeated in one batch with other content is refused before anything else is looked at.
    for key, _spec, legs in batch:
        if planned.setdefault(key, canonical(legs)) != canonical(legs):
            return "conflict"
    planned.clear()
    for key, spec, legs in batch:
        known = model.posted.get(key)
        prior = known[0] if known else planned.get(key)
        if prior is not None:
            if prior != canonical(legs):
                return "conflict"
            continue
        net: dict[int, int] = defaultdict(int)
        for index, amount in legs:
            net[index] += amount
        for index, change in net.items():
            balances[index] += change
            lowest = model.lowest(index, spec.floor)
            if change < 0 and lowest is not None and balances[index] < lowest:
                return "insufficient"
        planned[key] = canonical(legs)
    model.balances = balances
    return None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_random_postings_keep_the_journal_balanced(scenario):
    account_specs, operations = scenario
    with transaction.atomic():
        run_scenario(account_specs, operations)
        # Leave nothing behind for the next example.
        transaction.set_rollback(True)


def run_scenario(account_specs: list[AccountSpec], operations: list[list[EntrySpec]]) -> None:
    # Given accounts with floors, overdraft room and opening balances
    funding = services.open_account("system:funding", kind="system", currency="RUB")
    accounts: list[LedgerAccount] = []
    for number, spec in enumerate(account_specs):
        accounts.append(
            services.open_account(
                f"prop:{number}",
                kind="system" if spec.floor_minor is None else "customer",
                currency="RUB",
                floor_minor=spec.floor_minor,
                overdraft_minor=spec.overdraft_minor,
            )
        )
        if spec.opening_minor:
            services.post_transaction(
                "topup",
                legs=[Leg(accounts[-1].pk, spec.opening_minor), Leg(funding.pk, -spec.opening_minor)],
                idempotency_key=f"opening:{number}",
                actor="test",
            )
    model = Model(balances=[spec.opening_minor for spec in account_specs], specs=account_specs)
    funding_balance = -sum(spec.opening_minor for spec in account_specs)

    # When each batch is posted
    for batch_number, batch_specs in enumerate(operations):
        batch: list[tuple[str, EntrySpec, tuple[tuple[int, int], ...]]] = []
        for entry_number, spec in enumerate(batch_specs):
            legs = spec.legs
            if spec.replay_of is not None and model.used_keys:
                key = model.used_keys[spec.replay_of % len(model.used_keys)]
                known = model.posted.get(key)
                if known is not None:
                    # Replay exactly what was posted, or the same legs with other amounts.
                    legs = known[0]
                    if spec.tamper:
                        legs = tuple((index, amount * 2) for index, amount in legs)
            else:
                key = f"op:{batch_number}:{entry_number}"
            batch.append((key, spec, legs))
        entries = [
            Entry(
                kind="charge",
                idempotency_key=key,
                legs=[Leg(accounts[index].pk, amount) for index, amount in legs],
                actor="test",
                floor=spec.floor,
            )
            for key, spec, legs in batch
        ]
        rows_before = (Transaction.objects.count(), Posting.objects.count())
        model_before = list(model.balances)
        verdict = predict(model, batch)
        event(f"batch {verdict or 'posted'}")
        if any(key in model.posted for key, _spec, _legs in batch):
            event("batch replays a posted key")

        # Then the service does what the model predicts
        if verdict == "conflict":
            with pytest.raises(IdempotencyConflict):
                services.post_transactions(entries)
        elif verdict == "insufficient":
            with pytest.raises(InsufficientFunds):
                services.post_transactions(entries)
        else:
            posted = services.post_transactions(entries)
            for (key, _spec, legs), txn in zip(batch, posted, strict=True):
                if key in model.posted:
                    assert txn.pk == model.posted[key][1]  # a replay returns the first transaction
                else:
                    model.posted[key] = (canonical(legs), txn.pk)
        if verdict is not None:
            # and a refused batch changes no balance and adds no row
            assert (Transaction.objects.count(), Posting.objects.count()) == rows_before
            assert model.balances == model_before
        for key, _spec, _legs in batch:
            if key not in model.used_keys:
                model.used_keys.append(key)

        # and after every operation each cached balance equals the model and the sum of its postings
        stored = {
            a.pk: a.balance_minor for a in LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts])
        }
        assert [stored[a.pk] for a in accounts] == model.balances
        sums = dict(
            Posting.objects.filter(account__in=accounts)
            .values_list("account_id")
            .annotate(total=Sum("amount_minor"))
            .values_list("account_id", "total")
        )
        assert [sums.get(a.pk, 0) for a in accounts] == model.balances

    # Finally every transaction sums to zero and no invariant is broken
    report = verify_ledger()
    assert report.ok, report.summary()
    assert sum(model.balances) + funding_balance == 0
    assert LedgerAccount.objects.get(pk=funding.pk).balance_minor == funding_balance
    for txn_id, total in Transaction.objects.annotate(total=Sum("postings__amount_minor")).values_list(
        "id", "total"
    ):
        assert total == 0, txn_id
