package db

import "context"

// MigrateTo applies migrations up to and including version last.
func (d *DB) MigrateTo(ctx context.Context, last string) ([]string, error) {
	return d.migrateTo(ctx, last)
}
