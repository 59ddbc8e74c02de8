package seal

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"dialoog/i18n"
)

// maxUserAgent bounds a user agent on the evidence page: the header is the
// client's to choose, and a page of it proves nothing more than a line.
const maxUserAgent = 300

// EvidenceTime formats t as the page shows it, once in UTC and once in
// Dutch local time (CET/CEST).
func EvidenceTime(t time.Time) (utc, local string) {
	const layout = "2006-01-02 15:04:05"
	return t.UTC().Format(layout) + " UTC", t.In(i18n.Zone).Format(layout + " MST")
}

// MethodText is a signer's method as the page shows it: the masked phone
// number for an SMS code, "app" for an authenticator app.
func MethodText(l i18n.Localizer, s Signature) string {
	if s.Method == MethodApp {
		return l.T("seal.method_app")
	}
	if s.MaskedPhone == "" {
		return l.T("seal.method_sms")
	}
	return l.T("seal.method_sms") + " " + s.MaskedPhone
}

// EvidencePage draws the evidence page of ev (A4, more pages only when the
// signers do not fit on one) and returns it as a PDF of its own.
func EvidencePage(ev Evidence) ([]byte, error) {
	l := i18n.For(ev.Language)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	pdf.SetTitle(l.T("seal.evidence_title"), true)
	pdf.SetCreator("Dialoog", true)
	pdf.SetCreationDate(ev.RequestedAt)
	pdf.SetModificationDate(ev.RequestedAt)
	// The core fonts speak cp1252: names with accents survive, other
	// characters are replaced.
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	text := func(s string) string { return tr(s) }
	pdf.AddPage()
	width, _ := pdf.GetPageSize()
	width -= 40

	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(width, 8, text(l.T("seal.evidence_title")), "", "L", false)
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(width, 5, text(l.T("seal.evidence_intro")), "", "L", false)
	pdf.Ln(4)

	labelW := 48.0
	row := func(label, value string, mono bool) {
		pdf.SetFont("Helvetica", "B", 10)
		x, y := pdf.GetXY()
		pdf.MultiCell(labelW, 5.5, text(label), "", "L", false)
		yLabel := pdf.GetY()
		pdf.SetXY(x+labelW, y)
		if mono {
			pdf.SetFont("Courier", "", 8)
		} else {
			pdf.SetFont("Helvetica", "", 10)
		}
		pdf.MultiCell(width-labelW, 5.5, text(value), "", "L", false)
		if pdf.GetY() < yLabel {
			pdf.SetY(yLabel)
		}
		pdf.SetX(x)
	}
	reqUTC, reqLocal := EvidenceTime(ev.RequestedAt)
	row(l.T("seal.organisation"), ev.Organisation, false)
	row(l.T("seal.document"), ev.DocumentName, false)
	row(l.T("seal.pages"), strconv.Itoa(ev.Pages), false)
	row("SHA-256", ev.SHA256, true)
	row(l.T("seal.requested_by"), ev.RequestedBy, false)
	row(l.T("seal.requested_at"), reqUTC+"\n"+reqLocal, false)
	pdf.Ln(4)

	pdf.SetFont("Helvetica", "B", 13)
	pdf.MultiCell(width, 7, text(l.T("seal.signers")), "", "L", false)
	pdf.Ln(1)
	for i, s := range ev.Signatures {
		if i > 0 {
			x, y := pdf.GetXY()
			pdf.SetDrawColor(180, 180, 180)
			pdf.Line(x, y+1, x+width, y+1)
			pdf.Ln(3)
		}
		pdf.SetFont("Helvetica", "B", 11)
		pdf.MultiCell(width, 6, text(fmt.Sprintf("%d. %s", i+1, s.Name)), "", "L", false)
		atUTC, atLocal := EvidenceTime(s.At)
		ua := s.UserAgent
		if len(ua) > maxUserAgent {
			ua = ua[:maxUserAgent] + "..."
		}
		row(l.T("seal.email"), s.Email, false)
		row(l.T("seal.method"), MethodText(l, s), false)
		row(l.T("seal.time_utc"), atUTC, false)
		row(l.T("seal.time_local"), atLocal, false)
		row(l.T("seal.ip"), s.IP, false)
		row(l.T("seal.user_agent"), ua, false)
		pdf.Ln(2)
	}
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "I", 9)
	pdf.MultiCell(width, 4.5, text(l.T("seal.evidence_footer")), "", "L", false)

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("draw evidence page: %w", err)
	}
	return buf.Bytes(), nil
}
