"""Who is calling about a cart: the shopper its tokens prove, the client it calls from, and whether it is a
shop's back end."""

from __future__ import annotations

from dataclasses import dataclass

from promoforge.domain.carts import Cart
from promoforge.domain.codes import PromotionCode
from promoforge.domain.errors import Forbidden

# How a code's `user` names an account and an account member (a plain value names a customer).
ACCOUNT_PREFIX = "account:"
ACCOUNT_MEMBER_PREFIX = "account_member:"


@dataclass(frozen=True)
class Shopper:
    """Who is calling about a cart: the customer and account its token headers prove, and whether the
    caller is a shop's back end (a client_credentials token), which is trusted with every cart."""

    customer_id: str | None = None
    account_id: str | None = None
    account_member_id: str | None = None
    trusted: bool = False
    client: str | None = None  # the client address it calls from, as limits count it (client_network)

    @property
    def identities(self) -> frozenset[str]:
        """The names a code's `user` may give this shopper: a customer by its id, an account as
        `account:<id>` and an account member as `account_member:<id>`, so one kind never stands for another
        (§5.3, B16, B42)."""
        names = set()
        if self.customer_id:
            names.add(self.customer_id)
        if self.account_id:
            names.add(f"{ACCOUNT_PREFIX}{self.account_id}")
        if self.account_member_id:
            names.add(f"{ACCOUNT_MEMBER_PREFIX}{self.account_member_id}")
        return frozenset(names)

    def may_use(self, code: PromotionCode) -> bool:
        """Whether a code's `user` restriction lets this shopper use it (§5.3, B16)."""
        if code.user is None:
            return True
        named = {code.user} if isinstance(code.user, str) else set(code.user)
        return bool(named & self.identities)

    def may_open(self, cart: Cart) -> bool:
        """Whether this caller may read and change the cart: anyone while it belongs to nobody, and once it
        belongs to a customer or an account only they, or a shop's back end."""
        if self.trusted or (cart.customer_id is None and cart.account_id is None):
            return True
        return (cart.customer_id is not None and cart.customer_id == self.customer_id) or (
            cart.account_id is not None and cart.account_id == self.account_id
        )

    def check_may_open(self, cart: Cart) -> None:
        """403 unless this caller may use the cart."""
        if not self.may_open(cart):
            raise Forbidden(
                "This cart belongs to a customer or account: send their token "
                "(X-Moltin-Customer-Token or EP-Account-Management-Authentication-Token)"
            )
