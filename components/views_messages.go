package components

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"

	"dialoog/i18n"
)

// Limits the forms announce; the messaging service enforces them. The
// fields have no maxlength (a browser counts an emoji as two, the service
// counts characters): the service's message says when a text is too long.
const (
	maxBody = 20_000
	// MaxUploadSize is the largest file app.js uploads; the service refuses
	// bigger ones too, but the browser need not send them first.
	MaxUploadSize = 25 << 20
	// uploadAccept is the file picker's filter: the extensions of the
	// types the messaging service allows (it checks the content as well).
	uploadAccept = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.docx,.xlsx,.pptx,.odt,.ods"
)

// InboxView is "Berichten": one page of the user's conversations, newest
// first.
type InboxView struct {
	// Name is the signed-in user's display name.
	Name string
	// Admin adds the link to the admin pages.
	Admin bool
	// Internal adds the link to the organisation's case list.
	Internal bool
	Threads  []InboxThread
	// Page is the page shown, from 1; More says that an older page exists.
	Page int
	More bool
	// Next is where the next page starts ("": by its number).
	Next string
	// Unread counts the unread messages in all conversations.
	Unread int
	// Query is the search text, "" when not searching.
	Query string
	// Scope is, for a search too short for the indexes in a larger box,
	// how many of the most recent conversations it looked at (0: all).
	Scope int
	// Away says the user's absence reply applies now, until AwayUntil
	// (a date; zero for no end).
	Away      bool
	AwayUntil time.Time
	// Teams are the user's team boxes, with their unread counts; TeamID
	// the one shown (0: all conversations).
	Teams  []TeamTab
	TeamID int64
	// Case is the case whose conversations are shown (nil: all).
	Case *CaseItem
}

// TeamTab is one of the user's team boxes.
type TeamTab struct {
	ID     int64
	Name   string
	Unread int
}

// URL is the team box's address.
func (t TeamTab) URL() string { return "/berichten?team=" + strconv.FormatInt(t.ID, 10) }

// InboxThread is one conversation in the inbox.
type InboxThread struct {
	ID      int64
	Subject string
	// OrgName is the organisation the conversation belongs to ("OSAW").
	OrgName string
	// From names the other participants.
	From          string
	LastMessageAt time.Time
	// Unread counts the messages the user has not read.
	Unread int
	// AssignedTo is the team member handling it (internal readers).
	AssignedTo string
}

// PageURL returns the address of another page of the same list.
func (v InboxView) PageURL(page int) string { return v.pageURL(page, "") }

// MoreURL is the address of "Meer berichten": the next page, from the
// conversation after the last one shown (Next) when there is such a
// reference.
func (v InboxView) MoreURL() string { return v.pageURL(v.Page+1, v.Next) }

func (v InboxView) pageURL(page int, after string) string {
	var buf [128]byte
	return string(v.appendPageURL(buf[:0], page, after))
}

// appendPageURL appends pageURL(page, after) to b.
func (v *InboxView) appendPageURL(b []byte, page int, after string) []byte {
	// As url.Values would encode it, keys sorted, without building one.
	b = append(b, "/berichten"...)
	sep := byte('?')
	if v.Case != nil {
		b = strconv.AppendInt(append(append(b, sep), "dossier="...), v.Case.ID, 10)
		sep = '&'
	}
	if after != "" {
		b = append(append(append(b, sep), "na="...), url.QueryEscape(after)...)
		sep = '&'
	}
	if page > 1 {
		b = strconv.AppendInt(append(append(b, sep), "pagina="...), int64(page), 10)
		sep = '&'
	}
	if v.TeamID != 0 {
		b = strconv.AppendInt(append(append(b, sep), "team="...), v.TeamID, 10)
		sep = '&'
	}
	if v.Query != "" {
		b = append(append(append(b, sep), "zoek="...), url.QueryEscape(v.Query)...)
	}
	return b
}

// ThreadURL is the address of a conversation.
func ThreadURL(id int64) string { return threadURLPrefix + strconv.FormatInt(id, 10) }

// threadURLPrefix starts every ThreadURL.
const threadURLPrefix = "/berichten/"

// AttachmentItem is an uploaded file: waiting for its message in a form, or
// part of a message.
type AttachmentItem struct {
	ID          int64
	Name        string
	ContentType string
	Size        int64
}

// URL is the file's download address.
func (a AttachmentItem) URL() string { return "/bijlagen/" + strconv.FormatInt(a.ID, 10) }

// DiscardURL is where "Verwijderen" on the chip of an unsent upload posts,
// so that the file is deleted at once.
func (a AttachmentItem) DiscardURL() string { return a.URL() + "/verwijderen" }

// ComposeView is "Nieuw bericht".
type ComposeView struct {
	Form ComposeForm
	// Errors maps a field (to, subject, body, attachments) to its
	// translated message.
	Errors map[string]string
	// Contacts are addresses suggested for "Aan".
	Contacts []string
	// External explains that an external user can only write to people
	// they already exchange messages with.
	External bool
	// Attachments are files uploaded for this message, kept after an error.
	Attachments []AttachmentItem
	// Signing offers "ter ondertekening" (internal users, where
	// Ondertekenen is on).
	Signing bool
	// Teams offers "Namens": personally or one of the sender's teams.
	Teams []TeamTab
	// Kept: the form holds a text kept when the session lapsed.
	Kept *KeptNotice
}

// KeptNotice says that a form holds the text its writer typed when their
// session lapsed, not yet sent, with "Weggooien", which posts to
// DiscardURL. WithFiles adds that attachments were not kept.
type KeptNotice struct {
	DiscardURL string
	WithFiles  bool
}

// ComposeForm holds the typed values of the compose form.
type ComposeForm struct {
	To, Subject, Body string
	// Team is the team the conversation is started on behalf of (0:
	// personally).
	Team int64
	// Medical: "bevat medische informatie" is ticked.
	Medical bool
	// Sign: the attached PDF is put to all recipients for agreement
	// ("ter ondertekening"), in the order of the addresses when
	// SignOrder, by SignDeadline (yyyy-mm-dd as typed) when set.
	Sign         bool
	SignOrder    bool
	SignDeadline string
}

// composeFields are the compose form's fields in page order, with their
// element ids and label keys, for the error summary.
var composeFields = []summaryField{
	{"team", "compose-team", "team.on_behalf_label"},
	{"to", "compose-to", "compose.to"},
	{"subject", "compose-subject", "compose.subject"},
	{"body", "compose-body", "compose.body"},
	{"attachments", "compose-files", "compose.attachments"},
	{"medical", "compose-medical", "medical.label"},
	{"signers", "compose-sign", "signing.choice_legend"},
	{"deadline", "compose-deadline", "signing.choice_deadline"},
}

// replyFields are the reply form's fields, for its error summary.
var replyFields = []summaryField{
	{"body", "reply-body", "compose.body"},
	{"attachments", "reply-files", "compose.attachments"},
	{"signers", "reply-signers", "signing.choice_signers"},
	{"deadline", "reply-deadline", "signing.choice_deadline"},
}

type summaryField struct{ name, id, label string }

// ThreadView is one conversation with the messages in the reader's box,
// oldest first.
type ThreadView struct {
	// Medical: the conversation contains medical information.
	Medical      bool
	ID           int64
	Subject      string
	OrgName      string
	OrgID        int64 // the thread's organisation, for its house style
	Participants []ParticipantItem
	Messages     []MessageItem
	// Earlier is set when messages before those shown exist: the oldest
	// shown, from which "Eerdere berichten" asks for the page before it.
	Earlier int64
	// CanAddParticipants shows "Deelnemer toevoegen"; CanResend the
	// button that sends an invited participant a new link. Both are for
	// internal users.
	CanAddParticipants bool
	CanResend          bool
	// Unread is set when the reader has unread messages here: the page
	// then marks them as read once it is shown.
	Unread bool
	// Notice is a translated confirmation of what just happened; Alert a
	// translated refusal (a message already read, ...).
	Notice string
	Alert  string
	// Reply is the open reply form; nil shows the REAGEER button.
	Reply *ReplyForm
	// Add is the "Deelnemer toevoegen" form as typed.
	Add AddParticipantForm
	// Team is the team whose conversation this is, shown to its members
	// with who handles it and the form to assign it.
	Team *ThreadTeam
	// ViewerID is the reader, for "Aan mij toewijzen".
	ViewerID int64
	// ReadOnly: the conversation's case is closed; no reply form.
	ReadOnly bool
	// Case is what internal users of the organisation see of cases here.
	Case *ThreadCase
	// Signing are the conversation's requests for agreement.
	Signing []SigningCard
}

// ThreadTeam is the team of a conversation as its members see it.
type ThreadTeam struct {
	Name         string
	AssignedToID int64
	AssignedTo   string
	Members      []TeamMemberItem
}

// TeamMemberItem is a colleague a conversation can be assigned to.
type TeamMemberItem struct {
	UserID int64
	Name   string
}

// AssignURL is where "Toewijzen" posts.
func (v ThreadView) AssignURL() string { return ThreadURL(v.ID) + "/toewijzen" }

// URL is the conversation's address.
func (v ThreadView) URL() string { return ThreadURL(v.ID) }

// ParticipantItem is a person in a conversation.
type ParticipantItem struct {
	UserID int64
	Name   string
	// Email is shown to internal readers, who manage the invitations.
	Email    string
	Internal bool
	// Status is "invited", "active" or "disabled".
	Status     string
	LastSeenAt time.Time
	// MayRead: the participant may read the conversation (a colleague
	// who left the medical team may not); only such a one is offered as a
	// signer.
	MayRead bool
	// Removable: the reader may take them out of the conversation again
	// ("Verwijderen").
	Removable bool
}

// ResendURL is where "Uitnodiging opnieuw versturen" posts.
func (p ParticipantItem) ResendURL(threadID int64) string {
	return ThreadURL(threadID) + "/deelnemers/" + strconv.FormatInt(p.UserID, 10) + "/uitnodiging"
}

// RemoveURL is where "Verwijderen" (a participant) posts.
func (p ParticipantItem) RemoveURL(threadID int64) string {
	return ThreadURL(threadID) + "/deelnemers/" + strconv.FormatInt(p.UserID, 10) + "/verwijderen"
}

// MessageItem is one message as its reader sees it.
type MessageItem struct {
	ID         int64
	ThreadID   int64
	SenderName string
	// SenderDeleted: the sender stopped with Dialoog; shown as "Verwijderde
	// gebruiker".
	SenderDeleted bool
	// SenderOrg is the organisation of an internal sender.
	SenderOrg string
	// SenderTeam: written on behalf of this team ("namens OSAW Verzuim").
	SenderTeam string
	// Mine is set on the reader's own messages, which show read receipts.
	Mine      bool
	AutoReply bool
	// System is the kind of a system line ("participant_added") about
	// SystemSubject, caused by the sender; it has no body.
	System        string
	SystemSubject string
	// Unread is set while the reader has not read it.
	Unread      bool
	Body        string
	CreatedAt   time.Time
	Attachments []AttachmentItem
	// Receipts say, on the reader's own messages, who read them when.
	Receipts []ReceiptItem
	// CanDeleteForEveryone: the reader sent it and nobody read it yet.
	CanDeleteForEveryone bool
}

// DeleteURL is where "Verwijderen voor iedereen" posts.
func (v MessageItem) DeleteURL() string { return v.base() + "/verwijderen-voor-iedereen" }

// RemoveURL is where "Verwijderen uit mijn berichten" posts.
func (v MessageItem) RemoveURL() string { return v.base() + "/verwijderen" }

func (v MessageItem) base() string {
	return ThreadURL(v.ThreadID) + "/bericht/" + strconv.FormatInt(v.ID, 10)
}

// ReceiptItem says whether and when one recipient read a message.
type ReceiptItem struct {
	Name string
	// ReadAt is zero while unread.
	ReadAt time.Time
}

// ReplyForm is the form under a conversation, as typed.
type ReplyForm struct {
	Body string
	// Errors maps body and attachments to translated messages.
	Errors      map[string]string
	Attachments []AttachmentItem
	// Signing offers "ter ondertekening" (internal users); nil hides it.
	Signing *SigningChoice
	// Kept: the form holds a text kept when the session lapsed.
	Kept *KeptNotice
}

// AddParticipantForm is "Deelnemer toevoegen" as typed.
type AddParticipantForm struct {
	Email        string
	Error        string
	History      string // "all" or "new" as chosen
	HistoryError string
}

// elementID returns the id of a conversation's or message's element.
// lastShown is the highest id of the messages a page shows, up to which
// reading it marks them read (MarkRead).
func lastShown(msgs []MessageItem) int64 {
	var last int64
	for _, m := range msgs {
		last = max(last, m.ID)
	}
	return last
}

// markReadVals are the values htmx posts with MarkRead's request.
func markReadVals(upTo int64) string {
	return `{"tot":"` + strconv.FormatInt(upTo, 10) + `"}`
}

func elementID(kind string, id int64) string { return kind + "-" + strconv.FormatInt(id, 10) }

// EarlierID is the id of a conversation's "Eerdere berichten" element,
// which htmx names in HX-Target when it asks for the messages to put in
// its place.
func EarlierID(threadID int64) string { return elementID("earlier", threadID) }

// isoTime is the machine-readable time of a <time> element.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// FileSize writes a file size as people read it: "830 bytes", "12 kB",
// "1,5 MB" (with the language's decimal sign).
func FileSize(l i18n.Localizer, n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1024*1024:
		return strconv.FormatInt((n+1023)/1024, 10) + " kB"
	}
	tenths := (n*10 + 1024*1024 - 1) / (1024 * 1024)
	s := strconv.FormatInt(tenths/10, 10)
	if d := tenths % 10; d != 0 {
		sep := ","
		if l.Lang() == "en" {
			sep = "."
		}
		s += sep + strconv.FormatInt(d, 10)
	}
	return s + " MB"
}

// thousands writes n with the language's digit grouping: "20.000" or
// "20,000".
func thousands(l i18n.Localizer, n int) string {
	s := strconv.Itoa(n)
	sep := "."
	if l.Lang() == "en" {
		sep = ","
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

// charCount is the line under a message field: "12 van 20.000 tekens".
// app.js keeps it up to date while typing, from data-template. A line
// break counts once, as the server and the browser count it (a form sends
// it as CR LF).
func charCount(m Meta, body string) string {
	n := utf8.RuneCountInString(strings.ReplaceAll(body, "\r\n", "\n"))
	return m.T("compose.count", "N", thousands(m.L, n), "Max", thousands(m.L, maxBody))
}

// charCountTemplate is charCount with "{n}" for app.js to fill in.
func charCountTemplate(m Meta) string {
	return m.T("compose.count", "N", "{n}", "Max", thousands(m.L, maxBody))
}

// BodySegment is a piece of a message body: plain text, or a web address
// that may become a link.
type BodySegment struct {
	Text string
	// URL is set when Text is an http or https address; it is the address
	// to link to.
	URL string
}

// urlInText finds candidate web addresses; Linkify checks each one before
// it becomes a link.
var urlInText = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'` + "`" + `]+`)

// Linkify splits a plain-text body into text and web addresses. Only
// well-formed http and https addresses with a host become link segments;
// punctuation that ends a sentence stays text. Nothing is escaped here:
// the renderer escapes every segment.
func Linkify(body string) []BodySegment {
	var out []BodySegment
	text := func(s string) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].URL == "" {
			out[n-1].Text += s
			return
		}
		out = append(out, BodySegment{Text: s})
	}
	last := 0
	for _, loc := range urlInText.FindAllStringIndex(body, -1) {
		start, end := loc[0], trimURLEnd(body, loc[0], loc[1])
		text(body[last:start])
		candidate := body[start:end]
		if u, ok := safeLink(candidate); ok {
			out = append(out, BodySegment{Text: candidate, URL: u})
		} else {
			text(candidate)
		}
		last = end
	}
	text(body[last:])
	return out
}

// trimURLEnd drops trailing punctuation from a found address ("zie
// https://x.nl/a." links to https://x.nl/a), and a closing parenthesis that
// has no opening one inside the address.
func trimURLEnd(s string, start, end int) int {
	for end > start {
		c := s[end-1]
		switch {
		case strings.IndexByte(".,;:!?*", c) >= 0:
			end--
		case c == ')' && strings.Count(s[start:end], "(") < strings.Count(s[start:end], ")"):
			end--
		case c == ']' && strings.Count(s[start:end], "[") < strings.Count(s[start:end], "]"):
			end--
		default:
			return end
		}
	}
	return end
}

// safeLink returns the address to link to when s is an absolute http(s)
// URL with a host and no credentials.
func safeLink(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return u.String(), true
}

// MessageBody renders a plain-text message body: every character escaped,
// line breaks kept by the stylesheet (white-space: pre-wrap), and web
// addresses as links that open in a new tab without a referrer or access
// to this page.
func MessageBody(body string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		for _, s := range Linkify(body) {
			if s.URL == "" {
				b.WriteString(templ.EscapeString(s.Text))
				continue
			}
			b.WriteString(`<a href="`)
			b.WriteString(templ.EscapeString(s.URL))
			b.WriteString(`" rel="noopener noreferrer nofollow" target="_blank">`)
			b.WriteString(templ.EscapeString(s.Text))
			b.WriteString(`</a>`)
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// participantStatus is a participant's line: "uitgenodigd", "aangemeld"
// or "laatst gezien 23 februari 14:05".
func participantStatus(m Meta, p ParticipantItem) string {
	switch p.Status {
	case "invited":
		return m.T("thread.status_invited")
	case "disabled":
		return m.T("thread.status_disabled")
	}
	if !p.LastSeenAt.IsZero() {
		return m.T("thread.last_seen", "When", m.L.DateTime(p.LastSeenAt, m.Now))
	}
	return m.T("thread.status_active")
}

// unreadTotal is the inbox's line about unread messages.
// searchStatus says how many conversations a search found: those on the
// page, "more than" when there are further pages; nothing when the search
// field was emptied.
func searchStatus(m Meta, v InboxView) string {
	if v.Query == "" {
		return ""
	}
	if v.Scope > 0 {
		return searchFound(m, v) + " " + m.T("inbox.search_recent", "N", thousands(m.L, v.Scope))
	}
	return searchFound(m, v)
}

// searchFound says how many conversations a search found.
func searchFound(m Meta, v InboxView) string {
	switch n := len(v.Threads); {
	case n == 0:
		return m.T("inbox.no_results", "Query", v.Query)
	case v.More:
		return m.T("inbox.results_more", "N", n)
	case n == 1:
		return m.T("inbox.results_one")
	default:
		return m.T("inbox.results", "N", n)
	}
}

// unreadTotal is "Je hebt 3 ongelezen berichten." (appendUnreadTotal).
func unreadTotal(m Meta, n int) string { return string(appendUnreadTotal(nil, m.L, n)) }

// appendUnreadTotal appends to b the line with the number n of unread
// messages, in one or many, unescaped.
func appendUnreadTotal(b []byte, l i18n.Localizer, n int) []byte {
	if n == 1 {
		return l.AppendT(b, "inbox.unread_total_one")
	}
	return l.AppendT(b, "inbox.unread_total", "N", n)
}

// ariaDescribedBy joins element ids for aria-describedby, skipping empty
// ones.
func ariaDescribedBy(ids ...string) string {
	var out []string
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return strings.Join(out, " ")
}

// errorIDIf is errorID(id) when there is a message, else "".
func errorIDIf(id, msg string) string {
	if msg == "" {
		return ""
	}
	return errorID(id)
}

// systemText is the sentence of a system line in the reader's language.
func systemText(m Meta, v MessageItem) string {
	subject, by := v.SystemSubject, v.SenderName
	if subject == "" {
		subject = m.T("thread.deleted_user")
	}
	if v.SenderDeleted {
		by = m.T("thread.deleted_user")
	}
	switch v.System {
	case "signing_sealed":
		return m.T("thread.system_signed")
	case "participant_removed":
		return m.T("thread.system_removed", "Name", subject, "By", by)
	}
	return m.T("thread.system_added", "Name", subject, "By", by)
}

// int64String writes an id for a form value.
func int64String(id int64) string { return strconv.FormatInt(id, 10) }

// CaseItem is a case file (dossier) as its organisation's internal users
// see it.
type CaseItem struct {
	ID          int64
	Reference   string
	SubjectName string
	Closed      bool
	CreatedAt   time.Time
	ClosedAt    time.Time
}

// CaseURL is the address of a case page.
func CaseURL(id int64) string { return "/dossiers/" + strconv.FormatInt(id, 10) }

// URL is the case page.
func (c CaseItem) URL() string { return CaseURL(c.ID) }

// InboxURL is the inbox filtered by the case.
func (c CaseItem) InboxURL() string { return "/berichten?dossier=" + strconv.FormatInt(c.ID, 10) }

// CaseListView is "Dossiers": a page of the organisation's open or closed
// cases. Query is the search as typed; After is the reference this page
// starts after ("" on the first page), Next the one the next page starts
// after ("" on the last).
type CaseListView struct {
	Cases  []CaseItem
	Closed bool
	Query  string
	After  string
	Next   string
}

// CaseListURL is the address of a page of the case list.
func CaseListURL(closed bool, query, after string) string {
	v := url.Values{}
	if closed {
		v.Set("status", "gesloten")
	}
	if query != "" {
		v.Set("zoek", query)
	}
	if after != "" {
		v.Set("na", after)
	}
	if len(v) == 0 {
		return "/dossiers"
	}
	return "/dossiers?" + v.Encode()
}

// CaseSubjectItem is an external participant a case can be about.
type CaseSubjectItem struct {
	UserID int64
	Name   string
}

// ThreadCase is the case part of a conversation page: the case it is in,
// or "Aan dossier toevoegen" with the open cases to choose from and the
// form that creates one (as typed, with its messages).
type ThreadCase struct {
	Current        *CaseItem
	Choices        []CaseItem
	Subjects       []CaseSubjectItem
	Subject        int64
	Reference      string
	ReferenceError string
	SubjectError   string
	CaseError      string
}

// CaseThreadItem is a conversation on a case page; Redacted shows only
// that it exists.
type CaseThreadItem struct {
	ID            int64
	Subject       string
	LastMessageAt time.Time
	Medical       bool
	Redacted      bool
	CanOpen       bool
}

// CaseFileItem is a file on a case page, linked where the viewer may
// download it.
type CaseFileItem struct {
	AttachmentItem
	ThreadID  int64
	CreatedAt time.Time
	CanOpen   bool
}

// CaseView is the case page.
type CaseView struct {
	Case         CaseItem
	Threads      []CaseThreadItem
	Participants []string
	Files        []CaseFileItem
	Notice       string
}
