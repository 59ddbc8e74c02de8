package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
