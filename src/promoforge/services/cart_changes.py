"""A change to one locked cart: its lines and codes as they become, priced in memory from inputs loaded
once, and what it answers (the cart priced after it, with messages saying what changed).

Each change runs in one transaction that first locks the cart row (creating the cart on its first write,
B6), so changes to one cart are serialised (B53) and the pricing before and after it (for `meta.messages`)
reads one consistent cart.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from promoforge.domain.carts import (
    MAX_CART_TEXT,
    MAX_QUANTITY,
    MAX_UNIQUE_LINES,
    AppliedCode,
    Cart,
    CartItem,
    amounts_fit,
    line_merge_key,
)
from promoforge.domain.codes import PromotionCode, canonical_code
from promoforge.domain.errors import (
    BulkFailed,
    CartCurrencyMismatch,
    CartFull,
    CartTooLarge,
    CodeNotApplicable,
    CustomDiscountsEnabled,
    DomainError,
    FieldProblem,
    Forbidden,
    InvalidInput,
    OrderNotFound,
    ProductNotFound,
    TooManyCarts,
)
from promoforge.domain.identifiers import new_id, parse_uuid
from promoforge.domain.integrations import events
from promoforge.domain.money import MAX_AMOUNT
from promoforge.domain.orders import ORDER_NOT_FOUND, OrderItemKind, OrderOwner
from promoforge.domain.pricing import (
    CartMessage,
    GiftSuggestion,
    LineKind,
    PricedCart,
    SkipReason,
    currency_mismatch,
    gift_added,
    is_cart_level,
    pricing_changes,
    promotion_line_messages,
)
from promoforge.domain.products import Product
from promoforge.domain.promotions import BundleGift, Promotion
from promoforge.domain.shoppers import Shopper
from promoforge.domain.stores import Store
from promoforge.services.cart_pricing import LoadedCart, Priced, load_contents
from promoforge.storage.repositories.transactions import StoreScope, Transaction

CART_WINDOW = timedelta(hours=1)  # the window of the carts-per-hour limits

# Promotion lines get ids derived from cart and promotion, so a line keeps its id while its promotion stays
# applied (§5.5) without being stored.
_PROMOTION_LINE_NAMESPACE = uuid.UUID("7d0f4c7e-43a1-4b8e-9a55-2f1de0a4c6b1")


@dataclass(frozen=True)
class NewProductLine:
    """Add a catalog product, by id or by SKU."""

    quantity: int
    product_id: str | None = None
    sku: str | None = None
    custom_inputs: dict[str, object] | None = None


@dataclass(frozen=True)
class NewCustomLine:
    """Add a line priced by the caller."""

    name: str
    quantity: int
    unit_price: int
    includes_tax: bool = True
    sku: str = ""
    description: str = ""
    custom_inputs: dict[str, object] | None = None


@dataclass(frozen=True)
class CodeToApply:
    """Apply a promotion code (C1)."""

    code: str


@dataclass(frozen=True)
class CartToMerge:
    """Merge another cart into this one (`cart_items`): its product and custom lines, and its codes where
    they discount this cart too."""

    cart_id: str
    all_or_nothing: bool = False


@dataclass(frozen=True)
class OrderToRepeat:
    """Re-order (`order_items`): add an order's products again, at their price now."""

    order_id: str
    all_or_nothing: bool = False


NewLine = NewProductLine | NewCustomLine | CodeToApply | CartToMerge | OrderToRepeat


@dataclass(frozen=True)
class CartView:
    """A cart as the API shows it: its lines, their prices, and what a change did."""

    cart: Cart
    items: list[CartItem]
    codes: list[AppliedCode]
    priced: PricedCart
    promotions: dict[str, Promotion]
    expiry_days: int
    messages: list[CartMessage] = field(default_factory=list)
    errors: list[DomainError] = field(default_factory=list)
    # Lines of a merged cart or a repeated order that could not be added, when the others still were.
    copy_errors: list[DomainError] = field(default_factory=list)

    def promotion_line_id(self, promotion_id: str) -> str:
        """The id of the `promotion_item` line of a cart-level promotion."""
        return promotion_line_id(self.cart.store_id, self.cart.id, promotion_id)


def promotion_line_id(store_id: str, cart_id: str, promotion_id: str) -> str:
    """The stable id of a cart-level promotion's line in one cart."""
    return str(uuid.uuid5(_PROMOTION_LINE_NAMESPACE, f"{store_id}/{cart_id}/{promotion_id}"))


def fresh_cart(store_id: str, cart_id: str, now: datetime) -> Cart:
    """The empty cart an unknown id reads as (B6)."""
    return Cart(id=cart_id, store_id=store_id, created_at=now, updated_at=now, stored=False)


def _source_cart_lines(
    repos: StoreScope, cart_id: str, shopper: Shopper
) -> tuple[list[NewProductLine | NewCustomLine], list[AppliedCode], str | None]:
    """What merging a cart adds: its product and custom lines (without units added as free gifts), its
    codes and its currency; an unknown id is an empty cart (B6). A cart of a customer or an account is
    read only by them or a shop's back end (403, as for the cart itself)."""
    cart = repos.carts.get(cart_id)
    if cart is None:
        return [], [], None
    if not shopper.may_open(cart):
        raise Forbidden(
            "The cart to merge belongs to a customer or account this request does not prove",
            source="data.cart_id",
        )
    lines: list[NewProductLine | NewCustomLine] = []
    for item in repos.carts.items(cart_id):
        quantity = item.quantity - item.auto_add_quantity
        if quantity <= 0:
            continue
        inputs = dict(item.custom_inputs) if item.custom_inputs else None
        if item.kind is LineKind.PRODUCT:
            lines.append(NewProductLine(quantity=quantity, product_id=item.product_id, custom_inputs=inputs))
        else:
            lines.append(
                NewCustomLine(
                    name=item.name,
                    quantity=quantity,
                    unit_price=item.unit_price,
                    includes_tax=item.includes_tax,
                    sku=item.sku,
                    description=item.description,
                    custom_inputs=inputs,
                )
            )
    return lines, repos.carts.codes(cart_id), cart.currency


def _order_lines(repos: StoreScope, order_id: str, shopper: Shopper) -> tuple[list[NewProductLine], str]:
    """What re-ordering adds: the order's products with their quantities and custom inputs, and its currency;
    custom items are not catalog products and are left out, as EP does. 404 for an order the caller may not
    read (O1's rule)."""
    order = repos.orders.get(order_id)
    owner = OrderOwner(
        trusted=shopper.trusted, customer_id=shopper.customer_id, account_id=shopper.account_id
    )
    if order is None or not owner.owns(order):
        raise OrderNotFound(ORDER_NOT_FOUND, meta={"order_id": order_id})
    lines = [
        NewProductLine(
            quantity=item.quantity,
            product_id=item.product_id,
            custom_inputs=dict(item.custom_inputs) if item.custom_inputs else None,
        )
        for item in repos.orders.items(order_id)
        if item.kind is OrderItemKind.PRODUCT
    ]
    return lines, order.currency


def lock_or_create(
    tx: Transaction, store_id: str, cart_id: str, shopper: Shopper, now: datetime
) -> tuple[Cart, Store]:
    """Lock the cart row and read it with its store, creating the cart first if this is the first write
    to its id (B6, B53); a cart created by a signed-in shopper's write belongs to them. 403 for a cart the
    caller may not use."""
    repos = tx.store(store_id)
    locked = repos.pricing.locked_cart(cart_id)
    if locked is None:
        new = replace(
            fresh_cart(store_id, cart_id, now),
            customer_id=shopper.customer_id,
            account_id=shopper.account_id,
            stored=True,
        )
        if repos.carts.add(new):
            count_new_cart(tx, store_id, shopper, now)
        locked = repos.pricing.locked_cart(cart_id)
    assert locked is not None
    shopper.check_may_open(locked[0])
    return locked


def count_new_cart(
    tx: Transaction, store_id: str, shopper: Shopper, now: datetime, store: Store | None = None
) -> None:
    """Count a cart a storefront just created against the hour's allowance of its customer (or account)
    and of its client address, in the creating transaction; 429 past either, which rolls the cart back.

    A shop's back end creates carts for all its shoppers from one address, so it is not counted.
    """
    if shopper.trusted:
        return
    store = store or tx.stores.get(store_id)
    assert store is not None
    limits: dict[str, int] = {}
    if shopper.customer_id is not None:
        limits[f"carts:customer:{shopper.customer_id}"] = store.carts_per_customer_per_hour
    elif shopper.account_id is not None:
        limits[f"carts:account:{shopper.account_id}"] = store.carts_per_customer_per_hour
    if shopper.client is not None:
        limits[f"carts:address:{shopper.client}"] = store.carts_per_address_per_hour
    if not limits:
        return
    window = now.replace(minute=0, second=0, microsecond=0)
    totals = tx.store(store_id).attempts.add(list(limits), window, 1)
    if any(totals[subject] > limit for subject, limit in limits.items()):
        retry_after = max(1, int((window + CART_WINDOW - now).total_seconds()))
        raise TooManyCarts(
            f"Too many carts created this hour; try again in {retry_after} s", retry_after=retry_after
        )


class CartChange:
    """One change to a locked cart: its lines and codes as they become, and the pricing before it.

    What pricing reads is loaded once, when the change begins; every pricing after that is in memory, and
    the last one made is remembered, so that the answer reuses a trial pricing of the same cart.
    """

    def __init__(self, tx: Transaction, loaded: LoadedCart, shopper: Shopper, now: datetime) -> None:
        self.tx = tx
        self.repos = tx.store(loaded.store.id)
        self.store = loaded.store
        self.cart = loaded.cart
        self.shopper = shopper
        self.now = now
        self.items = loaded.items
        self.codes = loaded.codes
        self.inputs = loaded.inputs
        self._last: tuple[Cart, tuple[CartItem, ...], tuple[AppliedCode, ...], Priced] | None = None
        self.before, _ = self._price(self.items, self.codes)
        self.notes: list[CartMessage] = []
        self.copy_errors: list[DomainError] = []

    @classmethod
    def begin(
        cls, tx: Transaction, store_id: str, cart_id: str, shopper: Shopper, now: datetime
    ) -> CartChange:
        """Lock (or create) the cart and read it with what pricing it reads."""
        cart, store = lock_or_create(tx, store_id, cart_id, shopper, now)
        return cls.of_locked(tx, cart, store, shopper, now)

    @classmethod
    def of_locked(
        cls, tx: Transaction, cart: Cart, store: Store, shopper: Shopper, now: datetime
    ) -> CartChange:
        """A change to a cart the transaction has locked."""
        return cls(
            tx, load_contents(tx.store(store.id), cart, store, shopper, now, changing=True), shopper, now
        )

    def _price(self, items: Sequence[CartItem], codes: Sequence[AppliedCode]) -> Priced:
        """The cart with these lines and codes, priced in memory (the last pricing is reused when asked
        again for the same cart)."""
        key = (self.cart, tuple(items), tuple(codes))
        if self._last is not None and self._last[:3] == key:
            return self._last[3]
        priced = self.inputs.price(self.cart, items, codes, self.now)
        self._last = (*key, priced)
        return priced

    def item(self, item_id: str) -> CartItem | None:
        """The product or custom line with this id."""
        return next((item for item in self.items if item.id == item_id), None)

    def add(self, entry: NewLine, currency: str | None) -> None:
        """Add one entry of a C9 request."""
        if isinstance(entry, CodeToApply):
            self._apply_code(entry.code)
        elif isinstance(entry, NewProductLine):
            self._add_product(entry, currency)
        elif isinstance(entry, NewCustomLine):
            self._add_custom(entry, currency)
        else:
            self._copy_lines(entry, currency)

    def set_quantity(self, item_id: str, quantity: int, *, auto_add_quantity: int = 0) -> None:
        """Change a line's quantity (0 removes it); a quantity the shopper sets makes every unit theirs."""
        line = self.item(item_id)
        if line is not None and quantity > line.quantity:
            self._check_amounts(line.unit_price, quantity, replacing=item_id)
        if quantity == 0:
            self.repos.carts.delete_item(self.cart.id, item_id)
            self.items = [item for item in self.items if item.id != item_id]
        else:
            self.repos.carts.set_quantity(
                self.cart.id, item_id, quantity, self.now, auto_add_quantity=auto_add_quantity
            )
            self.items = [
                replace(item, quantity=quantity, auto_add_quantity=auto_add_quantity, updated_at=self.now)
                if item.id == item_id
                else item
                for item in self.items
            ]

    def remove_promotion_line(self, line_id: str) -> bool:
        """Remove the code behind a promotion line; False if no current promotion line has this id."""
        for discount in self.before.cart_promotions:
            if promotion_line_id(self.store.id, self.cart.id, discount.promotion_id) == line_id:
                self.remove_codes([discount.promotion_id])
                return True
        return False

    def remove_codes(self, promotion_ids: Sequence[str]) -> None:
        """Detach the codes of these promotions."""
        self.repos.carts.remove_codes(self.cart.id, promotion_ids)
        self.codes = [c for c in self.codes if c.promotion_id not in promotion_ids]

    def finish(self) -> CartView:
        """Price the changed cart, drop codes that give nothing now (B14), save it, say what changed."""
        priced, promotions = self._price_now()
        if self._refresh_free_gifts(priced):
            priced, promotions = self._price_now()
        suggesting = {s.promotion_id for s in priced.suggestions}
        idle = [
            c.promotion_id
            for c in self.codes
            if priced.application(c.promotion_id) is None and c.promotion_id not in suggesting
        ]
        self.remove_codes(idle)
        self._announce_dropped(idle, promotions)
        self.cart = replace(self.cart, updated_at=self.now)
        self.repos.carts.save(self.cart)
        messages = [
            *pricing_changes(
                self.before,
                priced,
                promotion_line_id=lambda pid: promotion_line_id(self.store.id, self.cart.id, pid),
            ),
            *self.notes,
        ]
        view = CartView(
            self.cart,
            self.items,
            self.codes,
            priced,
            promotions,
            self.store.cart_expiry_days,
            messages,
            copy_errors=self.copy_errors,
        )
        self.tx.outbox.record(self.store, events.CART_UPDATED, view, self.now)
        return view

    def _announce_dropped(self, promotion_ids: Sequence[str], promotions: dict[str, Promotion]) -> None:
        """B14: a code dropped because its promotion stopped (disabled, ended, deleted) is announced, unless
        the pricing before the change already showed it gone; item-level promotions had no line to name."""
        shown_before = {d.promotion_id for d in self.before.cart_promotions}
        for promotion_id in promotion_ids:
            promotion = promotions.get(promotion_id)
            if promotion_id in shown_before:
                continue  # pricing_changes reports it
            if promotion is None or is_cart_level(promotion.attributes.schema):
                line_id = promotion_line_id(self.store.id, self.cart.id, promotion_id)
                self.notes.extend(promotion_line_messages(line_id, removed=True, added=False))

    def _price_now(self) -> Priced:
        if not self.items:
            self.cart = replace(self.cart, currency=None)  # an emptied cart has no currency again (B36)
        return self._price(self.items, self.codes)

    def _refresh_free_gifts(self, priced: PricedCart) -> bool:
        """Add the gifts automatic `bundle_gift` promotions with `auto_add_free_gift` give (§5.4), and take
        back the units added that way which the cart no longer qualifies for; tell whether lines changed.

        `priced` is the cart as it stands: without added gifts it is also the cart as the shopper filled it,
        so the common case (no gift to add or take back) prices nothing more.
        """
        if self.cart.currency is None:
            return False
        if any(item.auto_add_quantity for item in self.items):
            bought = [
                replace(item, quantity=item.quantity - item.auto_add_quantity, auto_add_quantity=0)
                for item in self.items
                if item.quantity > item.auto_add_quantity
            ]
            priced, _ = self._price(bought, self.codes)
        elif not any(suggestion.auto_add for suggestion in priced.suggestions):
            return False
        changed = False
        wanted: dict[str, int] = {}
        gifts: dict[str, Product] = {}
        for suggestion in priced.suggestions:
            product = self._gift_product(suggestion.gift) if suggestion.auto_add else None
            if product is not None:
                gifts[product.id] = product
                wanted[product.id] = wanted.get(product.id, 0) + suggestion.quantity
        for item in list(self.items):
            plain = item.product_id is not None and not item.custom_inputs
            target = wanted.pop(item.product_id or "", 0) if plain else 0
            quantity = item.quantity - item.auto_add_quantity + target
            grows = target > item.auto_add_quantity
            if grows and not self._fits(item.unit_price, quantity, replacing=item.id):
                continue  # a gift that would pass the amount bound is not added
            if target != item.auto_add_quantity:
                self.set_quantity(item.id, quantity, auto_add_quantity=target)
                changed = True
        for product_id, quantity in wanted.items():
            gift_price = gifts[product_id].price_in(self.cart.currency)
            fits = gift_price is not None and self._fits(gift_price.amount, quantity)
            if fits and len(self.items) + len(priced.cart_promotions) < MAX_UNIQUE_LINES:
                gift = self._product_line(gifts[product_id], quantity, None, auto_add_quantity=quantity)
                if not self._text_fits(gift):
                    continue
                self._insert(gift, self.cart.currency)
                changed = True
        return changed

    def _gift_product(self, gift: str) -> Product | None:
        """A gift named by SKU or product id, if it is live and priced in the cart currency."""
        product = self.repos.products.by_sku(gift)
        if product is None and parse_uuid(gift) is not None:
            product = self.repos.products.get(gift)
        if product is None or not product.is_live or product.price_in(self.cart.currency or "") is None:
            return None
        return product

    # Entries

    def _currency(self, requested: str | None) -> str:
        """The cart's currency, fixed by its first line: the request's header, else the store's default."""
        return self.cart.currency or requested or self.store.default_currency

    def _room_for_a_line(self) -> None:
        if len(self.items) + len(self.before.cart_promotions) >= MAX_UNIQUE_LINES:
            raise CartFull(f"A cart can contain a maximum of {MAX_UNIQUE_LINES} unique items")

    def _add_product(self, entry: NewProductLine, requested_currency: str | None) -> None:
        products = self.repos.products
        product = products.get(entry.product_id) if entry.product_id else products.by_sku(entry.sku or "")
        if product is None or not product.is_live:
            meta = {"id": entry.product_id} if entry.product_id else {"sku": entry.sku}
            raise ProductNotFound("The requested product could not be found", meta=meta)
        currency = self._currency(requested_currency)
        price = product.price_in(currency)
        if price is None:
            raise CartCurrencyMismatch(
                f"Product {product.sku} has no price in {currency}",
                meta={"id": product.id, "sku": product.sku},
            )
        key = line_merge_key(LineKind.PRODUCT, product.id, product.sku, entry.custom_inputs)
        if self._merge(key, entry.quantity):
            return
        self._room_for_a_line()
        self._insert(
            self._product_line(product, entry.quantity, entry.custom_inputs, currency=currency), currency
        )

    def _product_line(
        self,
        product: Product,
        quantity: int,
        custom_inputs: dict[str, object] | None,
        *,
        currency: str | None = None,
        auto_add_quantity: int = 0,
    ) -> CartItem:
        """A new line of a product, at its price in the cart currency."""
        price = product.price_in(currency or self.cart.currency or "")
        assert price is not None
        self.inputs.learn_product(product)
        return CartItem(
            id=new_id(),
            kind=LineKind.PRODUCT,
            sku=product.sku,
            name=product.name,
            description=product.description,
            unit_price=price.amount,
            includes_tax=price.includes_tax,
            quantity=quantity,
            created_at=self.now,
            updated_at=self.now,
            product_id=product.id,
            slug=product.slug,
            image_href=product.image_href,
            catalog_id=product.catalog_id,
            custom_inputs=custom_inputs,
            auto_add_quantity=auto_add_quantity,
        )

    def _add_custom(self, entry: NewCustomLine, requested_currency: str | None) -> None:
        currency = self._currency(requested_currency)
        key = line_merge_key(LineKind.CUSTOM, None, entry.sku, entry.custom_inputs)
        if self._merge(key, entry.quantity):
            return
        self._room_for_a_line()
        self._insert(
            CartItem(
                id=new_id(),
                kind=LineKind.CUSTOM,
                sku=entry.sku,
                name=entry.name,
                description=entry.description,
                unit_price=entry.unit_price,
                includes_tax=entry.includes_tax,
                quantity=entry.quantity,
                created_at=self.now,
                updated_at=self.now,
                custom_inputs=entry.custom_inputs,
            ),
            currency,
        )

    def _merge(self, key: str | None, quantity: int) -> bool:
        """Add the quantity to the line with this key, if there is one (§4.3)."""
        existing = next((item for item in self.items if key is not None and item.merge_key == key), None)
        if existing is None:
            return False
        if existing.quantity + quantity > MAX_QUANTITY:
            raise InvalidInput(
                [
                    FieldProblem(
                        "data.quantity", f"a line may hold at most {MAX_QUANTITY} units", "too_many_units"
                    )
                ]
            )
        self.set_quantity(existing.id, existing.quantity + quantity)
        return True

    def _fits(self, unit_price: int, quantity: int, *, replacing: str | None = None) -> bool:
        lines = [(item.unit_price, item.quantity) for item in self.items if item.id != replacing]
        return amounts_fit([*lines, (unit_price, quantity)])

    def _check_amounts(self, unit_price: int, quantity: int, *, replacing: str | None = None) -> None:
        """400 before a line whose value, or the cart's total with it, would pass MAX_AMOUNT is written."""
        if not self._fits(unit_price, quantity, replacing=replacing):
            raise InvalidInput(
                [
                    FieldProblem(
                        "data.quantity",
                        f"a line's value (unit price times quantity) and the cart's total may be at most "
                        f"{MAX_AMOUNT} minor units",
                        "amount_too_large",
                    )
                ]
            )

    def _text_fits(self, item: CartItem) -> bool:
        return sum(line.stored_text for line in self.items) + item.stored_text <= MAX_CART_TEXT

    def _insert(self, item: CartItem, currency: str) -> None:
        self._check_amounts(item.unit_price, item.quantity)
        if not self._text_fits(item):
            raise CartTooLarge(
                f"A cart's lines may hold at most {MAX_CART_TEXT} characters of names, descriptions, SKUs "
                "and custom inputs",
                source="data",
            )
        if self.cart.currency is None:
            self.cart = replace(self.cart, currency=currency)
            self.repos.carts.save(self.cart)
        self.repos.carts.add_item(self.cart.id, item)
        self.items.append(item)

    def _add_code_gifts(
        self, row: PromotionCode, promotion: Promotion | None, gifts: Sequence[GiftSuggestion]
    ) -> bool:
        """§5.4 (revised): the first application of a `bundle_gift` code with `auto_add_free_gift` to a cart
        that qualifies but lacks the gifts adds them at their normal price and does not attach the code;
        applied again, it makes them free. Tell whether gifts were added."""
        rules = promotion.attributes.schema if promotion is not None else None
        if not isinstance(rules, BundleGift) or not rules.adds_gifts:
            return False
        added = False
        for gift in gifts:
            product = self._gift_product(gift.gift)
            if product is not None:
                self._add_product(NewProductLine(quantity=gift.quantity, product_id=product.id), None)
                added = True
        if added:
            self.notes.append(gift_added(row.promotion_id, row.code))
        return added

    def _copy_lines(self, source: CartToMerge | OrderToRepeat, requested_currency: str | None) -> None:
        """Add another cart's or an order's lines (§4.2), then a merged cart's codes that discount this one.

        A line that cannot be added fails the request when it is all or nothing; otherwise it is listed
        beside the lines that were added (§4.8).
        """
        lines: Sequence[NewProductLine | NewCustomLine]
        codes: Sequence[AppliedCode] = ()
        if isinstance(source, CartToMerge):
            if source.cart_id == self.cart.id:
                raise InvalidInput([FieldProblem("data.cart_id", "a cart cannot be merged into itself")])
            lines, codes, source_currency = _source_cart_lines(self.repos, source.cart_id, self.shopper)
        else:
            lines, source_currency = _order_lines(self.repos, source.order_id, self.shopper)
        # An empty cart takes the request's currency, else the source's (products are priced anew in it).
        currency = requested_currency or source_currency
        failed: list[DomainError] = []
        for line in lines:
            try:
                if isinstance(line, NewCustomLine) and self._currency(currency) != source_currency:
                    raise CartCurrencyMismatch(
                        f"Custom item {line.sku or line.name} is priced in {source_currency}, "
                        f"the cart in {self._currency(currency)}",
                        meta={"sku": line.sku},
                    )
                self.add(line, currency)
            except DomainError as error:
                failed.append(error)
        if failed and source.all_or_nothing:
            raise BulkFailed(failed)
        self.copy_errors.extend(failed)
        for code in codes:
            self._carry_code(code)

    def _carry_code(self, applied: AppliedCode) -> None:
        """Apply a merged cart's code here too when this shopper may use it and it discounts this cart now;
        a promotion this cart already has a code of keeps that code (B15)."""
        if self.cart.discount_settings.custom_discounts_enabled or any(
            code.promotion_id == applied.promotion_id for code in self.codes
        ):
            return
        row = self.repos.codes.many([applied.code_id]).get(applied.code_id)
        if row is None or row.promotion_id != applied.promotion_id or not self.shopper.may_use(row):
            return
        self.inputs.learn_code(row, next(iter(self.repos.promotions.many([row.promotion_id])), None))
        carried = AppliedCode(row.promotion_id, row.id, row.code, self.now)
        trial = [*self.codes, carried]
        priced, _ = self._price(self.items, trial)
        application = priced.application(row.promotion_id)
        if application is None or application.code != row.code:
            return
        if application.cart_level and len(self.items) + len(priced.cart_promotions) > MAX_UNIQUE_LINES:
            return
        self.repos.carts.apply_code(self.cart.id, carried)
        self.codes = trial

    def _apply_code(self, text: str) -> None:
        """Attach a code if it discounts the cart now (§5.1); otherwise the same 404 for every reason.

        Every refusal does the same work, so that its time tells nothing: an unknown code is priced into
        the cart as a stand-in that finds no row, as a known code that gives nothing is priced for real.
        """
        if self.cart.discount_settings.custom_discounts_enabled:
            raise CustomDiscountsEnabled(text)
        found = self.repos.pricing.code(canonical_code(text))
        row = found[0] if found is not None else None
        if found is not None:
            self.inputs.learn_code(*found)
        if row is not None and any(applied.code_id == row.id for applied in self.codes):
            return  # already on the cart: no change (B15)
        candidate = (
            AppliedCode(row.promotion_id, row.id, row.code, self.now)
            if row is not None
            else AppliedCode(new_id(), new_id(), text, self.now)
        )
        trial = [c for c in self.codes if c.promotion_id != candidate.promotion_id]
        trial.append(candidate)
        priced, promotions = self._price(self.items, trial)
        if row is None or not self.shopper.may_use(row):
            raise CodeNotApplicable(text)
        if any(
            s.promotion_id == row.promotion_id and s.reason is SkipReason.CURRENCY_MISMATCH
            for s in priced.skipped
        ):
            # P14 / B13: not attached; the answer says why.
            self.notes.append(currency_mismatch(row.promotion_id, row.code, self.cart.currency or ""))
            return
        application = priced.application(row.promotion_id)
        gifts = [s for s in priced.suggestions if s.promotion_id == row.promotion_id]
        if (
            application is None
            and gifts
            and self._add_code_gifts(row, promotions.get(row.promotion_id), gifts)
        ):
            return
        if (application is None and not gifts) or (application is not None and row.code != application.code):
            raise CodeNotApplicable(text)
        cart_level = application is not None and application.cart_level
        if cart_level and len(self.items) + len(priced.cart_promotions) > MAX_UNIQUE_LINES:
            raise CartFull(f"A cart can contain a maximum of {MAX_UNIQUE_LINES} unique items")
        replaced = any(c.promotion_id == row.promotion_id for c in self.codes)
        self.repos.carts.apply_code(self.cart.id, candidate)
        self.codes = trial
        if replaced and cart_level:
            # B15: the promotion line stays (its id follows the promotion), but it now carries another code.
            line_id = promotion_line_id(self.store.id, self.cart.id, row.promotion_id)
            self.notes.extend(promotion_line_messages(line_id, removed=True, added=True))
