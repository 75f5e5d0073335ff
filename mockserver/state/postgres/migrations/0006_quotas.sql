-- 0005: the pending events of an account, counted on every send for its
-- quota of pending deliveries (state.Quotas): a partial index keeps that
-- count to the account's own pending rows.
CREATE INDEX events_pending_by_account ON events (account) WHERE status = 'pending';
