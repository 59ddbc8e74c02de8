package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db/dbtest"
)

// BenchmarkAdminUsersSmallOrg measures the first page of Beheer's user
// list for a small organisation (28 people) and for a big one (half the
// installation), in an installation of 500 other users (the baseline in
// the same run) and of 50,000, on both engines: "walk" is the list as it
// was (every user in address order, each asked whether it is the
// organisation's), "auto" counts the organisation's people first and
// reads them when they are few.
//
//	go test -run '^$' -bench AdminUsersSmallOrg ./auth/
func BenchmarkAdminUsersSmallOrg(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			s := seedSmallOrg(b, d)
			a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }}}
			for _, n := range []int{500, 50000} {
				s.grow(b, d, n)
				dbtest.Statistics(b, d)
				for _, org := range []struct {
					name string
					cur  *auth.Current
				}{{"small", s.admin}, {"big", s.bAdmin}} {
					for _, how := range []string{"walk", "auto"} {
						b.Run(fmt.Sprintf("users=%d/%s/%s", n, org.name, how), func(b *testing.B) {
							a.UsersBy(map[string]string{"walk": "walk", "auto": ""}[how])
							defer a.UsersBy("")
							for b.Loop() {
								if _, err := a.Users(ctx, org.cur, "", auth.UsersAt{}); err != nil {
									b.Fatal(err)
								}
							}
						})
					}
				}
			}
		})
	}
}
