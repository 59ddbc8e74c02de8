package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestAuditOrgsMigration: migration 0048 gives every existing audit row
// the organisation of the user it is about and of who did it, as
// users.org_id says (none for external users), and its triggers keep them
// so on new rows, when a user's organisation changes and when a deleted
// account leaves a row without its person.
func TestAuditOrgsMigration(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) *db.DB{
		"sqlite": func(t *testing.T) *db.DB {
			d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), db.SQLiteFile))
			noErr(t, err)
			return d
		},
		"postgres": func(t *testing.T) *db.DB {
			d, err := db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
			noErr(t, err)
			return d
		},
	}
	for engine, openDB := range open {
		t.Run(engine, func(t *testing.T) {
			d := openDB(t)
			defer d.Close()
			_, err := d.MigrateTo(ctx, "0047_blob_writes")
			noErr(t, err)
			now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			var orgs []int64
			for _, name := range []string{"OSAW", "Ander"} {
				o := &db.Organisation{Name: name, CreatedAt: now}
				_, err := d.NewInsert().Model(o).Exec(ctx)
				noErr(t, err)
				orgs = append(orgs, o.ID)
			}
			user := func(email string, org *int64) int64 {
				u := &db.User{Email: email, Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
				if org != nil {
					u.Kind, u.OrgID = db.KindInternal, org
				}
				_, err := d.NewInsert().Model(u).Exec(ctx)
				noErr(t, err)
				return u.ID
			}
			hr, other, ext := user("hr@osaw.nl", &orgs[0]), user("hr@ander.nl", &orgs[1]), user("jan@example.nl", nil)
			insert := func(userID, actorID *int64) int64 {
				var id int64
				err := d.NewRaw("INSERT INTO audit_events (user_id, actor_id, kind, detail, ip, created_at) VALUES (?, ?, 'x', '', '', ?) RETURNING id",
					userID, actorID, now).Scan(ctx, &id)
				noErr(t, err)
				return id
			}
			type orgsOf struct{ User, Actor *int64 }
			check := func(step string, id int64, want orgsOf) {
				t.Helper()
				var got struct {
					UserOrgID  *int64
					ActorOrgID *int64
				}
				noErr(t, d.NewRaw("SELECT user_org_id, actor_org_id FROM audit_events WHERE id = ?", id).Scan(ctx, &got))
				if !sameID(got.UserOrgID, want.User) || !sameID(got.ActorOrgID, want.Actor) {
					t.Errorf("%s: row %d has organisations %v/%v, want %v/%v", step, id, deref(got.UserOrgID), deref(got.ActorOrgID), deref(want.User), deref(want.Actor))
				}
			}
			// Before the migration.
			aboutHR := insert(&hr, &hr)
			extByOther := insert(&ext, &other)
			extOwn := insert(&ext, nil)
			nobody := insert(nil, nil)
			_, err = d.Migrate(ctx)
			noErr(t, err)
			check("migrated", aboutHR, orgsOf{&orgs[0], &orgs[0]})
			check("migrated", extByOther, orgsOf{nil, &orgs[1]})
			check("migrated", extOwn, orgsOf{nil, nil})
			check("migrated", nobody, orgsOf{nil, nil})

			// After it, the triggers.
			hrByExt := insert(&hr, &ext)
			check("new row", hrByExt, orgsOf{&orgs[0], nil})
			_, err = d.NewRaw("UPDATE users SET org_id = ? WHERE id = ?", orgs[1], hr).Exec(ctx)
			noErr(t, err)
			check("moved", aboutHR, orgsOf{&orgs[1], &orgs[1]})
			check("moved", hrByExt, orgsOf{&orgs[1], nil})
			check("moved, someone else's row", extByOther, orgsOf{nil, &orgs[1]})
			_, err = d.NewRaw("DELETE FROM users WHERE id = ?", other).Exec(ctx)
			noErr(t, err)
			check("deleted actor", extByOther, orgsOf{nil, nil})
			check("deleted actor, someone else's row", aboutHR, orgsOf{&orgs[1], &orgs[1]})
		})
	}
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
