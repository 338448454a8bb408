"""Standard Webhooks verification and the retry policy."""

from __future__ import annotations

import random
import time

import pytest

from connectors.errors import AuthError, TransientError, ValidationError
from connectors.prestashop.signing import SignatureError, sign, signature_headers, verify
from runtime.retry import RetryPolicy

pytestmark = pytest.mark.unit

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"type":"order.created","timestamp":1,"data":{"id":5}}'


def test_known_vector_from_the_standard_webhooks_spec() -> None:
    # the example of the Standard Webhooks specification (id, timestamp, body and signature)
    sig = sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_valid_signature_returns_the_webhook_id() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY)
    assert verify([SECRET], headers, BODY) == "evt_1"


def test_tampered_body_is_refused() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY)
    with pytest.raises(SignatureError) as err:
        verify([SECRET], headers, BODY.replace(b"5", b"6"))
    assert err.value.reason == "mismatch"


def test_wrong_secret_is_refused_and_never_echoed() -> None:
    headers = signature_headers("whsec_b3RoZXJzZWNyZXQ=", "evt_1", BODY)
    with pytest.raises(SignatureError) as err:
        verify([SECRET], headers, BODY)
    assert err.value.reason == "mismatch" and SECRET not in str(err.value)


def test_stale_and_future_timestamps_are_refused() -> None:
    for offset in (-301, 301):
        headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(time.time()) + offset)
        with pytest.raises(SignatureError) as err:
            verify([SECRET], headers, BODY)
        assert err.value.reason == "stale"


def test_rotated_secrets_and_several_signatures() -> None:
    new = "whsec_bmV3c2VjcmV0bmV3c2VjcmV0"
    headers = signature_headers(new, "evt_2", BODY)
    assert verify([SECRET, new], headers, BODY) == "evt_2"
    old_sig = sign(SECRET, "evt_2", int(headers["webhook-timestamp"]), BODY)
    headers["webhook-signature"] = "v1,AAAA " + old_sig  # the sender signs with old and new
    assert verify([SECRET], headers, BODY) == "evt_2"


def test_missing_and_malformed_headers() -> None:
    with pytest.raises(SignatureError) as err:
        verify([SECRET], {"webhook-id": "x"}, BODY)
    assert err.value.reason == "missing" and "webhook-timestamp" in err.value.message
    with pytest.raises(SignatureError) as err:
        verify([SECRET], {"webhook-id": "x", "webhook-timestamp": "soon", "webhook-signature": "v1,x"}, BODY)
    assert err.value.reason == "malformed"


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(base_s=1.0, cap_s=30.0, max_attempts=10, rng=random.Random(7))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (5, 16), (6, 30), (9, 30)]:
        delays = [policy.delay(attempt) for _ in range(300)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9 and min(delays) < ceiling * 0.1  # spread, not fixed


def test_error_classes_decide_retry_or_dead() -> None:
    policy = RetryPolicy(base_s=1.0, cap_s=60.0, max_attempts=3, rng=random.Random(1))
    assert policy.next_retry_in(1, ValidationError("bad email")) is None
    assert policy.next_retry_in(1, KeyError("bug")) is None
    assert 0 <= policy.next_retry_in(1, TransientError("503")) <= 1
    assert policy.next_retry_in(1, TransientError("429", retry_after=7)) == 7
    assert policy.next_retry_in(1, TransientError("429", retry_after=600)) == 60
    assert policy.next_retry_in(3, TransientError("503")) is None  # attempts exhausted
    assert policy.next_retry_in(1, AuthError("key refused")) == 60
