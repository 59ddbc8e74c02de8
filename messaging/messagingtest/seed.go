// Package messagingtest fills a database with conversations at realistic
// volume for tests and benchmarks of the messaging data path. It writes
// rows in bulk, the way the messaging service leaves them (sealed bodies,
// read states, the participants' inbox counters), without going through
// the service, so that 50,000 conversations take seconds.
package messagingtest

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/vault"
)

// Box describes the conversations to create.
type Box struct {
	OrgID   int64
	Owner   *db.User // the person whose box is filled
	Threads int      // conversations in the box
	// Messages per conversation (at least 1); the owner wrote every second
	// one, the other participant the rest.
	Messages int
	// Others is the number of distinct other people the owner writes with
	// (at least 1); conversation i is with person i % Others.
	Others int
	// UnreadEvery makes every n-th conversation hold one unread message for
	// the owner (0: none).
	UnreadEvery int
	Start       time.Time // the first conversation's time; later ones follow a minute apart
}

// Seeded names what Seed created.
type Seeded struct {
	Others  []*db.User
	Threads []int64 // oldest first
}

const batch = 500

// Seed creates the conversations of b in one transaction.
func Seed(ctx context.Context, d *db.DB, v *vault.Vault, b Box) (*Seeded, error) {
	if b.Messages < 1 {
		b.Messages = 1
	}
	if b.Others < 1 {
		b.Others = 1
	}
	if b.Start.IsZero() {
		b.Start = time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	}
	out := &Seeded{}
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		others := make([]*db.User, b.Others)
		for i := range others {
			now := b.Start
			others[i] = &db.User{Email: fmt.Sprintf("medewerker%05d.%d@example.nl", i, b.Owner.ID), Kind: db.KindExternal,
				Status: db.StatusActive, Language: "nl", Gender: "unknown", Initials: "M.", FirstName: "Mede",
				LastName: fmt.Sprintf("Werker%05d", i), CreatedAt: now, UpdatedAt: now}
		}
		for i := 0; i < len(others); i += batch {
			part := others[i:min(i+batch, len(others))]
			if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
				return fmt.Errorf("seed users: %w", err)
			}
		}
		out.Others = others
		for start := 0; start < b.Threads; start += batch {
			n := min(batch, b.Threads-start)
			if err := seedThreads(ctx, tx, v, b, others, start, n, out); err != nil {
				return err
			}
		}
		_, err := tx.NewRaw(`UPDATE users SET unread_total = (SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p WHERE p.user_id = users.id)
WHERE id = ?`, b.Owner.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func seedThreads(ctx context.Context, tx bun.Tx, v *vault.Vault, b Box, others []*db.User, start, n int, out *Seeded) error {
	threads := make([]db.Thread, n)
	for i := range threads {
		at := b.Start.Add(time.Duration(start+i) * time.Minute)
		threads[i] = db.Thread{OrgID: b.OrgID, Subject: fmt.Sprintf("Verzuim gesprek %06d", start+i), CreatedBy: &b.Owner.ID,
			CreatedAt: at, LastMessageAt: at.Add(time.Duration(b.Messages-1) * time.Second)}
	}
	if _, err := tx.NewInsert().Model(&threads).Exec(ctx); err != nil {
		return fmt.Errorf("seed threads: %w", err)
	}
	var ps []db.Participant
	var msgs []db.Message
	for i, th := range threads {
		out.Threads = append(out.Threads, th.ID)
		other := others[(start+i)%len(others)]
		unread := 0
		if b.UnreadEvery > 0 && (start+i)%b.UnreadEvery == 0 {
			unread = 1
		}
		last := bun.NullTime{Time: th.LastMessageAt}
		ps = append(ps,
			db.Participant{ThreadID: th.ID, UserID: b.Owner.ID, AddedBy: &b.Owner.ID, AddedAt: th.CreatedAt, BoxCount: b.Messages, UnreadCount: unread, LastActivityAt: last},
			db.Participant{ThreadID: th.ID, UserID: other.ID, AddedBy: &b.Owner.ID, AddedAt: th.CreatedAt, BoxCount: b.Messages, LastActivityAt: last})
		for j := range b.Messages {
			sender := b.Owner.ID
			if j%2 == 1 {
				sender = other.ID
			}
			body := v.Seal(fmt.Appendf(nil, "Bericht %d van gesprek %d", j+1, th.ID), []byte(fmt.Sprintf("message:thread:%d", th.ID)))
			msgs = append(msgs, db.Message{ThreadID: th.ID, SenderID: &sender, Body: body, KeyID: v.KeyID(),
				CreatedAt: th.CreatedAt.Add(time.Duration(j) * time.Second)})
		}
	}
	if _, err := tx.NewInsert().Model(&ps).Exec(ctx); err != nil {
		return fmt.Errorf("seed participants: %w", err)
	}
	for i := 0; i < len(msgs); i += batch {
		part := msgs[i:min(i+batch, len(msgs))]
		if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
			return fmt.Errorf("seed messages: %w", err)
		}
	}
	// Everything is read but, where asked, each conversation's newest
	// message for the owner.
	// Read states are written without message_states.history (migration
	// 0044, FALSE by default), so that a database left at an older
	// migration can be seeded too (the migration benchmarks).
	var states []db.MessageState
	for i, m := range msgs {
		th := i / b.Messages
		newest := i%b.Messages == b.Messages-1
		for _, p := range ps[2*th : 2*th+2] {
			st := db.MessageState{MessageID: m.ID, UserID: p.UserID, ReadAt: bun.NullTime{Time: m.CreatedAt}}
			if newest && p.UnreadCount > 0 {
				st.ReadAt = bun.NullTime{}
			}
			states = append(states, st)
		}
	}
	for i := 0; i < len(states); i += batch {
		part := states[i:min(i+batch, len(states))]
		if _, err := tx.NewInsert().Model(&part).ExcludeColumn("history").Exec(ctx); err != nil {
			return fmt.Errorf("seed read states: %w", err)
		}
	}
	return nil
}

// LongThread adds n messages (alternating between the thread's first two
// participants, all read) to an existing thread, for conversations that
// grow long.
func LongThread(ctx context.Context, d *db.DB, v *vault.Vault, threadID int64, userA, userB int64, n int, start time.Time) error {
	return d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for done := 0; done < n; done += batch {
			k := min(batch, n-done)
			msgs := make([]db.Message, k)
			for i := range msgs {
				sender := userA
				if (done+i)%2 == 1 {
					sender = userB
				}
				msgs[i] = db.Message{ThreadID: threadID, SenderID: &sender, KeyID: v.KeyID(), CreatedAt: start.Add(time.Duration(done+i) * time.Second),
					Body: v.Seal(fmt.Appendf(nil, "Bericht %d", done+i+1), []byte(fmt.Sprintf("message:thread:%d", threadID)))}
			}
			if _, err := tx.NewInsert().Model(&msgs).Exec(ctx); err != nil {
				return fmt.Errorf("seed long thread: %w", err)
			}
			states := make([]db.MessageState, 0, 2*k)
			for _, m := range msgs {
				for _, u := range []int64{userA, userB} {
					states = append(states, db.MessageState{MessageID: m.ID, UserID: u, ReadAt: bun.NullTime{Time: m.CreatedAt}})
				}
			}
			if _, err := tx.NewInsert().Model(&states).ExcludeColumn("history").Exec(ctx); err != nil {
				return fmt.Errorf("seed long thread states: %w", err)
			}
		}
		last := start.Add(time.Duration(n) * time.Second)
		if _, err := tx.NewUpdate().Model((*db.Thread)(nil)).Set("last_message_at = ?", last).Where("id = ?", threadID).Exec(ctx); err != nil {
			return fmt.Errorf("seed long thread: %w", err)
		}
		_, err := tx.NewRaw(`UPDATE participants SET box_count = box_count + ?, last_activity_at = ? WHERE thread_id = ? AND user_id IN (?, ?)`,
			n, last, threadID, userA, userB).Exec(ctx)
		return err
	})
}
