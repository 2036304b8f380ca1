"""NATS_URL may name a cluster: the services connect to every server it lists."""

from services.runtime.settings import nats_servers


def test_a_comma_separated_nats_url_is_a_list_of_servers() -> None:
    assert nats_servers("nats://127.0.0.1:4222") == ["nats://127.0.0.1:4222"]
    assert nats_servers("nats://a:4222, nats://b:4222,nats://c:4222") == [
        "nats://a:4222",
        "nats://b:4222",
        "nats://c:4222",
    ]
