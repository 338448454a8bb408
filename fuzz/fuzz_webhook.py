"""Fuzz target: the bridge's webhook decoder (``runtime.app.webhooks``), everything the ingress
does with a body after its signature was verified and before it is journaled: decode the
envelope, check the event type, the record key and ``date_upd``, derive the change key and the
content digest. Allowed: :class:`~runtime.app.webhooks.BodyProblem` (a 400 answer); a refusal
the handler answers with 422. Anything else raised is a crash (a 500 to the sender).

    python fuzz/fuzz_webhook.py -max_total_time=60 fuzz/corpus/webhook
"""

from __future__ import annotations

from _harness import Target, main


def build() -> Target:
    from runtime.app import webhooks as w

    def test_one_input(data: bytes) -> None:
        try:
            env = w.decode_envelope(data)
        except w.BodyProblem:
            return
        if env.type not in w.KNOWN_EVENTS:
            return
        entity = env.type.split(".", 1)[0]
        key = env.data.get("id")
        if key is None or isinstance(key, (dict, list, bool)) or str(key) == "":
            return
        if w._field_problem(entity, key, "data.id", env.data) is not None:
            return
        w._change_key(entity, str(key), env.type, env.data)
        w._content_digest(env.type, env.data)

    return test_one_input


if __name__ == "__main__":
    main(build, ["runtime.app.webhooks"], "webhook.dict")
