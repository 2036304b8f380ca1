"""The embedded stack's ports and restarts, without starting it: a claimed port is nobody
else's, a port in use is never claimed, the address book remembers, and a crash loop backs off."""

import socket
from pathlib import Path

import pytest

from fivetype import ports
from fivetype.stack import MAX_BACKOFF_SECONDS, Backoff
from services.runtime.settings import METRICS_OFFSET


def test_a_claimed_port_goes_to_no_other_claim_until_released() -> None:
    first = ports.claim(None)
    second = ports.claim(first.port)  # preferred, but held: another one
    assert second.port != first.port
    first.release()
    third = ports.claim(first.port)
    assert third.port == first.port
    second.release()
    third.release()


def test_a_port_someone_listens_on_is_not_claimed() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        taken = listener.getsockname()[1]
        assert not ports.bindable(taken)
        claim = ports.claim(taken)
        assert claim.port != taken
        claim.release()


def test_a_port_found_taken_is_avoided_even_when_free() -> None:
    free = ports.free_port()
    claim = ports.claim(free, frozenset({free}))
    assert claim.port != free
    claim.release()


def test_the_address_book_remembers_across_reads(tmp_path: Path) -> None:
    assert ports.AddressBook(tmp_path).get("measures") is None
    ports.AddressBook(tmp_path).save({"measures": 8101, "nats": 40222})
    book = ports.AddressBook(tmp_path)
    assert (book.get("measures"), book.get("nats")) == (8101, 40222)
    (tmp_path / ports.ADDRESS_BOOK).write_text("not json")
    assert ports.AddressBook(tmp_path).get("measures") is None


def test_a_crash_loop_backs_off_and_a_steady_process_restarts_at_once() -> None:
    backoff = Backoff(started_at=0.0)
    delays = []
    now = 0.0
    for _ in range(8):  # each death one second after its start
        now += 1.0
        delays.append(backoff.died(now))
        assert not backoff.take_turn(now + delays[-1] / 2)
        now += delays[-1]
        assert backoff.take_turn(now)
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0] and delays[-1] == MAX_BACKOFF_SECONDS
    assert backoff.restarts == 8
    assert backoff.died(now + 600) == pytest.approx(0.5)  # after a long run: at once again


def test_free_ports_lie_outside_the_range_outgoing_connections_take() -> None:
    low = int(ports.CONNECTIONS_RANGE.read_text().split()[0])
    chosen = [ports.free_port() for _ in range(50)]
    assert len(set(chosen)) == 50  # a process does not hand out a port twice in a row
    assert all(ports.bindable(port) for port in chosen)
    assert all(port + METRICS_OFFSET < low for port in chosen)  # its metrics port too
