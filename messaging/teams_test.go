package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// countersAgree fails when a participant's stored counters or a user's
// unread total differ from what the read states say.
func countersAgree(t *testing.T, d *db.DB, step string) {
	t.Helper()
	ctx := context.Background()
	var bad []struct{ ThreadID, UserID, UnreadCount, BoxCount, Unread, Box int64 }
	if err := d.NewRaw(`SELECT * FROM (SELECT p.thread_id, p.user_id, p.unread_count, p.box_count,
  (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
    WHERE m.thread_id = p.thread_id AND ms.user_id = p.user_id AND ms.read_at IS NULL AND ms.removed_at IS NULL) AS unread,
  (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
    WHERE m.thread_id = p.thread_id AND ms.user_id = p.user_id AND ms.removed_at IS NULL) AS box
  FROM participants AS p) AS x WHERE unread_count <> unread OR box_count <> box`).Scan(ctx, &bad); err != nil {
		t.Fatal(err)
	}
	var badTotals []struct{ ID, UnreadTotal, Sum int64 }
	if err := d.NewRaw(`SELECT * FROM (SELECT u.id, u.unread_total,
  (SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p WHERE p.user_id = u.id) AS sum FROM users AS u) AS x
  WHERE unread_total <> sum`).Scan(ctx, &badTotals); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 || len(badTotals) > 0 {
		t.Fatalf("after %s the counters are off: %+v %+v", step, bad, badTotals)
	}
}

func newTeam(t *testing.T, f *fx, name string, showPerson bool, members ...*db.User) *db.Team {
	t.Helper()
	ctx := context.Background()
	team, err := f.svc.CreateTeam(ctx, f.org.ID, name, false, showPerson)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := f.svc.AddTeamMember(ctx, team.ID, m.Email); err != nil {
			t.Fatal(err)
		}
	}
	return team
}

// A team's conversation: every member sees it and answers it, a colleague
// outside the team gets NotFound on every path, read state stays per
// person, and the outsider sees who answered on behalf of the team.
func TestTeamMembersShareConversation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr, piet)

		// Only members start conversations of the team.
		_, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "X", Body: "Y", TeamID: team.ID})
		wantKey(t, err, "team.not_yours")

		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "team compose")
		// Piet did not write it, yet it is in his box, unread.
		box, err := f.svc.TeamBox(ctx, piet.Identity(), team.ID, 1)
		if err != nil || len(box.Threads) != 1 || box.Threads[0].ID != tid || box.Threads[0].Unread != 1 {
			t.Fatalf("piet's team box: %+v %v", box, err)
		}
		if teams, _ := f.svc.MyTeams(ctx, piet.Identity()); len(teams) != 1 || teams[0].Unread != 1 || teams[0].Name != "OSAW Verzuim" {
			t.Fatalf("piet's teams: %+v", teams)
		}
		// The live event reaches every member.
		last := f.ev.evs[len(f.ev.evs)-1]
		if len(last.UserIDs) != 3 {
			t.Fatalf("live event for %v, want hr, piet and jan", last.UserIDs)
		}

		// Bram is of the organisation but not of the team.
		if _, err := f.svc.Thread(ctx, f.boss.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("non-member reads the team's conversation: %v", err)
		}
		if _, err := f.svc.Reply(ctx, f.boss.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "ik ook"}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("non-member answers: %v", err)
		}
		if _, err := f.svc.TeamBox(ctx, f.boss.Identity(), team.ID, 1); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("non-member's team box: %v", err)
		}

		// Jan answers, Piet answers on behalf of the team.
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Beter"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MarkRead(ctx, f.hr.Identity(), tid); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Fijn om te horen"}); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "replies")
		// Read state per person: Hanna read Jan's answer, Piet answered
		// without opening the conversation.
		if n, _ := f.svc.UnreadCount(ctx, f.hr.ID); n != 1 {
			t.Fatalf("hanna unread %d, want 1 (piet's answer)", n)
		}
		if n, _ := f.svc.UnreadCount(ctx, piet.ID); n != 2 {
			t.Fatalf("piet unread %d, want 2", n)
		}

		v, err := f.svc.Thread(ctx, jan.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Messages) != 3 {
			t.Fatalf("jan sees %d messages", len(v.Messages))
		}
		for i, want := range []struct{ name, team string }{{"Hanna de Vries", "OSAW Verzuim"}, {"Jan Jansen", ""}, {"Piet Post", "OSAW Verzuim"}} {
			if m := v.Messages[i]; m.SenderName != want.name || m.SenderTeam != want.team {
				t.Fatalf("jan sees message %d from %q namens %q, want %q namens %q", i, m.SenderName, m.SenderTeam, want.name, want.team)
			}
		}
		if len(v.Participants) != 2 || v.Participants[0].Name != "OSAW Verzuim" || v.Participants[1].Name != "Jan Jansen" {
			t.Fatalf("jan sees the team, not its members: %+v", v.Participants)
		}
		if p, _ := f.svc.Inbox(ctx, jan.Identity(), 1, ""); len(p.Threads) != 1 || p.Threads[0].From != "OSAW Verzuim" {
			t.Fatalf("jan's inbox line: %+v", p.Threads)
		}
		if p, _ := f.svc.Inbox(ctx, piet.Identity(), 1, ""); len(p.Threads) != 1 || p.Threads[0].From != "Hanna de Vries, Jan Jansen" {
			t.Fatalf("piet's inbox line: %+v", p.Threads)
		}
		readers, err := f.svc.LiveUpdate(ctx, tid, 0, []int64{jan.ID})
		if err != nil || len(readers) != 1 || readers[0].Thread.From != "OSAW Verzuim" {
			t.Fatalf("jan's live inbox line: %+v %v", readers, err)
		}
		// Members see their colleague by name.
		v, _ = f.svc.Thread(ctx, f.hr.Identity(), tid)
		if m := v.Messages[2]; m.SenderName != "Piet Post" || m.SenderTeam != "OSAW Verzuim" || v.TeamName != "OSAW Verzuim" || len(v.Members) != 2 {
			t.Fatalf("hanna sees %+v in %+v", m, v)
		}
	})
}

// A team that hides its people: the outsider sees only the team, the
// members still see who wrote.
func TestTeamHidesPerson(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan, tid := hiddenTeamConversation(t, f)
		v, _ := f.svc.Thread(ctx, jan.Identity(), tid)
		if m := v.Messages[0]; m.SenderName != "Bedrijfsarts" || m.SenderTeam != "" || m.SenderOrg != "" {
			t.Fatalf("jan sees %+v", m)
		}
		v, _ = f.svc.Thread(ctx, f.hr.Identity(), tid)
		if m := v.Messages[0]; m.SenderName != "Bram Arts" || m.SenderTeam != "Bedrijfsarts" {
			t.Fatalf("a colleague sees %+v", m)
		}
		// A personal conversation is unchanged.
		pid, _ := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Persoonlijk", Body: "Hoi"})
		v, _ = f.svc.Thread(ctx, jan.Identity(), pid)
		if m := v.Messages[0]; m.SenderName != "Bram Arts" || m.SenderTeam != "" || m.SenderOrg != "OSAW" {
			t.Fatalf("personal: %+v", m)
		}
	})
}

// An outsider's search finds a team's conversation as the outsider sees
// it: by the subject or the organisation, not by the name or address of a
// member, whom the team stands for (a team that hides its people would
// otherwise be probed for who is in it). A colleague still finds it by the
// member's name, and the outsider finds a personal conversation with the
// same person.
func TestSearchShowsTeamNotMembers(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan, tid := hiddenTeamConversation(t, f)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		pid, err := f.svc.Compose(ctx, piet.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verlof", Body: "Hoi"})
		if err != nil {
			t.Fatal(err)
		}
		found := func(u *db.User, query string) []int64 {
			t.Helper()
			p, err := f.svc.Inbox(ctx, u.Identity(), 1, query)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, th := range p.Threads {
				ids = append(ids, th.ID)
			}
			return ids
		}
		for _, q := range []string{f.boss.FirstName, f.boss.LastName, f.hr.FirstName, f.hr.LastName, f.boss.Email, f.hr.FirstName[:2]} {
			if ids := found(jan, q); len(ids) != 0 {
				t.Errorf("the outsider's search for %q finds %v: a member of the team", q, ids)
			}
		}
		if ids := found(jan, "Spreek"); len(ids) != 1 || ids[0] != tid {
			t.Errorf("by subject: %v", ids)
		}
		if ids := found(jan, "Piet"); len(ids) != 1 || ids[0] != pid {
			t.Errorf("a personal conversation by name: %v", ids)
		}
		if ids := found(f.hr, f.boss.LastName); len(ids) != 1 || ids[0] != tid {
			t.Errorf("a colleague by the member's name: %v", ids)
		}
	})
}

// The read receipts of an outsider's message name the team, once, as the
// participant list does, and not its members (a team that hides its people
// names nobody): read once a member has read it. On the page and live.
func TestReceiptsShowTeamToOutsider(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan, tid := hiddenTeamConversation(t, f)
		mid, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Ja"})
		if err != nil {
			t.Fatal(err)
		}
		check := func(step string, read bool) {
			t.Helper()
			v, err := f.svc.Thread(ctx, jan.Identity(), tid)
			if err != nil {
				t.Fatal(err)
			}
			live, err := f.svc.LiveUpdate(ctx, tid, mid, []int64{jan.ID})
			if err != nil || len(live) != 1 || live[0].Message == nil {
				t.Fatalf("%s: live %+v %v", step, live, err)
			}
			for where, m := range map[string]messaging.MessageView{"page": v.Messages[len(v.Messages)-1], "live": *live[0].Message} {
				if !m.Mine || len(m.Receipts) != 1 || m.Receipts[0].Name != "Bedrijfsarts" || m.Receipts[0].ReadAt.IsZero() == read {
					t.Errorf("%s, %s: receipts %+v, want the team once (read %v)", step, where, m.Receipts, read)
				}
			}
		}
		check("unread", false)
		f.clk.Add(time.Minute)
		if _, err := f.svc.MarkRead(ctx, f.boss.Identity(), tid); err != nil {
			t.Fatal(err)
		}
		check("read by a member", true)
	})
}

// "… is aan het typen" names a member of a team that hides its people as
// the team to an outsider, as the team's messages do; colleagues see the
// person.
func TestTypingShowsTeamToOutsider(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan, tid := hiddenTeamConversation(t, f)
		to, err := f.svc.LiveTyping(ctx, tid, f.boss.ID, []int64{jan.ID, f.hr.ID})
		if err != nil || len(to) != 2 {
			t.Fatalf("typing reaches %+v %v", to, err)
		}
		want := map[int64]string{jan.ID: "Bedrijfsarts", f.hr.ID: "Bram Arts"}
		for _, r := range to {
			if r.Typist != want[r.UserID] {
				t.Errorf("user %d is told %q is typing, want %q", r.UserID, r.Typist, want[r.UserID])
			}
		}
		// The outsider's own typing names them to the team.
		to, err = f.svc.LiveTyping(ctx, tid, jan.ID, []int64{f.boss.ID})
		if err != nil || len(to) != 1 || to[0].Typist != "Jan Jansen" {
			t.Fatalf("jan's typing: %+v %v", to, err)
		}
	})
}

// "X is toegevoegd door Y" names a member of a team that hides its people
// as the team to an outsider, as the team's messages do.
func TestSystemLineShowsTeamToOutsider(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan, tid := hiddenTeamConversation(t, f)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		if err := f.svc.AddParticipant(ctx, f.boss.Identity(), tid, messaging.AddInput{Email: piet.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			u    *db.User
			want string
		}{{jan, "Bedrijfsarts"}, {f.hr, "Bram Arts"}, {piet, "Bram Arts"}} {
			v, err := f.svc.Thread(ctx, c.u.Identity(), tid)
			if err != nil {
				t.Fatal(err)
			}
			m := v.Messages[len(v.Messages)-1]
			if m.System != messaging.SystemParticipantAdded || m.SystemSubject != "Piet Post" || m.SenderName != c.want {
				t.Errorf("%s sees the line %+v, added by %q; want by %q", c.u.Email, m, m.SenderName, c.want)
			}
		}
	})
}

// Joining a team gives its conversations with their history (read);
// leaving takes them away at once: page, reply, inbox, team box and live
// update, while the former member's messages keep their name.
func TestTeamJoinAndLeave(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Een", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Twee"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Thread(ctx, piet.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("before joining: %v", err)
		}
		if err := f.svc.AddTeamMember(ctx, team.ID, piet.Email); err != nil {
			t.Fatal(err)
		}
		wantKey(t, f.svc.AddTeamMember(ctx, team.ID, piet.Email), "team.already_member")
		wantKey(t, f.svc.AddTeamMember(ctx, team.ID, jan.Email), "team.member_not_internal")
		countersAgree(t, d, "join")
		v, err := f.svc.Thread(ctx, piet.Identity(), tid)
		if err != nil || len(v.Messages) != 2 {
			t.Fatalf("after joining: %+v %v", v, err)
		}
		if n, _ := f.svc.UnreadCount(ctx, piet.ID); n != 0 {
			t.Fatalf("the history arrives read, unread %d", n)
		}
		if _, err := f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Drie"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Vier"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Assign(ctx, f.hr.Identity(), tid, piet.ID); err != nil {
			t.Fatal(err)
		}

		if err := f.svc.RemoveTeamMember(ctx, team.ID, piet.Email); err != nil {
			t.Fatal(err)
		}
		wantKey(t, f.svc.RemoveTeamMember(ctx, team.ID, piet.Email), "team.not_member")
		countersAgree(t, d, "leave")
		if _, err := f.svc.Thread(ctx, piet.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("after leaving, the page: %v", err)
		}
		if _, err := f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "nog"}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("after leaving, a reply: %v", err)
		}
		if p, _ := f.svc.Inbox(ctx, piet.Identity(), 1, ""); len(p.Threads) != 0 || p.Unread != 0 {
			t.Fatalf("after leaving, the inbox: %+v", p)
		}
		if p, _ := f.svc.Inbox(ctx, piet.Identity(), 1, "verzuim"); len(p.Threads) != 0 {
			t.Fatalf("after leaving, search: %+v", p.Threads)
		}
		if _, err := f.svc.ParticipantIDs(ctx, piet.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("after leaving, typing: %v", err)
		}
		// A push of the next message leaves him out, even when asked for him.
		mid, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Vijf"})
		if err != nil {
			t.Fatal(err)
		}
		readers, err := f.svc.LiveUpdate(ctx, tid, mid, []int64{piet.ID, f.hr.ID})
		if err != nil || len(readers) != 1 || readers[0].UserID != f.hr.ID {
			t.Fatalf("live after leaving: %+v %v", readers, err)
		}
		// His message keeps his name; the conversation is no longer his.
		v, _ = f.svc.Thread(ctx, jan.Identity(), tid)
		if m := v.Messages[2]; m.SenderName != "Piet Post" || m.SenderTeam != "OSAW Verzuim" {
			t.Fatalf("the former member's message: %+v", m)
		}
		v, _ = f.svc.Thread(ctx, f.hr.Identity(), tid)
		if v.AssignedToID != 0 {
			t.Fatalf("still assigned to the former member: %+v", v)
		}
	})
}

// Assignment: a member assigns a conversation of the team to themself or
// a colleague; the team box shows who handles it; nobody else assigns.
func TestTeamAssignment(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr, piet)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Een", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Assign(ctx, f.hr.Identity(), tid, f.hr.ID); err != nil {
			t.Fatal(err)
		}
		box, _ := f.svc.TeamBox(ctx, piet.Identity(), team.ID, 1)
		if len(box.Threads) != 1 || box.Threads[0].AssignedTo != "Hanna de Vries" {
			t.Fatalf("team box: %+v", box.Threads)
		}
		f.ev.evs = nil
		if err := f.svc.Assign(ctx, piet.Identity(), tid, piet.ID); err != nil {
			t.Fatal(err)
		}
		if len(f.ev.evs) != 1 || f.ev.evs[0].Kind != messaging.EventAssigned || len(f.ev.evs[0].UserIDs) != 2 {
			t.Fatalf("the members hear of it: %+v", f.ev.evs)
		}
		if p, _ := f.svc.Inbox(ctx, f.hr.Identity(), 1, ""); p.Threads[0].AssignedTo != "Piet Post" {
			t.Fatalf("hanna's inbox: %+v", p.Threads)
		}
		if p, _ := f.svc.Inbox(ctx, jan.Identity(), 1, ""); p.Threads[0].AssignedTo != "" {
			t.Fatalf("the outsider is not told who handles it: %+v", p.Threads)
		}
		wantKey(t, f.svc.Assign(ctx, f.hr.Identity(), tid, f.boss.ID), "team.assignee_not_member")
		if err := f.svc.Assign(ctx, f.boss.Identity(), tid, f.boss.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a non-member assigns: %v", err)
		}
		if err := f.svc.Assign(ctx, jan.Identity(), tid, jan.ID); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("the outsider assigns: %v", err)
		}
		if err := f.svc.Assign(ctx, piet.Identity(), tid, 0); err != nil {
			t.Fatal(err)
		}
		if box, _ := f.svc.TeamBox(ctx, f.hr.Identity(), team.ID, 1); box.Threads[0].AssignedTo != "" {
			t.Fatalf("cleared: %+v", box.Threads)
		}
	})
}

// TestNotificationNamesTheTeam: an outsider told of a message written on
// behalf of a team hears of the team, whether or not it shows its people,
// never of the organisation; a colleague in the team hears of the person.
func TestNotificationNamesTheTeam(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		kim := f.active(t, "kim@example.nl", false, "Kim", "", "Smit")
		hidden := newTeam(t, f, "Bedrijfsarts", false, f.hr, f.boss)
		shown := newTeam(t, f, "Verzuimteam", true, f.boss)
		tid, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Spreekuur", Body: "Dinsdag?", TeamID: hidden.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{kim.Email}, Subject: "Verzuim", Body: "Hoe gaat het?", TeamID: shown.ID}); err != nil {
			t.Fatal(err)
		}
		// Added to the team's conversation by a member: told of the team too.
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		if err := f.svc.AddParticipant(ctx, f.boss.Identity(), tid, messaging.AddInput{Email: piet.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		for to, want := range map[string]string{
			"piet@example.nl": "Je hebt een nieuw bericht van Bedrijfsarts",
			"jan@example.nl":  "Je hebt een nieuw bericht van Bedrijfsarts",
			"kim@example.nl":  "Je hebt een nieuw bericht van Verzuimteam",
			"hr@osaw.nl":      "Je hebt een nieuw bericht van Bram Arts",
		} {
			ms := f.mailsTo(t, to)
			if len(ms) == 0 {
				t.Errorf("no mail to %s", to)
				continue
			}
			if got := ms[0].Mail.Subject; got != want {
				t.Errorf("mail to %s: %q, want %q", to, got, want)
			}
		}
	})
}

// An outsider's address suggestions hold the internal users they write
// with personally, not the members of a team they write with: to them a
// team's members are the team, whose people may be hidden.
func TestTeamContactsShowNoMembers(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan, _ := hiddenTeamConversation(t, f)
		if got, err := f.svc.Contacts(ctx, jan.Identity(), 10); err != nil || len(got) != 0 {
			t.Fatalf("the outsider is offered the team's members: %v %v", got, err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Persoonlijk", Body: "Hoi"}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.Contacts(ctx, jan.Identity(), 10); err != nil || len(got) != 1 || got[0] != f.hr.Email {
			t.Fatalf("the outsider's suggestions after a personal conversation: %v %v", got, err)
		}
		if got, err := f.svc.Contacts(ctx, f.boss.Identity(), 10); err != nil || len(got) != 2 {
			t.Fatalf("a member's suggestions: %v %v", got, err)
		}
	})
}

// hiddenTeamConversation starts the conversation the tests of a team that
// hides its people share: Bram writes to Jan (external) for Bedrijfsarts,
// the team of Hanna and Bram. It returns Jan and the conversation.
func hiddenTeamConversation(t *testing.T, f *fx) (jan *db.User, tid int64) {
	t.Helper()
	jan = f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
	team := newTeam(t, f, "Bedrijfsarts", false, f.hr, f.boss)
	tid, err := f.svc.Compose(context.Background(), f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Spreekuur", Body: "Dinsdag?", TeamID: team.ID})
	if err != nil {
		t.Fatal(err)
	}
	return jan, tid
}

// Someone who took part in a team's conversation with only the messages
// from now on and then joins the team gets its history like every
// member, and their counters count it.
func TestTeamJoinAfterAddedFromNowOn(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Een", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Twee"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: f.boss.Email, History: messaging.FromNowOn}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddTeamMember(ctx, team.ID, f.boss.Email); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "joining the team")
		v, err := f.svc.Thread(ctx, f.boss.Identity(), tid)
		if err != nil || len(v.Messages) != 3 {
			t.Fatalf("after joining: %+v %v", v, err)
		}
	})
}

// TestTeamJoinIsNoReceipt: the history a new member gets arrives read for
// them, but nobody read it: an outsider's message that no member opened
// still shows the team's receipt as unread, on the page and live, and may
// still be deleted for everyone. Once the new member opens the
// conversation, it is read by the team.
func TestTeamJoinIsNoReceipt(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Een", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		mid, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Twee"})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if err := f.svc.AddTeamMember(ctx, team.ID, piet.Email); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "join")
		check := func(step string, read bool) {
			t.Helper()
			v, err := f.svc.Thread(ctx, jan.Identity(), tid)
			if err != nil {
				t.Fatal(err)
			}
			live, err := f.svc.LiveUpdate(ctx, tid, mid, []int64{jan.ID})
			if err != nil || len(live) != 1 || live[0].Message == nil {
				t.Fatalf("%s: live %+v %v", step, live, err)
			}
			for where, m := range map[string]messaging.MessageView{"page": v.Messages[len(v.Messages)-1], "live": *live[0].Message} {
				if len(m.Receipts) != 1 || m.Receipts[0].Name != "OSAW Verzuim" || m.Receipts[0].ReadAt.IsZero() == read || m.CanDeleteForEveryone == read {
					t.Errorf("%s, %s: receipts %+v, may delete %v; want the team (read %v)", step, where, m.Receipts, m.CanDeleteForEveryone, read)
				}
			}
		}
		check("after the join", false)
		if n, _ := f.svc.UnreadCount(ctx, piet.ID); n != 0 {
			t.Fatalf("the history arrives read, unread %d", n)
		}
		f.clk.Add(time.Minute)
		if _, err := f.svc.MarkRead(ctx, piet.Identity(), tid); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "the new member read")
		check("opened by the new member", true)
		if err := f.svc.DeleteForEveryone(ctx, jan.Identity(), mid); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("deleting a message the team read: %v", err)
		}
	})
}

// TestTeamLeaveKeepsPersonalConversation: a colleague added to one of a
// team's conversations in person (from now on) who then joins the team
// and leaves it again keeps that conversation as they had it: what they
// got through the team and never opened goes, the rest stays. The team's
// other conversations go with the membership.
func TestTeamLeaveKeepsPersonalConversation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Een", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Ander", Body: "Ander", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: f.boss.Email, History: messaging.FromNowOn}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Twee"}); err != nil {
			t.Fatal(err)
		}
		before, err := f.svc.Thread(ctx, f.boss.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if err := f.svc.AddTeamMember(ctx, team.ID, f.boss.Email); err != nil {
			t.Fatal(err)
		}
		if v, err := f.svc.Thread(ctx, f.boss.Identity(), tid); err != nil || len(v.Messages) <= len(before.Messages) {
			t.Fatalf("the team's history did not arrive: %v", err)
		}
		if err := f.svc.RemoveTeamMember(ctx, team.ID, f.boss.Email); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "leaving the team")
		after, err := f.svc.Thread(ctx, f.boss.Identity(), tid)
		if err != nil {
			t.Fatalf("the conversation added in person was lost with the team: %v", err)
		}
		if len(after.Messages) != len(before.Messages) {
			t.Fatalf("after leaving %d messages, before joining %d", len(after.Messages), len(before.Messages))
		}
		if _, err := f.svc.Thread(ctx, f.boss.Identity(), other); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("the team's other conversation after leaving: %v", err)
		}
		if p, _ := f.svc.Inbox(ctx, f.boss.Identity(), 1, ""); len(p.Threads) != 1 || p.Threads[0].ID != tid {
			t.Fatalf("the inbox after leaving: %+v", p.Threads)
		}
		// And it is theirs in person now: a second join and leave keeps it.
		f.clk.Add(time.Minute)
		if err := f.svc.AddTeamMember(ctx, team.ID, f.boss.Email); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveTeamMember(ctx, team.ID, f.boss.Email); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "joining and leaving again")
		if _, err := f.svc.Thread(ctx, f.boss.Identity(), tid); err != nil {
			t.Fatalf("after a second membership: %v", err)
		}
	})
}

// TestTeamBoxOnlyForMembers: a team box (/berichten?team=ID) is NotFound,
// like every other object someone may not see, for a colleague outside the
// team, an outsider, an internal user of another organisation, a team of
// another organisation and an id no team has; on the first page and on a
// later one ("Meer berichten"). A member who leaves gets NotFound at once.
func TestTeamBoxOnlyForMembers(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		bob := f.active(t, "bob@ander.nl", true, "Bob", "", "Buur")
		if _, err := d.NewUpdate().Model(bob).Set("org_id = ?", other.ID).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		bob.OrgID = &other.ID
		theirs, err := f.svc.CreateTeam(ctx, other.ID, "Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddTeamMember(ctx, theirs.ID, bob.Email); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hallo", TeamID: team.ID}); err != nil {
			t.Fatal(err)
		}
		if box, err := f.svc.TeamBox(ctx, f.hr.Identity(), team.ID, 1); err != nil || len(box.Threads) != 1 {
			t.Fatalf("the member's team box: %+v %v", box, err)
		}
		if _, err := f.svc.TeamBox(ctx, bob.Identity(), theirs.ID, 1); err != nil {
			t.Fatalf("the other organisation's member: %v", err)
		}
		for _, c := range []struct {
			name string
			who  *db.User
			team int64
		}{
			{"a colleague outside the team", f.boss, team.ID},
			{"an outsider of the conversation", jan, team.ID},
			{"an internal user of another organisation", bob, team.ID},
			{"a team of another organisation", f.hr, theirs.ID},
			{"an id no team has", f.hr, theirs.ID + 1000},
		} {
			_, err := f.svc.TeamBox(ctx, c.who.Identity(), c.team, 1)
			wantNotFound(t, c.name, err)
			_, err = f.svc.TeamBoxAfter(ctx, c.who.Identity(), c.team, 2, "x", "")
			wantNotFound(t, c.name+", a later page", err)
		}
		if err := f.svc.RemoveTeamMember(ctx, team.ID, f.hr.Email); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.TeamBox(ctx, f.hr.Identity(), team.ID, 1)
		wantNotFound(t, "a former member", err)
	})
}

// TestTeamBoxSearch, on both engines: a search typed in a team box finds
// the team's conversations only, not the member's own ones that match too,
// by subject and by name, for short queries (matched in the box) as for
// longer ones (the index); a non-member's search is NotFound like the box.
func TestTeamBoxSearch(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		mine, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim persoonlijk", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim van het team", Body: "Hallo", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"verzuim", "Ve", "Jansen", "ja", "osaw"} {
			box, err := f.svc.TeamBoxAfter(ctx, f.hr.Identity(), team.ID, 1, "", q)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if len(box.Threads) != 1 || box.Threads[0].ID != theirs || box.Query != q || box.TeamID != team.ID {
				t.Errorf("search %q in the team box: %+v, want only %d (not %d)", q, box, theirs, mine)
			}
			// The whole box still finds both.
			if all, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q); err != nil || len(all.Threads) != 2 {
				t.Errorf("search %q in the whole box: %+v %v", q, all, err)
			}
		}
		if box, err := f.svc.TeamBoxAfter(ctx, f.hr.Identity(), team.ID, 1, "", "persoonlijk"); err != nil || len(box.Threads) != 0 {
			t.Errorf("the member's own conversation found in the team box: %+v %v", box, err)
		}
		_, err = f.svc.TeamBoxAfter(ctx, f.boss.Identity(), team.ID, 1, "", "verzuim")
		wantNotFound(t, "a non-member's search", err)
		_, err = f.svc.TeamBoxAfter(ctx, jan.Identity(), team.ID, 1, "", "verzuim")
		wantNotFound(t, "an outsider's search", err)
	})
}

// TestAdminSaveTeamOneUpdate: Beheer's save of a team that changes its
// name and both flags writes the team's row once, so that the row's
// triggers (the inbox versions of everyone who sees the team's
// conversations) run once and not once per field; each change is still
// audited, and the members' totals follow the medical flag.
func TestAdminSaveTeamOneUpdate(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		team, err := f.svc.CreateTeam(ctx, f.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		f.hr.IsAdmin = true
		cur := &auth.Current{User: f.hr.Identity()}
		stmts := dbtest.CountStatements(d)
		sqls := stmts.Run(func(ctx context.Context) {
			if err := f.svc.AdminSaveTeam(ctx, cur, team.ID, messaging.TeamSettings{Name: "OSAW Re-integratie", Medical: true, ShowPerson: false}, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
		})
		updates := 0
		for _, q := range sqls {
			if strings.HasPrefix(strings.TrimSpace(q), "UPDATE \"teams\"") || strings.HasPrefix(strings.TrimSpace(q), "UPDATE teams") {
				updates++
			}
		}
		if updates != 1 {
			t.Errorf("%d updates of the team, want 1:\n%s", updates, strings.Join(sqls, "\n"))
		}
		var got db.Team
		if err := d.NewSelect().Model(&got).Where("id = ?", team.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if got.Name != "OSAW Re-integratie" || !got.Medical || got.ShowPerson {
			t.Errorf("saved %q medical %v show person %v", got.Name, got.Medical, got.ShowPerson)
		}
		var kinds []string
		if err := d.NewRaw("SELECT kind FROM audit_events WHERE kind LIKE 'team.%' AND kind <> 'team.created' ORDER BY id").Scan(ctx, &kinds); err != nil {
			t.Fatal(err)
		}
		if strings.Join(kinds, " ") != "team.renamed team.medical team.show_person" {
			t.Errorf("audited %v", kinds)
		}
	})
}
