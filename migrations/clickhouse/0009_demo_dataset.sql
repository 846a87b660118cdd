-- What the demo seed loaded: one row per seed (the seed replaces it), so a server starting on an
-- existing warehouse can tell how current the demo data is.
CREATE TABLE IF NOT EXISTS demo_dataset
(
    seed       UInt64,
    scale      Float64,
    start_date Date,
    end_date   Date COMMENT 'last day of data',
    rows       UInt64 COMMENT 'demo tenants rows in the demo tables right after the seed',
    seeded_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY seeded_at;
