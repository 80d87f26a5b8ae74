"""What the catalog tells the layers above it, without importing them."""

from django.dispatch import Signal

# currencies (set of codes): `seed_demo` loaded the demo catalog into an empty shop, in the
# transaction it is sent in; the layers above add what the demo needs to be bought from.
demo_catalog_loaded = Signal()
