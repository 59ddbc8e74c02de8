package signing_test

import (
	"context"
	"slices"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/signing"
)

// TestLiveCardsLeaveOutWhoLostAccess: the live push of a request's card
// goes to everyone of its event who may still see it, and leaves out the
// others, whoever they are: the colleague whose leaving the team lapsed the
// request (the event names them, as it is staged before their rows go), and
// someone who never took part. Before, one of them made the whole push
// fail, so that nobody's open page showed the lapse.
func TestLiveCardsLeaveOutWhoLostAccess(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		arts := f.user(t, "arts@osaw.nl", true, "Anna", "Arts")
		stranger := f.user(t, "vreemd@example.nl", false, "Vera", "Vreemd")
		team, err := f.msgs.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", false, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{f.hr, arts} {
			if err := f.msgs.AddTeamMember(ctx, team.ID, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Re-integratieplan", Body: "Zie bijlage.", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		f.thread = tid
		id := f.request(t, "plan.pdf", pdf(1, "T"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, arts.ID}})

		if err := f.msgs.RemoveTeamMember(ctx, team.ID, arts.Email); err != nil {
			t.Fatal(err)
		}
		var ev *messaging.Event
		for _, e := range f.ev.kinds(signing.EventSigning) {
			if e.MessageID == id {
				ev = &e
			}
		}
		if ev == nil {
			t.Fatal("no live event of the lapse")
		}
		cards, err := f.svc.LiveCards(ctx, id, append(slices.Clone(ev.UserIDs), stranger.ID))
		if err != nil {
			t.Fatalf("live cards of the lapse: %v", err)
		}
		var got []int64
		for _, c := range cards {
			got = append(got, c.UserID)
			if c.Card.Status != signing.StatusLapsed {
				t.Errorf("card for %d: status %s, want %s", c.UserID, c.Card.Status, signing.StatusLapsed)
			}
		}
		slices.Sort(got)
		want := []int64{f.hr.ID, f.jan.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("live cards for %v, want %v (the requester and Jan; neither Anna nor the stranger)", got, want)
		}
	})
}
