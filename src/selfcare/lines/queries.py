"""Reads about customers, accounts and lines."""

from __future__ import annotations

from django.db.models import QuerySet

from selfcare.lines.models import Account, Line, ServiceAssignment


def get_line_by_msisdn(msisdn: str) -> Line | None:
    return Line.objects.select_related("account", "tariff").filter(msisdn=msisdn).first()


def list_active_services(line: Line) -> QuerySet[ServiceAssignment]:
    return ServiceAssignment.objects.filter(line=line, disconnected_at__isnull=True).select_related("service")


def get_account_for_line(line: Line) -> Account:
    return Account.objects.select_related("ledger_account").get(pk=line.account_id)
