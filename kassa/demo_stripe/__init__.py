"""A stand-in for Stripe, served by the shop's own processes when no Stripe key is set.

It answers the API calls the shop makes (kassa.stripe_api, over HTTP, at STRIPE_API_BASE), shows
a Checkout page and a card form marked DEMO, and delivers signed webhook events to the shop's
/stripe/webhook/. It knows nothing of the shop's models: it is the far side of the one door.
"""
