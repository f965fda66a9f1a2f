"""`recsys db|data|events|stream` on the embedded SQLite store and a real broker, with their errors."""

from __future__ import annotations

import json

import pytest

from cli.main import main


def test_db_upgrade_load_and_export_on_sqlite(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    assert "revision 0001" in capsys.readouterr().out
    args = ["data", "load", "--url", url, "--synthetic-users", "200", "--synthetic-items", "200"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["new"] == first["events"] > 0
    assert main(args) == 0  # a rerun (e.g. after a crash) duplicates nothing
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again == {"events": first["events"], "new": 0, "already_stored": first["events"]}
    out = tmp_path / "events.parquet"
    assert main(["data", "export", "--url", url, "--out", str(out), "--event-types", "purchase,rating"]) == 0
    exported = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 < exported["rows"] < first["events"] and out.exists()
    # the export trains directly
    assert main(["train", "--model", "mf", "--data", str(out), "--out", str(tmp_path / "m"), "--epochs", "1",
                 "--quiet"]) == 0


def test_data_load_of_a_csv_names_the_event_type(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    data = tmp_path / "clicks.csv"
    data.write_text("user,item,timestamp\nu1,i1,1600000000\nu2,i1,1600000100\n")
    assert main(["data", "load", "--url", url, "--data", str(data), "--event-type", "click"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["new"] == 2
    assert main(["data", "load", "--url", url, "--data", str(data), "--event-type", "like"]) == 2
    assert "'like' is not a valid EventType" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["events", "topics", "--bootstrap", ""], "RECSYS_KAFKA_BOOTSTRAP"),
    (["events", "produce", "--bootstrap", ""], "RECSYS_KAFKA_BOOTSTRAP"),
    (["events", "produce", "--bootstrap", "localhost:1", "--rate", "-5"], "--rate must be positive"),
    (["stream"], "RECSYS_KAFKA_BOOTSTRAP must name"),
])
def test_event_commands_explain_missing_settings(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("RECSYS_KAFKA_BOOTSTRAP", raising=False)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_export_of_an_empty_store_is_an_error(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    assert main(["data", "export", "--url", url, "--out", str(tmp_path / "x.parquet")]) == 2
    assert "no interactions" in capsys.readouterr().err


def test_topics_and_produce_against_the_real_broker(kafka_broker, capsys, monkeypatch):
    import uuid

    from confluent_kafka import Consumer

    prefix = f"cli{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("RECSYS_EVENTS_TOPIC", f"{prefix}.events")
    monkeypatch.setenv("RECSYS_DLQ_TOPIC", f"{prefix}.dlq")
    monkeypatch.setenv("RECSYS_ONLINE_METRICS_TOPIC", f"{prefix}.online")
    bootstrap = ["--bootstrap", kafka_broker.bootstrap]
    assert main(["events", "topics", *bootstrap, "--partitions", "2"]) == 0
    assert f"{prefix}.events: created" in capsys.readouterr().out
    assert main(["events", "topics", *bootstrap]) == 0
    assert f"{prefix}.events: exists" in capsys.readouterr().out
    assert main(["events", "produce", *bootstrap, "--users", "300", "--items", "200", "--count", "500",
                 "--model-versions", "a,b"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["events"] == 500
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": prefix,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([f"{prefix}.events"])
    keys_ok, seen = True, 0
    from recsys.v1 import events_pb2

    while seen < 500:
        message = consumer.poll(5)
        assert message is not None, f"only {seen} of 500 events arrived"
        event = events_pb2.UserEvent.FromString(message.value())
        keys_ok &= message.key() == event.user_id.encode() and event.model_version in ("a", "b")
        seen += 1
    consumer.close()
    assert keys_ok
