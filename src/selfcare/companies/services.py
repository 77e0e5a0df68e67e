"""Every write about business applications, companies and invitations (docs/companies.md).

The application flow: `submit_application` proves each number by its PUK (rate limited; one error
for any wrong pair) and records the application; staff `approve_application` (customer, account,
company, the lines moved under it, the admin's invitation) or `reject_application`; the contact
accepts the invitation with `accept_invitation`. Each runs in one transaction with an audit row, and
its SMS and e-mails leave only once it commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from selfcare.companies.errors import (
    AlreadyMember,
    ApplicationNotPending,
    CompanyNotFound,
    DuplicateNumber,
    EmployeeNeedsLine,
    InvalidAccountTerms,
    InvalidInvitation,
    InvalidInvitationPhone,
    InvalidRole,
    InvalidTaxId,
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationNotFound,
    LastAdmin,
    NumberNotAvailable,
    NumberNotEligible,
    NumberOrPukWrong,
    NumbersRefused,
    PersonAlreadyMember,
    RejectionReasonRequired,
)
from selfcare.companies.models import (
    Application,
    ApplicationNumber,
    ApplicationStatus,
    Company,
    Invitation,
    Membership,
    Role,
)
from selfcare.identity.errors import TooManyRequests
from selfcare.identity.services import (
    Client,
    check_rate_limit,
    enroll_invited_user,
    rate_limit_left,
    record_audit,
)
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.kit.money import format_money
from selfcare.kit.phone import InvalidPhoneNumber, normalize_msisdn
from selfcare.kit.signing import keyed_hash
from selfcare.kit.tax_id import InvalidTaxId as InvalidTaxIdText
from selfcare.kit.tax_id import normalize_tax_id
from selfcare.lines import queries as lines_queries
from selfcare.lines import services as lines
from selfcare.notifications.services import queue_sms

if TYPE_CHECKING:
    from selfcare.lines.models import Line

log = structlog.get_logger(__name__)

# lines.models.AccountKind, CustomerKind and LineStatus values (companies does not import lines.models).
ACCOUNT_PREPAID = "prepaid"
ACCOUNT_POSTPAID = "postpaid"
CUSTOMER_ORGANIZATION = "organization"
LINE_TERMINATED = "terminated"
LINE_BLOCKED_FOR_DEBT = "blocked_debt"

_TRACKING_DIGITS = 8


# --- tax ids and tracking numbers ----------------------------------------------------------------------


def clean_tax_id(raw: str) -> str:
    """The stored form of a tax id in the operator's country (settings.SELFCARE_PHONE_REGION: the
    country the operator serves); raises InvalidTaxId."""
    try:
        return normalize_tax_id(raw, settings.SELFCARE_PHONE_REGION)
    except InvalidTaxIdText as exc:
        raise InvalidTaxId() from exc


def status_token(tracking_number: str) -> str:
    """The secret part of an application's status link: a keyed hash of its tracking number, so the
    link needs no stored secret and cannot be made without SELFCARE_HASH_KEY."""
    return keyed_hash(settings.SELFCARE_HASH_KEY, "business-application", tracking_number)[:32]


def check_status_token(tracking_number: str, token: str) -> bool:
    return hmac.compare_digest(status_token(tracking_number), token or "")


def status_url(application: Application) -> str:
    path = reverse(
        "companies:application-status",
        kwargs={"tracking": application.tracking_number, "token": status_token(application.tracking_number)},
    )
    return f"{settings.SELFCARE_PUBLIC_URL}{path}"


def _new_tracking_number() -> str:
    year = clock.local_today(settings.TIME_ZONE).year
    return f"B-{year}-{secrets.randbelow(10**_TRACKING_DIGITS):0{_TRACKING_DIGITS}d}"


# --- submitting an application --------------------------------------------------------------------------


def _limit_attempts(ip: str, msisdns: list[str]) -> None:
    """Refuse (TooManyRequests) before any PUK is looked at when this address has sent too many
    applications or wrong pairs, or a number has been tried too often. Every check of a number takes
    one of its tries, whoever sends it: the bound on guessing one number's PUK holds across addresses."""
    check_rate_limit(
        "business-apply-ip", ip, amount=settings.SELFCARE_BUSINESS_APPLICATIONS_PER_IP_DAY, period_s=86400
    )
    if (
        rate_limit_left(
            "business-puk-fail-ip",
            ip,
            amount=settings.SELFCARE_BUSINESS_PUK_FAILURES_PER_IP_HOUR,
            period_s=3600,
        )
        <= 0
    ):
        raise TooManyRequests()
    for msisdn in msisdns:
        check_rate_limit(
            "business-puk-number",
            msisdn,
            amount=settings.SELFCARE_BUSINESS_PUK_TRIES_PER_NUMBER_HOUR,
            period_s=3600,
        )


def _record_wrong_pairs(ip: str, count: int) -> None:
    for _index in range(count):
        try:
            check_rate_limit(
                "business-puk-fail-ip",
                ip,
                amount=settings.SELFCARE_BUSINESS_PUK_FAILURES_PER_IP_HOUR,
                period_s=3600,
            )
        except TooManyRequests:
            return  # the window is full: the next application from this address is refused up front


def _wrong_pairs(numbers: list[tuple[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """The lines of the numbers whose PUK matches, and the numbers whose pair does not. An unknown
    number costs the same keyed hash as a known one."""
    found = lines_queries.get_lines_by_msisdns(msisdn for msisdn, _puk in numbers)
    proven: dict[str, Any] = {}
    wrong: list[str] = []
    for msisdn, puk in numbers:
        line = found.get(msisdn)
        if line is None:
            lines.hash_puk(puk)
            wrong.append(msisdn)
        elif line.status == LINE_TERMINATED or not lines.check_puk(line, puk):
            wrong.append(msisdn)
        else:
            proven[msisdn] = line
    return proven, wrong


def submit_application(
    *,
    region_id: int,
    company_name: str,
    tax_id: str,
    legal_address: str,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    numbers: list[tuple[str, str]],
    client: Client,
    actor: str = "anonymous",
) -> Application:
    """Record a business registration request for `numbers` ((E.164, PUK) pairs) and tell the contact
    its tracking link by SMS and e-mail.

    Raises TooManyRequests (rate limits, before any PUK is checked), InvalidTaxId, NumbersRefused
    (`problems` by number: NumberOrPukWrong for any pair that does not match, whatever part is wrong;
    then, for proven numbers only, NumberNotAvailable or NumberNotEligible) and DuplicateNumber.
    Nothing is stored when it raises, apart from the audit row of wrong pairs.
    """
    cleaned_tax_id = clean_tax_id(tax_id)
    msisdns = [msisdn for msisdn, _puk in numbers]
    if not numbers or len(numbers) > settings.SELFCARE_BUSINESS_MAX_NUMBERS:
        raise ValueError("an application names 1 to SELFCARE_BUSINESS_MAX_NUMBERS numbers")
    if len(set(msisdns)) != len(msisdns):
        raise DuplicateNumber()
    ip = client.ip or "unknown"
    _limit_attempts(ip, msisdns)
    proven, wrong = _wrong_pairs(numbers)
    if wrong:
        _record_wrong_pairs(ip, len(wrong))
        with transaction.atomic():
            record_audit(
                actor,
                "business_application.puk_failed",
                subject_type="msisdn",
                subject_id=wrong[0],
                after={"numbers": wrong, "checked": len(numbers)},
                outcome="wrong_pair",
                ip=client.ip,
                user_agent=client.user_agent,
            )
        raise NumbersRefused({msisdn: NumberOrPukWrong() for msisdn in wrong})
    with transaction.atomic():
        locked = {line.msisdn: line for line in lines.lock_lines([line.pk for line in proven.values()])}
        claimed = set(
            ApplicationNumber.objects.filter(
                line_id__in=[line.pk for line in locked.values()],
                application__status=ApplicationStatus.SUBMITTED,
            ).values_list("line_id", flat=True)
        )
        problems: dict[str, BusinessError] = {}
        for msisdn in msisdns:
            line = locked[msisdn]
            if line.pk in claimed or line.account.customer.kind == CUSTOMER_ORGANIZATION:
                problems[msisdn] = NumberNotAvailable()
            elif line.status == LINE_BLOCKED_FOR_DEBT:
                problems[msisdn] = NumberNotEligible()
        if problems:
            raise NumbersRefused(problems)
        now = clock.now()
        application = _create_application(
            region_id=region_id,
            company_name=company_name.strip(),
            tax_id=cleaned_tax_id,
            legal_address=legal_address.strip(),
            contact_name=contact_name.strip(),
            contact_phone=contact_phone,
            contact_email=contact_email.strip(),
            terms_accepted_at=now,
            submitted_at=now,
            language=(client.language or settings.LANGUAGE_CODE)[:8],
        )
        ApplicationNumber.objects.bulk_create(
            [ApplicationNumber(application=application, line=locked[msisdn]) for msisdn in msisdns]
        )
        record_audit(
            actor,
            "business_application.submit",
            subject_type="business_application",
            subject_id=application.pk,
            after={
                "tracking_number": application.tracking_number,
                "company_name": application.company_name,
                "tax_id": application.tax_id,
                "numbers": msisdns,
            },
            ip=client.ip,
            user_agent=client.user_agent,
        )
        link = status_url(application)
        queue_sms(
            application.contact_phone,
            template="companies.application_received",
            params={"tracking": application.tracking_number, "link": link},
            language=application.language,
            actor=actor,
        )
        _email_after_commit(
            application.contact_email,
            application.language,
            subject=lambda: _("%(operator)s: application %(tracking)s received"),
            body=lambda: _(
                "Thank you: we have received the application of %(company)s.\n\n"
                "Its number is %(tracking)s. Follow its status here:\n%(link)s\n\n"
                "We will write to you again when it is decided.\n\n%(operator)s"
            ),
            params={
                "tracking": application.tracking_number,
                "company": application.company_name,
                "link": link,
            },
        )
    return application


def _create_application(**fields: Any) -> Application:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Application.objects.create(tracking_number=_new_tracking_number(), **fields)
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a tracking number")  # pragma: no cover - 5 clashes in 10^8


def _email_after_commit(
    address: str, language: str, *, subject: Any, body: Any, params: dict[str, str]
) -> None:
    """Send an e-mail once the caller commits, written in `language`. `subject` and `body` are
    callables returning the gettext'd texts, so they are translated in the recipient's language."""
    if not address:
        return

    def send() -> None:
        values = {"operator": settings.SELFCARE_OPERATOR_NAME, **params}
        with translation.override(language or settings.LANGUAGE_CODE):
            text_subject, text_body = subject() % values, body() % values
        send_mail(text_subject, text_body, settings.DEFAULT_FROM_EMAIL, [address])

    # robust: the write is committed; a mail server outage must not turn it into an error page.
    transaction.on_commit(send, robust=True)


# --- staff decisions ---------------------------------------------------------------------------------


def _claim_pending(application: Application, **changes: Any) -> Application:
    """Move a SUBMITTED application to its decision with a conditional update: of two staff members
    deciding at once, exactly one wins; the other gets ApplicationNotPending."""
    updated = Application.objects.filter(pk=application.pk, status=ApplicationStatus.SUBMITTED).update(
        reviewed_at=clock.now(), **changes
    )
    if updated != 1:
        raise ApplicationNotPending()
    return Application.objects.select_for_update().get(pk=application.pk)


def approve_application(
    application: Application, *, account_kind: str, credit_limit_minor: int, actor: str
) -> Company:
    """Approve: the organisation customer, its account (postpaid with `credit_limit_minor`, or prepaid
    with none) and ledger account, the company, the lines moved under the account with their history,
    and an admin invitation for the contact (SMS and e-mail). One transaction; raises
    ApplicationNotPending when it is not SUBMITTED any more, InvalidAccountTerms, and LineTerminated or
    LineInDebt when a line can no longer move (nothing is changed then)."""
    if account_kind not in {ACCOUNT_PREPAID, ACCOUNT_POSTPAID}:
        raise InvalidAccountTerms()
    if credit_limit_minor < 0 or (account_kind == ACCOUNT_PREPAID and credit_limit_minor != 0):
        raise InvalidAccountTerms()
    with transaction.atomic():
        fresh = _claim_pending(application, status=ApplicationStatus.APPROVED, reviewed_by=actor[:100])
        customer = lines.create_customer(
            name=fresh.company_name,
            kind=CUSTOMER_ORGANIZATION,
            email=fresh.contact_email,
            language=fresh.language or None,
            tax_id=fresh.tax_id,
            actor=actor,
        )
        account = lines.open_account(
            customer, actor=actor, kind=account_kind, credit_limit_minor=credit_limit_minor
        )
        company = Company.objects.create(
            customer=customer,
            account=account,
            region_id=fresh.region_id,
            name=fresh.company_name,
            tax_id=fresh.tax_id,
            legal_address=fresh.legal_address,
            contact_name=fresh.contact_name,
            contact_phone=fresh.contact_phone,
            contact_email=fresh.contact_email,
            created_at=clock.now(),
        )
        line_ids = list(fresh.numbers.order_by("line_id").values_list("line_id", flat=True))
        for line in lines.lock_lines(line_ids):
            lines.move_line(line, account=account, actor=actor)
        fresh.company = company
        fresh.save(update_fields=["company"])
        record_audit(
            actor,
            "business_application.approve",
            subject_type="business_application",
            subject_id=fresh.pk,
            before={"status": ApplicationStatus.SUBMITTED},
            after={
                "status": ApplicationStatus.APPROVED,
                "company": company.pk,
                "account": account.number,
                "account_kind": account_kind,
                "credit_limit_minor": credit_limit_minor,
                "lines": line_ids,
            },
        )
        create_invitation(
            company,
            role=Role.ADMIN,
            name=fresh.contact_name,
            phone=fresh.contact_phone,
            email=fresh.contact_email,
            language=fresh.language,
            actor=actor,
        )
    return company


def reject_application(application: Application, *, reason: str, actor: str) -> Application:
    """Reject with a reason the applicant reads on the status page (and is told of by SMS and e-mail).
    Raises RejectionReasonRequired, ApplicationNotPending."""
    reason = (reason or "").strip()
    if not reason:
        raise RejectionReasonRequired()
    with transaction.atomic():
        fresh = _claim_pending(
            application, status=ApplicationStatus.REJECTED, reviewed_by=actor[:100], rejection_reason=reason
        )
        record_audit(
            actor,
            "business_application.reject",
            subject_type="business_application",
            subject_id=fresh.pk,
            before={"status": ApplicationStatus.SUBMITTED},
            after={"status": ApplicationStatus.REJECTED, "reason": reason},
        )
        link = status_url(fresh)
        queue_sms(
            fresh.contact_phone,
            template="companies.application_rejected",
            params={"tracking": fresh.tracking_number, "link": link},
            language=fresh.language,
            actor=actor,
        )
        _email_after_commit(
            fresh.contact_email,
            fresh.language,
            subject=lambda: _("%(operator)s: application %(tracking)s declined"),
            body=lambda: _(
                "We are sorry: the application of %(company)s (%(tracking)s) was declined.\n\n"
                "The reason: %(reason)s\n\nYou can read it again here:\n%(link)s\n\n"
                "Call us if you have questions.\n\n%(operator)s"
            ),
            params={
                "tracking": fresh.tracking_number,
                "company": fresh.company_name,
                "reason": reason,
                "link": link,
            },
        )
    return fresh


# --- invitations ------------------------------------------------------------------------------------------


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{settings.SELFCARE_PUBLIC_URL}{reverse('companies:invitation', kwargs={'token': token})}"


def create_invitation(
    company: Company,
    *,
    role: str,
    name: str,
    phone: str,
    email: str = "",
    line: Any = None,
    language: str = "",
    actor: str,
) -> tuple[Invitation, str]:
    """Invite a person (`phone` in E.164) to `company` with `role` (an employee with their `line`):
    the link with a fresh token goes by SMS, and by e-mail when `email` is given. Returns the row and
    the token, which is stored only as its hash. Raises InvalidInvitation."""
    if role not in Role.values or (role == Role.EMPLOYEE) != (line is not None):
        raise InvalidInvitation()
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            company=company,
            role=role,
            line=line,
            name=name[:200],
            phone=phone,
            email=email,
            token_hash=invitation_token_hash(token),
            invited_by=actor[:100],
            created_at=now,
            expires_at=now + timedelta(hours=settings.SELFCARE_INVITATION_TTL_H),
        )
        record_audit(
            actor,
            "company.invitation.create",
            subject_type="company",
            subject_id=company.pk,
            after={
                "invitation": invitation.pk,
                "role": role,
                "phone": phone,
                "line": getattr(line, "pk", None),
            },
        )
        link = invitation_url(token)
        queue_sms(
            phone,
            template="companies.invitation",
            params={"company": company.name, "link": link},
            language=language,
            actor=actor,
        )
        _email_after_commit(
            email,
            language,
            subject=lambda: _("%(operator)s: your invitation to the corporate cabinet of %(company)s"),
            body=lambda: _(
                "Hello %(name)s,\n\nyou are invited to the corporate cabinet of %(company)s. "
                "Open this link to set your password (it works until %(expires)s):\n%(link)s\n\n%(operator)s"
            ),
            params={
                "name": invitation.name,
                "company": company.name,
                "link": link,
                "expires": f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC",
            },
        )
    return invitation, token


def _check_open(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise InvitationAlreadyAccepted()
    if invitation.expires_at <= clock.now():
        raise InvitationExpired()


def accept_invitation(token: str, *, password: str, client: Client) -> Membership:
    """Join the company of the invitation behind `token`: the person's account (a new one with this
    password, or their existing one when `password` is its password), the membership with the
    invitation's role and line, and the invitation marked accepted, once.

    Raises InvitationNotFound, InvitationExpired, InvitationAlreadyAccepted (also to the loser of two
    simultaneous acceptances), AlreadyMember, and from identity InvalidCredentials, LoginDelayed or
    ValidationError (password rules).
    """
    invitation = Invitation.objects.filter(token_hash=invitation_token_hash(token or "")).first()
    if invitation is None:
        raise InvitationNotFound()
    _check_open(invitation)
    user = enroll_invited_user(invitation.phone, password=password, client=client)
    with transaction.atomic():
        now = clock.now()
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now)
        if claimed != 1:
            _check_open(Invitation.objects.get(pk=invitation.pk))
            raise InvitationAlreadyAccepted()  # pragma: no cover - _check_open raised
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    company_id=invitation.company_id,
                    user=user,
                    role=invitation.role,
                    line_id=invitation.line_id,
                    created_at=now,
                )
        except IntegrityError as exc:
            raise AlreadyMember() from exc
        Invitation.objects.filter(pk=invitation.pk).update(membership=membership)
        record_audit(
            f"user:{user.pk}",
            "company.invitation.accept",
            subject_type="company",
            subject_id=invitation.company_id,
            after={"invitation": invitation.pk, "membership": membership.pk, "role": invitation.role},
            ip=client.ip,
            user_agent=client.user_agent,
        )
    return membership


# --- The corporate cabinet: members and roles (locks the company row; docs/companies.md) -----------


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
    """An admin invites a person to the company with a role: the phone is normalised, an employee must
    be given one of the company's lines, and a person already in the company is refused (under the
    company's lock); then `create_invitation` stores it and sends the link. Returns the invitation and
    the token."""
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
    with transaction.atomic():
        _lock_company(company.pk)
        if Membership.objects.filter(company_id=company.pk, user__msisdn=msisdn).exists():
            raise PersonAlreadyMember()
        return create_invitation(
            company,
            role=role,
            name=name.strip(),
            phone=msisdn,
            email=email.strip(),
            line=line if role == Role.EMPLOYEE else None,
            language=language,
            actor=actor,
        )


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


# --- Quotas: the 80 % notice to a company's admins (docs/usage.md, "Quotas") ----------------------
# Registered in CompaniesConfig.ready() with lines.services.on_quota_threshold: the lines domain marks
# the notice as sent (once per line and month) in the charge's transaction and calls this after commit.

QUOTA_ACTOR = "system:quotas"


def notify_admins_of_quota(line: Line, *, percent: int, actor: str = QUOTA_ACTOR) -> int:
    """SMS every admin of the company that owns `line` (a lines.Line) that the line has spent
    `percent` % of its monthly quota; returns how many were queued. A line outside any company, or a
    company without admins with a phone number, notifies nobody (an audit row still says so)."""
    quota = lines_queries.get_line_quota(line.pk)
    admins = list(
        Membership.objects.filter(company__account_id=line.account_id, role=Role.ADMIN)
        .select_related("user", "company__customer")
        .order_by("pk")
    )
    sent = 0
    with transaction.atomic():
        for membership in admins:
            msisdn = getattr(membership.user, "msisdn", None)
            if not msisdn:
                continue
            language = getattr(membership.user, "language", "") or membership.company.customer.language
            queue_sms(
                msisdn,
                template="companies.quota_warning",
                params={
                    "number": line.msisdn,
                    "percent": str(percent),
                    "quota": format_money(
                        quota.limit_minor if quota is not None and quota.limit_minor is not None else 0,
                        settings.SELFCARE_CURRENCY,
                        language,
                    ),
                },
                language=language,
                actor=actor,
            )
            sent += 1
        record_audit(
            actor,
            "company.quota_notice",
            subject_type="line",
            subject_id=line.pk,
            after={"percent": percent, "admins_notified": sent},
        )
    return sent


def notify_quota_threshold(line_id: int, percent: int) -> None:
    """The lines.services.on_quota_threshold hook: the line reached `percent` % of its quota."""
    notify_admins_of_quota(lines_queries.get_line(line_id), percent=percent)


# --- end of quotas ---------------------------------------------------------------------------------------
