package messaging

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/i18n"
	"dialoog/identity"
)

// The user owns their box (terms of use): they can take it with them as a
// ZIP file. The file holds, in the user's language:
//
//	LEESMIJ.txt                      what the files are
//	overzicht.html                   every conversation, linked
//	profiel.json                     the profile and the absence reply
//	tweede-stap.json                 the second factors (kind and dates; a passkey's name)
//	beveiligingsactiviteit.json      the user's audit events
//	bewaarde-teksten.json            what was typed when the session lapsed
//	                                 and is kept for the user (KeepText)
//	gesprekken/<id>-<onderwerp>/     per conversation:
//	    gesprek.html                 readable, self-contained, no scripts
//	    gesprek.json                 every message with its details, and the
//	                                 requests for agreement (ExportSigning)
//	    bijlagen/<id>-<naam>         the attachments, byte for byte
//
// Only what is in the user's own box, seen as they see it in Dialoog: no
// message they removed, no conversation they are not in, no address of
// another external user. It is written as it is read, a page of
// conversations at a time, each attachment streamed from the blob store,
// so memory does not grow with the box. A page's conversations are read
// in batches, a statement each for all of a batch's people, messages,
// read states, attachments and requests for agreement, so that the
// statements do not grow with the conversations either; a conversation
// too long for a batch is read a page of messages at a time.

// Export limits.
const (
	// ExportLease is how long an export's claim on its user lasts
	// without being renewed; a running export renews it every third of
	// that, and one whose instance died is taken over after it.
	ExportLease = 2 * time.Minute
	// DefaultMaxExports is how many exports one instance writes at once
	// when Service.MaxExports is 0.
	DefaultMaxExports = 2
	// DefaultExportWait is how long an export waits for its turn on a
	// busy instance before it is refused, when Service.ExportWait is 0.
	DefaultExportWait = 5 * time.Second

	exportThreads  = 500 // conversations listed at a time
	exportMessages = 100 // messages loaded at a time of a long conversation
	exportEvents   = 500 // audit events loaded at a time
)

// exportBatchLimits are what a batch of conversations read together may
// hold at most: messages, bytes of their (sealed) bodies, participants,
// and read states (each conversation's messages times its participants,
// at most: every participant's state of each message is read). A
// conversation that alone holds more is read a page of messages at a time.
type exportBatchLimits struct {
	messages, people int
	bytes, states    int64
}

// exportBatch's limits keep a batch's memory to about a MiB of text and
// some 10 MB of read states; a variable for the tests, which compare
// batches of other sizes.
var exportBatch = exportBatchLimits{messages: 1000, bytes: 1 << 20, people: 5000, states: 100_000}

// AuditBoxExported is the audit kind of an export ("Berichten gedownload"
// in the security activity).
const AuditBoxExported = "export"

var (
	errExportRunning = apperr.New(apperr.Conflict, "export.running")
	errExportBusy    = apperr.New(apperr.TooMany, "export.busy")
)

// exportSlots bounds the exports of one instance.
type exportSlots struct {
	once sync.Once
	ch   chan struct{}
}

func (s *Service) exportSlots() chan struct{} {
	s.exports.once.Do(func() {
		n := s.MaxExports
		if n <= 0 {
			n = DefaultMaxExports
		}
		s.exports.ch = make(chan struct{}, n)
	})
	return s.exports.ch
}

// BoxExport is an export that may be written: it holds one of the
// instance's export slots and the user's export lease until WriteTo ends
// (or Close is called). WriteTo streams the ZIP to w.
type BoxExport interface {
	WriteTo(ctx context.Context, w io.Writer) error
	Close()
}

// boxExport is the BoxExport of Export.
type boxExport struct {
	s       *Service
	userID  int64
	user    *db.User // the stored row, as of the export
	orgName string
	l       i18n.Localizer
	names   exportNames
	now     time.Time
	// lastMessage is the newest message when the export began: the
	// export is of the box as it was then, in every file.
	lastMessage int64
	holder      string
	away        string
	factors     []db.SecondFactor
	passkeys    []db.Passkey
	codes       struct{ Unused, Used int }
	kept        []keptJSON
	// orgNames and teams name senders in every conversation, each loaded
	// once for the export (senderOrgs).
	orgNames  map[int64]string
	teams     map[int64]teamView
	closeOnce sync.Once
}

// exportNames are the file names of the export in the user's language.
type exportNames struct {
	conversations, attachments, readme, index, profile, factors, activity, kept, convHTML, convJSON string
	// untitled names a conversation's folder when its subject gives no
	// name.
	untitled string
}

func namesFor(l i18n.Localizer) exportNames {
	return exportNames{
		conversations: l.T("export.dir_conversations"), attachments: l.T("export.dir_attachments"),
		readme: l.T("export.file_readme"), index: l.T("export.file_index"), profile: l.T("export.file_profile"),
		factors: l.T("export.file_factors"), activity: l.T("export.file_activity"), kept: l.T("export.file_kept"),
		convHTML: l.T("export.file_conversation_html"), convJSON: l.T("export.file_conversation_json"),
		untitled: l.T("export.dir_untitled"),
	}
}

// Export begins an export of the user's box: it takes one of the
// instance's export slots (waiting up to Service.ExportWait), claims the user's
// export lease (one export per user at a time, on every instance), records
// the export in the user's security activity, and loads the account's
// details. Everything that can fail before the first byte fails here, so
// the caller can still show a page; WriteTo then writes the ZIP file.
func (s *Service) Export(ctx context.Context, who *identity.User, ip string) (BoxExport, error) {
	user := db.UserOf(who)
	// A second export of the person is refused at once, not after waiting
	// for a turn; the claim below decides races.
	running, err := s.DB.NewSelect().Model((*db.ExportLease)(nil)).Where("user_id = ? AND expires_at > ?", user.ID, s.Now().UTC()).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if running {
		return nil, errExportRunning
	}
	slots := s.exportSlots()
	d := s.ExportWait
	if d <= 0 {
		d = DefaultExportWait
	}
	wait := time.NewTimer(d)
	defer wait.Stop()
	select {
	case slots <- struct{}{}:
	case <-wait.C:
		return nil, errExportBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("export: %w", ctx.Err())
	}
	e := &boxExport{s: s, userID: user.ID, now: s.Now().UTC(), holder: newStorageKey(), orgNames: map[int64]string{}, teams: map[int64]teamView{}}
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Claim the lease unless another export holds one that has not
		// expired: one statement, so two instances cannot both win.
		res, err := tx.NewRaw(`INSERT INTO export_leases (user_id, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE export_leases.expires_at <= ?`, user.ID, e.holder, e.now.Add(ExportLease), e.now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("claim export lease: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errExportRunning
		}
		return auth.Audit(ctx, tx, auth.AuditEntry{UserID: &user.ID, ActorID: &user.ID, Kind: AuditBoxExported, IP: ip, Now: e.now})
	})
	if err != nil { // nothing claimed: the transaction rolled back
		<-slots
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := e.load(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// load reads what the export needs of the account before its first byte.
func (e *boxExport) load(ctx context.Context) error {
	s := e.s
	var u db.User
	if err := s.DB.NewSelect().Model(&u).Where("id = ?", e.userID).Scan(ctx); err != nil {
		return fmt.Errorf("export: load user: %w", err)
	}
	e.user = &u
	e.l = i18n.For(u.Language)
	e.names = namesFor(e.l)
	if u.OrgID != nil {
		if err := s.DB.NewSelect().Model((*db.Organisation)(nil)).Column("name").Where("id = ?", *u.OrgID).Scan(ctx, &e.orgName); err != nil {
			return fmt.Errorf("export: load organisation: %w", err)
		}
	}
	away, err := auth.AwayMessage(s.Vault, &u)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	e.away = away
	if err := s.DB.NewSelect().Model(&e.factors).Where("user_id = ?", u.ID).Order("id").Scan(ctx); err != nil {
		return fmt.Errorf("export: load factors: %w", err)
	}
	if err := s.DB.NewSelect().Model(&e.passkeys).Where("user_id = ?", u.ID).Order("id").Scan(ctx); err != nil {
		return fmt.Errorf("export: load passkeys: %w", err)
	}
	if err := s.DB.NewSelect().Model((*db.RecoveryCode)(nil)).
		ColumnExpr("COUNT(CASE WHEN used_at IS NULL THEN 1 END) AS unused, COUNT(used_at) AS used").
		Where("user_id = ?", u.ID).Scan(ctx, &e.codes.Unused, &e.codes.Used); err != nil {
		return fmt.Errorf("export: load recovery codes: %w", err)
	}
	if e.kept, err = s.keptOf(ctx, u.ID); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := s.DB.NewSelect().Model((*db.Message)(nil)).ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &e.lastMessage); err != nil {
		return fmt.Errorf("export: newest message: %w", err)
	}
	return nil
}

// Close ends the export: it gives back the instance's slot and the user's
// lease. WriteTo calls it; calling it again does nothing.
func (e *boxExport) Close() {
	e.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := e.s.DB.NewDelete().Model((*db.ExportLease)(nil)).
			Where("user_id = ? AND holder = ?", e.userID, e.holder).Exec(ctx); err != nil {
			// It expires on its own.
			e.s.Log.Error("release export lease", "err", err)
		}
		<-e.s.exportSlots()
	})
}

// renew keeps the lease while the export is written, until stop is called.
func (e *boxExport) renew(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ExportLease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := e.s.DB.NewUpdate().Model((*db.ExportLease)(nil)).Set("expires_at = ?", e.s.Now().UTC().Add(ExportLease)).
				Where("user_id = ? AND holder = ?", e.userID, e.holder).Exec(ctx); err != nil && ctx.Err() == nil {
				e.s.Log.Error("renew export lease", "err", err)
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// WriteTo writes the ZIP file to w and ends the export. An error after the
// first bytes leaves w with a cut off (unreadable) ZIP file; the caller
// logs it.
func (e *boxExport) WriteTo(ctx context.Context, w io.Writer) error {
	defer e.Close()
	stop := e.renew(ctx)
	defer stop()
	zw := zip.NewWriter(w)
	steps := []func(context.Context, *zip.Writer) error{e.writeReadme, e.writeProfile, e.writeFactors, e.writeActivity, e.writeKept, e.writeConversations, e.writeIndex}
	for _, step := range steps {
		if err := step(ctx, zw); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export zip: %w", err)
	}
	return nil
}

// zipTime is a file's time in the ZIP file: the extended timestamp holds
// the instant, the MS-DOS fields (which Windows Explorer and many unzip
// tools show, as local time) the clock time in the Netherlands
// (TestExportFileTimesAreDutch).
func zipTime(at time.Time) time.Time { return at.In(i18n.Zone) }

// create starts a compressed file of the export.
func (e *boxExport) create(zw *zip.Writer, name string, at time.Time) (io.Writer, error) {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime(at)})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", loggedName(name), err)
	}
	return w, nil
}

// writeJSON writes v as a file of the export.
func (e *boxExport) writeJSON(zw *zip.Writer, name string, v any) error {
	w, err := e.create(zw, name, e.now)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("export %s: %w", loggedName(name), err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("export %s: %w", loggedName(name), err)
	}
	return nil
}

// fullDate writes t with its date, year and clock time in Dutch time.
func (e *boxExport) fullDate(t time.Time) string {
	// DateTime leaves out the year of "now"; the zero time's year never
	// is the year of t.
	return e.l.DateTime(t, time.Time{})
}

func (e *boxExport) writeReadme(_ context.Context, zw *zip.Writer) error {
	w, err := e.create(zw, e.names.readme, e.now)
	if err != nil {
		return err
	}
	l, n := e.l, e.names
	var b strings.Builder
	title := l.T("export.readme_title")
	b.WriteString(title + "\n" + strings.Repeat("=", len([]rune(title))) + "\n\n")
	b.WriteString(l.T("export.readme_made", "Date", e.fullDate(e.now), "Email", e.user.Email) + "\n\n")
	b.WriteString(wrap(l.T("export.readme_intro")) + "\n\n")
	b.WriteString(l.T("export.readme_files") + "\n\n")
	item := func(indent, name, text string) {
		b.WriteString(wrapIndent(indent+"- "+name+": "+text, indent+"  ") + "\n")
	}
	item("", n.index, l.T("export.readme_index"))
	item("", n.conversations+"/", l.T("export.readme_conversations"))
	item("  ", n.convHTML, l.T("export.readme_conversation_html"))
	item("  ", n.convJSON, l.T("export.readme_conversation_json"))
	item("  ", n.attachments+"/", l.T("export.readme_attachments"))
	item("", n.profile, l.T("export.readme_profile"))
	item("", n.factors, l.T("export.readme_factors"))
	item("", n.activity, l.T("export.readme_activity"))
	item("", n.kept, l.T("export.readme_kept", "Hours", int(KeptFor.Hours())))
	b.WriteString("\n" + wrap(l.T("export.readme_checksums")) + "\n\n")
	b.WriteString(wrap(l.T("export.readme_times")) + "\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("export %s: %w", loggedName(n.readme), err)
	}
	return nil
}

// wrap breaks text into lines of at most 78 characters.
func wrap(text string) string { return wrapIndent(text, "") }

func wrapIndent(text, indent string) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(text) {
		n := len([]rune(word))
		if i > 0 && line+1+n > 78 {
			b.WriteString("\n" + indent)
			line = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		} else if strings.HasPrefix(text, " ") {
			lead := text[:len(text)-len(strings.TrimLeft(text, " "))]
			b.WriteString(lead)
			line = len(lead)
		}
		b.WriteString(word)
		line += n
	}
	return b.String()
}

// jsonTime is a stored time for the JSON files: UTC, null when unset.
func jsonTime(t bun.NullTime) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

type profileJSON struct {
	Email              string     `json:"email"`
	Kind               string     `json:"kind"`
	Organisation       string     `json:"organisation,omitempty"`
	Language           string     `json:"language"`
	Gender             string     `json:"gender"`
	Initials           string     `json:"initials"`
	FirstName          string     `json:"first_name"`
	NamePrefix         string     `json:"name_prefix"`
	LastName           string     `json:"last_name"`
	CreatedAt          time.Time  `json:"created_at"`
	ProfileCompletedAt *time.Time `json:"profile_completed_at"`
	PasswordChangedAt  *time.Time `json:"password_changed_at"`
	LastLoginAt        *time.Time `json:"last_login_at"`
	Absence            struct {
		Enabled bool       `json:"enabled"`
		Message string     `json:"message"`
		From    *time.Time `json:"from"`
		Until   *time.Time `json:"until"`
	} `json:"absence"`
}

func (e *boxExport) writeProfile(_ context.Context, zw *zip.Writer) error {
	u := e.user
	p := profileJSON{Email: u.Email, Kind: u.Kind, Organisation: e.orgName, Language: u.Language, Gender: u.Gender,
		Initials: u.Initials, FirstName: u.FirstName, NamePrefix: u.NamePrefix, LastName: u.LastName, CreatedAt: u.CreatedAt.UTC(),
		ProfileCompletedAt: jsonTime(u.ProfileCompletedAt), PasswordChangedAt: jsonTime(u.PasswordChangedAt), LastLoginAt: jsonTime(u.LastLoginAt)}
	p.Absence.Enabled, p.Absence.Message = u.AwayEnabled, e.away
	p.Absence.From, p.Absence.Until = jsonTime(u.AwayFrom), jsonTime(u.AwayUntil)
	return e.writeJSON(zw, e.names.profile, p)
}

type factorJSON struct {
	Type       string     `json:"type"`
	Phone      string     `json:"phone,omitempty"` // masked as at login
	Name       string     `json:"name,omitempty"`  // of a passkey
	AddedAt    time.Time  `json:"added_at"`
	VerifiedAt *time.Time `json:"verified_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// writeFactors lists the second factors with their dates, and how many
// recovery codes are left: never a secret, a code or a whole number.
func (e *boxExport) writeFactors(_ context.Context, zw *zip.Writer) error {
	out := struct {
		Factors       []factorJSON `json:"factors"`
		RecoveryCodes struct {
			Unused int `json:"unused"`
			Used   int `json:"used"`
		} `json:"recovery_codes"`
	}{Factors: []factorJSON{}}
	for _, f := range e.factors {
		fj := factorJSON{Type: f.Kind, AddedAt: f.CreatedAt.UTC(), VerifiedAt: jsonTime(f.VerifiedAt), LastUsedAt: jsonTime(f.LastUsedAt)}
		if f.Kind == db.FactorSMS {
			fj.Phone = auth.MaskPhone(f.Phone)
		}
		out.Factors = append(out.Factors, fj)
	}
	// A passkey's public key is no secret, but of no use to the person
	// either: its name and dates.
	for _, k := range e.passkeys {
		added := bun.NullTime{Time: k.CreatedAt}
		out.Factors = append(out.Factors, factorJSON{Type: auth.FactorPasskey, Name: k.Name, AddedAt: k.CreatedAt.UTC(),
			VerifiedAt: jsonTime(added), LastUsedAt: jsonTime(k.LastUsedAt)})
	}
	out.RecoveryCodes.Unused, out.RecoveryCodes.Used = e.codes.Unused, e.codes.Used
	return e.writeJSON(zw, e.names.factors, out)
}

// writeKept lists what was typed when the session lapsed and is kept
// for the user: a few small texts at most (MaxKeptTexts).
func (e *boxExport) writeKept(_ context.Context, zw *zip.Writer) error {
	return e.writeJSON(zw, e.names.kept, struct {
		Texts []keptJSON `json:"texts"`
	}{e.kept})
}

// writeActivity streams the user's audit events, oldest first, a page at
// a time: kind, time and IP address as stored.
func (e *boxExport) writeActivity(ctx context.Context, zw *zip.Writer) error {
	name := e.names.activity
	w, err := e.create(zw, name, e.now)
	if err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("export %s: %w", loggedName(name), err) }
	if _, err := io.WriteString(w, "{\n  \"events\": ["); err != nil {
		return fail(err)
	}
	var after struct {
		at time.Time
		id int64
	}
	first := true
	for {
		var evs []db.AuditEvent
		q := e.s.DB.NewSelect().Model(&evs).Column("id", "user_id", "actor_id", "kind", "ip", "created_at").Where("user_id = ?", e.user.ID)
		if after.id != 0 {
			at := db.TimeArg(e.s.DB, after.at)
			q = q.Where("(created_at > ? OR (created_at = ? AND id > ?))", at, at, after.id)
		}
		if err := q.Order("created_at", "id").Limit(exportEvents).Scan(ctx); err != nil {
			return fail(err)
		}
		for _, ev := range evs {
			b, err := json.Marshal(struct {
				Kind string    `json:"kind"`
				At   time.Time `json:"at"`
				IP   string    `json:"ip"`
			}{ev.Kind, ev.CreatedAt.UTC(), auth.OwnIP(&ev)})
			if err != nil {
				return fail(err)
			}
			sep := ",\n    "
			if first {
				sep, first = "\n    ", false
			}
			if _, err := io.WriteString(w, sep+string(b)); err != nil {
				return fail(err)
			}
		}
		if len(evs) < exportEvents {
			break
		}
		last := evs[len(evs)-1]
		after.at, after.id = last.CreatedAt, last.ID
	}
	end := "\n  ]\n}\n"
	if first {
		end = "]\n}\n"
	}
	if _, err := io.WriteString(w, end); err != nil {
		return fail(err)
	}
	return nil
}

// exportThread is a conversation of the export.
type exportThread struct {
	ID            int64
	OrgID         int64
	Subject       string
	OrgName       string
	LastMessageAt time.Time
}

// dir is the conversation's folder: its id and a readable, safe part of
// its subject.
func (e *boxExport) dir(th *exportThread) string {
	return e.names.conversations + "/" + strconv.FormatInt(th.ID, 10) + "-" + slug(th.Subject, e.names.untitled) + "/"
}

// loggedName is a file of the export as an error names it: a
// conversation's directory and an attachment by their ids only, since
// errors are logged and the subject and the file's name are content (an
// attachment's name is sealed like message bodies).
func loggedName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		if id, rest, ok := strings.Cut(p, "-"); ok && rest != "" && id != "" && strings.Trim(id, "0123456789") == "" {
			parts[i] = id
		}
	}
	return strings.Join(parts, "/")
}

// slug keeps letters and digits of a subject, the rest a single dash, up
// to 40 characters; untitled when nothing is left.
func slug(s, untitled string) string {
	var b strings.Builder
	n, dash := 0, false
	for _, r := range strings.ToLower(s) {
		if n >= 40 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
				n++
			}
			b.WriteRune(r)
			n++
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return untitled
	}
	return b.String()
}

// attachmentFile is an attachment's path in its conversation's folder.
func (e *boxExport) attachmentFile(a AttachmentView) string {
	return e.names.attachments + "/" + strconv.FormatInt(a.ID, 10) + "-" + zipSafeName(a.Name)
}

// zipSafeName is a stored file name (already without slashes and control
// characters) that every system can unpack.
func zipSafeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, cleanFilename(name))
	if strings.Trim(name, ".") == "" {
		return "bijlage"
	}
	return name
}

// threadPages calls fn for each page of the conversations in the user's
// box that hold a message of it from before the export began, in the order
// they were started: an order that new messages do not change while the
// export runs.
func (e *boxExport) threadPages(ctx context.Context, fn func([]exportThread) error) error {
	var after int64
	for {
		var page []exportThread
		if err := e.s.DB.NewSelect().TableExpr("participants AS p").
			ColumnExpr("t.id, t.org_id, t.subject, o.name AS org_name, t.last_message_at").
			Join("JOIN threads AS t ON t.id = p.thread_id").
			Join("JOIN organisations AS o ON o.id = t.org_id").
			Where("p.user_id = ? AND p.box_count > 0 AND p.thread_id > ?", e.user.ID, after).
			Where(medicalRule("t", "?"), medicalArgs(e.user.ID)...).
			// Only what was in the box when the export began: a conversation
			// started (or joined) since would be an empty folder.
			Where(`EXISTS (SELECT 1 FROM messages AS m WHERE m.thread_id = p.thread_id AND m.id <= ? AND `+exportedState("m", "p.user_id")+`)`, e.lastMessage).
			// One more than a page, to know without another statement
			// whether there is a next one.
			OrderExpr("p.thread_id").Limit(exportThreads+1).Scan(ctx, &page); err != nil {
			return fmt.Errorf("export conversations: %w", err)
		}
		more := len(page) > exportThreads
		if more {
			page = page[:exportThreads]
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		if !more {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// exportedState is the condition that message alias is in the box of
// user (a column or ?) as the export sees it.
func exportedState(alias, user string) string {
	return "EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = " + alias + ".id AND ms.user_id = " + user + " AND ms.removed_at IS NULL)"
}

func (e *boxExport) writeConversations(ctx context.Context, zw *zip.Writer) error {
	return e.threadPages(ctx, func(page []exportThread) error {
		bs, err := e.batches(ctx, page)
		if err != nil {
			return err
		}
		for _, b := range bs {
			cs, err := e.conversations(ctx, b)
			if err != nil {
				return err
			}
			for _, c := range cs {
				if err := e.writeConversation(ctx, zw, c); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// exportConversations is a batch: conversations of a page read together
// (conversations); a long one is a conversation too large for that, alone,
// whose messages are read a page at a time.
type exportConversations struct {
	threads []*exportThread
	long    bool
}

// batches splits a page into batches by what its conversations hold in
// the box as the export began, read in one statement: their messages and
// the bytes of the messages' sealed bodies, and their participants.
func (e *boxExport) batches(ctx context.Context, page []exportThread) ([]exportConversations, error) {
	ids := make([]int64, len(page))
	for i := range page {
		ids[i] = page[i].ID
	}
	var sizes []struct {
		ThreadID int64
		Messages int
		Bytes    int64
		People   int
	}
	if err := e.s.DB.NewSelect().TableExpr("messages AS m").
		ColumnExpr("m.thread_id, COUNT(*) AS messages, COALESCE(SUM(LENGTH(m.body)), 0) AS bytes").
		ColumnExpr("(SELECT COUNT(*) FROM participants AS pp WHERE pp.thread_id = m.thread_id) AS people").
		Where("m.thread_id IN (?) AND m.id <= ? AND "+exportedState("m", "?"), bun.In(ids), e.lastMessage, e.user.ID).
		GroupExpr("m.thread_id").Scan(ctx, &sizes); err != nil {
		return nil, fmt.Errorf("export conversations' sizes: %w", err)
	}
	of := make(map[int64]exportBatchLimits, len(sizes))
	for _, sz := range sizes {
		of[sz.ThreadID] = exportBatchLimits{messages: sz.Messages, bytes: sz.Bytes, people: sz.People}
	}
	over := func(sz exportBatchLimits) bool {
		return sz.messages > exportBatch.messages || sz.bytes > exportBatch.bytes || sz.people > exportBatch.people ||
			sz.states > exportBatch.states
	}
	var out []exportConversations
	var cur exportConversations
	var sum exportBatchLimits
	flush := func() {
		if len(cur.threads) > 0 {
			out = append(out, cur)
		}
		cur, sum = exportConversations{}, exportBatchLimits{}
	}
	for i := range page {
		th := &page[i]
		sz := of[th.ID]
		sz.states = int64(sz.messages) * int64(sz.people)
		if over(sz) {
			flush()
			out = append(out, exportConversations{threads: []*exportThread{th}, long: true})
			continue
		}
		next := exportBatchLimits{messages: sum.messages + sz.messages, people: sum.people + sz.people, bytes: sum.bytes + sz.bytes,
			states: sum.states + sz.states}
		if over(next) {
			flush()
			next = sz
		}
		cur.threads = append(cur.threads, th)
		sum = next
	}
	flush()
	return out, nil
}

// conversation is what a conversation's files share.
type conversation struct {
	th           *exportThread
	dir          string
	participants []ParticipantView
	users        map[int64]*db.User
	senders      *senderOrgs
	// signing is what ExportSigning gave for the conversation.
	signing any
	// loaded: its batch read the messages (msgs, with users holding their
	// former senders, and parts); otherwise they are read a page at a
	// time.
	loaded bool
	msgs   []db.Message
	parts  viewParts
	// sums are the checksums of the attachments, by id, from streaming
	// them into the ZIP file.
	sums map[int64]attachmentSums
}

type attachmentSums struct{ plain, keyed string }

// conversations reads what the files of a batch's conversations share:
// their people and requests for agreement and, unless the batch is long,
// their messages with the former senders, read states and attachments,
// each in one statement for the whole batch. A conversation the user left
// since the page was read is left out.
func (e *boxExport) conversations(ctx context.Context, b exportConversations) ([]*conversation, error) {
	ids := make([]int64, len(b.threads))
	for i, th := range b.threads {
		ids[i] = th.ID
	}
	ps, users, err := e.s.participantsOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var cs []*conversation
	byID := map[int64]*conversation{}
	ids = ids[:0]
	for _, th := range b.threads {
		us := users[th.ID]
		if _, ok := us[e.user.ID]; !ok {
			continue // left it since the page was read
		}
		e.orgNames[th.OrgID] = th.OrgName
		c := &conversation{th: th, dir: e.dir(th), participants: participantViews(e.user, ps[th.ID], us), users: us,
			senders: (&senderOrgs{s: e.s, names: e.orgNames, teams: e.teams}).withTeams(ps[th.ID]), sums: map[int64]attachmentSums{}}
		cs = append(cs, c)
		byID[th.ID] = c
		ids = append(ids, th.ID)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	if e.s.ExportSigning != nil {
		reqs, err := e.s.ExportSigning(ctx, e.user.Identity(), ids)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		for _, c := range cs {
			c.signing = reqs[c.th.ID]
		}
	}
	if b.long {
		return cs, nil
	}
	// The messages, and which of them carry files: the attachments are
	// then read for those only, by their index, rather than for all the
	// batch's messages, a list that is most of a small table.
	var rows []struct {
		db.Message `bun:",extend"`
		Files      bool `bun:"files"`
	}
	if err := e.s.DB.NewSelect().Model(&rows).ColumnExpr(e.s.DB.Columns(db.Message{}, "message")).
		ColumnExpr("EXISTS (SELECT 1 FROM attachments AS a WHERE a.message_id = message.id) AS files").
		Where("message.thread_id IN (?) AND message.id <= ? AND "+exportedState("message", "?"), bun.In(ids), e.lastMessage, e.user.ID).
		Order("message.thread_id", "message.created_at", "message.id").Limit(int64(exportBatch.messages) + 1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("export messages: %w", err)
	}
	if len(rows) > exportBatch.messages {
		// Their box grew since the sizes were read (a team's history came
		// with joining it): read a page of messages at a time.
		return cs, nil
	}
	msgIDs := make([]int64, len(rows))
	var withFiles []int64
	for i, r := range rows {
		msgIDs[i] = r.ID
		c := byID[r.ThreadID]
		c.msgs = append(c.msgs, r.Message)
		if r.Files {
			withFiles = append(withFiles, r.ID)
		}
	}
	us, ms := make([]map[int64]*db.User, len(cs)), make([][]db.Message, len(cs))
	for i, c := range cs {
		us[i], ms[i] = c.users, c.msgs
	}
	if us, err = e.s.withFormerAll(ctx, us, ms); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	parts, err := e.s.viewPartsOf(ctx, msgIDs, withFiles)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for i, c := range cs {
		c.users, c.loaded, c.parts = us[i], true, parts
	}
	return cs, nil
}

// writeConversation writes a conversation's attachments, then its HTML
// and JSON files.
func (e *boxExport) writeConversation(ctx context.Context, zw *zip.Writer, c *conversation) error {
	if err := e.writeAttachments(ctx, zw, c); err != nil {
		return err
	}
	if err := e.writeConversationHTML(ctx, zw, c); err != nil {
		return err
	}
	return e.writeConversationJSON(ctx, zw, c)
}

// messagePages calls fn for each page of a long conversation's messages
// in the user's box, oldest first, up to the newest message when the
// export began; withBodies false leaves the bodies out.
func (e *boxExport) messagePages(ctx context.Context, threadID int64, withBodies bool, fn func([]db.Message) error) error {
	var after struct {
		at time.Time
		id int64
	}
	for {
		var msgs []db.Message
		q := e.s.DB.NewSelect().Model(&msgs)
		if !withBodies {
			q = q.Column("id", "thread_id", "created_at")
		}
		q = q.Where("thread_id = ? AND id <= ? AND "+exportedState("message", "?"), threadID, e.lastMessage, e.user.ID)
		if after.id != 0 {
			at := db.TimeArg(e.s.DB, after.at)
			q = q.Where("(created_at > ? OR (created_at = ? AND id > ?))", at, at, after.id)
		}
		if err := q.Order("created_at", "id").Limit(exportMessages).Scan(ctx); err != nil {
			return fmt.Errorf("export messages of conversation %d: %w", threadID, err)
		}
		if len(msgs) == 0 {
			return nil
		}
		if err := fn(msgs); err != nil {
			return err
		}
		if len(msgs) < exportMessages {
			return nil
		}
		last := msgs[len(msgs)-1]
		after.at, after.id = last.CreatedAt, last.ID
	}
}

// exportPage is messages of a conversation with what their views need.
type exportPage struct {
	msgs  []db.Message
	users map[int64]*db.User
	parts viewParts
}

// pages calls fn with the conversation's messages: all at once when its
// batch read them, otherwise a page at a time, each with its former
// senders and parts. withStates false is for the attachments: a long
// conversation's pages then come without bodies, read states and former
// senders.
func (e *boxExport) pages(ctx context.Context, c *conversation, withStates bool, fn func(exportPage) error) error {
	if c.loaded {
		if len(c.msgs) == 0 {
			return nil
		}
		return fn(exportPage{msgs: c.msgs, users: c.users, parts: c.parts})
	}
	return e.messagePages(ctx, c.th.ID, withStates, func(msgs []db.Message) error {
		p := exportPage{msgs: msgs, users: c.users}
		var err error
		if withStates {
			if p.users, err = e.s.withFormer(ctx, c.users, msgs); err != nil {
				return fmt.Errorf("export conversation %d: %w", c.th.ID, err)
			}
		}
		ids := messageIDs(msgs)
		states := ids
		if !withStates {
			states = nil
		}
		if p.parts, err = e.s.viewPartsOf(ctx, states, ids); err != nil {
			return fmt.Errorf("export conversation %d: %w", c.th.ID, err)
		}
		return fn(p)
	})
}

// viewPages is pages as the user sees the messages.
func (e *boxExport) viewPages(ctx context.Context, c *conversation, fn func([]MessageView) error) error {
	return e.pages(ctx, c, true, func(p exportPage) error {
		views, err := e.s.viewsFrom(ctx, e.user, c.th.ID, p.msgs, p.users, c.senders, p.parts)
		if err != nil {
			return fmt.Errorf("export conversation %d: %w", c.th.ID, err)
		}
		return fn(views)
	})
}

// writeAttachments streams each attachment of the conversation from the
// blob store into the ZIP file, computing its SHA-256 on the way.
func (e *boxExport) writeAttachments(ctx context.Context, zw *zip.Writer, c *conversation) error {
	sum := sha256.New()
	return e.pages(ctx, c, false, func(p exportPage) error {
		for _, m := range p.msgs {
			for i := range p.parts.atts[m.ID] {
				a := &p.parts.atts[m.ID][i]
				v, err := e.s.attachmentView(a)
				if err != nil {
					return fmt.Errorf("export: %w", err)
				}
				plain, err := e.copyAttachment(ctx, zw, a, c.dir+e.attachmentFile(v), m.CreatedAt, sum)
				if err != nil {
					return err
				}
				keyed := a.SHA256
				if a.NameSealed == nil { // not converted yet: the plain SHA-256 (see SealLegacyAttachments)
					keyed = e.s.Vault.MAC(a.SHA256)
				}
				c.sums[a.ID] = attachmentSums{plain: plain, keyed: hex.EncodeToString(keyed)}
			}
		}
		return nil
	})
}

// copyAttachment streams one attachment into the ZIP file and returns the
// SHA-256 of its bytes. Files that are compressed already are stored as
// they are.
func (e *boxExport) copyAttachment(ctx context.Context, zw *zip.Writer, a *db.Attachment, name string, at time.Time, sum hash.Hash) (string, error) {
	rc, err := e.s.Files.Open(ctx, a.StorageKey, a.KeyID, a.BlobFormat)
	if err != nil {
		return "", fmt.Errorf("export attachment %d: %w", a.ID, err)
	}
	defer rc.Close()
	method := zip.Store
	if strings.HasPrefix(a.ContentType, "text/") {
		method = zip.Deflate
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: zipTime(at)})
	if err != nil {
		return "", fmt.Errorf("export attachment %d: %w", a.ID, err)
	}
	sum.Reset()
	if _, err := io.Copy(io.MultiWriter(w, sum), rc); err != nil {
		return "", fmt.Errorf("export attachment %d: %w", a.ID, err)
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// senderName is how the export names a message's sender.
func (e *boxExport) senderName(m *MessageView) string {
	if m.SenderDeleted {
		return e.l.T("thread.deleted_user")
	}
	return m.SenderName
}

// systemText is a system line in the user's language.
func (e *boxExport) systemText(m *MessageView) string {
	switch m.System {
	case SystemParticipantAdded:
		return e.l.T("thread.system_added", "Name", m.SystemSubject, "By", e.senderName(m))
	case SystemParticipantRemoved:
		return e.l.T("thread.system_removed", "Name", m.SystemSubject, "By", e.senderName(m))
	}
	return m.System
}

type participantJSON struct {
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"` // only where the user sees it
	Internal bool   `json:"internal"`
}

type receiptJSON struct {
	Name   string     `json:"name"`
	ReadAt *time.Time `json:"read_at"`
}

type attachmentJSON struct {
	Name        string `json:"name"`
	File        string `json:"file"` // in the conversation's folder
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	// ChecksumHMAC is the checksum Dialoog stores: HMAC-SHA-256 of the
	// SHA-256 under a key of Dialoog's.
	ChecksumHMAC string `json:"checksum_hmac_sha256"`
}

type messageJSON struct {
	ID                 int64            `json:"id"`
	Sender             string           `json:"sender"`
	SenderOrganisation string           `json:"sender_organisation,omitempty"`
	SenderDeleted      bool             `json:"sender_deleted,omitempty"`
	Mine               bool             `json:"mine"`
	SentAt             time.Time        `json:"sent_at"`
	AutoReply          bool             `json:"auto_reply"`
	System             string           `json:"system,omitempty"`
	SystemText         string           `json:"system_text,omitempty"`
	Body               string           `json:"body"`
	ReadAt             *time.Time       `json:"read_at"`
	Receipts           []receiptJSON    `json:"receipts,omitempty"`
	Attachments        []attachmentJSON `json:"attachments,omitempty"`
}

// ExportTime is t as the export's data writes a time that may be unset:
// UTC, or nil (null) when zero.
func ExportTime(t time.Time) *time.Time { return nullable(t) }

func nullable(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// writeConversationJSON writes every message of the conversation with its
// details: the head, then the messages as they are read.
func (e *boxExport) writeConversationJSON(ctx context.Context, zw *zip.Writer, c *conversation) error {
	name := c.dir + e.names.convJSON
	w, err := e.create(zw, name, c.th.LastMessageAt)
	if err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("export %s: %w", loggedName(name), err) }
	head := struct {
		ID              int64             `json:"id"`
		Subject         string            `json:"subject"`
		Organisation    string            `json:"organisation"`
		Participants    []participantJSON `json:"participants"`
		SigningRequests any               `json:"signing_requests,omitempty"`
	}{ID: c.th.ID, Subject: c.th.Subject, Organisation: c.th.OrgName}
	for _, p := range c.participants {
		head.Participants = append(head.Participants, participantJSON{Name: p.Name, Email: p.Email, Internal: p.Internal})
	}
	head.SigningRequests = c.signing
	b, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return fail(err)
	}
	// Open the object again to add the messages.
	b = append(b[:len(b)-2], ",\n  \"messages\": ["...)
	if _, err := w.Write(b); err != nil {
		return fail(err)
	}
	first := true
	err = e.viewPages(ctx, c, func(views []MessageView) error {
		for i := range views {
			m := &views[i]
			mj := messageJSON{ID: m.ID, Sender: e.senderName(m), SenderOrganisation: m.SenderOrg, SenderDeleted: m.SenderDeleted,
				Mine: m.Mine, SentAt: m.CreatedAt.UTC(), AutoReply: m.AutoReply, Body: m.Body, ReadAt: nullable(m.ReadAt)}
			if m.System != "" {
				mj.System, mj.SystemText = m.System, e.systemText(m)
			}
			for _, r := range m.Receipts {
				mj.Receipts = append(mj.Receipts, receiptJSON{Name: r.Name, ReadAt: nullable(r.ReadAt)})
			}
			for _, a := range m.Attachments {
				sums := c.sums[a.ID]
				mj.Attachments = append(mj.Attachments, attachmentJSON{Name: a.Name, File: e.attachmentFile(a), ContentType: a.ContentType,
					Size: a.Size, SHA256: sums.plain, ChecksumHMAC: sums.keyed})
			}
			b, err := json.MarshalIndent(mj, "    ", "  ")
			if err != nil {
				return fail(err)
			}
			sep := ",\n    "
			if first {
				sep, first = "\n    ", false
			}
			if _, err := io.WriteString(w, sep); err != nil {
				return fail(err)
			}
			if _, err := w.Write(b); err != nil {
				return fail(err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	end := "\n  ]\n}\n"
	if first {
		end = "]\n}\n"
	}
	if _, err := io.WriteString(w, end); err != nil {
		return fail(err)
	}
	return nil
}
