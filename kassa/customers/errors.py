"""What a customer can be told went wrong with their account or a return (kassa.common.errors
maps each kind to its HTTP answer)."""

from kassa.common.errors import Conflict, Invalid


class SignInFailed(Invalid):
    """A wrong, expired or used code or link; the message says whether to ask for a new one."""

    code = "sign_in_failed"


class ReturnRefused(Invalid):
    """The return cannot be asked for: too late, nothing left to return, a wrong quantity."""

    code = "return_refused"


class ReturnAlreadyDecided(Conflict):
    """Staff decided this request already."""
