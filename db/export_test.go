package db

// WithoutWriterQueue makes d's transactions wait in SQLite's busy handler,
// as they did before the writer queue, for the benchmark's baseline.
func WithoutWriterQueue(d *DB) { d.writer = nil }

// StopCheckpointer stops d's checkpointer, so that a test sees what the
// commits alone do to SQLite's log.
func StopCheckpointer(d *DB) {
	d.ckpt.close()
	d.ckpt = nil
}

// CheckpointLimit is the log's size, in pages, at which the checkpointer
// copies it in the writers' turn.
const CheckpointLimit = checkpointLimit

// WALSizeLimit is the size, in bytes, SQLite cuts its log file back to when
// the log starts again.
const WALSizeLimit = walSizeLimit

// WaitSpread waits until the statements handed to the spreader so far are
// prepared on the connections that were idle for them (see Warm).
func WaitSpread(d *DB) { d.warm.busy.Wait() }
