"""Writes of the corporate cabinet: inviting people, changing their roles, removing them
(docs/companies.md). Each runs in one transaction with an audit row; membership changes lock the
company row first, so two admins demoting each other at once cannot leave the company without one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from selfcare.companies.errors import (
    AlreadyMember,
    CompanyNotFound,
    EmployeeNeedsLine,
    InvalidInvitationPhone,
    InvalidRole,
    LastAdmin,
)
from selfcare.companies.models import Company, Invitation, Membership, Role
from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.kit.phone import InvalidPhoneNumber, normalize_msisdn
from selfcare.lines import queries as lines_queries
from selfcare.notifications.services import queue_sms

INVITATION_TTL = timedelta(days=7)
INVITATION_SMS_TEMPLATE = "companies.invitation"


def invitation_token_hash(token: str) -> str:
    """How an invitation's token is stored (sha256, hex): the link's token is never kept."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    """The link an invited person follows (served by the invitation-acceptance page)."""
    return f"{settings.SELFCARE_PUBLIC_URL}/business/invitations/{token}/"


def _lock_company(company_id: int) -> Company:
    return Company.objects.select_for_update().get(pk=company_id)


def _check_role(role: str) -> str:
    if role not in Role.values:
        raise InvalidRole()
    return role


def invite_member(
    *,
    company: Company,
    name: str,
    phone: str,
    email: str = "",
    role: str,
    line_msisdn: str = "",
    actor: str,
    language: str = "",
) -> tuple[Invitation, str]:
    """Invite a person to the company with a role: an Invitation row (only the token's hash is kept)
    and the link sent by SMS and, when an e-mail is given, by e-mail once the transaction commits.
    An employee must be given one of the company's lines. Returns the invitation and the token."""
    _check_role(role)
    try:
        msisdn = normalize_msisdn(phone, settings.SELFCARE_PHONE_REGION)
    except InvalidPhoneNumber as exc:
        raise InvalidInvitationPhone() from exc
    line = None
    if role == Role.EMPLOYEE or line_msisdn:
        try:
            line_number = normalize_msisdn(line_msisdn, settings.SELFCARE_PHONE_REGION) if line_msisdn else ""
        except InvalidPhoneNumber as exc:
            raise EmployeeNeedsLine() from exc
        line = (
            lines_queries.get_account_line_by_msisdn(int(company.account_id), line_number)
            if line_number
            else None
        )
        if line is None:
            raise EmployeeNeedsLine()
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        _lock_company(company.pk)
        if Membership.objects.filter(company_id=company.pk, user__msisdn=msisdn).exists():
            raise AlreadyMember()
        invitation = Invitation.objects.create(
            company=company,
            role=role,
            line=line if role == Role.EMPLOYEE else None,
            name=name.strip()[:200],
            phone=msisdn,
            email=email.strip(),
            token_hash=invitation_token_hash(token),
            invited_by=actor,
            created_at=now,
            expires_at=now + INVITATION_TTL,
        )
        record_audit(
            actor,
            "company.invite",
            subject_type="company",
            subject_id=company.pk,
            after={
                "invitation": invitation.pk,
                "role": role,
                "phone": msisdn,
                "line": getattr(line, "pk", None),
            },
        )
        link = invitation_url(token)
        queue_sms(
            msisdn,
            template=INVITATION_SMS_TEMPLATE,
            params={"company": company.name, "link": link},
            language=language,
            actor=actor,
        )
        if invitation.email:
            address, company_name = invitation.email, company.name
            transaction.on_commit(
                lambda: _send_invitation_email(address, company_name, role, link, language), robust=True
            )
    return invitation, token


def _send_invitation_email(address: str, company_name: str, role: str, link: str, language: str) -> None:
    with translation.override(language):
        subject = _("%(operator)s: you are invited to %(company)s") % {
            "operator": settings.SELFCARE_OPERATOR_NAME,
            "company": company_name,
        }
        body = _(
            "You are invited to the corporate cabinet of %(company)s as %(role)s.\n\n"
            "Follow this link to set your password (it works for 7 days):\n%(link)s\n\n%(operator)s"
        ) % {
            "company": company_name,
            "role": Role(role).label,
            "link": link,
            "operator": settings.SELFCARE_OPERATOR_NAME,
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


def change_member_role(
    *, company: Company, membership_id: int, role: str, line_id: int | None = None, actor: str
) -> Membership:
    """Give a member another role. The last administrator keeps theirs; an employee needs a line of the
    company (their current one, or `line_id`)."""
    _check_role(role)
    with transaction.atomic():
        _lock_company(company.pk)
        membership = _member(company.pk, membership_id)
        before = {"role": membership.role, "line": membership.line_id}
        if membership.role == Role.ADMIN and role != Role.ADMIN and _admins(company.pk) <= 1:
            raise LastAdmin()
        line_pk = line_id if line_id is not None else membership.line_id
        if role == Role.EMPLOYEE:
            line = lines_queries.get_account_line(int(company.account_id), line_pk) if line_pk else None
            if line is None:
                raise EmployeeNeedsLine()
            membership.line_id = line.pk
        membership.role = role
        membership.save(update_fields=["role", "line"])
        record_audit(
            actor,
            "company.member_role",
            subject_type="membership",
            subject_id=membership.pk,
            before=before,
            after={"role": role, "line": membership.line_id},
        )
    return membership


def remove_member(*, company: Company, membership_id: int, actor: str) -> None:
    """Take a person out of the company; the last administrator cannot be removed."""
    with transaction.atomic():
        _lock_company(company.pk)
        membership = _member(company.pk, membership_id)
        if membership.role == Role.ADMIN and _admins(company.pk) <= 1:
            raise LastAdmin()
        before = {"user": membership.user_id, "role": membership.role, "line": membership.line_id}
        membership.delete()
        record_audit(
            actor,
            "company.member_remove",
            subject_type="membership",
            subject_id=membership_id,
            before=before,
        )


def _member(company_id: int, membership_id: int) -> Membership:
    membership = Membership.objects.filter(company_id=company_id, pk=membership_id).first()
    if membership is None:
        raise CompanyNotFound()
    return membership


def _admins(company_id: int) -> int:
    return Membership.objects.filter(company_id=company_id, role=Role.ADMIN).count()
