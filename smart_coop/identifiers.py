"""Why python-stdnum or schwifty refused an identifier, in the user's language.

The libraries' own messages are English only; the refusal messages embed this reason instead,
chosen by the exception's class.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from schwifty import exceptions as schwifty_exceptions
from stdnum import exceptions as stdnum_exceptions


def reason_for(error: Exception) -> str:
    """The reason a number was refused, translated into the active language (no final stop)."""
    # stdnum's InvalidLength is a subclass of InvalidFormat: test it first.
    if isinstance(
        error,
        (
            stdnum_exceptions.InvalidChecksum,
            schwifty_exceptions.InvalidChecksumDigits,
            schwifty_exceptions.InvalidBBANChecksum,
        ),
    ):
        return _("the check digits are wrong")
    if isinstance(error, (stdnum_exceptions.InvalidLength, schwifty_exceptions.InvalidLength)):
        return _("the length is not valid")
    if isinstance(error, stdnum_exceptions.InvalidFormat):
        return _("the format is not valid")
    if isinstance(error, stdnum_exceptions.InvalidComponent):
        return _("a part of it is not valid")
    if isinstance(error, schwifty_exceptions.SchwiftyException):
        # InvalidStructure, InvalidCountryCode, InvalidBankCode, InvalidAccountCode...
        return _("the format is not valid")
    return _("it is not valid")
