// Drives a running server through the Elastic Path JavaScript SDK's Cart endpoint (carts.md §10.2).
//
// Environment: PROMOFORGE_SDK_HOST (host:port), PROMOFORGE_SDK_CLIENT_ID, PROMOFORGE_SDK_CLIENT_SECRET,
// PROMOFORGE_SDK_SHOE_ID and PROMOFORGE_SDK_SOCK_SKU (products the test created: a shoe at 8999 and socks at
// 1299, in USD), and promotion codes RUN15 (15 % off the shoe) and SAVE10 ($10 off the cart) already set up.
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

const storage = new MemoryStorageFactory();
const calls = [];

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function client() {
  return gateway({
    client_id: clientId,
    client_secret: clientSecret,
    host,
    protocol: 'http',
    storage,
    currency: 'USD',
  });
}

// Runs one SDK call on a fresh client and records its name.
async function call(name, run) {
  const result = await run(client());
  calls.push(name);
  return result;
}

async function rejects(name, status, run) {
  let error = null;
  try {
    await run(client());
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, `${name} should have failed with ${status}`);
  assert.ok(Array.isArray(error.errors), `${name}: errors array expected, got ${describe(error)}`);
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

const total = (response) => response.meta.display_price.with_tax.amount;
const skus = (response) => response.data.map((line) => line.sku);

async function main() {
  const cartId = 'sdk-cart-0001';

  const created = await call('CreateCart', (ep) =>
    ep.Cart().CreateCart({ id: cartId, name: 'SDK cart', description: 'made by the SDK' }),
  );
  assert.equal(created.data.id, cartId);
  const updated = await call('UpdateCart', (ep) => ep.Cart(cartId).UpdateCart({ name: 'Renamed' }));
  assert.equal(updated.data.name, 'Renamed');

  const byId = await call('AddProduct (id)', (ep) => ep.Cart(cartId).AddProduct(shoeId, 2));
  assert.deepEqual(skus(byId), ['SHOE-TR-01']);
  const bySku = await call('AddProduct (sku)', (ep) =>
    ep.Cart(cartId).AddProduct(sockSku, 3, {}, true),
  );
  assert.deepEqual(skus(bySku), ['SHOE-TR-01', 'SOCK-MER-01']);
  assert.equal(total(bySku), 17998 + 3897);

  const item = await call('AddPromotion (item-level)', (ep) => ep.Cart(cartId).AddPromotion('run15'));
  assert.equal(item.data[0].discounts[0].code, 'RUN15');
  const cart = await call('AddPromotion (cart-level)', (ep) => ep.Cart(cartId).AddPromotion('SAVE10'));
  assert.equal(total(cart), 18195);
  assert.equal(cart.data[2].type, 'promotion_item');

  const withItems = await call('Get (With items)', (ep) => ep.Cart(cartId).With('items').Get());
  assert.equal(withItems.data.meta.display_price.with_tax.amount, 18195);
  assert.equal(withItems.included.items.length, 3);
  const items = await call('Items', (ep) => ep.Cart(cartId).Items());
  assert.equal(items.data.length, 3);

  await rejects('AddPromotion (unknown code)', 404, (ep) => ep.Cart(cartId).AddPromotion('NOPE'));
  await call('RemovePromotion', (ep) => ep.Cart(cartId).RemovePromotion('SAVE10'));
  const afterRemoval = await call('Items (after RemovePromotion)', (ep) => ep.Cart(cartId).Items());
  assert.equal(total(afterRemoval), 17998 - 2700 + 3897);

  const custom = await call('AddCustomItem', (ep) =>
    ep.Cart(cartId).AddCustomItem({
      name: 'Gift wrap',
      sku: 'gift-wrap',
      description: 'Paper and ribbon',
      quantity: 1,
      price: { amount: 500 },
    }),
  );
  assert.ok(skus(custom).includes('gift-wrap'));

  const bulkNoOptions = await call('BulkAdd (no options: double-wrapped)', (ep) =>
    ep.Cart(cartId).BulkAdd([
      { type: 'custom_item', name: 'Card', sku: 'card', quantity: 1, price: { amount: 200 } },
    ]),
  );
  assert.ok(skus(bulkNoOptions).includes('card'));
  const bulkOptions = await call('BulkAdd (with options)', (ep) =>
    ep.Cart(cartId).BulkAdd(
      [{ type: 'custom_item', name: 'Card', sku: 'card', quantity: 1, price: { amount: 200 } }],
      { add_all_or_nothing: true },
    ),
  );
  assert.equal(bulkOptions.data.find((line) => line.sku === 'card').quantity, 2);
  const several = await call('AddProducts', (ep) =>
    ep.Cart(cartId).AddProducts([{ id: shoeId, quantity: 1 }, { sku: sockSku, quantity: 1 }]),
  );
  assert.equal(several.data.find((line) => line.sku === 'SHOE-TR-01').quantity, 3);

  const shoeLine = several.data.find((line) => line.sku === 'SHOE-TR-01');
  const sockLine = several.data.find((line) => line.sku === 'SOCK-MER-01');
  const one = await call('UpdateItem', (ep) => ep.Cart(cartId).UpdateItem(shoeLine.id, 1));
  assert.equal(one.data.find((line) => line.id === shoeLine.id).quantity, 1);
  const many = await call('UpdateItems', (ep) =>
    ep.Cart(cartId).UpdateItems([
      { id: shoeLine.id, quantity: 2 },
      { id: sockLine.id, quantity: 1 },
    ]),
  );
  assert.equal(many.data.find((line) => line.id === sockLine.id).quantity, 1);
  const removed = await call('RemoveItem', (ep) => ep.Cart(cartId).RemoveItem(sockLine.id));
  assert.ok(!skus(removed).includes('SOCK-MER-01'));

  // Cart(id).Merge(otherId, token, options): a guest cart (a shoe, gift wrap, SAVE10) into one with a shoe.
  await call('AddProduct (guest cart)', (ep) => ep.Cart('sdk-guest').AddProduct(shoeId, 1));
  await call('AddCustomItem (guest cart)', (ep) =>
    ep.Cart('sdk-guest').AddCustomItem({
      name: 'Gift wrap',
      sku: 'gift-wrap',
      quantity: 1,
      price: { amount: 500 },
    }),
  );
  await call('AddPromotion (guest cart)', (ep) => ep.Cart('sdk-guest').AddPromotion('SAVE10'));
  await call('AddProduct (merge target)', (ep) => ep.Cart('sdk-member').AddProduct(shoeId, 1));
  const merged = await call('Merge', (ep) => ep.Cart('sdk-member').Merge('sdk-guest'));
  const lines = (response) => response.data.map((line) => [line.type, line.sku, line.quantity]);
  assert.deepEqual(lines(merged), [
    ['cart_item', 'SHOE-TR-01', 2],
    ['custom_item', 'gift-wrap', 1],
    ['promotion_item', 'SAVE10', 1],
  ]);
  assert.equal(total(merged), 17998 + 500 - 1000);
  assert.equal(merged.errors, undefined);
  const atomic = await call('Merge (add_all_or_nothing)', (ep) =>
    ep.Cart('sdk-member-2').Merge('sdk-guest', undefined, { add_all_or_nothing: true }),
  );
  assert.deepEqual(lines(atomic), lines(merged).map(([type, sku]) => [type, sku, 1]));
  const itself = await rejects('Merge (into itself)', 400, (ep) => ep.Cart('sdk-member').Merge('sdk-member'));
  assert.equal(itself.errors[0].source, 'data.cart_id');
  const guest = await call('Items (merged cart, as it was)', (ep) => ep.Cart('sdk-guest').Items());
  assert.deepEqual(skus(guest), ['SHOE-TR-01', 'gift-wrap', 'SAVE10']);

  await call('RemoveAllItems', (ep) => ep.Cart(cartId).RemoveAllItems());
  const empty = await call('Items (emptied)', (ep) => ep.Cart(cartId).Items());
  assert.equal(empty.data.length, 0);
  await call('Delete', (ep) => ep.Cart(cartId).Delete());

  process.stdout.write(`${JSON.stringify({ ok: true, calls })}\n`);
}

main().catch((error) => {
  process.stderr.write(`SDK run failed after ${JSON.stringify(calls)}:\n${describe(error)}\n`);
  process.exit(1);
});
