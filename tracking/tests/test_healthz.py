"""/healthz: what the container healthcheck and load balancers ask."""

import pytest
from django.db import connection

OK = {"status": "ok", "database": "ok"}
UNAVAILABLE = {"status": "error", "database": "unavailable"}


@pytest.mark.django_db
def test_healthz_answers_ok_after_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == OK
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_anonymous_head_requests(client):
    """No login and no cookies, as load balancers' probes often send."""
    response = client.head("/healthz")

    assert response.status_code == 200


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_without_details_when_the_database_is_unreachable(client, caplog):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs a database that can be taken away and given back: the in-memory SQLite "
            "test database would be lost. Runs in the PostgreSQL leg of CI."
        )
    original = connection.settings_dict["NAME"]
    connection.close()
    # The next connection goes to a database that does not exist: a real
    # connection failure from the driver, as when PostgreSQL is down.
    connection.settings_dict["NAME"] = original + "_absent"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert original not in response.content.decode()
    assert any(
        record.name == "tracking.views" and "database unavailable" in record.getMessage()
        for record in caplog.records
    )
    # And once the database is back, so is the service, without a restart.
    assert client.get("/healthz").json() == OK
