"""`make bench`: the shop under load as production runs it, against a fake Stripe.

run          the command (`python -m bench.run`): its options and the order of a run
processes    what a run starts and stops: the database, Redis, the fake Stripe, gunicorn
drive        what a run drives at the shop: the rounds of pages and /buy, the flash sales
load         one measured wrk load and the CPU time each process spent on it
flash_sale   200 buyers pressing Buy at once, as the Buy button does
machine      the machine a run measures on, and what /proc says its processes spent
report       the tables and the JSON file in bench/results/
django_side  the in-process steps: query counts, the seed, the grown catalog
fake_stripe  the fake Stripe the shop calls (asyncio, Stripe's shapes and limits)
stripe_client  CPU per Stripe call through the shop's HTTP client and stripe-python's own
peer_oscar   `--peer oscar`: Kassa beside django-oscar, the same products in each
"""
