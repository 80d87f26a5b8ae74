"""Everything that speaks HTTP to Stripe, and nothing else: the only package that imports
`stripe`. No models, no views, no middleware.

- `keys`: which keypair (Stripe account) a currency is paid into.
- `client`: one StripeClient per keypair, the pinned API version, Stripe's errors made ours.
- `http`, `sending`, `pacing`, `deadline`: how a request travels: urllib3's pool, a bulkhead,
  the account's pace across processes, 429 retries and the request's deadline.
- `checkout_sessions`, `payment_intents`, `refunds`, `price_objects`, `tax_calculations`,
  `tax_transactions`: the calls, by resource.
- `results`: Stripe's objects as typed values; `webhooks`: signature checks.
- `errors`: the few exceptions the rest of the shop sees.
"""
