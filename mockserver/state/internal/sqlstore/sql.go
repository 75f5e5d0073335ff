package sqlstore

import "github.com/innosandbox/innosandbox/mockserver/state"

// Column lists, in the order both stores' scan functions read them.
const (
	AccountCols  = "name, label, default_app, clock_offset_ns, created_at"
	AppCols      = "app_key, account, name, created_at"
	TokenCols    = "hash, app_key, state, issued_at, expires_at, ended_at"
	WebhookCols  = "app_key, product, url, events, method, username, auth, retry, chaos, created_at, updated_at"
	BindingCols  = "account, kind, value, app_key, created_at"
	MessageCols  = "id, account, app_key, product, message_type, waba_id, send_number, recipients, wamids, uid, request, created_at"
	TemplateCols = "account, waba_id, name, language, category, template_id, sid, app_key, body_params, header_params, " +
		"status, reason, review_at, request, created_at, updated_at"
	GroupCols = "account, waba_id, group_id, templates, created_at, updated_at"
	// EventCols are an event's columns with seq, its creation order, first.
	EventCols = "seq, " + EventData
	// EventData are the columns an event is inserted with (seq is made by
	// the database).
	EventData = "id, account, type, product, app_key, route, status, reason, payload, " +
		"target_url, target_method, target_username, target_auth, target_retry, chaos, attempts, due_at, next_attempt_at, " +
		"lease_owner, lease_until, created_at, updated_at"
	AttemptCols = "event_id, n, started_at, latency_ns, method, url, request_headers, request_body, " +
		"response_status, response_headers, response_body, error, outcome"
)

// Statements that both dialects run as written: $n placeholders (both
// drivers take them), ON CONFLICT and RETURNING (both databases have them),
// values that each store encodes for its own column types. A statement
// that needs a dialect's own words (locks, intervals, arrays, FILTER)
// stays in its store.
const (
	// Accounts, their tokens and clocks.
	AccountExistsSQL      = "SELECT 1 FROM accounts WHERE name = $1"
	InsertAccountSQL      = "INSERT INTO accounts (" + AccountCols + ") VALUES ($1, $2, $3, $4, $5)"
	GetAccountSQL         = "SELECT " + AccountCols + " FROM accounts WHERE name = $1"
	ListAccountsSQL       = "SELECT " + AccountCols + " FROM accounts ORDER BY name"
	DeleteAccountSQL      = "DELETE FROM accounts WHERE name = $1"
	SetDefaultAppSQL      = "UPDATE accounts SET default_app = $2 WHERE name = $1"
	UpsertAccountTokenSQL = "INSERT INTO account_tokens (account, hash) VALUES ($1, $2) ON CONFLICT (account) DO UPDATE SET hash = excluded.hash"
	AccountByTokenSQL     = "SELECT account FROM account_tokens WHERE hash = $1"
	ShiftAccountSQL       = "UPDATE accounts SET clock_offset_ns = clock_offset_ns + $2 WHERE name = $1 RETURNING " + AccountCols

	// Apps; deleting one clears it as its account's default app.
	AppExistsSQL       = "SELECT 1 FROM apps WHERE app_key = $1"
	InsertAppSQL       = "INSERT INTO apps (" + AppCols + ") VALUES ($1, $2, $3, $4)"
	GetAppSQL          = "SELECT " + AppCols + " FROM apps WHERE app_key = $1"
	ListAppsSQL        = "SELECT " + AppCols + " FROM apps WHERE account = $1 ORDER BY seq"
	DeleteAppSQL       = "DELETE FROM apps WHERE app_key = $1 RETURNING account"
	ClearDefaultAppSQL = "UPDATE accounts SET default_app = '' WHERE name = $1 AND default_app = $2"

	// App tokens: at most one current per app.
	SupersedeTokenSQL = "UPDATE tokens SET state = 'superseded', ended_at = $2 WHERE app_key = $1 AND state = 'current'"
	InsertTokenSQL    = "INSERT INTO tokens (" + TokenCols + ") VALUES ($1, $2, 'current', $3, $4, NULL)"
	RevokeTokenSQL    = "UPDATE tokens SET state = 'revoked', ended_at = $2 WHERE app_key = $1 AND state = 'current'"
	TokenByHashSQL    = "SELECT " + TokenCols + " FROM tokens WHERE hash = $1"
	ListTokensSQL     = "SELECT " + TokenCols + " FROM tokens WHERE app_key = $1 ORDER BY seq DESC"

	// AuthSQL is the whole of AuthContext: the app, its account and its
	// current token (if any) in one indexed join.
	AuthSQL = "SELECT a.app_key, a.account, a.name, a.created_at, " +
		"c.name, c.label, c.default_app, c.clock_offset_ns, c.created_at, " +
		"t.hash, t.state, t.issued_at, t.expires_at, t.ended_at " +
		"FROM apps a JOIN accounts c ON c.name = a.account " +
		"LEFT JOIN tokens t ON t.app_key = a.app_key AND t.state = 'current' " +
		"WHERE a.app_key = $1"

	// Webhook configurations, one per app and product.
	InsertWebhookSQL = "INSERT INTO webhooks (" + WebhookCols + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
	UpdateWebhookSQL = "UPDATE webhooks SET url = $3, events = $4, method = $5, username = $6, auth = $7, retry = $8, chaos = $9, updated_at = $10 " +
		"WHERE app_key = $1 AND product = $2"
	GetWebhookSQL    = "SELECT " + WebhookCols + " FROM webhooks WHERE app_key = $1 AND product = $2"
	ListWebhooksSQL  = "SELECT " + WebhookCols + " FROM webhooks WHERE app_key = $1 ORDER BY product"
	DeleteWebhookSQL = "DELETE FROM webhooks WHERE app_key = $1 AND product = $2"

	// Bindings of numbers and WABAs to apps; a send binds its sender only
	// while the number is unbound.
	InsertBindingSQL = "INSERT INTO bindings (" + BindingCols + ") VALUES ($1, $2, $3, $4, $5)"
	BindIfUnboundSQL = InsertBindingSQL + " ON CONFLICT DO NOTHING"
	FindBindingSQL   = "SELECT " + BindingCols + " FROM bindings WHERE account = $1 AND kind = $2 AND value = $3"
	ListBindingsSQL  = "SELECT " + BindingCols + " FROM bindings WHERE app_key = $1 ORDER BY kind, value"
	DeleteBindingSQL = "DELETE FROM bindings WHERE account = $1 AND kind = $2 AND value = $3"

	// Messages, as RecordSubmission writes them.
	InsertMessageSQL = "INSERT INTO messages (" + MessageCols + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
	GetMessageSQL    = "SELECT " + MessageCols + " FROM messages WHERE id = $1"

	// Events and their attempts. target_dest is the destination a saturated
	// receiver's events are left aside by (state.Destination).
	InsertEventSQL = "INSERT INTO events (" + EventData + ", target_dest) VALUES " +
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
	GetEventSQL     = "SELECT " + EventCols + " FROM events WHERE id = $1"
	ListAttemptsSQL = "SELECT " + AttemptCols + " FROM attempts WHERE event_id = $1 ORDER BY seq"
	// ReleaseLeasesSQL asks for a non-empty owner as well, so that the
	// planner walks the few leased events (events_leased), not the
	// pending ones.
	ReleaseLeasesSQL = "UPDATE events SET lease_owner = '', lease_until = $2 WHERE lease_owner = $1 AND lease_owner <> '' AND status = 'pending'"
	RequeueSQL       = "UPDATE events SET status = 'pending', reason = '', next_attempt_at = $2, lease_owner = '', lease_until = $3 " +
		"WHERE id = $1 AND status IN ('delivered', 'failed')"

	// Templates and the status their review sets.
	InsertTemplateSQL = "INSERT INTO templates (" + TemplateCols + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
	SetTemplateSQL    = "UPDATE templates SET status = $5, reason = $6, review_at = $7, updated_at = $8 " +
		"WHERE account = $1 AND waba_id = $2 AND name = $3 AND language = $4"
	GetTemplateSQL   = "SELECT " + TemplateCols + " FROM templates WHERE account = $1 AND waba_id = $2 AND name = $3 AND language = $4"
	ListTemplatesSQL = "SELECT " + TemplateCols + " FROM templates WHERE account = $1 AND ($2 = '' OR waba_id = $2) ORDER BY seq"

	// WABA numbers (a number belongs to one WABA) and WhatsApp sessions.
	WabaOfNumberSQL   = "SELECT waba_id FROM waba_numbers WHERE account = $1 AND number = $2"
	InsertNumberSQL   = "INSERT INTO waba_numbers (account, number, waba_id, created_at) VALUES ($1, $2, $3, $4)"
	RegisterNumberSQL = InsertNumberSQL + " ON CONFLICT DO NOTHING"
	WabaNumbersSQL    = "SELECT number FROM waba_numbers WHERE account = $1 AND waba_id = $2 ORDER BY number"
	TouchSessionSQL   = "INSERT INTO sessions (account, business, user_number, last_inbound_at) VALUES ($1, $2, $3, $4) " +
		"ON CONFLICT (account, business, user_number) DO UPDATE SET last_inbound_at = excluded.last_inbound_at"

	// App secrets (sealed) of signed requests.
	SetAppSecretSQL = "INSERT INTO app_secrets (app_key, sealed, issued_at) VALUES ($1, $2, $3) " +
		"ON CONFLICT (app_key) DO UPDATE SET sealed = excluded.sealed, issued_at = excluded.issued_at"
	GetAppSecretSQL = "SELECT sealed, issued_at FROM app_secrets WHERE app_key = $1"

	// Template groups.
	PutGroupSQL = "INSERT INTO template_groups (" + GroupCols + ") VALUES ($1, $2, $3, $4, $5, $6) " +
		"ON CONFLICT (account, waba_id, group_id) DO UPDATE SET templates = excluded.templates, updated_at = excluded.updated_at"
	GetGroupSQL    = "SELECT " + GroupCols + " FROM template_groups WHERE account = $1 AND waba_id = $2 AND group_id = $3"
	ListGroupsSQL  = "SELECT " + GroupCols + " FROM template_groups WHERE account = $1 AND ($2 = '' OR waba_id = $2) ORDER BY waba_id, group_id"
	DeleteGroupSQL = "DELETE FROM template_groups WHERE account = $1 AND waba_id = $2 AND group_id = $3"
)

// Tables are every table Reset empties, children before their parents.
var Tables = []string{"attempts", "events", "messages", "bindings", "webhooks", "tokens", "apps",
	"templates", "waba_numbers", "sessions", "account_tokens", "app_secrets", "nonces", "template_groups", "accounts"}

// Scanner is a row of either driver: *sql.Row, *sql.Rows, pgx.Row, pgx.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Rows is a result set of either driver, read row by row; closing it is
// left to the caller (the drivers' Close methods differ).
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect reads every row of rows with scan.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// CollectClaimed reads the rows of a ClaimDue statement (EventCols) with
// scan, which also gives each event's seq, appending them to got.
func CollectClaimed(rows Rows, scan func(Scanner) (state.Event, int64, error), got []Claimed) ([]Claimed, error) {
	for rows.Next() {
		e, seq, err := scan(rows)
		if err != nil {
			return got, err
		}
		got = append(got, Claimed{Event: e, Seq: seq})
	}
	return got, rows.Err()
}

// ScanString reads a row of one text column.
func ScanString(sc Scanner) (string, error) {
	var s string
	return s, sc.Scan(&s)
}

// Or returns err when there is one, else alt.
func Or(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
