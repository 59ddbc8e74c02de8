package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/notify"
)

// Admin is Beheer: what an organisation's admins do with its users, the
// helpdesk reset of a lost second factor, and the organisation's audit
// log. Every method takes the signed-in admin and answers apperr NotFound
// for anyone else, and for users and rows of another organisation, so
// that nobody learns what lies outside their own organisation.
type Admin struct {
	Accounts    *Accounts
	Invitations *Invitations
	// HelpdeskMail renders the mail with a helpdesk-reset link.
	HelpdeskMail HelpdeskMail
	// Teams, when set, puts an invited colleague in teams in the
	// invitation's transaction (messaging.Service implements it).
	Teams TeamJoiner

	usersPlan usersPlan // how Users reads a page; tests set it
}

// TeamJoiner makes a new colleague a member of teams of the organisation
// orgID, in tx; a team of another organisation is apperr Invalid on
// "teams".
type TeamJoiner interface {
	JoinTeamsTx(ctx context.Context, tx bun.Tx, orgID, actorID, userID int64, teamIDs []int64, ip string) error
}

// UsersPageSize is how many users a page of Beheer's list shows.
const UsersPageSize = 25

// User statuses as Beheer shows them: db.StatusInvited, db.StatusDisabled,
// db.StatusActive, and UserNoFactor for an active account without a
// verified second factor.
const UserNoFactor = "no_factor"

// FactorSSO is, in Beheer's list, the "factor" of a user who logs in
// through the organisation's provider.
const FactorSSO = "sso"

// Roles of an internal user.
const (
	RoleMember = "member"
	RoleAdmin  = "admin"
)

// AdminUser is one row of Beheer's list of users.
type AdminUser struct {
	ID        int64
	Email     string
	Name      string
	Internal  bool
	Admin     bool
	Status    string
	LastLogin time.Time // zero when never
	Factors   []string  // kinds of the verified factors, db.FactorSMS, db.FactorTOTP
	// Shared: an external user who also deals with another organisation
	// (sharedAmong), whom the admin neither disables nor resets.
	Shared bool
}

// UsersPage is a page of the list.
type UsersPage struct {
	Users []AdminUser
	// Prev: people come before this page; More: people come after it.
	Prev, More bool
}

// UsersAt says which page of the list: the first (both empty), the one
// after the address After (the last of the page before), or the one
// before the address Before (the first of the page after). The list pages
// by address rather than by number, so that a page walks the users from
// where the last one ended instead of past every earlier page.
type UsersAt struct {
	After, Before string
}

var errNotFound = apperr.New(apperr.NotFound, "error.not_found")

// orgOf returns the organisation cur administers; NotFound for anyone
// who is not an internal admin of one.
func orgOf(cur *Current) (int64, error) {
	if cur == nil || cur.User == nil || !cur.User.IsAdmin || cur.User.Kind != db.KindInternal || cur.User.OrgID == nil ||
		cur.User.Status == db.StatusDisabled {
		return 0, errNotFound
	}
	return *cur.User.OrgID, nil
}

// AdminOrg returns the organisation cur administers: the one rule by
// which every part of Beheer, also outside this package, decides who may
// act; apperr NotFound for anyone who is not an internal admin of one.
func AdminOrg(cur *Current) (int64, error) {
	return orgOf(cur)
}

// inOrgExpr is the condition, for the users row aliased u and the
// organisation given three times, under which a user belongs to the
// organisation in Beheer: its internal users, and the external users who
// take part in its conversations or were invited by it. External users
// are members of no organisation; this is the only way an admin sees one.
//
// It is asked of one user at a time, also by Beheer's list for each user
// it walks, so it costs that user's rows, never the organisation's: the
// conversations are looked up from the person's own participant rows,
// each by its key (a join would let either engine start from every
// conversation of the organisation instead), and OFFSET 0 keeps
// PostgreSQL from turning an EXISTS into a hashed subplan, which collects
// every participant and invitation of the organisation once to test each
// user against.
const inOrgExpr = `(u.org_id = ? OR (u.kind = '` + db.KindExternal + `' AND (
  EXISTS (SELECT 1 FROM participants AS p WHERE p.user_id = u.id AND (SELECT t.org_id FROM threads AS t WHERE t.id = p.thread_id) = ? LIMIT 1 OFFSET 0)
  OR EXISTS (SELECT 1 FROM invitations AS i WHERE i.user_id = u.id AND i.org_id = ? LIMIT 1 OFFSET 0))))`

// likePattern turns a search text into a LIKE pattern with its wildcards
// escaped (ESCAPE '!').
func likePattern(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	q = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(q)
	return "%" + q + "%"
}

// nameExpr is the person's full name for the users row aliased alias.
func nameExpr(alias string) string {
	return "LOWER(" + alias + ".first_name || ' ' || " + alias + ".name_prefix || ' ' || " + alias + ".last_name)"
}

// Users lists the organisation's internal and external users, by mail
// address, UsersPageSize a page from at, those whose address or name
// contains query when it is not empty.
//
// A page costs a page or the organisation, whichever is less, never the
// installation (usersPlanFor): an organisation with few people (rows of
// its internal users, its conversations' participants and its
// invitations) has them read and sorted (usersGatherSelect); a larger
// one has the users walked in address order from at (an index), keeping
// each that belongs to the organisation (inOrgExpr: a look at that
// person's own participant rows and invitations) until the page is full,
// where its people are dense enough to fill a page early; a search of
// three characters or more first narrows that walk to the users the
// people search index finds. The organisation's external people have no
// column of their own to page by, and a table of them kept by triggers
// on participants could deadlock concurrent composes on PostgreSQL.
func (s *Admin) Users(ctx context.Context, cur *Current, query string, at UsersAt) (*UsersPage, error) {
	org, err := orgOf(cur)
	if err != nil {
		return nil, err
	}
	plan, err := s.usersPlanFor(ctx, org)
	if err != nil {
		return nil, err
	}
	var rows []db.User
	sel := s.usersSelect
	if plan == usersGather {
		sel = s.usersGatherSelect
	}
	if err := sel(&rows, org, query, at).Scan(ctx); err != nil {
		return nil, fmt.Errorf("admin: list users: %w", err)
	}
	out := &UsersPage{}
	full := len(rows) > UsersPageSize
	if full {
		rows = rows[:UsersPageSize]
	}
	if at.Before != "" {
		// Read backwards from Before: put the page in address order. It was
		// reached from a later page, so people come after it.
		slices.Reverse(rows)
		out.Prev, out.More = full, true
	} else {
		// A page after After was reached from an earlier page.
		out.Prev, out.More = at.After != "", full
	}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	var factors []db.SecondFactor
	if err := s.Accounts.DB.NewSelect().Model(&factors).Column("user_id", "kind").
		Where("user_id IN (?) AND verified_at IS NOT NULL", bun.In(ids)).Order("user_id", "kind").Scan(ctx); err != nil {
		return nil, fmt.Errorf("admin: list factors: %w", err)
	}
	kinds := map[int64][]string{}
	for _, f := range factors {
		k := kinds[f.UserID]
		if len(k) == 0 || k[len(k)-1] != f.Kind {
			kinds[f.UserID] = append(k, f.Kind)
		}
	}
	// A user who logs in through the organisation's provider has its
	// factors instead of Dialoog's.
	var linked []int64
	if err := s.Accounts.DB.NewSelect().Table("sso_links").Column("user_id").Where("user_id IN (?)", bun.In(ids)).Scan(ctx, &linked); err != nil {
		return nil, fmt.Errorf("admin: list sso links: %w", err)
	}
	for _, id := range linked {
		kinds[id] = append(kinds[id], FactorSSO)
	}
	var external []int64
	for _, u := range rows {
		if u.Kind == db.KindExternal {
			external = append(external, u.ID)
		}
	}
	shared, err := sharedAmong(ctx, s.Accounts.DB, org, external, s.Accounts.Now().UTC())
	if err != nil {
		return nil, err
	}
	for _, u := range rows {
		au := adminUser(&u, kinds[u.ID])
		au.Shared = shared[u.ID]
		out.Users = append(out.Users, au)
	}
	return out, nil
}

// sharedAmong returns which of the external users ids also deal with an
// organisation other than org: they take part in one of its
// conversations, or hold a sign-up link of it that still works. An admin
// of org may not disable such a person, nor start a helpdesk reset for
// them: that would lock them out of, or take over, conversations of an
// organisation the admin has nothing to do with (and revoke its links).
// One statement, through the indexes on the users' participant rows and
// invitations.
func sharedAmong(ctx context.Context, idb bun.IDB, org int64, ids []int64, now time.Time) (map[int64]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var found []int64
	err := idb.NewRaw(`SELECT p.user_id FROM participants AS p JOIN threads AS t ON t.id = p.thread_id
  WHERE p.user_id IN (?) AND t.org_id <> ?
UNION SELECT i.user_id FROM invitations AS i
  WHERE i.user_id IN (?) AND i.org_id <> ? AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?`,
		bun.In(ids), org, bun.In(ids), org, now).Scan(ctx, &found)
	if err != nil {
		return nil, fmt.Errorf("admin: other organisations: %w", err)
	}
	out := make(map[int64]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// refuseShared is apperr Conflict key when u is an external user who also
// deals with another organisation (sharedAmong).
func refuseShared(ctx context.Context, tx bun.Tx, org int64, u *db.User, now time.Time, key string) error {
	if u.Kind != db.KindExternal {
		return nil
	}
	shared, err := sharedAmong(ctx, tx, org, []int64{u.ID}, now)
	if err != nil {
		return err
	}
	if shared[u.ID] {
		return apperr.New(apperr.Conflict, key)
	}
	return nil
}

// usersPlan is a way Users reads a page.
type usersPlan int

const (
	usersAuto   usersPlan = iota // usersPlanFor decides
	usersWalk                    // walk the users in address order (usersSelect)
	usersGather                  // read the organisation's people and sort them (usersGatherSelect)
)

// usersGatherMax is the most rows of the organisation's people (orgPeople:
// its internal users, its invitations and its conversations'
// participants, a row each) Users reads and sorts for a page; with more
// it walks the users in address order, among whom its people are then
// dense enough to fill a page early, or it is an organisation of few
// people in very many conversations, which the walk serves as before.
const usersGatherMax = 2000

// orgPeople is a statement of the candidates for the organisation's
// people, given three times: one row per internal user, invitation and
// participant row of its conversations, each source read through its
// index by organisation (users_org_idx, invitations_org_user_idx, and
// threads_org_activity_idx then the participants by conversation).
// For count, a 1 each, UNION ALL, which the indexes answer without the
// users' rows; otherwise their ids, each once (UNION). Which of them
// belong to the organisation is inOrgExpr's rule: the internal users of
// the organisation, and the external users among the others. A LATERAL
// subquery that is not pulled up (OFFSET 0) keeps PostgreSQL to reading
// the participants by conversation, never all of them hashed.
func orgPeople(postgres, count bool) string {
	union, users, invited, took := "UNION", "ou.id", "i.user_id", "p.user_id"
	if count {
		union, users, invited, took = "UNION ALL", "1", "1", "1"
	}
	participants := "threads AS t CROSS JOIN participants AS p WHERE t.org_id = ? AND p.thread_id = t.id"
	if postgres {
		participants = "threads AS t CROSS JOIN LATERAL (SELECT tp.user_id FROM participants AS tp WHERE tp.thread_id = t.id OFFSET 0) AS p WHERE t.org_id = ?"
	}
	return `SELECT ` + users + ` FROM users AS ou WHERE ou.org_id = ?
` + union + ` SELECT ` + invited + ` FROM invitations AS i WHERE i.org_id = ?
` + union + ` SELECT ` + took + ` FROM ` + participants
}

// usersCountQuery counts the rows of orgPeople of the organisation
// (given three times), up to a LIMIT: what usersPlanFor reads to decide.
func usersCountQuery(postgres bool) string {
	return "SELECT COUNT(*) FROM (" + orgPeople(postgres, true) + " LIMIT ?) AS c"
}

// usersPlanFor decides how a page of org's list is read: usersGather
// when the organisation's people come in at most usersGatherMax rows
// (counted up to one more, so the count costs at most that), else
// usersWalk. Both give the same rows in the same order.
func (s *Admin) usersPlanFor(ctx context.Context, org int64) (usersPlan, error) {
	if s.usersPlan != usersAuto {
		return s.usersPlan, nil
	}
	var n int
	if err := s.Accounts.DB.NewRaw(usersCountQuery(s.Accounts.DB.Postgres()), org, org, org, usersGatherMax+1).
		Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("admin: count people: %w", err)
	}
	if n > usersGatherMax {
		return usersWalk, nil
	}
	return usersGather, nil
}

// usersGatherSelect is usersSelect from the organisation's people
// (orgPeople, each once) instead of all users: each candidate's users
// row by its key, kept when inOrgExpr holds, which for a candidate is
// that it is an internal user of the organisation or an external user;
// those after or before at, and whose address or name contains query,
// sorted by address. The candidates come first: a CROSS JOIN keeps
// SQLite to that order, a LATERAL subquery that is not pulled up (OFFSET
// 0) keeps PostgreSQL to it, which could otherwise walk the users by
// address against a hash of the candidates, as costly as usersSelect.
// The search is tested on the candidates; the search index would find
// people of the whole installation.
func (s *Admin) usersGatherSelect(rows *[]db.User, org int64, query string, at UsersAt) *bun.SelectQuery {
	idb := s.Accounts.DB
	from := "(" + orgPeople(false, false) + ") AS c CROSS JOIN users AS u"
	if idb.Postgres() {
		from = "(" + orgPeople(true, false) + ") AS c CROSS JOIN LATERAL (SELECT * FROM users AS cu WHERE cu.id = c.id OFFSET 0) AS u"
	}
	q := idb.NewSelect().Model(rows).ModelTableExpr(from, org, org, org).ColumnExpr(idb.Columns(db.User{}, "u"))
	if !idb.Postgres() {
		q = q.Where("u.id = c.id")
	}
	q = q.Where("(u.org_id = ? OR u.kind = '"+db.KindExternal+"')", org)
	q = usersAtWhere(q, at)
	if query = strings.TrimSpace(query); query != "" {
		pat := likePattern(query)
		q = q.Where("(LOWER(u.email) LIKE ? ESCAPE '!' OR "+nameExpr("u")+" LIKE ? ESCAPE '!')", pat, pat)
	}
	return q.Limit(UsersPageSize + 1)
}

// usersAtWhere orders q by address from at: after at.After, or, in
// reverse, before at.Before.
func usersAtWhere(q *bun.SelectQuery, at UsersAt) *bun.SelectQuery {
	switch {
	case at.Before != "":
		return q.Where("u.email < ?", at.Before).OrderExpr("u.email DESC")
	case at.After != "":
		return q.Where("u.email > ?", at.After).OrderExpr("u.email ASC")
	}
	return q.OrderExpr("u.email ASC")
}

// usersSelect selects a page (plus one row, to tell whether there are
// more) of the users of Beheer's list of org from at into rows, in
// address order, or in reverse address order when at.Before is set;
// those whose address or name contains query when it is not empty.
func (s *Admin) usersSelect(rows *[]db.User, org int64, query string, at UsersAt) *bun.SelectQuery {
	idb := s.Accounts.DB
	q := idb.NewSelect().Model(rows).ModelTableExpr("users AS u").ColumnExpr(idb.Columns(db.User{}, "u")).
		Where(inOrgExpr, org, org, org)
	q = usersAtWhere(q, at)
	if query = strings.TrimSpace(query); query != "" {
		// What the list shows: the address or the name containing query.
		pat := likePattern(query)
		q = q.Where("(LOWER(u.email) LIKE ? ESCAPE '!' OR "+nameExpr("u")+" LIKE ? ESCAPE '!')", pat, pat)
		// Of which the people search index finds (a superset of) the
		// candidates when the query is long enough for its trigrams; a
		// shorter one walks the organisation's people in address order.
		if utf8.RuneCountInString(query) >= db.MinSearchIndexed {
			sub, args := peopleIndexed(idb.Postgres(), query)
			q = q.Where("u.id IN ("+sub+")", args...)
		}
	}
	return q.Limit(UsersPageSize + 1)
}

// peopleIndexed is a subquery of the ids of the users whose name or
// address may contain query, through the people search index: users_fts
// (SQLite) or users_name_trgm and users_email_trgm (PostgreSQL), with the
// index's own expressions (db.PersonNameExpr). The indexed name holds more
// than the name the list shows and the index folds case more widely than
// LOWER, so the caller still checks what it shows; query must have at
// least db.MinSearchIndexed characters.
func peopleIndexed(postgres bool, query string) (string, []any) {
	if postgres {
		like := db.ContainsPattern(query)
		return `SELECT s.id FROM users AS s WHERE lower(` + db.PersonNameExpr("s") + `) LIKE ? ESCAPE '\' OR lower(s.email) LIKE ? ESCAPE '\'`, []any{like, like}
	}
	return "SELECT rowid FROM users_fts WHERE users_fts MATCH ?", []any{db.FTSPhrase(query)}
}

func adminUser(u *db.User, factors []string) AdminUser {
	name := strings.Join(strings.Fields(u.FirstName+" "+u.NamePrefix+" "+u.LastName), " ")
	st := u.Status
	if st == db.StatusActive && len(factors) == 0 {
		st = UserNoFactor
	}
	return AdminUser{ID: u.ID, Email: u.Email, Name: name, Internal: u.Kind == db.KindInternal, Admin: u.IsAdmin,
		Status: st, LastLogin: u.LastLoginAt.Time, Factors: factors}
}

// target loads a user of the organisation in the caller's transaction;
// NotFound for anyone else.
func target(ctx context.Context, idb bun.IDB, org, userID int64) (*db.User, error) {
	var u db.User
	err := idb.NewSelect().Model(&u).ModelTableExpr("users AS u").ColumnExpr(db.ColumnsOf(idb, db.User{}, "u")).
		Where("u.id = ?", userID).Where(inOrgExpr, org, org, org).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("admin: load user: %w", err)
	}
	return &u, nil
}

// actorIn checks in tx that cur is still an internal admin of org who is
// not disabled (NotFound otherwise): a request checked at its start may
// meet a change committed since, such as two admins disabling each other
// at the same moment. On PostgreSQL the rows of cur and of the users
// others are locked first, in the order of their ids, so that such
// changes take turns and the second sees the first; SQLite's writes take
// turns anyway.
func (s *Admin) actorIn(ctx context.Context, tx bun.Tx, org int64, cur *Current, others ...int64) error {
	var rows []db.User
	q := tx.NewSelect().Model(&rows).Column("id", "org_id", "kind", "is_admin", "status").
		Where("id IN (?)", bun.In(append([]int64{cur.User.ID}, others...))).Order("id")
	if s.Accounts.DB.Postgres() {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return fmt.Errorf("admin: check actor: %w", err)
	}
	for _, u := range rows {
		if u.ID == cur.User.ID {
			if u.Kind != db.KindInternal || !u.IsAdmin || u.Status == db.StatusDisabled || u.OrgID == nil || *u.OrgID != org {
				return errNotFound
			}
			return nil
		}
	}
	return errNotFound
}

// InviteColleague invites a new internal user of the admin's
// organisation with role RoleMember or RoleAdmin. An address that already
// has an account is refused (apperr Invalid on "email"), whatever
// organisation it belongs to; so is an unknown role (on "role"). The
// colleague becomes a member of teamIDs (teams of the organisation) in
// the same transaction.
func (s *Admin) InviteColleague(ctx context.Context, cur *Current, email, role, language, ip string, teamIDs ...int64) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	if strings.TrimSpace(email) == "" {
		// NormalizeEmail's message asks for one's own address.
		return apperr.Field("email", "admin.invite.email_required")
	}
	email, err = NormalizeEmail(email)
	if err != nil {
		return err
	}
	if role != RoleMember && role != RoleAdmin {
		return apperr.Field("role", "admin.role.invalid")
	}
	if len(teamIDs) > 0 && s.Teams == nil {
		return fmt.Errorf("admin: invite into teams: no teams service")
	}
	err = s.Accounts.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var o db.Organisation
		if err := tx.NewSelect().Model(&o).Where("id = ?", org).Scan(ctx); err != nil {
			return fmt.Errorf("load organisation: %w", err)
		}
		exists, err := tx.NewSelect().Model((*db.User)(nil)).Where("email = ?", email).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check address: %w", err)
		}
		if exists {
			return apperr.Field("email", "admin.invite.exists")
		}
		now := s.Accounts.Now().UTC()
		u := db.User{Email: email, Kind: db.KindInternal, OrgID: &org, IsAdmin: role == RoleAdmin, Status: db.StatusInvited,
			Language: lang(language), Gender: "unknown", CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&u).Exec(ctx); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if _, err := s.Invitations.issue(ctx, tx, &u, &o, &cur.User.ID, now); err != nil {
			return err
		}
		if len(teamIDs) > 0 {
			if err := s.Teams.JoinTeamsTx(ctx, tx, org, cur.User.ID, u.ID, teamIDs, ip); err != nil {
				return err
			}
		}
		return Audit(ctx, tx, AuditEntry{UserID: &u.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.user_invited", Detail: role, IP: ip, Now: now})
	})
	if db.IsUniqueViolation(err) {
		// The address was stored at the same moment (the form sent
		// twice, or written to by a colleague) after the check passed.
		err = apperr.Field("email", "admin.invite.exists")
	}
	if err != nil {
		return fmt.Errorf("admin: invite %s: %w", redactEmail(email), err)
	}
	s.Invitations.queued()
	return nil
}

// ResendInvitation sends a user of the organisation who has not finished
// signing up a new link (older links stop working); apperr Conflict for
// anyone who has.
func (s *Admin) ResendInvitation(ctx context.Context, cur *Current, userID int64, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	err = s.Accounts.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := target(ctx, tx, org, userID)
		if err != nil {
			return err
		}
		if u.Status != db.StatusInvited {
			return apperr.New(apperr.Conflict, "admin.resend.not_invited")
		}
		var o db.Organisation
		if err := tx.NewSelect().Model(&o).Where("id = ?", org).Scan(ctx); err != nil {
			return fmt.Errorf("load organisation: %w", err)
		}
		now := s.Accounts.Now().UTC()
		if err := s.Invitations.resendAllowed(ctx, tx, u.ID, o.ID); err != nil {
			return err
		}
		if _, err := s.Invitations.issue(ctx, tx, u, &o, &cur.User.ID, now); err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{UserID: &u.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.invitation_resent", IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("admin: resend invitation: %w", err)
	}
	s.Invitations.queued()
	return nil
}

// Disable stops a user of the organisation: they can no longer log in,
// every session of theirs ends and its live connections close on every
// instance, the mail and texts still queued for them are withdrawn, their
// open sign-up links and helpdesk resets stop working, and no new mail is
// queued for them (notify.Outbox.QueueMail). An admin cannot disable
// themselves (apperr Conflict), nor an external user who also deals with
// another organisation (apperr Conflict, sharedAmong), and an admin
// disabled meanwhile disables nobody (actorIn): two admins disabling each
// other leave one.
func (s *Admin) Disable(ctx context.Context, cur *Current, userID int64, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	if userID == cur.User.ID {
		return apperr.New(apperr.Conflict, "admin.disable.self")
	}
	var ended []int64
	err = s.Accounts.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.actorIn(ctx, tx, org, cur, userID); err != nil {
			return err
		}
		u, err := target(ctx, tx, org, userID)
		if err != nil {
			return err
		}
		if u.Status == db.StatusDisabled {
			return nil
		}
		now := s.Accounts.Now().UTC()
		if err := refuseShared(ctx, tx, org, u, now, "admin.disable.shared"); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Set("updated_at = ?", now).
			Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if ended, err = s.Accounts.Sessions.EndOthers(ctx, tx, u.ID, 0); err != nil {
			return err
		}
		var phones []string
		if err := tx.NewSelect().Model((*db.SecondFactor)(nil)).Column("phone").Where("user_id = ? AND phone <> ''", u.ID).Scan(ctx, &phones); err != nil {
			return fmt.Errorf("load phones: %w", err)
		}
		if err := notify.Withdraw(ctx, tx, append(phones, u.Email)); err != nil {
			return err
		}
		// Their browsers subscribe again if they are enabled and switch
		// notifications on.
		if err := notify.ForgetPush(ctx, tx, u.ID); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*db.Invitation)(nil)).Set("revoked_at = ?", now).
			Where("user_id = ? AND used_at IS NULL AND revoked_at IS NULL", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("revoke invitations: %w", err)
		}
		if err := revokeHelpdeskResets(ctx, tx, u.ID, now); err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{UserID: &u.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.user_disabled", IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("admin: disable user: %w", err)
	}
	s.Accounts.sessionsEnded(ctx, ended)
	return nil
}

// Enable lets a disabled user of the organisation in again: active when
// they had finished their first visit, else invited (a new sign-up link
// is then one ResendInvitation away).
func (s *Admin) Enable(ctx context.Context, cur *Current, userID int64, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	err = s.Accounts.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.actorIn(ctx, tx, org, cur, userID); err != nil {
			return err
		}
		u, err := target(ctx, tx, org, userID)
		if err != nil {
			return err
		}
		if u.Status != db.StatusDisabled {
			return nil
		}
		st := db.StatusInvited
		if !u.ProfileCompletedAt.IsZero() {
			st = db.StatusActive
		}
		now := s.Accounts.Now().UTC()
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("status = ?", st).Set("updated_at = ?", now).
			Where("id = ? AND status = ?", u.ID, db.StatusDisabled).Exec(ctx); err != nil {
			return fmt.Errorf("enable user: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &u.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.user_enabled", IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("admin: enable user: %w", err)
	}
	return nil
}
