-- A payment run's duplicate-ID check (issue 4) reads the month's other runs once and matches their
-- transfers' blind indexes in memory, so the index on `pay_transfer.blind_index` is no longer read;
-- keeping it cost every build a million random inserts (about 7 s of a city's run on SQLite).
DROP INDEX pay_transfer_blind;
