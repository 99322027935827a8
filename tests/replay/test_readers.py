"""Each input format on small files: fields, conversions, compression, and bad lines counted and skipped."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from patternlimit import Request
from patternlimit.errors import ConfigurationError
from patternlimit.replay.columns import TimeParser, parse_columns, parse_time
from patternlimit.replay.records import BadLines, LineError, Record, normalise_label
from patternlimit.replay.sources import Reading, Sources
from tests.replay.conftest import START, write_jsonl


def read(paths: list[Path], reading: Reading | None = None) -> tuple[list[Record], BadLines]:
    bad = BadLines()
    return list(Sources(paths, reading or Reading(), bad)), bad


ROWS = [
    {"timestamp": START, "account": "a", "ip": "192.0.2.1", "text": "hello", "route": "/v1", "client": "c"},
    {"timestamp": START + 1, "account": None, "text": "anonymous", "cost": 3, "attributes": {"org": "acme"}},
    {"timestamp": int(START) + 2, "account": "b", "account_created_at": START - 10, "label": "Good", "scenario": "x"},
]


@pytest.mark.parametrize("fast", [True, False], ids=["msgspec", "stdlib-json"])
def test_jsonl_fields_and_ground_truth(tmp_path: Path, fast: bool) -> None:
    records, bad = read([write_jsonl(tmp_path / "log.jsonl", ROWS)], Reading(fast_json=fast))
    assert bad.count == 0
    assert [record.request for record in records] == [
        Request(account="a", ip="192.0.2.1", text="hello", route="/v1", client="c"),
        Request(text="anonymous", cost=3, attributes={"org": "acme"}),
        Request(account="b", account_created_at=START - 10),
    ]
    assert [record.time for record in records] == [START, START + 1, float(int(START) + 2)]
    assert [(record.label, record.scenario, record.line) for record in records] == [
        (None, None, 1),
        (None, None, 2),
        ("legitimate", "x", 3),
    ]


@pytest.mark.parametrize("fast", [True, False], ids=["msgspec", "stdlib-json"])
def test_a_corrupted_line_in_the_middle_is_reported_and_skipped(tmp_path: Path, fast: bool) -> None:
    rows = [{"timestamp": START + second, "account": f"u{second}", "text": "t"} for second in range(10)]
    corrupt = {
        4: '{"timestamp": 1767225604, "account": "trunc',  # cut off mid-write
        7: '{"timestamp": "yesterday", "text": "x"}',  # wrong type
        9: '{"timestamp": 1767225605, "cost": -1}',  # out of range
        11: "[1, 2, 3]",  # not an object
    }
    path = write_jsonl(tmp_path / "log.jsonl", rows, extra_lines=corrupt)
    records, bad = read([path], Reading(fast_json=fast))
    assert [record.request.account for record in records] == [f"u{second}" for second in range(10)]
    assert bad.count == 4
    assert [line for _, line, _ in bad.samples] == [4, 7, 9, 11]
    assert all(source == str(path) for source, _, _ in bad.samples)
    assert "timestamp" in bad.samples[1][2] and "cost" in bad.samples[2][2]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl_is_read_transparently(tmp_path: Path, suffix: str) -> None:
    records, bad = read([write_jsonl(tmp_path / f"log{suffix}", ROWS)])
    assert bad.count == 0 and len(records) == 3 and records[0].request.text == "hello"


def test_compression_is_told_by_magic_bytes_not_the_name(tmp_path: Path) -> None:
    plain = write_jsonl(tmp_path / "plain.jsonl", ROWS)
    disguised = tmp_path / "really-gzip.jsonl"
    disguised.write_bytes(gzip.compress(plain.read_bytes()))
    records, bad = read([disguised])
    assert bad.count == 0 and [record.request.account for record in records] == ["a", None, "b"]


def test_csv_with_a_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    path.write_text(
        "when,user_id,addr,prompt,org,truth\n"
        '2026-01-01T00:00:00Z,alice,192.0.2.1,"Hello, ""world""",acme,legitimate\n'
        "2026-01-01T01:00:01+01:00,,192.0.2.2,anonymous,,campaign\n"
        "not a time,bob,192.0.2.3,x,acme,\n"
        '1767225602.5,carol,192.0.2.4,"multi\nline",,\n',
        encoding="utf-8",
    )
    mapping = parse_columns("timestamp=when,account=user_id,ip=addr,text=prompt,attributes.org=org,label=truth")
    records, bad = read([path], Reading(columns=mapping))
    assert [record.request.account for record in records] == ["alice", None, "carol"]
    assert records[0].request == Request(
        account="alice", ip="192.0.2.1", text='Hello, "world"', attributes={"org": "acme"}
    )
    assert records[0].time == START and records[0].label == "legitimate" and records[1].label == "campaign"
    assert records[1].time == START + 1  # 01:00:01 at +01:00
    assert records[2].time == START + 2.5 and records[2].request.text == "multi\nline"
    assert bad.count == 1 and bad.samples[0][1] == 4 and "timestamp" in bad.samples[0][2]


def test_csv_columns_named_like_fields_need_no_mapping_and_a_missing_timestamp_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("timestamp,account,text\n1767225600,a,hi\n", encoding="utf-8")
    records, _ = read([path])
    assert records[0].request == Request(account="a", text="hi")
    with pytest.raises(ConfigurationError, match="no column 'nope'"):
        read([path], Reading(columns=parse_columns("text=nope")))
    path.write_text("when,text\n1767225600,hi\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="no timestamp column"):
        read([path])


COMBINED = (
    '192.0.2.10 - alice [01/Jan/2026:00:00:00 +0000] "POST /v1/messages?beta=1 HTTP/1.1" 200 512 "-" '
    '"python-httpx/0.27" "Write a \\x22haiku\\x22 about \\xE2\\x82\\xAC" 17\n'
    '198.51.100.7 - - [01/Jan/2026:01:00:05 +0100] "POST /v1/complete HTTP/1.1" 429 0 "-" "curl/8.0" "hi" -\n'
    "this is not an access log line\n"
    '192.0.2.11 - bob [31/Dec/2025:23:59:59 +0000] "GET / HTTP/1.1" 200 5\n'
)


def test_combined_log_with_the_body_in_an_extra_field(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text(COMBINED, encoding="utf-8")
    records, bad = read([path], Reading(columns=parse_columns("text=extra1,cost=extra2"), max_skew=10.0))
    first, second = records
    assert first.request == Request(
        account="alice",
        ip="192.0.2.10",
        text='Write a "haiku" about €',
        route="/v1/messages",
        client="python-httpx/0.27",
        cost=17,
    )
    assert first.time == START
    assert second.request.account is None and second.request.cost == 1 and second.time == START + 5
    # line 3 does not parse; line 4 (Common Log Format) has no extra1 for the text
    assert [line for _, line, _ in bad.samples] == [3, 4] and "Combined Log Format" in bad.samples[0][2]


def test_a_custom_line_format_through_named_groups(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("2026-01-01T00:00:00Z user=alice ip=192.0.2.1 prompt=Hello there\n", encoding="utf-8")
    pattern = r"(?P<timestamp>\S+) user=(?P<account>\S+) ip=(?P<ip>\S+) prompt=(?P<text>.*)"
    records, bad = read([path], Reading(format="combined", log_regex=pattern))
    assert bad.count == 0 and records[0].request == Request(account="alice", ip="192.0.2.1", text="Hello there")


def test_out_of_order_timestamps(tmp_path: Path) -> None:
    rows = [
        {"timestamp": START + 100, "account": "a"},
        {"timestamp": START + 40, "account": "skewed"},  # 60 s behind: decided at its own time
        {"timestamp": START + 200, "account": "b"},
        {"timestamp": START - 5000, "account": "far"},  # beyond --max-skew: a bad line
    ]
    records, bad = read([write_jsonl(tmp_path / "log.jsonl", rows)], Reading(max_skew=300.0))
    assert [(record.request.account, record.time) for record in records] == [
        ("a", START + 100),
        ("skewed", START + 40),
        ("b", START + 200),
    ]
    assert bad.count == 1 and bad.samples[0][1] == 4 and "--max-skew" in bad.samples[0][2]


def test_several_logs_are_merged_by_time(tmp_path: Path) -> None:
    one = write_jsonl(tmp_path / "one.jsonl", [{"timestamp": START + s, "account": f"one{s}"} for s in (0, 2, 4)])
    two = write_jsonl(tmp_path / "two.jsonl.gz", [{"timestamp": START + s, "account": f"two{s}"} for s in (1, 3)])
    records, _ = read([one, two])
    assert [record.request.account for record in records] == ["one0", "two1", "one2", "two3", "one4"]
    assert [record.source for record in records][:2] == [str(one), str(two)]


def test_conversions() -> None:
    assert parse_time("1767225600") == START
    assert parse_time("01/Jan/2026:00:00:00 -0200") == START + 7200
    assert parse_time("2026-01-01 00:00:00") == START
    assert normalise_label("Campaign") == "campaign" and normalise_label(False) == "legitimate"
    assert normalise_label("") is None and normalise_label("Partner") == "partner"
    with pytest.raises(ConfigurationError, match="unknown field 'txt'"):
        parse_columns("txt=prompt")
    with pytest.raises(ConfigurationError, match="field=column"):
        parse_columns("text")


def test_the_time_parser_reads_web_server_times_as_parse_time_does() -> None:
    times = TimeParser()
    moments = [START + offset for offset in (0, 1, 59, 60, 61, 3599, 3600, 86399, 86400, 86400 * 31 + 7, 86401)]
    zones = ("+0000", "-0200", "+0530")
    for moment in moments:
        for zone in zones:
            sign = -1 if zone[0] == "+" else 1
            shift = int(zone[1:3]) * 3600 + int(zone[3:]) * 60
            text = time.strftime(f"%d/%b/%Y:%H:%M:%S {zone}", time.gmtime(moment - sign * shift))
            assert times(text) == parse_time(text) == moment, text
    with pytest.raises(LineError, match="expected epoch seconds"):
        times("01/Feb/2026:00:00:6x +0000")
    with pytest.raises(LineError, match="unknown month"):
        times("01/Fbr/2026:00:00:07 +0000")
