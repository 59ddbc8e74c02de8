package db

// WithoutWriterQueue makes d's transactions wait in SQLite's busy handler,
// as they did before the writer queue, for the benchmark's baseline.
func WithoutWriterQueue(d *DB) { d.writer = nil }
