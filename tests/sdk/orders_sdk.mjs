// Drives a running server through the Elastic Path JavaScript SDK's checkout and Orders calls (carts.md §7,
// §10.2).
//
// Environment: PROMOFORGE_SDK_HOST (host:port), PROMOFORGE_SDK_CLIENT_ID, PROMOFORGE_SDK_CLIENT_SECRET,
// PROMOFORGE_SDK_SHOE_ID and PROMOFORGE_SDK_SOCK_SKU (a shoe at 8999 and socks at 1299, in USD),
// PROMOFORGE_SDK_PROMOTION_ID (the promotion of code SAVE10: $10 off the cart, 5 uses, per cart),
// PROMOFORGE_SDK_ACCOUNT_TOKEN (an account management token the store's key verifies) with its
// PROMOFORGE_SDK_ACCOUNT_ID and PROMOFORGE_SDK_MEMBER_ID, and PROMOFORGE_SDK_CUSTOMER_TOKEN (a customer token
// for customer c8c1c511-beef-4812-9b7a-9f92c587217c). The store must have no orders yet.
// On success prints one JSON line {"ok": true, "calls": [...]} and exits 0; on failure prints the error and
// exits 1.

import assert from 'node:assert/strict';
import process from 'node:process';

import { MemoryStorageFactory, gateway } from '@elasticpath/js-sdk';

const host = requireEnv('PROMOFORGE_SDK_HOST');
const clientId = requireEnv('PROMOFORGE_SDK_CLIENT_ID');
const clientSecret = requireEnv('PROMOFORGE_SDK_CLIENT_SECRET');
const shoeId = requireEnv('PROMOFORGE_SDK_SHOE_ID');
const sockSku = requireEnv('PROMOFORGE_SDK_SOCK_SKU');
const promotionId = requireEnv('PROMOFORGE_SDK_PROMOTION_ID');
const accountToken = requireEnv('PROMOFORGE_SDK_ACCOUNT_TOKEN');
const accountId = requireEnv('PROMOFORGE_SDK_ACCOUNT_ID');
const memberId = requireEnv('PROMOFORGE_SDK_MEMBER_ID');
const customerToken = requireEnv('PROMOFORGE_SDK_CUSTOMER_TOKEN');

const CUSTOMER_ID = 'c8c1c511-beef-4812-9b7a-9f92c587217c';
const BILLING = {
  first_name: 'John',
  last_name: 'Doe',
  company_name: 'Moltin',
  line_1: '1234 Disney Drive',
  line_2: 'Disney Resort',
  city: 'Anaheim',
  county: 'Orange',
  region: 'CA',
  postcode: '92802',
  country: 'US',
};
const SHIPPING = { ...BILLING, phone_number: '(555) 555-1234', instructions: 'Leave in porch' };

// A back end (client_credentials) and a storefront (implicit) client keep their tokens apart: the SDK
// would otherwise reuse one for the other, as both have the same client_id.
const adminStorage = new MemoryStorageFactory();
const shopStorage = new MemoryStorageFactory();
const calls = [];
// The HTTP status of the last response the SDK received: the SDK resolves with the body only.
let lastStatus = null;

async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  lastStatus = response.status;
  return response;
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function admin() {
  return gateway({
    client_id: clientId,
    client_secret: clientSecret,
    host,
    protocol: 'http',
    storage: adminStorage,
    currency: 'USD',
    custom_fetch: recordingFetch,
  });
}

// A storefront: an implicit token and no shopper headers but those a call adds itself.
function shop() {
  return gateway({
    client_id: clientId,
    host,
    protocol: 'http',
    storage: shopStorage,
    currency: 'USD',
    custom_fetch: recordingFetch,
  });
}

// A storefront that sends the account member's token on every request.
function member() {
  return gateway({
    client_id: clientId,
    host,
    protocol: 'http',
    storage: shopStorage,
    currency: 'USD',
    headers: { 'EP-Account-Management-Authentication-Token': accountToken },
    custom_fetch: recordingFetch,
  });
}

// A storefront that sends the customer's token on every request.
function customer() {
  return gateway({
    client_id: clientId,
    host,
    protocol: 'http',
    storage: shopStorage,
    currency: 'USD',
    headers: { 'X-MOLTIN-CUSTOMER-TOKEN': customerToken },
    custom_fetch: recordingFetch,
  });
}

// Runs one SDK call on a fresh client, checks the HTTP status and records the call's name.
async function call(name, status, run, client = admin) {
  const result = await run(client());
  assert.equal(lastStatus, status, `${name}: HTTP ${lastStatus}, expected ${status}: ${describe(result)}`);
  calls.push(name);
  return result;
}

async function rejects(name, status, run, client = admin) {
  let error = null;
  try {
    await run(client());
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, `${name} should have failed with ${status}`);
  assert.ok(Array.isArray(error.errors), `${name}: errors array expected, got ${describe(error)}`);
  assert.equal(lastStatus, status, describe(error));
  assert.equal(Number(error.errors[0].status), status, describe(error));
  calls.push(`${name} (rejected ${status})`);
  return error;
}

function describe(value) {
  if (value instanceof Error) {
    return value.stack ?? String(value);
  }
  return JSON.stringify(value);
}

const amount = (order, name) => order.meta.display_price[name].amount;
const ids = (page) => page.data.map((order) => order.id);

async function save10Uses() {
  const codes = await call('Promotions.Codes', 200, (ep) => ep.Promotions.Codes(promotionId));
  const save10 = codes.data.find((code) => code.code === 'SAVE10');
  assert.equal(save10.max_uses, 5);
  return save10.uses;
}

async function main() {
  // (a) A customer id: a shoe pair with SAVE10, $179.98 - $10.00.
  await call('CreateCart', 201, (ep) => ep.Cart().CreateCart({ id: 'sdk-order-a', name: 'Customer cart' }));
  await call('AddProduct', 201, (ep) => ep.Cart('sdk-order-a').AddProduct(shoeId, 2));
  const priced = await call('AddPromotion', 201, (ep) => ep.Cart('sdk-order-a').AddPromotion('SAVE10'));
  assert.equal(priced.meta.display_price.with_tax.amount, 16998);

  const placed = await call('Checkout (customer id)', 201, (ep) =>
    ep.Cart('sdk-order-a').Checkout(CUSTOMER_ID, BILLING, SHIPPING),
  );
  const orderA = placed.data;
  assert.equal(orderA.type, 'order');
  assert.equal(orderA.status, 'incomplete');
  assert.equal(orderA.payment, 'unpaid');
  assert.equal(orderA.shipping, 'unfulfilled');
  assert.equal(orderA.customer.id, CUSTOMER_ID);
  assert.deepEqual(orderA.relationships.customer.data, { type: 'customer', id: CUSTOMER_ID });
  assert.equal(amount(orderA, 'with_tax'), 16998);
  assert.equal(amount(orderA, 'without_discount'), 17998);
  assert.equal(amount(orderA, 'discount'), -1000);
  assert.equal(amount(orderA, 'balance_owing'), 16998);
  assert.equal(orderA.meta.display_price.with_tax.formatted, '$169.98');
  assert.deepEqual(orderA.shipping_address, SHIPPING);
  assert.deepEqual(orderA.billing_address, BILLING);
  assert.deepEqual(
    placed.included.items.map((item) => [item.sku, item.quantity, item.value.amount]),
    [
      ['SHOE-TR-01', 2, 17998],
      ['SAVE10', 1, -1000],
    ],
  );
  assert.deepEqual(
    orderA.relationships.items.data.map((item) => item.id),
    placed.included.items.map((item) => item.id),
  );
  assert.equal(await save10Uses(), 4, 'the checkout consumes one use of SAVE10');

  // (b) A guest: socks by SKU, no code.
  await call('AddProduct (sku)', 201, (ep) => ep.Cart('sdk-order-b').AddProduct(sockSku, 3, {}, true));
  const badEmail = await rejects('Checkout (guest, bad e-mail)', 400, (ep) =>
    ep.Cart('sdk-order-b').Checkout({ email: 'john..doe@example.com', name: 'John Doe' }, BILLING),
  );
  assert.equal(badEmail.errors[0].source, 'data.customer.email');
  const guest = await call('Checkout (guest)', 201, (ep) =>
    ep.Cart('sdk-order-b').Checkout({ email: 'john@example.com', name: 'John Doe' }, BILLING),
  );
  const orderB = guest.data;
  assert.deepEqual(orderB.customer, { name: 'John Doe', email: 'john@example.com' });
  assert.equal(orderB.relationships.customer, undefined);
  assert.equal(amount(orderB, 'with_tax'), 3897);
  assert.equal(amount(orderB, 'discount'), 0);
  // The SDK sends the billing address as the shipping address; missing shipping fields come back empty.
  assert.deepEqual(orderB.shipping_address, { ...BILLING, phone_number: '', instructions: '' });
  assert.equal(guest.included.items.length, 1);

  // (d) An account member: a storefront's anonymous cart, checked out with implicit token plus the account
  // management token, which only the checkout call sends.
  await call(
    'CreateCart (storefront)',
    201,
    (ep) => ep.Cart().CreateCart({ id: 'sdk-order-c', name: 'Team cart' }),
    shop,
  );
  await call('AddProduct (storefront)', 201, (ep) => ep.Cart('sdk-order-c').AddProduct(shoeId, 1), shop);
  await call('AddPromotion (storefront)', 201, (ep) => ep.Cart('sdk-order-c').AddPromotion('save10'), shop);
  const contact = { name: 'Jane Roe', email: 'jane@example.com' };
  const checkoutAs = (who) => (ep) =>
    ep.Cart('sdk-order-c').CheckoutWithAccountManagementToken(who, BILLING, SHIPPING, accountToken);
  const noEmail = await rejects(
    'CheckoutWithAccountManagementToken (no contact e-mail)',
    400,
    checkoutAs({ name: 'Jane Roe' }),
    shop,
  );
  assert.equal(noEmail.errors[0].source, 'data.contact.email');
  const team = await call('CheckoutWithAccountManagementToken', 201, checkoutAs(contact), shop);
  const orderC = team.data;
  assert.deepEqual(orderC.contact, contact);
  assert.equal(orderC.customer, undefined);
  assert.deepEqual(orderC.relationships.account.data, { type: 'account', id: accountId });
  assert.deepEqual(orderC.relationships.account_member.data, { type: 'account_member', id: memberId });
  assert.equal(amount(orderC, 'with_tax'), 7999);
  assert.equal(amount(orderC, 'discount'), -1000);
  assert.equal(await save10Uses(), 3, 'the second discounted checkout consumes one more use');

  // The account member reads its own orders only.
  const own = await call('Orders.All (account member)', 200, (ep) => ep.Orders.All(), member);
  assert.deepEqual(ids(own), [orderC.id]);
  const mine = await call('Orders.Get (account member)', 200, (ep) => ep.Orders.Get(orderC.id), member);
  assert.equal(mine.data.id, orderC.id);
  await rejects('Orders.Get (account member, not its order)', 404, (ep) => ep.Orders.Get(orderA.id), member);
  // A customer reads its order with the customer token the SDK sends as X-Moltin-Customer-Token.
  const theirs = await call(
    'Orders.Get (customer token)',
    200,
    (ep) => ep.Orders.Get(orderA.id, customerToken),
    shop,
  );
  assert.equal(theirs.data.id, orderA.id);
  const listed = await call('Orders.All (customer token)', 200, (ep) => ep.Orders.All(customerToken), shop);
  assert.deepEqual(ids(listed), [orderA.id]);
  await rejects('Orders.All (storefront, no shopper)', 400, (ep) => ep.Orders.All(), shop);
  await rejects(
    'Orders.Update (account member)',
    403,
    (ep) => ep.Orders.Update(orderC.id, { status: 'cancelled' }),
    member,
  );

  // Reading orders with client credentials.
  const got = await call('Orders.Get', 200, (ep) => ep.Orders.Get(orderA.id));
  assert.equal(got.data.id, orderA.id);
  assert.equal(amount(got.data, 'with_tax'), 16998);
  assert.equal(got.included, undefined);
  const withItems = await call('Orders.With(items).Get', 200, (ep) => ep.Orders.With('items').Get(orderA.id));
  assert.equal(withItems.included.items.length, 2);
  assert.ok(withItems.included.items.every((item) => item.type === 'order_item'));
  const withPromotions = await call('Orders.With(promotions).Get', 200, (ep) =>
    ep.Orders.With('promotions').Get(orderA.id),
  );
  assert.deepEqual(
    withPromotions.included.promotions.map((promotion) => promotion.id),
    [promotionId],
  );
  const items = await call('Orders.Items', 200, (ep) => ep.Orders.Items(orderA.id));
  assert.equal(items.data.length, 2);
  const shoe = items.data.find((item) => item.sku === 'SHOE-TR-01');
  assert.equal(shoe.product_id, shoeId);
  assert.equal(shoe.unit_price.amount, 8999);
  assert.equal(shoe.meta.display_price.without_discount.value.amount, 17998);
  const save10 = items.data.find((item) => item.sku === 'SAVE10');
  assert.equal(save10.product_id, promotionId);
  assert.equal(save10.meta.display_price.with_tax.value.amount, -1000);
  await rejects('Orders.Get (unknown)', 404, (ep) => ep.Orders.Get('00000000-0000-4000-8000-000000000000'));

  const all = await call('Orders.All', 200, (ep) => ep.Orders.All());
  assert.deepEqual(new Set(ids(all)), new Set([orderA.id, orderB.id, orderC.id]));
  assert.equal(all.meta.results.total, 3);
  const first = await call('Orders.Limit(2).All', 200, (ep) => ep.Orders.Limit(2).All());
  const rest = await call('Orders.Limit(2).Offset(2).All', 200, (ep) => ep.Orders.Limit(2).Offset(2).All());
  assert.equal(first.data.length, 2);
  assert.equal(rest.data.length, 1);
  assert.equal(rest.meta.results.total, 3);
  assert.deepEqual(new Set([...ids(first), ...ids(rest)]), new Set(ids(all)));
  const large = await call('Orders.Filter(with_tax).All', 200, (ep) =>
    ep.Orders.Filter({ gt: { with_tax: 5000 } }).All(),
  );
  assert.deepEqual(new Set(ids(large)), new Set([orderA.id, orderC.id]));
  const byCustomer = await call('Orders.Filter(customer_id).All', 200, (ep) =>
    ep.Orders.Filter({ eq: { customer_id: CUSTOMER_ID } }).All(),
  );
  assert.deepEqual(ids(byCustomer), [orderA.id]);
  const byEmail = await call('Orders.Filter(email).All', 200, (ep) =>
    ep.Orders.Filter({ eq: { email: 'john@example.com' } }).All(),
  );
  assert.deepEqual(ids(byEmail), [orderB.id]);
  const likeEmail = await call('Orders.Filter(like email).All', 200, (ep) =>
    ep.Orders.Filter({ like: { email: '*@example.com' } }).All(),
  );
  assert.deepEqual(new Set(ids(likeEmail)), new Set([orderB.id, orderC.id]));
  const since = await call('Orders.Filter(created_at).All', 200, (ep) =>
    ep.Orders.Filter({ ge: { created_at: orderA.meta.timestamps.created_at } }).All(),
  );
  assert.equal(since.meta.results.total, 3);
  const byAccount = await call('Orders.Filter(account_id).All', 200, (ep) =>
    ep.Orders.Filter({ eq: { account_id: accountId } }).All(),
  );
  assert.deepEqual(ids(byAccount), [orderC.id]);

  // Re-order: the SDK has no call of its own; BulkAdd sends EP's documented `order_items` body.
  const reorderOf = (order, options, cart = `sdk-reorder-${order.id}`) => (ep) =>
    ep.Cart(cart).BulkAdd([{ type: 'order_items', order_id: order.id }], options);
  const socksAgain = await call(
    'BulkAdd (order_items)',
    201,
    reorderOf(orderB, { add_all_or_nothing: false }),
  );
  assert.deepEqual(
    socksAgain.data.map((line) => [line.sku, line.quantity]),
    [[sockSku, 3]],
  );
  assert.equal(socksAgain.meta.display_price.with_tax.amount, 3897);
  const shoesAgain = await call(
    'BulkAdd (order_items, customer token)',
    201,
    reorderOf(orderA, { add_all_or_nothing: true }),
    customer,
  );
  assert.deepEqual(
    shoesAgain.data.map((line) => [line.sku, line.quantity]),
    [['SHOE-TR-01', 2]],
  );
  const notTheirs = await rejects(
    'BulkAdd (order_items, another customer)',
    404,
    // A cart of its own: the one above belongs to the customer who filled it.
    reorderOf(orderA, { add_all_or_nothing: true }, 'sdk-reorder-stranger'),
    shop,
  );
  assert.equal(notTheirs.errors[0].detail, 'Order not found');

  // Merging a customer's cart needs that customer's token (the SDK sends Merge's token argument).
  await call(
    'CreateCart (customer token)',
    201,
    (ep) => ep.Cart().CreateCart({ id: 'sdk-customer-cart', name: 'Saved' }, customerToken),
    shop,
  );
  await call(
    'AddProduct (customer cart)',
    201,
    (ep) => ep.Cart('sdk-customer-cart').AddProduct(shoeId, 1),
    customer,
  );
  const refused = await rejects(
    'Merge (a customer cart, no token)',
    403,
    (ep) => ep.Cart('sdk-anonymous').Merge('sdk-customer-cart'),
    shop,
  );
  assert.equal(refused.errors[0].source, 'data.cart_id');
  const merged = await call(
    'Merge (customer token)',
    201,
    (ep) => ep.Cart('sdk-signed-in').Merge('sdk-customer-cart', customerToken),
    shop,
  );
  assert.deepEqual(
    merged.data.map((line) => [line.sku, line.quantity]),
    [['SHOE-TR-01', 1]],
  );

  // Fulfilling an unpaid order is refused; cancelling works and gives no use back.
  const unpaid = await rejects('Orders.Update (fulfil unpaid)', 422, (ep) =>
    ep.Orders.Update(orderA.id, { shipping: 'fulfilled' }),
  );
  assert.equal(unpaid.errors[0].detail, 'Order cannot be updated in its current state');
  const cancelled = await call('Orders.Update (cancel)', 200, (ep) =>
    ep.Orders.Update(orderA.id, { status: 'cancelled' }),
  );
  assert.equal(cancelled.data.id, orderA.id);
  assert.equal(cancelled.data.status, 'cancelled');
  assert.equal(cancelled.data.shipping, 'unfulfilled');
  assert.equal(amount(cancelled.data, 'with_tax'), 16998);
  const byStatus = await call('Orders.Filter(status).All', 200, (ep) =>
    ep.Orders.Filter({ eq: { status: 'cancelled' } }).All(),
  );
  assert.deepEqual(ids(byStatus), [orderA.id]);
  assert.equal(await save10Uses(), 3, 'cancelling gives no use back');

  // Sorting (the SDK's OrderSort fields): with_tax is 3897 (B), 7999 (C), 16998 (A, now cancelled).
  const cheapest = await call('Orders.Sort(with_tax).All', 200, (ep) => ep.Orders.Sort('with_tax').All());
  assert.deepEqual(ids(cheapest), [orderB.id, orderC.id, orderA.id]);
  const dearest = await call('Orders.Sort(-with_tax).All', 200, (ep) => ep.Orders.Sort('-with_tax').All());
  assert.deepEqual(ids(dearest), [orderA.id, orderC.id, orderB.id]);
  const newest = await call('Orders.Sort(-created_at).All', 200, (ep) =>
    ep.Orders.Sort('-created_at').All(),
  );
  const oldest = await call('Orders.Sort(created_at).All', 200, (ep) => ep.Orders.Sort('created_at').All());
  const unsorted = await call('Orders.All (newest first)', 200, (ep) => ep.Orders.All());
  assert.deepEqual(ids(newest), ids(unsorted));
  assert.deepEqual(ids(oldest), [...ids(newest)].reverse());
  assert.deepEqual(ids(oldest), [orderA.id, orderB.id, orderC.id]);
  const byStatusSort = await call('Orders.Sort(status).All', 200, (ep) => ep.Orders.Sort('status').All());
  assert.equal(ids(byStatusSort)[0], orderA.id, 'cancelled sorts before incomplete');
  const pageTwo = await call('Orders.Sort(with_tax).Limit(2).Offset(2).All', 200, (ep) =>
    ep.Orders.Sort('with_tax').Limit(2).Offset(2).All(),
  );
  assert.deepEqual(ids(pageTwo), [orderA.id]);
  const ownSorted = await call(
    'Orders.Sort(-with_tax).All (customer token)',
    200,
    (ep) => ep.Orders.Sort('-with_tax').All(customerToken),
    shop,
  );
  assert.deepEqual(ids(ownSorted), [orderA.id]);
  const unknownSort = await rejects('Orders.Sort(unknown).All', 400, (ep) => ep.Orders.Sort('colour').All());
  assert.equal(unknownSort.errors[0].source, 'sort');

  process.stdout.write(`${JSON.stringify({ ok: true, calls })}\n`);
}

main().catch((error) => {
  process.stderr.write(`SDK run failed after ${JSON.stringify(calls)}:\n${describe(error)}\n`);
  process.exit(1);
});
