package dispatch

import (
	"context"
	"fmt"
	"time"
)

// maxRecordBatch bounds the results recorded in one RecordAll.
const maxRecordBatch = 64

// recordReq is one result waiting to be recorded in a batch.
type recordReq struct {
	res  Result
	done chan error
}

// recorder records results in batches until d.records is closed: it takes
// every result that is waiting when it becomes free (no timer: a lone result
// is recorded at once, and under load the batches grow by themselves).
func (d *Dispatcher) recorder(q BatchQueue) {
	batch := make([]recordReq, 0, maxRecordBatch)
	results := make([]Result, 0, maxRecordBatch)
	for first := range d.records {
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxRecordBatch {
			select {
			case r, ok := <-d.records:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		results = results[:0]
		for _, r := range batch {
			results = append(results, r.res)
		}
		errs := d.recordAll(q, results)
		for i, r := range batch {
			var err error
			if i < len(errs) {
				err = errs[i]
			}
			r.done <- err
		}
	}
}

// recordAll records one batch; a panic in the Queue becomes an error for
// each result, so that no attempt waits for its answer forever.
func (d *Dispatcher) recordAll(q BatchQueue, results []Result) (errs []error) {
	defer func() {
		if v := recover(); v != nil {
			d.logPanic("recording attempts", v)
			errs = make([]error, len(results))
			for i := range errs {
				errs[i] = fmt.Errorf("panic: %v", v)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return q.RecordAll(ctx, results)
}
