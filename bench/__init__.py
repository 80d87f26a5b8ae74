"""`make bench`: the shop under load as production runs it, against a fake Stripe."""
