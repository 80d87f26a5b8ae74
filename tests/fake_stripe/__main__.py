"""Run the fake on its own (for the benchmark or manual runs): python -m tests.fake_stripe."""

import argparse
import signal
import threading

from tests.fake_stripe.server import FakeStripe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    parser.add_argument("--rate-limit", type=int, default=None, help="calls a second, then 429s")
    args = parser.parse_args()
    fake = FakeStripe(port=args.port).start()
    fake.set_latency(args.latency)
    fake.set_rate_limit(args.rate_limit)
    print(f"fake Stripe listening on {fake.url} (latency {args.latency}s)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
