package auth_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
)

// TestAdminStatementsDoNotGrow checks, on both engines, that a page of
// Beheer's user list runs as many statements for an organisation of 500
// people as for one of 50 (dbtest.CheckGrowth).
func TestAdminStatementsDoNotGrow(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return now }}}
		hook := dbtest.CountStatements(d)
		hook.CheckGrowth(t, "admin user list", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
			// An organisation of n internal users and n outsiders, each in
			// a conversation with one of them.
			o := &db.Organisation{Name: fmt.Sprintf("Org %d", n), CreatedAt: now}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			users := make([]db.User, 2*n)
			for i := range users {
				users[i] = db.User{Email: fmt.Sprintf("o%d-p%05d@example.nl", n, i), Kind: db.KindExternal, Status: db.StatusActive,
					Language: "nl", Gender: "unknown", FirstName: "Voor", LastName: fmt.Sprintf("Achter%05d", i), CreatedAt: now, UpdatedAt: now}
				if i%2 == 0 {
					users[i].Kind, users[i].OrgID = db.KindInternal, &o.ID
				}
			}
			if _, err := d.NewInsert().Model(&users).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			ths := make([]db.Thread, n)
			for k := range ths {
				ths[k] = db.Thread{OrgID: o.ID, Subject: "s", CreatedAt: now, LastMessageAt: now}
			}
			if _, err := d.NewInsert().Model(&ths).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			ps := make([]db.Participant, 0, 2*n)
			for k, th := range ths {
				ps = append(ps, db.Participant{ThreadID: th.ID, UserID: users[2*k].ID, AddedAt: now},
					db.Participant{ThreadID: th.ID, UserID: users[2*k+1].ID, AddedAt: now})
			}
			if _, err := d.NewInsert().Model(&ps).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			cur := &auth.Current{User: &identity.User{ID: users[0].ID, OrgID: &o.ID, Email: users[0].Email, Kind: db.KindInternal,
				IsAdmin: true, Status: db.StatusActive}}
			return func(ctx context.Context) error {
				p, err := a.Users(ctx, cur, "", auth.UsersAt{})
				if err == nil && len(p.Users) == 0 {
					err = fmt.Errorf("an empty page")
				}
				return err
			}
		})
	})
}

// TestAccountPagesStatementsDoNotGrow checks, on both engines, that a
// person's account pages run as many statements for a person with many
// sessions, passkeys and audit events as for one with few: the sessions
// list, the factors with the passkeys, and the first and a later page of
// the security activity; and so do a page of Beheer's audit log, its
// search by person and its export (a statement a batch of 500 rows).
func TestAccountPagesStatementsDoNotGrow(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		accounts := &auth.Accounts{DB: d, Now: func() time.Time { return now }}
		a := &auth.Admin{Accounts: accounts}
		hook := dbtest.CountStatements(d)
		// A person of a new organisation with n of each.
		person := func(t *testing.T, n int) (*auth.Current, *db.User) {
			t.Helper()
			o := &db.Organisation{Name: fmt.Sprintf("Org %d", n), CreatedAt: now}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			u := &db.User{Email: fmt.Sprintf("acc%d@example.nl", n), Kind: db.KindInternal, OrgID: &o.ID, IsAdmin: true, Status: db.StatusActive,
				Language: "nl", Gender: "unknown", FirstName: "Ad", LastName: "Min", CreatedAt: now, UpdatedAt: now}
			if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			sessions := make([]db.Session, n)
			keys := make([]db.Passkey, n)
			events := make([]db.AuditEvent, n)
			for i := range n {
				sessions[i] = db.Session{TokenHash: fmt.Appendf(nil, "t%d-%d", n, i), UserID: u.ID, SecondFactorAt: bun.NullTime{Time: now}, CreatedAt: now,
					LastSeenAt: now.Add(-time.Duration(i) * time.Second), ExpiresAt: now.Add(time.Hour), IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
				keys[i] = db.Passkey{UserID: u.ID, Name: fmt.Sprint("Sleutel ", i), CredentialID: fmt.Appendf(nil, "c%d-%d", n, i), UserHandle: []byte("h"),
					Credential: "{}", CreatedAt: now}
				events[i] = db.AuditEvent{UserID: &u.ID, ActorID: &u.ID, Kind: "login.succeeded", Detail: "password", IP: "203.0.113.7",
					CreatedAt: now.Add(-time.Duration(i) * time.Minute), OrgID: &o.ID}
			}
			for _, rows := range []any{&sessions, &keys, &events} {
				if _, err := d.NewInsert().Model(rows).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			cur := &auth.Current{User: &identity.User{ID: u.ID, OrgID: &o.ID, Email: u.Email, Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive},
				Session: &identity.Session{ID: sessions[0].ID}}
			return cur, u
		}
		hook.CheckGrowth(t, "account pages", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
			cur, u := person(t, n)
			return func(ctx context.Context) error {
				if ss, err := accounts.LiveSessions(ctx, cur); err != nil || len(ss) != n {
					return fmt.Errorf("%d sessions listed: %v", len(ss), err)
				}
				if fs, err := accounts.Factors(ctx, cur); err != nil || len(fs) != n {
					return fmt.Errorf("%d factors listed: %v", len(fs), err)
				}
				for _, page := range []int{1, 2} {
					if evs, _, err := accounts.Activity(ctx, u.ID, page); err != nil || len(evs) != auth.ActivityPageSize {
						return fmt.Errorf("%d events on page %d: %v", len(evs), page, err)
					}
				}
				return nil
			}
		})
		hook.CheckGrowth(t, "audit log", 100, 1000, func(t *testing.T, n int) func(ctx context.Context) error {
			cur, u := person(t, n)
			return func(ctx context.Context) error {
				p, err := a.AuditLog(ctx, cur, auth.AuditQuery{})
				if err != nil || len(p.Rows) != auth.AuditPageSize {
					return fmt.Errorf("%d rows on the first page: %v", len(p.Rows), err)
				}
				last := p.Rows[len(p.Rows)-1]
				if _, err := a.AuditLog(ctx, cur, auth.AuditQuery{After: last.Cursor()}); err != nil {
					return err
				}
				if _, err := a.AuditLog(ctx, cur, auth.AuditQuery{Person: u.Email}); err != nil {
					return err
				}
				return a.ExportAudit(ctx, cur, auth.AuditQuery{}, "203.0.113.7", io.Discard)
			}
		})
	})
}
