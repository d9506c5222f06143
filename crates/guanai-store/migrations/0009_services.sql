-- The service checklist (issue 6, spec §6): for each person and service the engine entitles them
-- to, where it stands — offered, in progress, granted or declined. A change is a new row; the
-- latest row of a person and service is its status, the older ones its history.
CREATE TABLE service_status (
    status_id    TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL REFERENCES family(family_id),
    person_id    TEXT NOT NULL,
    service      TEXT NOT NULL,   -- medical_relief | insurance_contribution_paid | dibao_uplift | …
    status       TEXT NOT NULL,   -- offered | in_progress | granted | declined
    note         TEXT NOT NULL,
    on_date      TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL
);
CREATE INDEX service_status_family ON service_status(family_id, person_id, service, recorded_at);
