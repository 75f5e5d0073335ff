-- 0004: the destination (scheme://host:port, state.Destination) of each
-- event's target, so that a dispatcher can leave aside the receivers it is
-- busy with when it claims (no head-of-line blocking behind a slow
-- receiver). NULL for events without a target and for events written
-- before this version, which are then never left aside.
ALTER TABLE events ADD COLUMN target_dest TEXT;
