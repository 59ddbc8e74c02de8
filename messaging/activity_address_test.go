package messaging_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// An administrator's action on someone's account (a helpdesk reset, a
// colleague disabled or invited) was done from the administrator's
// address. The person sees the event in "Beveiligingsactiviteit" and gets
// it in their export, but not that address: it is the administrator's,
// not theirs. Their own events keep theirs.
func TestActivityShowsNoOtherPersonsAddress(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		now := f.clk.Now()
		for i, e := range []auth.AuditEntry{
			{UserID: &jan.ID, Kind: "login.ok", Detail: "password", IP: "192.0.2.7"},
			{UserID: &jan.ID, ActorID: &f.hr.ID, Kind: "admin.helpdesk_reset_started", IP: "198.51.100.23"},
			{UserID: &jan.ID, ActorID: &jan.ID, Kind: "medical.opened", IP: "192.0.2.8"},
		} {
			e.Now = now.Add(time.Duration(i) * time.Minute)
			if err := auth.Audit(ctx, d, e); err != nil {
				t.Fatal(err)
			}
		}

		events, _, err := (&auth.Accounts{DB: d}).Activity(ctx, jan.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		var shown []string
		for _, ev := range events {
			shown = append(shown, ev.Kind+"@"+ev.Place)
		}
		if want := []string{"medical.opened@192.0.2.x", "admin.helpdesk_reset_started@", "login.ok@192.0.2.x"}; !slices.Equal(shown, want) {
			t.Errorf("security activity %v, want %v", shown, want)
		}

		f.clk.Add(time.Hour)
		data, err := exportWith(ctx, f.svc, jan, "203.0.113.5")
		if err != nil {
			t.Fatal(err)
		}
		var activity struct {
			Events []struct{ Kind, IP string }
		}
		files := unzip(t, data)
		if err := json.Unmarshal([]byte(files["beveiligingsactiviteit.json"]), &activity); err != nil {
			t.Fatal(err)
		}
		var exported []string
		for _, ev := range activity.Events {
			exported = append(exported, ev.Kind+"@"+ev.IP)
		}
		want := []string{"login.ok@192.0.2.7", "admin.helpdesk_reset_started@", "medical.opened@192.0.2.8", messaging.AuditBoxExported + "@203.0.113.5"}
		if !slices.Equal(exported, want) {
			t.Errorf("exported activity %v, want %v", exported, want)
		}
	})
}
