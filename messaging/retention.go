package messaging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/i18n"
	"dialoog/identity"
	"dialoog/notify"
)

// Retention: an organisation may keep conversations without activity, and
// closed cases, for a number of months each (off by default); a daily job
// deletes the older ones (a closed case with all its conversations, then
// the case) the way a person's own deletion does (purge: messages with their read
// states and attachments, then the empty conversation with its
// participants and their counters; the files after the commit). The same
// daily job cleans up what the login rules no longer need: unused
// invitations and the invited people who take part in nothing, delivered
// outbox rows, ended sessions and expired throttle rows.
//
// Each job (the retention of one organisation, the installation's
// cleanup) has a row in daily_runs with its next run and last result.
// RunDaily, called every few minutes by every instance, claims a due job
// by taking its lease, renews the lease in every batch's transaction
// (a batch whose lease was taken over rolls back) and moves the next run
// to the next RetentionHour when done: one run a day across instances.

// RetentionHour is the Dutch local hour at which the daily jobs run.
const RetentionHour = 3

// MaxRetentionMonths is the longest period that can be set (ten years).
const MaxRetentionMonths = 120

// AuditRetentionChanged is the audit kind of a changed retention period.
const AuditRetentionChanged = "retention.changed"

// AuditInvitationExpired is the audit kind of an invited person deleted by
// the cleanup; like a stopped account, it names them by a keyed hash only.
const AuditInvitationExpired = "account.invitation_expired"

// AuditInvitationWithdrawn is the audit kind of an invited person deleted
// with the message, deleted for everyone, that invited them (see
// DeleteForEveryone); its detail is the keyed hash of the user id.
const AuditInvitationWithdrawn = "account.invitation_withdrawn"

const (
	// retentionBatch is how many conversations one transaction deletes.
	retentionBatch = 100
	// purgePage is how many messages retention reads (and deletes) at a
	// time.
	purgePage = 5000
	// caseBatch is how many closed cases one transaction deletes (each
	// with all its conversations).
	caseBatch = 10
	// invitedBatch is how many invited people one transaction deletes.
	invitedBatch = 100
	// runLease is how long a claimed job is held without renewal.
	runLease = 10 * time.Minute
	// retryAfter is when a failed job is tried again.
	retryAfter = time.Hour
	// jobCleanup is the installation's cleanup job.
	jobCleanup = "cleanup"
	// jobRetention prefixes the retention job of an organisation.
	jobRetention = "retention:"
)

var errLeaseLost = errors.New("the daily run's lease was taken over")

// RetentionResult is what a retention run deleted: counts only. Cases
// counts the closed cases deleted; their conversations are counted in
// Conversations too.
type RetentionResult struct {
	Cases         int  `json:"cases"`
	Conversations int  `json:"conversations"`
	Messages      int  `json:"messages"`
	Files         int  `json:"files"`
	Failed        bool `json:"failed,omitempty"`
}

// CleanupResult is what a cleanup run deleted: counts only.
type CleanupResult struct {
	Invitations int  `json:"invitations"`
	Invited     int  `json:"invited_users"`
	Outbox      int  `json:"outbox"`
	Sessions    int  `json:"sessions"`
	Throttles   int  `json:"throttles"`
	SSOLogins   int  `json:"sso_logins"`
	Codes       int  `json:"codes"`
	LateFiles   int  `json:"late_files"`
	KeptTexts   int  `json:"kept_texts"`
	Failed      bool `json:"failed,omitempty"`
}

// RetentionStatus is an organisation's retention as Beheer shows it.
type RetentionStatus struct {
	ConversationMonths int // 0: off
	CaseMonths         int // 0: off
	NextRunAt          time.Time
	LastRunAt          time.Time // zero: never ran
	Last               RetentionResult
}

// RetentionInput is the form as typed: a number of months, or empty (or
// 0) for off.
type RetentionInput struct {
	Conversations string
	Cases         string
	// IP is the admin's address, for the audit row.
	IP string
}

// NextDailyRun returns the first RetentionHour, Dutch local time, after
// now.
func NextDailyRun(now time.Time) time.Time {
	local := now.In(i18n.Zone)
	next := time.Date(local.Year(), local.Month(), local.Day(), RetentionHour, 0, 0, 0, i18n.Zone)
	if !next.After(now) {
		next = time.Date(local.Year(), local.Month(), local.Day()+1, RetentionHour, 0, 0, 0, i18n.Zone)
	}
	return next.UTC()
}

// RetentionCutoff is the moment before which a conversation's last
// activity makes it older than months, counted in Dutch calendar months:
// the same day and time that many months earlier, or the last day of
// that month when it is shorter (31 March less a month is 28 February,
// not "31 February", which time.AddDate makes 3 March).
func RetentionCutoff(now time.Time, months int) time.Time {
	local := now.In(i18n.Zone)
	first := time.Date(local.Year(), local.Month()-time.Month(months), 1, 0, 0, 0, 0, i18n.Zone)
	day := min(local.Day(), first.AddDate(0, 1, -1).Day())
	return time.Date(first.Year(), first.Month(), day, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), i18n.Zone).UTC()
}

func retentionJob(orgID int64) string { return jobRetention + strconv.FormatInt(orgID, 10) }

// adminOrg returns the organisation the user administers; NotFound for
// anyone else, by the rule of every Beheer page (auth.AdminOrg).
func adminOrg(who *identity.User) (int64, error) {
	return auth.AdminOrg(&auth.Current{User: who})
}

// Retention returns the retention periods of the admin's organisation and
// its daily run: when next, and what the last one deleted.
func (s *Service) Retention(ctx context.Context, who *identity.User) (*RetentionStatus, error) {
	orgID, err := adminOrg(who)
	if err != nil {
		return nil, err
	}
	st := &RetentionStatus{NextRunAt: NextDailyRun(s.Now())}
	var set struct {
		ConversationMonths int
		CaseMonths         int
	}
	err = s.DB.NewSelect().Table("retention_settings").Column("conversation_months", "case_months").
		Where("org_id = ?", orgID).Scan(ctx, &set)
	if err != nil && !db.ErrNoRows(err) {
		return nil, fmt.Errorf("load retention: %w", err)
	}
	st.ConversationMonths, st.CaseMonths = set.ConversationMonths, set.CaseMonths
	var run struct {
		NextRunAt  time.Time
		LastRunAt  bun.NullTime
		LastResult string
	}
	err = s.DB.NewSelect().Table("daily_runs").Column("next_run_at", "last_run_at", "last_result").
		Where("job = ?", retentionJob(orgID)).Scan(ctx, &run)
	switch {
	case db.ErrNoRows(err):
		return st, nil
	case err != nil:
		return nil, fmt.Errorf("load retention run: %w", err)
	}
	st.NextRunAt, st.LastRunAt = run.NextRunAt.UTC(), run.LastRunAt.Time
	if run.LastResult != "" {
		if err := json.Unmarshal([]byte(run.LastResult), &st.Last); err != nil {
			return nil, fmt.Errorf("read last retention result: %w", err)
		}
	}
	return st, nil
}

// parseMonths reads a period as typed: empty or 0 is off.
func parseMonths(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > MaxRetentionMonths {
		return 0, false
	}
	return n, true
}

// SetRetention stores the retention periods of the admin's organisation,
// with an audit row; a period that is not a whole number of months from 0
// (off) to MaxRetentionMonths is a field error. It takes effect at the
// next daily run.
func (s *Service) SetRetention(ctx context.Context, who *identity.User, in RetentionInput) error {
	user := db.UserOf(who)
	orgID, err := adminOrg(who)
	if err != nil {
		return err
	}
	conv, okConv := parseMonths(in.Conversations)
	cases, okCases := parseMonths(in.Cases)
	var errs apperr.Fields
	if !okConv {
		errs = append(errs, apperr.Field("conversations", "retention.months_invalid"))
	}
	if !okCases {
		errs = append(errs, apperr.Field("cases", "retention.months_invalid"))
	}
	if len(errs) > 0 {
		return errs
	}
	now := s.Now().UTC()
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO retention_settings (org_id, conversation_months, case_months, updated_by, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (org_id) DO UPDATE SET conversation_months = excluded.conversation_months, case_months = excluded.case_months,
  updated_by = excluded.updated_by, updated_at = excluded.updated_at`, orgID, conv, cases, user.ID, now).Exec(ctx); err != nil {
			return fmt.Errorf("store retention: %w", err)
		}
		detail := fmt.Sprintf("organisation %d: conversations %d months, cases %d months (0 = off)", orgID, conv, cases)
		return auth.Audit(ctx, tx, auth.AuditEntry{UserID: &user.ID, ActorID: &user.ID, OrgID: &orgID, Kind: AuditRetentionChanged, Detail: detail, IP: in.IP, Now: now})
	})
	if err != nil {
		return fmt.Errorf("set retention: %w", err)
	}
	return nil
}

// RunDaily runs the daily jobs that are due and not held by another run:
// every organisation's retention and the cleanup. Every instance calls it
// every few minutes; a job runs once a day, at RetentionHour Dutch time or
// at the first call after. It returns how many jobs this call ran.
func (s *Service) RunDaily(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	if err := s.scheduleDaily(ctx, now); err != nil {
		return 0, err
	}
	var jobs []string
	if err := s.DB.NewSelect().Table("daily_runs").Column("job").
		Where("next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)", now, now).
		Order("job").Scan(ctx, &jobs); err != nil {
		return 0, fmt.Errorf("daily runs: list: %w", err)
	}
	ran := 0
	var errs []error
	for _, job := range jobs {
		ok, err := s.runJob(ctx, job)
		if ok {
			ran++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return ran, errors.Join(errs...)
}

// scheduleDaily gives the cleanup and every organisation a row in
// daily_runs, first due at the next RetentionHour.
func (s *Service) scheduleDaily(ctx context.Context, now time.Time) error {
	next := NextDailyRun(now)
	if _, err := s.DB.NewRaw("INSERT INTO daily_runs (job, next_run_at) VALUES (?, ?) ON CONFLICT (job) DO NOTHING", jobCleanup, next).Exec(ctx); err != nil {
		return fmt.Errorf("daily runs: schedule cleanup: %w", err)
	}
	if _, err := s.DB.NewRaw(`INSERT INTO daily_runs (job, next_run_at)
SELECT ? || CAST(o.id AS TEXT), ? FROM organisations AS o
WHERE NOT EXISTS (SELECT 1 FROM daily_runs AS r WHERE r.job = ? || CAST(o.id AS TEXT))
ON CONFLICT (job) DO NOTHING`, jobRetention, next, jobRetention).Exec(ctx); err != nil {
		return fmt.Errorf("daily runs: schedule retention: %w", err)
	}
	return nil
}

// runJob claims job and runs it; ok is false when another run holds it or
// did it already, or when ctx ended during the run (the job is then given
// back, still due).
func (s *Service) runJob(ctx context.Context, job string) (ok bool, err error) {
	holder := newHolder()
	now := s.Now().UTC()
	res, err := s.DB.NewRaw(`UPDATE daily_runs SET lease_holder = ?, lease_until = ?
WHERE job = ? AND next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)`, holder, now.Add(runLease), job, now, now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("daily run %s: claim: %w", job, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	run := &dailyRun{s: s, job: job, holder: holder}
	var result any
	var runErr error
	var logRun func()
	switch {
	case job == jobCleanup:
		r, err := s.cleanup(ctx, run)
		r.Failed, runErr = err != nil, err
		result = r
		logRun = func() {
			s.Log.Info("daily cleanup", "invitations", r.Invitations, "invited_users", r.Invited, "outbox", r.Outbox,
				"sessions", r.Sessions, "throttles", r.Throttles, "failed", r.Failed)
		}
	case strings.HasPrefix(job, jobRetention):
		orgID, perr := strconv.ParseInt(strings.TrimPrefix(job, jobRetention), 10, 64)
		if perr != nil {
			return false, fmt.Errorf("daily run %s: %w", job, perr)
		}
		r, err := s.retain(ctx, run, orgID)
		r.Failed, runErr = err != nil, err
		result = r
		logRun = func() {
			s.Log.Info("retention", "org", orgID, "cases", r.Cases, "conversations", r.Conversations, "messages", r.Messages, "files", r.Files, "failed", r.Failed)
		}
	default:
		return false, fmt.Errorf("daily run %s: unknown job", job)
	}
	if runErr != nil && ctx.Err() != nil {
		// The instance is stopping: what was committed stays done, the
		// batch under way rolled back. The job is given back as it was,
		// still due, so that the next look of any instance runs it again
		// (instead of a failure, retried after an hour).
		s.releaseJob(ctx, run)
		s.Log.Info("daily run interrupted; it runs again at the next look", "job", job)
		return false, fmt.Errorf("daily run %s: interrupted: %w", job, runErr)
	}
	logRun()
	if err := s.finishJob(ctx, run, result, runErr); err != nil {
		return true, err
	}
	if runErr != nil {
		return true, fmt.Errorf("daily run %s: %w", job, runErr)
	}
	return true, nil
}

// finishJob stores the result and the next run, and gives up the lease;
// a failed run is tried again after retryAfter.
func (s *Service) finishJob(ctx context.Context, run *dailyRun, result any, runErr error) error {
	if errors.Is(runErr, errLeaseLost) {
		return nil // the run that took over records its own
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	now := s.Now().UTC()
	next := NextDailyRun(now)
	if runErr != nil {
		next = now.Add(retryAfter)
	}
	b, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("daily run %s: %w", run.job, err)
	}
	if _, err := s.DB.NewRaw(`UPDATE daily_runs SET next_run_at = ?, last_run_at = ?, last_result = ?, lease_holder = '', lease_until = NULL
WHERE job = ? AND lease_holder = ?`, next, now, string(b), run.job, run.holder).Exec(ctx); err != nil {
		return fmt.Errorf("daily run %s: finish: %w", run.job, err)
	}
	return nil
}

// releaseJob gives up the lease of run without recording a run: the job
// stays due, for the next look of any instance. When this fails too, the
// lease runs out by itself (runLease).
func (s *Service) releaseJob(ctx context.Context, run *dailyRun) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.DB.NewRaw("UPDATE daily_runs SET lease_holder = '', lease_until = NULL WHERE job = ? AND lease_holder = ?",
		run.job, run.holder).Exec(ctx); err != nil {
		s.Log.Warn("daily run: give back the lease", "job", run.job, "err", err)
	}
}

// dailyRun is a claimed job.
type dailyRun struct {
	s           *Service
	job, holder string
}

// renew extends the lease, in the caller's transaction; errLeaseLost when
// another run took it over.
func (r *dailyRun) renew(ctx context.Context, idb bun.IDB) error {
	res, err := idb.NewRaw("UPDATE daily_runs SET lease_until = ? WHERE job = ? AND lease_holder = ?",
		r.s.Now().UTC().Add(runLease), r.job, r.holder).Exec(ctx)
	if err != nil {
		return fmt.Errorf("renew lease: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errLeaseLost
	}
	return nil
}

func newHolder() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// retain deletes the organisation's conversations whose last activity is
// older than its conversation period, and its cases closed longer ago
// than its case period with all their conversations, each batch one
// transaction whose files are removed after its commit.
func (s *Service) retain(ctx context.Context, run *dailyRun, orgID int64) (RetentionResult, error) {
	var out RetentionResult
	var set struct {
		ConversationMonths int
		CaseMonths         int
	}
	err := s.DB.NewSelect().Table("retention_settings").Column("conversation_months", "case_months").Where("org_id = ?", orgID).Scan(ctx, &set)
	if db.ErrNoRows(err) {
		return out, nil // off
	}
	if err != nil {
		return out, fmt.Errorf("load retention: %w", err)
	}
	if set.CaseMonths > 0 {
		if err := s.retainCases(ctx, run, orgID, RetentionCutoff(s.Now(), set.CaseMonths), &out); err != nil {
			return out, err
		}
	}
	if set.ConversationMonths > 0 {
		if err := s.retainConversations(ctx, run, orgID, RetentionCutoff(s.Now(), set.ConversationMonths), &out); err != nil {
			return out, err
		}
	}
	if out.Conversations > 0 || out.Cases > 0 {
		if err := s.DB.Checkpoint(ctx); err != nil {
			s.Log.Warn("checkpoint after retention", "err", err)
		}
	}
	return out, nil
}

// requestKeeps is true when conversation t holds a signing request still
// under way (waiting for its signers, whatever its deadline, or agreed and
// waiting to be sealed into the conversation) or one that ended at or
// after the cutoff ?, which counts as activity: retention must not take a
// document away from the people asked to agree to it. A request that ended
// (sealed, declined, expired, lapsed) has closed_at; the sealed document
// is a message of its own. An agreed request whose document left the last
// box before it was sealed (its attachment_id emptied) can never be
// sealed, and keeps nothing. It looks up the conversation's few requests
// through signing_requests_thread_idx (TestRetentionPlans). Argument: the
// cutoff.
const requestKeeps = `EXISTS (SELECT 1 FROM signing_requests AS sr WHERE sr.thread_id = t.id
    AND (sr.status = '` + db.RequestOpen + `' OR (sr.status = '` + db.RequestAgreed + `' AND sr.attachment_id IS NOT NULL) OR sr.closed_at >= ?))`

// retainedThread selects (as t) the conversations of organisation ? whose
// last activity is before the cutoff ? and that are in no case. Their last
// activity is their newest message or the end of their newest signing
// request, whichever is later; and a request still under way keeps its
// conversation until it ends (requestKeeps). Arguments: the organisation,
// the cutoff, the cutoff.
const retainedThread = `t.org_id = ? AND t.last_message_at < ? AND t.case_id IS NULL
  AND NOT ` + requestKeeps

// retainedCase selects (as c) the cases of organisation ? closed before
// the cutoff ? none of whose conversations holds a signing request under
// way or ended since the cutoff (requestKeeps, the rule of the
// conversations): a closed case goes with all its conversations, so one
// such request keeps the whole case, until a case period after it ended.
// It reads the organisation's closed cases through cases_org_closed_idx
// and each one's conversations through threads_case_idx
// (TestRetentionPlans). Arguments: the organisation, the cutoff, the
// cutoff.
const retainedCase = `c.org_id = ? AND c.status = '` + db.CaseClosed + `' AND c.closed_at < ?
  AND NOT EXISTS (SELECT 1 FROM threads AS t WHERE t.case_id = c.id AND ` + requestKeeps + `)`

// retainedSelect is the list of the conversations retention deletes next
// (retainedThread, oldest first), through threads_org_activity_idx.
func (s *Service) retainedSelect(orgID int64, cutoff time.Time) *bun.SelectQuery {
	return s.DB.NewSelect().TableExpr("threads AS t").Column("t.id").
		Where(retainedThread, orgID, cutoff, cutoff).
		OrderExpr("t.last_message_at, t.id").Limit(retentionBatch)
}

// retainConversations deletes the organisation's conversations whose last
// activity is before cutoff, retentionBatch at a time. A conversation in a
// case is kept as long as its case: an open case keeps it, and a closed
// one goes with its conversations by the case period (retainCases). A
// signing request under way keeps its conversation (retainedThread).
func (s *Service) retainConversations(ctx context.Context, run *dailyRun, orgID int64, cutoff time.Time, out *RetentionResult) error {
	for {
		var ids []int64
		if err := s.retainedSelect(orgID, cutoff).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("list old conversations: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		n, err := s.deleteThreads(ctx, run, ids, orgID, cutoff, out)
		if err != nil {
			return err
		}
		if n == 0 || len(ids) < retentionBatch {
			return nil
		}
	}
}

// retainedCaseSelect is the list of the closed cases retention deletes
// next (retainedCase, closed longest ago first).
func (s *Service) retainedCaseSelect(orgID int64, cutoff time.Time) *bun.SelectQuery {
	return s.DB.NewSelect().TableExpr("cases AS c").Column("c.id").
		Where(retainedCase, orgID, cutoff, cutoff).
		OrderExpr("c.closed_at, c.id").Limit(caseBatch)
}

// retainCases deletes the organisation's cases closed before cutoff,
// caseBatch at a time (retainedCaseSelect): in one transaction per batch,
// every conversation of each case the way deleteThreads does, then the
// emptied case. A case reopened since the list was read is kept, and so
// is one with a signing request under way (retainedCase).
func (s *Service) retainCases(ctx context.Context, run *dailyRun, orgID int64, cutoff time.Time, out *RetentionResult) error {
	for {
		var ids []int64
		if err := s.retainedCaseSelect(orgID, cutoff).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("list old cases: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		var keys []storedFile
		var cases, threads, messages int
		err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			keys, cases, threads, messages = nil, 0, 0, 0
			if err := run.renew(ctx, tx); err != nil {
				return err
			}
			// Checked again, under row locks on PostgreSQL: reopening a
			// case meanwhile keeps it, and so does a request of its
			// conversations that is (still) under way. The cases first,
			// then the signing requests of their conversations (which go
			// with them), then the conversations of all of them in the
			// order of their ids: the order of every change (see
			// threadToWrite), so that the deletion of an account, which
			// locks the person's conversations in that order, and this
			// one take turns. The requests are read here before they are
			// held, which is safe: once its row is locked, a closed case
			// gains no conversation and no request (a move into it, a
			// reply and a new request share-lock the case and are refused
			// in a closed one), and a request of it can only end (at a
			// time after the cutoff, which keeps the case as well) or
			// lose its document, which keeps the case one run longer.
			q := tx.NewSelect().TableExpr("cases AS c").Column("c.id").Where("c.id IN (?)", bun.In(ids)).
				Where(retainedCase, orgID, cutoff, cutoff).OrderExpr("c.id")
			if s.DB.Postgres() {
				q = q.For("UPDATE OF c")
			}
			var found []int64
			if err := q.Scan(ctx, &found); err != nil {
				return fmt.Errorf("lock cases: %w", err)
			}
			if len(found) == 0 {
				return nil
			}
			const ofCases = "SELECT t.id FROM threads AS t WHERE t.case_id IN (?) AND t.org_id = ?"
			if err := s.holdRequests(ctx, tx, "thread_id IN ("+ofCases+")", bun.In(found), orgID); err != nil {
				return err
			}
			var tids []int64
			tq := tx.NewSelect().Model((*db.Thread)(nil)).Column("id").Where("case_id IN (?) AND org_id = ?", bun.In(found), orgID).Order("id")
			if s.DB.Postgres() {
				tq = tq.For("UPDATE")
			}
			if err := tq.Scan(ctx, &tids); err != nil {
				return fmt.Errorf("list conversations of cases: %w", err)
			}
			var err error
			if keys, messages, err = s.purgeThreads(ctx, tx, tids); err != nil {
				return err
			}
			threads = len(tids)
			if _, err := tx.NewDelete().Model((*db.Case)(nil)).Where("id IN (?)", bun.In(found)).Exec(ctx); err != nil {
				return fmt.Errorf("delete cases: %w", err)
			}
			cases = len(found)
			return nil
		})
		if err != nil {
			return fmt.Errorf("retention: delete closed cases: %w", err)
		}
		s.removeFiles(ctx, keys)
		out.Cases += cases
		out.Conversations += threads
		out.Messages += messages
		out.Files += len(keys)
		if cases == 0 || len(ids) < caseBatch {
			return nil
		}
	}
}

// purgeThreads deletes conversations the way their people's own deletion
// does: every message through purge, which deletes the emptied threads
// with their participants and takes their unread counts out of their
// totals (dropEmpty; also for a thread that had no message). A chunk of
// them a statement. It returns the files to remove after the commit and
// how many messages it deleted.
func (s *Service) purgeThreads(ctx context.Context, tx bun.Tx, ids []int64) ([]storedFile, int, error) {
	var keys []storedFile
	var messages int
	for chunk := range slices.Chunk(ids, purgeChunk) {
		had := make(map[int64]bool, len(chunk))
		// A page of messages at a time, so that a batch of long
		// conversations is not held in memory at once.
		for after := int64(0); ; {
			var msgs []*db.Message
			if err := tx.NewSelect().Model(&msgs).Column("id", "thread_id").Where("thread_id IN (?) AND id > ?", bun.In(chunk), after).
				Order("id").Limit(purgePage).Scan(ctx); err != nil {
				return nil, 0, fmt.Errorf("load messages: %w", err)
			}
			k, err := s.purge(ctx, tx, msgs...)
			if err != nil {
				return nil, 0, err
			}
			keys = append(keys, k...)
			messages += len(msgs)
			for _, m := range msgs {
				had[m.ThreadID] = true
			}
			if len(msgs) < purgePage {
				break
			}
			after = msgs[len(msgs)-1].ID
		}
		if bare := slices.DeleteFunc(slices.Clone(chunk), func(id int64) bool { return had[id] }); len(bare) > 0 {
			if err := s.dropEmpty(ctx, tx, bare...); err != nil {
				return nil, 0, err
			}
		}
	}
	return keys, messages, nil
}

// deleteThreads deletes, in one transaction, those of the threads that are
// (still) of the organisation and inactive since before cutoff (through
// purgeThreads). The files go after the commit. It returns how many threads
// it deleted.
func (s *Service) deleteThreads(ctx context.Context, run *dailyRun, ids []int64, orgID int64, cutoff time.Time, out *RetentionResult) (int, error) {
	ids = slices.Sorted(slices.Values(ids))
	var keys []storedFile
	var threads, messages int
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		keys, threads, messages = nil, 0, 0
		if err := run.renew(ctx, tx); err != nil {
			return err
		}
		// The signing requests of the conversations (which go with them)
		// before the conversations, and those in the order of their ids:
		// the order of every change (see threadToWrite), so that the
		// deletion of an account, which locks the person's conversations
		// in that order, and this one take turns.
		if err := s.holdRequests(ctx, tx, "thread_id IN (?)", bun.In(ids)); err != nil {
			return err
		}
		// A reply since the list was read, the conversation put in a
		// case, or a request of it not ended after all, keeps it (the
		// requests are held above); on PostgreSQL the row locks, taken
		// in the order of the ids, make a reply wait for this
		// transaction (and then fail on the deleted thread).
		q := tx.NewSelect().TableExpr("threads AS t").Column("t.id").Where("t.id IN (?)", bun.In(ids)).
			Where(retainedThread, orgID, cutoff, cutoff).OrderExpr("t.id")
		if s.DB.Postgres() {
			q = q.For("UPDATE OF t")
		}
		var found []int64
		if err := q.Scan(ctx, &found); err != nil {
			return fmt.Errorf("lock conversations: %w", err)
		}
		var err error
		if keys, messages, err = s.purgeThreads(ctx, tx, found); err != nil {
			return err
		}
		threads = len(found)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retention: delete conversations: %w", err)
	}
	s.removeFiles(ctx, keys)
	out.Conversations += threads
	out.Messages += messages
	out.Files += len(keys)
	return threads, nil
}

// invitedUnused selects (as u) the invited people the cleanup deletes:
// never activated, not an admin (an organisation's first admin may be
// waiting for a new link), in no team, taking part in no conversation, invited last
// before the cutoff and not seen since. Arguments: the cutoff, three times.
// Read through users_invited_idx, partial on the first two terms as they
// are written here (a planner uses a partial index only for a condition
// that implies the index's).
const invitedUnused = `u.status = 'invited' AND u.is_admin = FALSE AND u.created_at < ?
  AND NOT EXISTS (SELECT 1 FROM participants AS p WHERE p.user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM team_members AS tm WHERE tm.user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM invitations AS i WHERE i.user_id = u.id AND i.created_at >= ?)
  AND NOT EXISTS (SELECT 1 FROM sessions AS se WHERE se.user_id = u.id AND se.last_seen_at >= ?)`

// cleanup removes what the login rules no longer need: the invited people
// who take part in nothing (deleted like a stopped account), unused
// invitations, delivered outbox rows (and failed ones after a month),
// ended sessions, expired throttle rows, one-time codes and kept texts;
// and it removes the files of deleted attachments that their deletion did
// not remove.
func (s *Service) cleanup(ctx context.Context, run *dailyRun) (CleanupResult, error) {
	var out CleanupResult
	now := s.Now().UTC()
	cutoff := now.Add(-auth.InvitationKept)
	var err error
	if out.Invited, err = s.purgeInvited(ctx, run, cutoff); err != nil {
		return out, err
	}
	steps := []struct {
		n  *int
		fn func() (int, error)
	}{
		{&out.Invitations, func() (int, error) { return auth.PurgeInvitations(ctx, s.DB, cutoff) }},
		{&out.Outbox, func() (int, error) {
			return notify.PurgeDelivered(ctx, s.DB, now.Add(-notify.DeliveredKept), now.Add(-notify.FailedKept), auth.CleanupBatch)
		}},
		{&out.Sessions, func() (int, error) { return auth.PurgeSessions(ctx, s.DB, now) }},
		{&out.Throttles, func() (int, error) { return auth.PurgeThrottles(ctx, s.DB, now) }},
		{&out.SSOLogins, func() (int, error) { return auth.PurgeSSOLogins(ctx, s.DB, now) }},
		{&out.Codes, func() (int, error) { return auth.PurgeCodes(ctx, s.DB, now) }},
		{&out.LateFiles, func() (int, error) { return s.removeLateFiles(ctx) }},
		{&out.KeptTexts, func() (int, error) { return PurgeKeptTexts(ctx, s.DB, now) }},
	}
	for _, st := range steps {
		if err := run.renew(ctx, s.DB); err != nil {
			return out, err
		}
		if *st.n, err = st.fn(); err != nil {
			return out, err
		}
	}
	if out != (CleanupResult{}) {
		if err := s.DB.Checkpoint(ctx); err != nil {
			s.Log.Warn("checkpoint after cleanup", "err", err)
		}
	}
	return out, nil
}

// purgeInvited deletes the invited people who take part in nothing
// (invitedUnused), invitedBatch per transaction, each the way StopService
// deletes an account.
func (s *Service) purgeInvited(ctx context.Context, run *dailyRun, cutoff time.Time) (int, error) {
	total := 0
	for {
		var ids []int64
		// In no order, through users_invited_idx: a sort by id walks
		// everyone in id order instead. Locked in id order below.
		if err := s.DB.NewSelect().TableExpr("users AS u").Column("u.id").Where(invitedUnused, cutoff, cutoff, cutoff).
			Limit(invitedBatch).Scan(ctx, &ids); err != nil {
			return total, fmt.Errorf("list unused invited people: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		slices.Sort(ids)
		var keys []storedFile
		var later []Event
		n := 0
		err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			keys, later, n = nil, nil, 0
			if err := run.renew(ctx, tx); err != nil {
				return err
			}
			for _, id := range ids {
				// Checked again under a row lock: a message to the person
				// since the list was read keeps them.
				var u db.User
				q := tx.NewSelect().Model(&u).ModelTableExpr("users AS u").ColumnExpr(s.DB.Columns(db.User{}, "u")).
					Where("u.id = ?", id).Where(invitedUnused, cutoff, cutoff, cutoff)
				if s.DB.Postgres() {
					q = q.For("UPDATE OF u")
				}
				if err := q.Scan(ctx); err != nil {
					if db.ErrNoRows(err) {
						continue
					}
					return fmt.Errorf("lock invited person: %w", err)
				}
				k, evs, err := s.deleteAccount(ctx, tx, &u, AuditInvitationExpired)
				if err != nil {
					return err
				}
				keys = append(keys, k...)
				later = append(later, evs...)
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("delete unused invited people: %w", err)
		}
		s.publish(ctx, later)
		s.removeFiles(ctx, keys)
		total += n
		if n == 0 || len(ids) < invitedBatch {
			return total, nil
		}
	}
}
