package db_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/messaging/messagingtest"
	"dialoog/vault"
)

// BenchmarkForeignKeyIndexesMigration: migration 0049 builds 18 indexes
// of foreign keys and two more, the largest on the messages' sender, the
// conversations' creator and the participants' "added by". It runs on a
// SQLite database left at 0048 holding 100,000 conversations of two
// messages (200,000 messages, 200,000 participant rows), beside a
// baseline that builds one index of the messages (on their conversation)
// in a copy of the same database: what one index over the largest table
// costs at start-up.
//
//	go test -run '^$' -bench ForeignKeyIndexesMigration -benchtime 3x ./db/
func BenchmarkForeignKeyIndexesMigration(b *testing.B) {
	ctx := context.Background()
	seeded := filepath.Join(b.TempDir(), db.SQLiteFile)
	d, err := db.OpenSQLite(ctx, seeded)
	noErr(b, err)
	_, err = d.MigrateTo(ctx, "0048_audit_orgs")
	noErr(b, err)
	v, err := vault.New(bytes.Repeat([]byte{7}, 32))
	noErr(b, err)
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	_, err = d.ExecContext(ctx, "INSERT INTO organisations (name, created_at) VALUES ('OSAW', ?)", now)
	noErr(b, err)
	owner := &db.User{Email: "hr@osaw.nl", Kind: db.KindInternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
		FirstName: "Hanna", LastName: "Helder", CreatedAt: now, UpdatedAt: now}
	org := int64(1)
	owner.OrgID = &org
	_, err = d.NewInsert().Model(owner).Exec(ctx)
	noErr(b, err)
	_, err = messagingtest.Seed(ctx, d, v, messagingtest.Box{OrgID: org, Owner: owner, Threads: 100000, Messages: 2, Others: 10000})
	noErr(b, err)
	noErr(b, d.Checkpoint(ctx))
	noErr(b, d.Close())

	benchMigration(b, seeded, "one-index-of-messages", func(d *db.DB) {
		_, err := d.ExecContext(ctx, "CREATE INDEX bench_messages_thread_idx ON messages (thread_id)")
		noErr(b, err)
	}, "0049_foreign_key_indexes", nil)
}
