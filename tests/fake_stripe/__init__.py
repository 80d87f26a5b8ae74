"""A fake Stripe API server for tests and the benchmark: real HTTP, recorded requests, faults."""

from tests.fake_stripe.server import FakeStripe, RecordedRequest

__all__ = ["FakeStripe", "RecordedRequest"]
