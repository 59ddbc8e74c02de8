package messaging

import (
	"archive/zip"
	"context"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The HTML files of an export are read offline, long after the export, in
// any browser: self-contained (the style inline, no links out), no
// scripts (a Content-Security-Policy forbids them as well), every text
// escaped by html/template, every word from the catalogs.

const exportCSS = `body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:48rem;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0}
.fact{margin:.1rem 0;color:#444}
.label{font-weight:600}
.message{border:1px solid #ccc;border-radius:6px;padding:.75rem 1rem;margin:1rem 0}
.mine{background:#f3f7fb}
.from,.when{margin:0}
.when,.receipt{color:#555;font-size:.9rem}
.auto{font-style:italic;color:#555}
.body{white-space:pre-wrap;overflow-wrap:anywhere;margin:.75rem 0}
.system{text-align:center;color:#555;font-style:italic;margin:1rem 0}
.receipt{margin:.1rem 0}
ul{padding-left:1.25rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
@media print{.message{break-inside:avoid}}`

var exportPages = template.Must(template.New("export").Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + exportCSS + `</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
{{range .Facts}}<p class="fact"><span class="label">{{.Label}}:</span> {{.Value}}</p>
{{end}}</header>
<main>
{{end}}

{{define "message"}}{{if .System}}<p class="system">{{.System}} · <time datetime="{{.ISO}}">{{.When}}</time></p>
{{else}}<article class="message{{if .Mine}} mine{{end}}">
<p class="from"><strong>{{.Sender}}</strong>{{with .Org}} ({{.}}){{end}}{{with .AutoReply}} · <span class="auto">{{.}}</span>{{end}}</p>
<p class="when"><time datetime="{{.ISO}}">{{.When}}</time></p>
<div class="body">{{.Body}}</div>
{{if .Attachments}}<p class="label">{{.AttachmentsLabel}}</p>
<ul>
{{range .Attachments}}<li><a href="{{.Href}}">{{.Name}}</a> ({{.Size}})</li>
{{end}}</ul>
{{end}}{{range .Receipts}}<p class="receipt">{{.}}</p>
{{end}}</article>
{{end}}{{end}}

{{define "foot"}}{{with .}}<p>{{.}}</p>
{{end}}</main>
</body>
</html>
{{end}}

{{define "index-table"}}<table>
<thead><tr><th scope="col">{{.Subject}}</th><th scope="col">{{.Organisation}}</th><th scope="col">{{.Last}}</th></tr></thead>
<tbody>
{{end}}

{{define "index-row"}}<tr><td><a href="{{.Href}}">{{.Subject}}</a></td><td>{{.Organisation}}</td><td><time datetime="{{.ISO}}">{{.When}}</time></td></tr>
{{end}}

{{define "index-end"}}</tbody>
</table>
{{end}}`))

type htmlFact struct{ Label, Value string }

type htmlHead struct {
	Lang, Title string
	Facts       []htmlFact
}

type htmlAttachment struct{ Href, Name, Size string }

type htmlMessage struct {
	System                 string // the system line's text
	Mine                   bool
	Sender, Org, AutoReply string
	ISO, When              string
	Body                   string
	AttachmentsLabel       string
	Attachments            []htmlAttachment
	Receipts               []string
}

type htmlIndexRow struct{ Href, Subject, Organisation, ISO, When string }

// render writes one of the export's templates.
func render(w io.Writer, name string, data any) error {
	if err := exportPages.ExecuteTemplate(w, name, data); err != nil {
		return fmt.Errorf("render %s: %w", loggedName(name), err)
	}
	return nil
}

// pathHref is a relative link to a file of the export.
func pathHref(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// size writes a file size for people: "812 B", "45 KB", "2,5 MB".
func (e *boxExport) size(n int64) string {
	var s string
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return strconv.FormatInt((n+512)>>10, 10) + " KB"
	default:
		s = strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	}
	if e.l.Lang() == "nl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// writeConversationHTML writes the conversation to read in a browser.
func (e *boxExport) writeConversationHTML(ctx context.Context, zw *zip.Writer, c *conversation) error {
	name := c.dir + e.names.convHTML
	w, err := e.create(zw, name, c.th.LastMessageAt)
	if err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("export %s: %w", loggedName(name), err) }
	l := e.l
	names := make([]string, len(c.participants))
	for i, p := range c.participants {
		names[i] = p.Name
		if p.Email != "" && p.Email != p.Name {
			names[i] += " <" + p.Email + ">"
		}
	}
	head := htmlHead{Lang: l.Lang(), Title: c.th.Subject, Facts: []htmlFact{
		{l.T("export.organisation"), c.th.OrgName},
		{l.T("export.participants"), strings.Join(names, ", ")},
		{l.T("export.made"), e.fullDate(e.now)},
	}}
	if err := render(w, "head", head); err != nil {
		return fail(err)
	}
	err = e.viewPages(ctx, c, func(views []MessageView) error {
		for i := range views {
			m := &views[i]
			hm := htmlMessage{Mine: m.Mine, Sender: e.senderName(m), Org: m.SenderOrg, ISO: m.CreatedAt.UTC().Format(time.RFC3339),
				When: e.fullDate(m.CreatedAt), Body: m.Body, AttachmentsLabel: l.T("export.attachments")}
			if m.System != "" {
				hm.System = e.systemText(m)
			}
			if m.AutoReply {
				hm.AutoReply = l.T("thread.auto_reply")
			}
			for _, a := range m.Attachments {
				hm.Attachments = append(hm.Attachments, htmlAttachment{Href: pathHref(e.attachmentFile(a)), Name: a.Name, Size: e.size(a.Size)})
			}
			for _, r := range m.Receipts {
				if r.ReadAt.IsZero() {
					hm.Receipts = append(hm.Receipts, l.T("export.unread_by", "Name", r.Name))
				} else {
					hm.Receipts = append(hm.Receipts, l.T("export.read_by", "Name", r.Name, "When", e.fullDate(r.ReadAt)))
				}
			}
			if err := render(w, "message", hm); err != nil {
				return fail(err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := render(w, "foot", ""); err != nil {
		return fail(err)
	}
	return nil
}

// writeIndex writes the overview of the conversations, read again a page
// at a time.
func (e *boxExport) writeIndex(ctx context.Context, zw *zip.Writer) error {
	name := e.names.index
	w, err := e.create(zw, name, e.now)
	if err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("export %s: %w", loggedName(name), err) }
	l := e.l
	head := htmlHead{Lang: l.Lang(), Title: l.T("export.index_title"), Facts: []htmlFact{
		{l.T("export.account"), e.user.Email},
		{l.T("export.made"), e.fullDate(e.now)},
	}}
	if err := render(w, "head", head); err != nil {
		return fail(err)
	}
	listed := false
	err = e.threadPages(ctx, func(page []exportThread) error {
		if !listed {
			listed = true
			if err := render(w, "index-table", map[string]string{"Subject": l.T("export.subject"),
				"Organisation": l.T("export.organisation"), "Last": l.T("export.last_message")}); err != nil {
				return fail(err)
			}
		}
		for i := range page {
			th := &page[i]
			row := htmlIndexRow{Href: pathHref(e.dir(th) + e.names.convHTML), Subject: th.Subject, Organisation: th.OrgName,
				ISO: th.LastMessageAt.UTC().Format(time.RFC3339), When: e.fullDate(th.LastMessageAt)}
			if err := render(w, "index-row", row); err != nil {
				return fail(err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	foot := ""
	if listed {
		if err := render(w, "index-end", nil); err != nil {
			return fail(err)
		}
	} else {
		foot = l.T("export.index_empty")
	}
	if err := render(w, "foot", foot); err != nil {
		return fail(err)
	}
	return nil
}
