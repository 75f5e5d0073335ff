package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
)

// maxBatch caps how many write operations share one transaction, so that a
// flood of writers cannot hold the write lock (and delay every op's answer)
// for an unbounded time.
const maxBatch = 256

// Op states: a queued op is taken by the writer or abandoned by its caller,
// exactly once, so an op whose caller gave up is never run and an op that
// runs is always answered.
const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

// writeFunc is one write operation. It runs inside the batch transaction,
// in its own savepoint: returning an error undoes its writes only.
type writeFunc func(tx *wtx) error

type writeOp struct {
	ctx   context.Context
	fn    writeFunc
	state atomic.Int32
	done  chan error // buffered: the writer never blocks on a caller
}

// writer is the group-commit writer: the only goroutine that writes. SQLite
// takes one writer at a time anyway; funnelling every write through one
// goroutine lets it put the operations of concurrent callers into one
// transaction, so that N callers pay for one commit instead of N.
type writer struct {
	db    *sql.DB              // one connection: the database's only writer
	stmts map[string]*sql.Stmt // prepared on db at Open; read-only after
	ctx   context.Context      // statements run under it, not the caller's: see run
	ops   chan *writeOp        // unbuffered: a send succeeds only while run receives
	quit  chan struct{}        // closed by Close
	exit  chan struct{}        // closed when run returns

	batches, committed atomic.Int64 // for tests and tuning: transactions and ops in them
}

func newWriter(db *sql.DB, stmts map[string]*sql.Stmt) *writer {
	w := &writer{db: db, stmts: stmts, ctx: context.Background(),
		ops: make(chan *writeOp), quit: make(chan struct{}), exit: make(chan struct{})}
	go w.run()
	return w
}

// do runs fn in the next batch and returns its result once the batch has
// committed. If ctx ends before the writer takes the op, the op is dropped
// and ctx's error returned; once taken, do waits for the batch (a few
// milliseconds at most), so that the error it returns is always the truth:
// nil means committed, an error means nothing of fn was written.
func (w *writer) do(ctx context.Context, op string, fn writeFunc) error {
	if err := ctx.Err(); err != nil {
		return wrapErr(ctx, op, err)
	}
	o := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case w.ops <- o:
	case <-ctx.Done():
		return wrapErr(ctx, op, ctx.Err())
	case <-w.quit:
		return ErrClosed
	}
	select {
	case err := <-o.done:
		return wrapErr(ctx, op, err)
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opAbandoned) {
			return wrapErr(ctx, op, ctx.Err())
		}
		return wrapErr(ctx, op, <-o.done)
	}
}

// run collects ops into batches until quit. It does not wait to fill a
// batch: it takes whatever callers are already blocked sending, which is
// exactly the ops that queued up while the previous batch committed. A lone
// caller therefore pays no added latency, and under load batches grow by
// themselves.
func (w *writer) run() {
	defer close(w.exit)
	batch := make([]*writeOp, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case o := <-w.ops:
			batch = append(batch, o)
		case <-w.quit:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case o := <-w.ops:
				batch = append(batch, o)
			default:
				break more
			}
		}
		w.commit(batch)
	}
}

// commit runs a batch in one transaction, each op inside its own SAVEPOINT:
// an op that fails is rolled back to its savepoint and the others' work
// stays. Statements run under w.ctx rather than the op's context, because
// the driver cancels a statement with sqlite3_interrupt, which may roll back
// the whole transaction, and with it the other callers' work. An op's
// context is checked before it starts instead.
func (w *writer) commit(batch []*writeOp) {
	ops := batch[:0:0]
	for _, o := range batch {
		if o.state.CompareAndSwap(opQueued, opTaken) {
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		return
	}
	results := make([]error, len(ops))
	fail := func(err error) {
		for _, o := range ops {
			o.done <- err
		}
	}
	sqlTx, err := w.db.BeginTx(w.ctx, nil)
	if err != nil {
		fail(err)
		return
	}
	tx := &wtx{w: w, tx: sqlTx}
	for i, o := range ops {
		if err := o.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if err := tx.savepoint(o.fn); err != nil {
			if aborted, ok := err.(batchAborted); ok {
				// The transaction is gone (the disk is full, the file
				// unreadable, ...): nothing of the batch was written.
				_ = sqlTx.Rollback()
				fail(aborted.err)
				return
			}
			results[i] = err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		fail(fmt.Errorf("commit: %w", err))
		return
	}
	w.batches.Add(1)
	w.committed.Add(int64(len(ops)))
	for i, o := range ops {
		o.done <- results[i]
	}
}

// batchAborted reports that the batch transaction can no longer be used.
type batchAborted struct{ err error }

func (e batchAborted) Error() string { return e.err.Error() }

// wtx is the batch transaction as a write op sees it. Its statements come
// from the writer's prepared set, so the hot path never re-parses SQL.
type wtx struct {
	w     *writer
	tx    *sql.Tx
	cache map[string]*sql.Stmt // the writer's statements bound to tx
}

// savepoint runs fn between SAVEPOINT and RELEASE, rolling back to the
// savepoint when fn fails. It returns fn's error, or batchAborted when the
// savepoint itself cannot be managed, which means the transaction is lost.
func (t *wtx) savepoint(fn writeFunc) error {
	if _, err := t.tx.ExecContext(t.w.ctx, "SAVEPOINT op"); err != nil {
		return batchAborted{err}
	}
	ferr := fn(t)
	if ferr != nil {
		if _, err := t.tx.ExecContext(t.w.ctx, "ROLLBACK TO op"); err != nil {
			return batchAborted{fmt.Errorf("%w (then rolling back: %v)", ferr, err)}
		}
	}
	if _, err := t.tx.ExecContext(t.w.ctx, "RELEASE op"); err != nil {
		return batchAborted{err}
	}
	return ferr
}

// stmt returns query as a statement of this transaction: the writer's
// prepared one when there is one, else prepared now (for the rare queries
// not worth keeping, such as Reset's).
func (t *wtx) stmt(query string) (*sql.Stmt, error) {
	if s, ok := t.cache[query]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if p, ok := t.w.stmts[query]; ok {
		s = t.tx.StmtContext(t.w.ctx, p)
	} else {
		var err error
		if s, err = t.tx.PrepareContext(t.w.ctx, query); err != nil {
			return nil, err
		}
	}
	if t.cache == nil {
		t.cache = map[string]*sql.Stmt{}
	}
	t.cache[query] = s
	return s, nil
}

func (t *wtx) exec(query string, args ...any) (sql.Result, error) {
	s, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(t.w.ctx, args...)
}

// execN runs query and returns the number of rows it changed.
func (t *wtx) execN(query string, args ...any) (int64, error) {
	res, err := t.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *wtx) query(query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(t.w.ctx, args...)
}

func (t *wtx) queryRow(query string, args ...any) *sql.Row {
	s, err := t.stmt(query)
	if err != nil {
		// A *sql.Row cannot be built with an error outside database/sql;
		// run the query unprepared so that Scan reports the failure.
		return t.tx.QueryRowContext(t.w.ctx, query, args...)
	}
	return s.QueryRowContext(t.w.ctx, args...)
}
