-- A seed writes a `complete = 0` record before it touches any row and the `complete = 1` record
-- last, so a seed that died half-way (kill -9, lost lock) is recognised at the next start and
-- redone. Records written before this column existed were written last: complete.
ALTER TABLE demo_dataset ADD COLUMN IF NOT EXISTS complete UInt8 DEFAULT 1 COMMENT '0 while the seed runs, 1 once it finished';
