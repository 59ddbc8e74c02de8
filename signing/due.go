package signing

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/messaging"
	"dialoog/notify"
)

// RunDue is the periodic job of signing: a content-free reminder mail to
// every signer who has not acted RemindBefore the deadline, the expiry of
// requests whose deadline passed (the requester is mailed), and another
// try at sealing requests that every signer agreed to. Every instance may
// run it: each request is claimed by the conditional update in its own
// transaction. It returns how many requests it reminded of and expired.
func (s *Service) RunDue(ctx context.Context) (reminded, expired int, err error) {
	now := s.Now().UTC()
	var due []requestRow
	if err := s.DB.NewSelect().Model(&due).Where("status = ? AND deadline IS NOT NULL AND deadline <= ?", StatusOpen, now.Add(RemindBefore)).
		Order("id").Limit(500).Scan(ctx); err != nil {
		return 0, 0, fmt.Errorf("load due signing requests: %w", err)
	}
	for i := range due {
		r := &due[i]
		if !now.Before(r.Deadline.Time) {
			ok, err := s.expire(ctx, r.ID)
			if err != nil {
				return reminded, expired, err
			}
			if ok {
				expired++
			}
			continue
		}
		// A request made less than RemindBefore ahead of its deadline gets
		// no reminder: its signers were just told of it.
		if r.RemindedAt.IsZero() && r.CreatedAt.Before(r.Deadline.Time.Add(-RemindBefore)) {
			ok, err := s.remind(ctx, r.ID)
			if err != nil {
				return reminded, expired, err
			}
			if ok {
				reminded++
			}
		}
	}
	var agreed []int64
	if err := s.DB.NewSelect().Model((*requestRow)(nil)).Column("id").Where("status = ?", StatusAgreed).Order("id").Limit(100).Scan(ctx, &agreed); err != nil {
		return reminded, expired, fmt.Errorf("load agreed requests: %w", err)
	}
	for _, id := range agreed {
		if err := s.Finish(ctx, id); err != nil {
			s.Log.ErrorContext(ctx, "seal agreed document", "request", id, "err", err)
		}
	}
	if reminded+expired > 0 {
		s.Log.InfoContext(ctx, "signing requests", "reminded", reminded, "expired", expired)
	}
	return reminded, expired, nil
}

// waitingUsers are the signers of a request who have not acted and still
// have an account.
func waitingUsers(ctx context.Context, tx bun.Tx, requestID int64) ([]db.User, error) {
	var us []db.User
	err := tx.NewSelect().Model(&us).Where(`id IN (SELECT sg.user_id FROM signing_signers AS sg WHERE sg.request_id = ? AND sg.status = ?)`,
		requestID, SignerWaiting).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load waiting signers: %w", err)
	}
	return us, nil
}

func (s *Service) remind(ctx context.Context, id int64) (bool, error) {
	done := false
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now().UTC()
		res, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("reminded_at = ?", now).
			Where("id = ? AND status = ? AND reminded_at IS NULL", id, StatusOpen).Exec(ctx)
		if err != nil {
			return fmt.Errorf("claim reminder: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another instance did
		}
		r, err := loadRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		us, err := waitingUsers(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.mailAll(ctx, tx, us, r.OrgID, s.Mail.SigningReminderMail); err != nil {
			return err
		}
		done = true
		return auth.Audit(ctx, tx, auth.AuditEntry{Kind: "signing.reminded", Detail: fmt.Sprintf("%s signers %d", requestDetail(r), len(us)), Now: now, OrgID: &r.OrgID})
	})
	if err != nil {
		return false, fmt.Errorf("remind signers of request %d: %w", id, err)
	}
	if done {
		s.queued()
	}
	return done, nil
}

func (s *Service) expire(ctx context.Context, id int64) (bool, error) {
	done := false
	var later []messaging.Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now().UTC()
		res, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("status = ?", StatusExpired).Set("closed_at = ?", now).Set("updated_at = ?", now).
			Where("id = ? AND status = ?", id, StatusOpen).Exec(ctx)
		if err != nil {
			return fmt.Errorf("claim expiry: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		if _, err := tx.NewUpdate().Model((*signerRow)(nil)).Set("status = ?", SignerExpired).
			Where("request_id = ? AND status = ?", id, SignerWaiting).Exec(ctx); err != nil {
			return fmt.Errorf("expire signers: %w", err)
		}
		r, err := loadRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.mailRequester(ctx, tx, r, s.Mail.SigningExpiredMail); err != nil {
			return err
		}
		if err := auth.Audit(ctx, tx, auth.AuditEntry{Kind: "signing.expired", Detail: requestDetail(r), Now: now, OrgID: &r.OrgID}); err != nil {
			return err
		}
		done = true
		later, err = s.stageChange(ctx, tx, r)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("expire request %d: %w", id, err)
	}
	if done {
		s.queued()
		s.Messages.PublishEvents(ctx, later)
	}
	return done, nil
}

// mailRequester queues a content-free mail to the requester of r, if
// their account is still there.
func (s *Service) mailRequester(ctx context.Context, tx bun.Tx, r *requestRow, render func(lang, link string) (notify.Mail, error)) error {
	return s.mailRequesters(ctx, tx, []*requestRow{r}, render)
}

// mail queues a content-free mail to u, under the organisation's sender
// name; a disabled account gets none (notify refuses it).
func (s *Service) mail(ctx context.Context, tx bun.Tx, u *db.User, orgID int64, render func(lang, link string) (notify.Mail, error)) error {
	return s.mailAll(ctx, tx, []db.User{*u}, orgID, render)
}

// mailAll is mail to each of us: the sender name is read once and the
// mails queued together (notify.QueueMails), a few statements whatever
// the number of people.
func (s *Service) mailAll(ctx context.Context, tx bun.Tx, us []db.User, orgID int64, render func(lang, link string) (notify.Mail, error)) error {
	var ms []notify.Mail
	var from string
	for i := range us {
		u := &us[i]
		if u.Status == db.StatusDisabled {
			continue
		}
		m, err := render(u.Language, s.BaseURL+"/berichten")
		if err != nil {
			return fmt.Errorf("render signing mail: %w", err)
		}
		if len(ms) == 0 {
			if from, err = auth.SenderName(ctx, tx, orgID); err != nil {
				return fmt.Errorf("signing mail sender: %w", err)
			}
		}
		m.To, m.FromName = u.Email, from
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil
	}
	_, err := s.Outbox.QueueMails(ctx, tx, ms)
	return err
}

// Leave ends, in the transaction that deletes userID's account
// (messaging.Service.AccountLeaving), every open request that still waits
// for them: it can never be completed. Their signer row says they left,
// the others still waiting show the request lapsed, and the requester gets
// a content-free mail, as at an expiry, so that they can ask again (the
// deletion wakes the outbox after its commit); the live events it returns
// update the pages open on the conversation. A request they agreed to
// goes on: their evidence stays (TestStopKeepsEvidence).
func (s *Service) Leave(ctx context.Context, tx bun.Tx, userID int64) ([]messaging.Event, error) {
	var ids []int64
	if err := tx.NewSelect().Model((*signerRow)(nil)).Column("request_id").
		Where("user_id = ? AND status = ?", userID, SignerWaiting).
		Where("request_id IN (SELECT r.id FROM signing_requests AS r WHERE r.status = ?)", StatusOpen).
		Order("request_id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("signing: requests waiting for %d: %w", userID, err)
	}
	return s.lapse(ctx, tx, ids, userID, SignerLeft, userID)
}

// LeaveTeam is Leave for a member who leaves team teamID
// (messaging.Service.TeamLeaving), in that transaction, before their rows
// of the team's conversations go: the open requests of those
// conversations that wait for them lapse, their signer row saying they
// have no access any more. A conversation they take part in themselves
// (not through the team) is not lost, nor are its requests.
func (s *Service) LeaveTeam(ctx context.Context, tx bun.Tx, userID, teamID int64) ([]messaging.Event, error) {
	ids, err := waitingFor(ctx, tx, userID, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Join("JOIN participants AS p ON p.thread_id = r.thread_id AND p.user_id = sg.user_id").Where("p.via_team_id = ?", teamID)
	})
	if err != nil {
		return nil, fmt.Errorf("signing: requests waiting for %d in team %d: %w", userID, teamID, err)
	}
	return s.lapse(ctx, tx, ids, userID, SignerRemoved, userID)
}

// LeaveThread ends, in the transaction that takes userID out of
// conversation threadID again (messaging.Service.ParticipantLeaving:
// "Deelnemer verwijderen" by actorID), the open requests there that wait
// for them: they can no longer see the document. They show by name as
// having no access to the conversation any more, as after leaving a team;
// the requester gets the lapse mail unless they removed the person.
func (s *Service) LeaveThread(ctx context.Context, tx bun.Tx, userID, threadID, actorID int64) ([]messaging.Event, error) {
	ids, err := waitingFor(ctx, tx, userID, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("r.thread_id = ?", threadID)
	})
	if err != nil {
		return nil, fmt.Errorf("signing: requests waiting for %d in conversation %d: %w", userID, threadID, err)
	}
	return s.lapse(ctx, tx, ids, userID, SignerRemoved, actorID)
}

// waitingFor returns, in id order, the open requests that wait for
// userID's answer, among those where selects (the signer sg and the
// request r).
func waitingFor(ctx context.Context, tx bun.Tx, userID int64, where func(*bun.SelectQuery) *bun.SelectQuery) ([]int64, error) {
	var ids []int64
	err := where(tx.NewSelect().TableExpr("signing_signers AS sg").ColumnExpr("sg.request_id").
		Join("JOIN signing_requests AS r ON r.id = sg.request_id").
		Where("sg.user_id = ? AND sg.status = ? AND r.status = ?", userID, SignerWaiting, StatusOpen)).
		OrderExpr("sg.request_id").Scan(ctx, &ids)
	return ids, err
}

// CloseCase ends, in the transaction that closes case caseID
// (messaging.Service.CaseClosing), the open requests of its
// conversations: they are read-only now, so nothing can be agreed to or
// sealed into them. Everyone still waiting shows the request lapsed; the
// requester gets the lapse mail unless they closed the case (actorID).
// Reopening the case does not revive them: the requester asks again.
func (s *Service) CloseCase(ctx context.Context, tx bun.Tx, caseID, actorID int64) ([]messaging.Event, error) {
	var ids []int64
	if err := tx.NewSelect().TableExpr("signing_requests AS r").ColumnExpr("r.id").
		Join("JOIN threads AS t ON t.id = r.thread_id").
		Where("t.case_id = ? AND r.status = ?", caseID, StatusOpen).
		OrderExpr("r.id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("signing: open requests of case %d: %w", caseID, err)
	}
	return s.lapse(ctx, tx, ids, 0, "", actorID)
}

// lapse ends the open requests ids (in the order of their ids) in tx: the
// signer row of goneUser (0: none), who can no longer take part, gets
// status gone, the others still waiting SignerLapsed; the requester gets
// the lapse mail unless they are actorID, whose doing it is. It returns
// the live events to publish after the commit. A few statements a chunk
// of lapseChunk requests, not a few each: a case closed or an account
// stopped may end many.
func (s *Service) lapse(ctx context.Context, tx bun.Tx, ids []int64, goneUser int64, gone string, actorID int64) ([]messaging.Event, error) {
	now := s.Now().UTC()
	var later []messaging.Event
	for chunk := range slices.Chunk(ids, lapseChunk) {
		rs, err := s.lockRequests(ctx, tx, chunk)
		if err != nil {
			return nil, err
		}
		var open []*requestRow
		for i := range rs {
			if rs[i].Status == StatusOpen {
				open = append(open, &rs[i])
			}
		}
		if len(open) == 0 {
			continue
		}
		openIDs := make([]int64, len(open))
		var mailed []*requestRow
		audits := make([]auth.AuditEntry, len(open))
		for i, r := range open {
			openIDs[i] = r.ID
			if r.RequestedBy == nil || *r.RequestedBy != actorID {
				mailed = append(mailed, r)
			}
			audits[i] = auth.AuditEntry{Kind: "signing.lapsed", Detail: requestDetail(r), Now: now, OrgID: &r.OrgID}
		}
		if _, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("status = ?", StatusLapsed).Set("closed_at = ?", now).Set("updated_at = ?", now).
			Where("id IN (?)", bun.In(openIDs)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("lapse requests: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*signerRow)(nil)).
			Set("status = CASE WHEN user_id = ? THEN ? ELSE ? END", goneUser, cmp.Or(gone, SignerLapsed), SignerLapsed).Set("decided_at = ?", now).
			Where("request_id IN (?) AND status = ?", bun.In(openIDs), SignerWaiting).Exec(ctx); err != nil {
			return nil, fmt.Errorf("lapse signers: %w", err)
		}
		if err := s.mailRequesters(ctx, tx, mailed, s.Mail.SigningLapsedMail); err != nil {
			return nil, err
		}
		if err := auth.AuditMany(ctx, tx, audits); err != nil {
			return nil, err
		}
		// Pages already open show the lapse.
		evs, err := s.stageChanges(ctx, tx, open)
		if err != nil {
			return nil, err
		}
		later = append(later, evs...)
	}
	return later, nil
}

// lapseChunk is how many requests one round of lapse's statements ends.
const lapseChunk = 500

// lockRequests loads the requests ids (in the order of their ids) in tx
// for a change: on PostgreSQL under the row locks an update of each
// (lockRequest) takes, in the order of their ids; SQLite's writers take
// turns. One statement.
func (s *Service) lockRequests(ctx context.Context, tx bun.Tx, ids []int64) ([]requestRow, error) {
	var rs []requestRow
	q := tx.NewSelect().Model(&rs).Where("id IN (?)", bun.In(ids)).Order("id")
	if s.DB.Postgres() {
		q = q.For("NO KEY UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("lock signing requests: %w", err)
	}
	return rs, nil
}

// mailRequesters is mailRequester for each of rs: a mail to the
// requester of each whose account is still there, their accounts read at
// once and the mails queued together for each organisation.
func (s *Service) mailRequesters(ctx context.Context, tx bun.Tx, rs []*requestRow, render func(lang, link string) (notify.Mail, error)) error {
	var ids []int64
	for _, r := range rs {
		if r.RequestedBy != nil && !slices.Contains(ids, *r.RequestedBy) {
			ids = append(ids, *r.RequestedBy)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var us []db.User
	if err := tx.NewSelect().Model(&us).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return fmt.Errorf("load requesters: %w", err)
	}
	byID := make(map[int64]*db.User, len(us))
	for i := range us {
		byID[us[i].ID] = &us[i]
	}
	// A mail for each request, in their order, by organisation.
	var orgs []int64
	to := map[int64][]db.User{}
	for _, r := range rs {
		if r.RequestedBy == nil || byID[*r.RequestedBy] == nil {
			continue
		}
		if _, ok := to[r.OrgID]; !ok {
			orgs = append(orgs, r.OrgID)
		}
		to[r.OrgID] = append(to[r.OrgID], *byID[*r.RequestedBy])
	}
	for _, org := range orgs {
		if err := s.mailAll(ctx, tx, to[org], org, render); err != nil {
			return err
		}
	}
	return nil
}
