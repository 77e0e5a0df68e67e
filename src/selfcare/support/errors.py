from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import Conflict, NotFound, ValidationFailed


class RequestNotFound(NotFound):
    code = "support_request_not_found"
    default_message = _("This request was not found.")


class RequestClosed(Conflict):
    code = "support_request_closed"
    default_message = _("This request is closed.")


class SubjectRequired(ValidationFailed):
    code = "support_subject_required"
    default_message = _("Write a subject of at most %(limit)s characters.")


class MessageRequired(ValidationFailed):
    code = "support_message_required"
    default_message = _("Write your message in at most %(limit)s characters.")


class AnswerRequired(ValidationFailed):
    code = "support_answer_required"
    default_message = _("Write the answer in at most %(limit)s characters.")


class LineNotOnAccount(ValidationFailed):
    code = "support_line_not_on_account"
    default_message = _("Choose one of the numbers on your account.")


class NoNumber(ValidationFailed):
    code = "support_no_number"
    default_message = _("Only subscribers with a number can write to support here.")
