-- Minimal equivalents of the tables one newborn lifecycle writes, for bench/lifecycle.py's
-- pgbench baseline (the database's own limit). Same shapes where it matters for the cost of a
-- write: bigint keys, the foreign keys and secondary indexes the real tables carry, JSON columns
-- of the same role, one audit stream per application with its head row. The real tables carry
-- more columns (and Django's migrations more indexes): this is a floor, deliberately.
CREATE TABLE application (
    id bigserial PRIMARY KEY,
    reference varchar(32) NOT NULL UNIQUE,
    applicant_id bigint NOT NULL,
    thing_code varchar(64) NOT NULL,
    status varchar(20) NOT NULL,
    form_data jsonb NOT NULL,
    plan_snapshot jsonb NOT NULL,
    submitted_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE INDEX application_applicant ON application (applicant_id);
CREATE INDEX application_status ON application (status, submitted_at);

CREATE TABLE app_case (
    id bigserial PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES application,
    service_code varchar(64) NOT NULL,
    department_code varchar(64) NOT NULL,
    status varchar(20) NOT NULL,
    inputs jsonb NOT NULL DEFAULT '{}',
    outputs jsonb NOT NULL DEFAULT '{}',
    ready_at timestamptz,
    decided_at timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE INDEX app_case_application ON app_case (application_id);
CREATE INDEX app_case_queue ON app_case (department_code, status);

CREATE TABLE case_event (
    id bigserial PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES application,
    case_id bigint REFERENCES app_case,
    action varchar(40) NOT NULL,
    from_status varchar(20) NOT NULL,
    to_status varchar(20) NOT NULL,
    data jsonb NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX case_event_application ON case_event (application_id, at);
CREATE INDEX case_event_case ON case_event (case_id);

CREATE TABLE audit_stream (
    id bigserial PRIMARY KEY,
    name varchar(120) NOT NULL UNIQUE,
    last_seq integer NOT NULL,
    last_hash char(64) NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE audit_record (
    id bigserial PRIMARY KEY,
    stream_id bigint NOT NULL REFERENCES audit_stream,
    seq integer NOT NULL,
    action varchar(60) NOT NULL,
    subject varchar(200) NOT NULL,
    data jsonb NOT NULL,
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL,
    recorded_at timestamptz NOT NULL,
    UNIQUE (stream_id, seq)
);

CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    topic varchar(60) NOT NULL,
    key varchar(120) NOT NULL UNIQUE,
    payload jsonb NOT NULL,
    status varchar(10) NOT NULL,
    available_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, available_at);

CREATE TABLE certificate (
    id bigserial PRIMARY KEY,
    number varchar(40) NOT NULL UNIQUE,
    holder_id bigint NOT NULL,
    case_id bigint NOT NULL REFERENCES app_case,
    data jsonb NOT NULL,
    signature text NOT NULL,
    issued_at timestamptz NOT NULL
);
CREATE INDEX certificate_holder ON certificate (holder_id);
