"""Sign-in hashes passwords off the event loop: a real server (production argon2 cost)
keeps answering while eight clients guess passwords at once."""

import threading
import time

import httpx

from tests.e2e.conftest import Server
from tests.web.conftest import csrf_of

GUESSERS = 8


def _guess(base_url: str, n: int, answers: list[int]) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        token = csrf_of(client.get("/login").text)
        # An unknown e-mail is checked against a dummy hash of production cost.
        response = client.post(
            "/login",
            data={"email": f"guess{n}@example.com", "password": "wrong", "csrf_token": token},
        )
        answers.append(response.status_code)


def test_health_answers_while_eight_clients_guess_passwords(server: Server) -> None:
    answers: list[int] = []
    guessers = [
        threading.Thread(target=_guess, args=(server.base_url, n, answers)) for n in range(GUESSERS)
    ]
    started = time.monotonic()
    for guesser in guessers:
        guesser.start()
    latencies = []
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        while any(guesser.is_alive() for guesser in guessers):
            asked = time.monotonic()
            assert client.get("/healthz").status_code == 200
            latencies.append(time.monotonic() - asked)
            time.sleep(0.02)
    for guesser in guessers:
        guesser.join()
    guessing = time.monotonic() - started
    assert answers == [401] * GUESSERS
    assert guessing > 0.5, "the guesses were too quick to tell anything"
    assert max(latencies) < 0.25, (max(latencies), guessing)
    assert len(latencies) >= 5  # /healthz was asked all along
