package handlers

import (
	"testing"

	"dialoog/components"
	"dialoog/messaging"
)

// TestAnnouncedSender: the live announcement names whom the mail names:
// an outsider hears of the team an internal author wrote for (shown with
// its people or not), else of the organisation; a colleague of the person.
func TestAnnouncedSender(t *testing.T) {
	outsider, colleague := messaging.LiveReader{}, messaging.LiveReader{Internal: true}
	for _, c := range []struct {
		name   string
		reader messaging.LiveReader
		msg    components.MessageItem
		want   string
	}{
		{"outsider, personal", outsider, components.MessageItem{SenderName: "Bram Arts", SenderOrg: "OSAW"}, "OSAW"},
		{"outsider, team shows people", outsider, components.MessageItem{SenderName: "Bram Arts", SenderTeam: "Verzuimteam"}, "Verzuimteam"},
		{"outsider, team hides people", outsider, components.MessageItem{SenderName: "Bedrijfsarts"}, "Bedrijfsarts"},
		{"outsider, from an outsider", outsider, components.MessageItem{SenderName: "Kim Smit"}, "Kim Smit"},
		{"colleague, team", colleague, components.MessageItem{SenderName: "Bram Arts", SenderTeam: "Verzuimteam"}, "Bram Arts"},
		{"colleague, personal", colleague, components.MessageItem{SenderName: "Bram Arts", SenderOrg: "OSAW"}, "Bram Arts"},
	} {
		if got := announcedSender(c.reader, &c.msg); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
