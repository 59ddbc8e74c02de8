package messaging_test

import (
	"context"
	"slices"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestMedicalContactsFollowAccess: the addresses the compose form suggests
// come only from conversations the user may read. Someone who left the
// medical team is not told, through the suggestions, who was added to a
// medical conversation after they lost access.
func TestMedicalContactsFollowAccess(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		arts := f.active(t, "anna@osaw.nl", true, "Anna", "", "Arts")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		specialist := f.active(t, "specialist@example.nl", false, "Sven", "", "Pecialist")
		med, err := f.svc.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", true, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{arts, f.hr} {
			if err := f.svc.AddTeamMember(ctx, med.ID, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, arts.Email}, Subject: "Diagnose", Body: "Uitslag", Medical: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveTeamMember(ctx, med.ID, f.hr.Email); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, arts.Identity(), id, messaging.AddInput{Email: specialist.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		contacts, err := f.svc.Contacts(ctx, f.hr.Identity(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(contacts, specialist.Email) {
			t.Errorf("contacts after losing access %v name who was added to the medical conversation", contacts)
		}
		// Anna, who may read it, is offered him.
		contacts, err = f.svc.Contacts(ctx, arts.Identity(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(contacts, specialist.Email) {
			t.Errorf("Anna's contacts %v lack the specialist", contacts)
		}
	})
}
